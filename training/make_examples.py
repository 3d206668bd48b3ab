"""Generate ``examples.jsonl``, the offline classifier's training set, from the phrasebook.

Run ``python -m training.make_examples`` and commit the output. Deterministic (fixed seed).
Every example is written from invented templates: greetings, signatures, typos, HTML fragments, reply
threads and forwarded messages are mixed in so the model sees realistic noise.
"""

from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from ticketpilot.gate.offline.context_patterns import WORK_SYSTEM

from .phrasebook import account as A
from .phrasebook import broad, people, standalone
from .phrasebook import common as C
from .phrasebook import extra as X
from .phrasebook import general as G
from .phrasebook import risk as R

SEED = 20_240_611
OUT = Path(__file__).with_name("examples.jsonl")
_ALT = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")
Example = dict[str, Any]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def expand(template: str, rng: random.Random) -> str:
    """Resolve ``[a|b|c]`` alternatives."""
    return _ALT.sub(lambda m: rng.choice(m.group(1).split("|")), template)


def slots(lang: str, rng: random.Random) -> dict[str, str]:
    """Random values for every template slot."""
    first, last = rng.choice(C.FIRST[lang]), rng.choice(C.LAST[lang])
    col, col_last = rng.choice([n for n in C.FIRST[lang] if n != first]), rng.choice(C.LAST[lang])
    gender = "f" if col in C.FEMALE else "m"
    he, his, him = C.PRONOUNS[lang][gender]
    org, domain, _kind = rng.choice(C.ORGS[lang])
    sys_phrase = expand(rng.choice(A.SYSTEMS[lang]), rng)
    phone = re.sub(
        r"\{n([23])\}",
        lambda m: str(rng.randrange(10 ** (int(m.group(1)) - 1), 10 ** int(m.group(1)))),
        rng.choice(C.PHONES[lang]),
    )
    values = {
        "name": first,
        "full": f"{first} {last}",
        "org": org,
        "domain": domain,
        "role": rng.choice(C.ROLES[lang]),
        "col": col,
        "colfull": f"{col} {col_last}",
        "col2": rng.choice(C.FIRST[lang]),
        "col3": rng.choice(C.FIRST[lang]),
        "he": he,
        "He_": he[:1].upper() + he[1:],
        "his": his,
        "him": him,
        "uname": f"{_ascii(col)}.{_ascii(col_last)}",
        "when": rng.choice(A.WHEN[lang]),
        "leave": rng.choice(A.LEAVE[lang]),
        "time": rng.choice(["9", "9:30", "10", "11", "2pm", "14:00", "3"]),
        "room": rng.choice(X.ROOMS),
        "site": rng.choice(X.SITES),
        "phone": phone,
        "pemail": f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@{rng.choice(C.PERSONAL_DOMAINS)}",
        "city": rng.choice(C.CITIES),
        "n": str(rng.randint(10_000, 99_999)),
        "d": str(rng.choice([3, 5, 7, 14])),
        "day": rng.choice(X.DAYS),
        "app": rng.choice(X.APPS),
        "role_box": rng.choice(X.ROLE_BOXES),
        "host": f"WS-{rng.randint(1, 60):02d}",
        "exec": f"{rng.choice(C.FIRST[lang])} {rng.choice(C.LAST[lang])}",
        "project": rng.choice(X.PROJECTS),
        "lure": rng.choice(X.LURE_DOMAINS),
        "subject": "Password reset",
        "n2": str(rng.randint(10, 99)),
    }
    values["sys2"] = expand(rng.choice(A.SYSTEMS[lang]), rng)
    values["sys"] = sys_phrase.format_map(values)
    values["Sys"] = values["sys"][:1].upper() + values["sys"][1:]
    return values


def fill(template: str, values: dict[str, str], rng: random.Random) -> str:
    """Expand alternatives, then fill slots."""
    return expand(template, rng).format_map(values)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def signature(lang: str, values: dict[str, str], rng: random.Random) -> str:
    """A sign-off: sometimes just a first name, sometimes a full block with phone, address and disclaimer."""
    style = rng.random()
    if style < 0.35:
        return values["name"]
    lines = [values["full"], rng.choice([values["role"], f"{values['role']} | {values['org']}"])]
    if rng.random() < 0.6:
        lines.append(values["org"])
    if rng.random() < 0.35:
        lines.append(rng.choice(C.ADDRESSES[lang]))
    if rng.random() < 0.5:
        label = rng.choice(C.SIG_PHONE_LABEL[lang])
        lines.append(label.format(p=values["phone"], p2=values["phone"][:-2] + "00"))
    if rng.random() < 0.3:
        lines.append(f"www.{values['domain']}")
    if rng.random() < 0.2:
        lines.append("\n" + rng.choice(C.DISCLAIMERS[lang]).format(org=values["org"]))
    return "\n".join(lines)


def typos(text: str, rng: random.Random) -> str:
    """Casual writing: lower case, dropped apostrophes, text-speak, a swapped letter or two."""
    text = text.lower().replace("'", "")
    for word, short in (("please", "pls"), ("you", "u"), ("thanks", "thx"), ("because", "cos")):
        if rng.random() < 0.5:
            text = re.sub(rf"\b{word}\b", short, text)
    words = text.split(" ")
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 4 and w.isalpha():
            j = rng.randrange(1, len(w) - 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def htmlify(text: str, rng: random.Random) -> str:
    """Render paragraphs the way Outlook's HTML editor does."""
    paras = [p for p in text.split("\n") if p.strip()]
    if rng.random() < 0.5:
        body = "".join(f'<p class="MsoNormal">{p}</p>' for p in paras)
        return body + '<p class="MsoNormal">&nbsp;</p>'
    return "".join(f"<div>{p}</div>" for p in paras).replace("&", "&amp;") + "<div><br></div>"


def compose(
    lang: str, values: dict[str, str], rng: random.Random, parts: list[str], *, noisy: bool = True
) -> str:
    """Greeting, message parts, closing and signature, with optional typos, HTML and 'Sent from' lines."""
    greeting = rng.choice(C.GREETINGS[lang])
    message = " ".join(("\n\n" if p.startswith("\n") else "") + _cap(p.strip()) for p in parts if p.strip())
    if noisy and lang == "en" and rng.random() < 0.12:
        message = typos(message, rng)
    closing = rng.choice(C.CLOSINGS[lang])
    sign = signature(lang, values, rng) if rng.random() < 0.85 else ""
    blocks = [b for b in (greeting, message, "\n".join(x for x in (closing, sign) if x)) if b]
    text = "\n\n".join(blocks) if rng.random() < 0.7 else "\n".join(blocks)
    if noisy and rng.random() < 0.08:
        text += "\n\n" + rng.choice(C.SENT_FROM[lang])
    if noisy and rng.random() < 0.08:
        text = htmlify(text, rng)
    return text


def example(subject: str, body: str, sub: str, cat: str, own: bool, flags: tuple[str, ...] = ()) -> Example:
    """One training row."""
    return {
        "subject": subject,
        "body": body,
        "sub_category": sub,
        "category": cat,
        "own_account": own,
        "risk_flags": sorted(set(flags)),
    }


def quote(lang: str, values: dict[str, str], rng: random.Random, sender: str, subject: str, text: str) -> str:
    """A quoted earlier message with header lines, as mail clients write them."""
    h = X.QUOTE_HEADERS[lang]
    return (
        f"\n\n{rng.choice(h['sep'])}\n{h['from']}: {sender}\n{h['sent']}: {rng.choice(X.DAYS)} 09:{rng.randint(10, 59)}"
        f"\n{h['subject']}: {subject}\n\n{text}"
    )


def own_request(sub: str, lang: str, rng: random.Random) -> tuple[str, str, dict[str, str], list[str]]:
    """Subject, body, slot values and message parts of a plain own-account request."""
    table = A.OWN[sub][lang]
    values = slots(lang, rng)
    parts = [fill(rng.choice(table["problems"]), values, rng), fill(rng.choice(table["asks"]), values, rng)]
    if rng.random() < 0.6:
        parts.append(fill(rng.choice(table["contexts"]), values, rng))
    subject = fill(rng.choice(table["subjects"]), values, rng)
    if WORK_SYSTEM.search(f"{subject}\n{' '.join(parts)}") is None:
        parts.insert(1, fill(rng.choice(X.NAME_THE_SYSTEM[lang]), values, rng))
    return subject, compose(lang, values, rng, parts), values, parts


CATEGORY = {"PASSWORD_RESET": "REQUEST", "ACCOUNT_LOCKOUT": "INCIDENT", "MFA_RESET": "REQUEST"}
PLAIN_COUNTS = {"en": 62, "es": 14, "fr": 14, "de": 14, "nl": 14}


def plain_examples(rng: random.Random) -> list[Example]:
    """Own-account requests that may be automated, plus reply threads that clarify the account."""
    rows = []
    for sub in A.OWN:
        for lang, count in PLAIN_COUNTS.items():
            for _ in range(count):
                subject, body, _v, _p = own_request(sub, lang, rng)
                rows.append(example(subject, body, sub, CATEGORY[sub], True))
        for lang in ("en", "en", "en", "en", "en", "en", "es", "fr", "de", "nl"):
            values = slots(lang, rng)
            reply = fill(rng.choice(X.CLARIFY[sub][lang]), values, rng)
            ask = fill(X.HELPDESK_ASK[lang], values, rng)
            first = rng.choice(X.VAGUE_FIRST[lang])
            body = compose(lang, values, rng, [reply], noisy=False)
            body += quote(lang, values, rng, f"{C.MSP[0]} Service Desk <support@{C.MSP[1]}>", first, ask)
            body += quote(lang, values, rng, values["full"], first, first)
            rows.append(example(f"RE: [Ticket#{values['n']}] {first}", body, sub, CATEGORY[sub], True))
    return rows


def risky_examples(rng: random.Random) -> list[Example]:
    """Own-account requests with an added risk, and requests for somebody else's account."""
    rows = []
    langs = ["en"] * 6 + ["es", "fr", "de", "nl"]
    for i in range(90):
        sub, lang = list(A.OWN)[i % 3], langs[i % len(langs)]
        subject, _body, values, parts = own_request(sub, lang, rng)
        where = rng.choice(["subject", "body", "body", "signature", "hidden"])
        line = fill(rng.choice(R.MANIPULATION.get(lang, R.MANIPULATION["en"])), values, rng)
        flags = ["manipulation"]
        if rng.random() < 0.2:
            parts.append(fill(rng.choice(R.CONTACT[lang]), values, rng))
            flags.append("contact_in_body")
        if where == "subject":
            subject = rng.choice(R.MANIPULATION["subject"]) + subject
            body = compose(lang, values, rng, parts)
        elif where == "hidden":
            hidden = rng.choice(R.MANIPULATION["hidden"])
            body = compose(lang, values, rng, parts, noisy=False) + "\n" + fill(hidden, values, rng)
            flags += ["contact_in_body"] if "{phone}" in hidden else []
        elif where == "signature":
            body = compose(lang, values, rng, parts, noisy=False) + "\n--\n" + line
        else:
            body = compose(lang, values, rng, [*parts, rng.choice(["\n", ""]) + line])
        rows.append(example(subject, body, sub, CATEGORY[sub], True, tuple(flags)))
    for i in range(70):
        sub, lang = list(A.OWN)[i % 3], langs[i % len(langs)]
        subject, _b, values, parts = own_request(sub, lang, rng)
        extra = fill(rng.choice(R.CONTACT[lang]), values, rng)
        rows.append(
            example(
                subject,
                compose(lang, values, rng, [*parts, extra]),
                sub,
                CATEGORY[sub],
                True,
                ("contact_in_body",),
            )
        )
    for i in range(40):
        sub, lang = list(A.OWN)[i % 3], langs[i % len(langs)]
        subject, _b, values, parts = own_request(sub, lang, rng)
        prefix = fill(rng.choice(R.COMPROMISE_PREFIX[lang]), values, rng)
        rows.append(
            example(
                subject,
                compose(lang, values, rng, [prefix, *parts]),
                sub,
                CATEGORY[sub],
                True,
                ("compromise_signs",),
            )
        )
    for i in range(40):
        sub, lang = list(A.OWN)[i % 3], langs[i % len(langs)]
        subject, body, values, _p = own_request(sub, lang, rng)
        top = compose(lang, values, rng, [fill(rng.choice(R.RESOLVED_TOP[lang]), values, rng)], noisy=False)
        full = top + quote(lang, values, rng, values["full"], subject, body)
        rows.append(example(f"RE: {subject}", full, sub, CATEGORY[sub], True, ("no_action_needed",)))
    for sub, by_lang in R.OTHER_PERSON.items():
        for lang, items in by_lang.items():
            for subject_t, body_t in items:
                for _ in range(4 if lang == "en" else 3):
                    values = slots(lang, rng)
                    parts = [fill(body_t, values, rng)]
                    flags = ["other_person"]
                    if rng.random() < 0.2:
                        parts.append(fill(rng.choice(R.CONTACT["en" if lang == "en" else lang]), values, rng))
                        flags.append("contact_in_body")
                    rows.append(
                        example(
                            fill(subject_t, values, rng),
                            compose(lang, values, rng, parts),
                            sub,
                            CATEGORY[sub],
                            False,
                            tuple(flags),
                        )
                    )
    return rows


def table_examples(
    rng: random.Random, table: dict[G.Key, dict[str, list[tuple[str, str]]]], per: int
) -> list[Example]:
    """Each (subject, body) pair of a table, written ``per`` times (once more for English) with fresh noise."""
    rows = []
    for (sub, cat, flags, own), by_lang in table.items():
        for lang, items in by_lang.items():
            for subject_t, body_t in items:
                for _ in range(per + (1 if lang == "en" else 0)):
                    values = slots(lang, rng)
                    body = compose(lang, values, rng, [fill(body_t, values, rng)])
                    rows.append(example(fill(subject_t, values, rng), body, sub, cat, own, flags))
    return rows


def build() -> list[Example]:
    """All examples, in a fixed order."""
    rng = random.Random(SEED)
    parts = [
        ("plain", plain_examples(rng)),
        ("risky", risky_examples(rng)),
        ("standalone", table_examples(rng, standalone.STANDALONE, 2)),
        ("general", table_examples(rng, G.GENERAL, 2)),
        ("people", table_examples(rng, people.PEOPLE, 2)),
        ("more", table_examples(rng, X.MORE, 2)),
        ("broad", table_examples(rng, broad.BROAD, 2)),
    ]
    # The group names the phrasebook a row came from, so cross-validation can hold out whole groups.
    rows = [row | {"group": f"generated:{name}"} for name, group in parts for row in group]
    seen: set[tuple[str, str]] = set()
    unique = []
    for row in rows:
        key = (row["subject"], row["body"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def main(argv: list[str] | None = None) -> int:
    """Write the examples file and print a summary."""
    out = Path(argv[0]) if argv else OUT
    rows = build()
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} examples -> {out}")
    for sub, n in sorted(Counter(r["sub_category"] for r in rows).items()):
        print(f"  {sub:<18} {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
