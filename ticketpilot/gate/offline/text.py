"""Ticket text preparation shared by the model and the rules: HTML clean-up, thread and signature splitting.

A ticket is untrusted text. We keep several views of it: the raw text (to look for hidden directives),
the cleaned body, the newest message (``top``, without quoted history) and the "prose" lines of a message
(without e-mail header lines and without signature-like lines such as ``Mobile: 555 0100``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MAX_MODEL_CHARS = 6_000
"""The model only reads this much of the cleaned text: enough for any real request, bounded for speed."""
MAX_SCAN_CHARS = 20_000
"""The phrase rules read this much of the body. Hidden-text checks read all of it; a longer ticket is never
automated (the classifier caps its confidence), so nothing can hide past this point."""

_COMMENT = re.compile(r"<!--(.*?)-->", re.S)
_BLOCK_TAG = re.compile(r"<\s*(?:br|/p|/div|/li|/tr|/h\d)\b[^>]{0,200}>", re.I)
_TAG = re.compile(r"<[^<>]{0,500}>")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f]+")
_BLANKS = re.compile(r"\n{3,}")

# Where the newest message ends and quoted history starts (en, es, fr, de, nl client conventions).
_QUOTE_START = re.compile(
    r"""^[ \t]*(?:
        -{2,}\s*(?:original\ message|forwarded\ message|mensaje\ original|mensaje\ reenviado
            |message\ d'origine|message\ transf[ée]r[ée]|urspr[üu]ngliche\ nachricht
            |weitergeleitete\ nachricht|oorspronkelijk\ bericht|doorgestuurd\ bericht|messaggio\ originale
            |messaggio\ inoltrato|mensagem\ original|mensagem\ encaminhada|wiadomo[śs][ćc]\ przekazana
            |oryginalna\ wiadomo[śs][ćc]|wiadomo[śs][ćc]\ oryginalna)
        |_{8,}
        |(?:from|de|von|van|da|van\ de|od)\s*:[^\n]*\n[ \t]*(?:sent|enviado|envoy[ée]|gesendet|verzonden
            |date|datum|fecha|subject|to|aan|an|[àa]|para|objet|asunto|betreff|onderwerp|inviato|oggetto|assunto
            |wys[łl]ano|temat|do|data)\s*:
        |on\ [^\n]{5,120}\ wrote:|le\ [^\n]{5,120}\ a\ [ée]crit\s*:|am\ [^\n]{5,120}\ schrieb[^\n]{0,80}:
        |op\ [^\n]{5,120}\ schreef[^\n]{0,80}:|el\ [^\n]{5,120}\ escribi[óo]\s*:
        |>
    )""",
    re.I | re.M | re.X,
)

_HEADER_LINE = re.compile(
    r"^[ \t]*(?:from|sent|to|cc|bcc|subject|date|de|enviado|para|asunto|fecha|envoy[ée]|[àa]|objet"
    r"|von|gesendet|an|betreff|datum|van|verzonden|aan|onderwerp|da|inviato|oggetto|assunto|od|wys[łl]ano|temat"
    r"|do|data)\s*:",
    re.I,
)

PHONE = re.compile(
    r"(?<![\w/.#-])(?:\+\s?\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{1,12}(?:[\s.-]\d{2,8}){0,4}(?![\w/-])"
)
_CLOSING = re.compile(
    r"^(?:[-\u2013\u2014]+\s*)?(?:thanks?(?: (?:so much|again|in advance|a lot|you(?: very much)?))?|thank you|ta|cheers|regards"
    r"|kind regards|best(?: regards| wishes)?|many thanks|warm regards|all the best|br|kr|sincerely|yours(?: sincerely"
    r"| faithfully)?|saludos|un saludo|muchas gracias|gracias|atentamente|cordialement|bien (?:[àa] vous|cordialement)"
    r"|merci(?: beaucoup| d'avance)?|bonne journ[ée]e|gr[üu](?:ß|ss)e|gru(?:ß|ss)|viele gr[üu](?:ß|ss)e|mit freundlichen"
    r" gr[üu](?:ß|ss)en|mfg|lg|danke|vielen dank|groet(?:en|jes)?|met vriendelijke groet(?:en)?|mvg|bedankt|dank je"
    r"|saluti|cordiali saluti|un saluto|grazie(?: mille)?|cumprimentos|com os melhores cumprimentos|obrigad[oa]"
    r"|atenciosamente|att|abra[çc]os|pozdrawiam|z powa[żz]aniem|dzi[ęe]kuj[ęe])\b[ ,.!:]*(?:[A-Z][\w.'-]*(?: [A-Z][\w.'-]*)?)?"
    r"[ ,.!]*$",
    re.I,
)
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_IPV4 = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")
_SIG_LABEL = re.compile(
    r"^\W*(?:tel|tél|phone|ph|p|m|t|f|mob|mobile|móvil|movil|cell|cel|direct|dd|office|fax|portable|telefon"
    r"|telefoon|mobiel|handy|mobil|whatsapp|w|work|desk|switchboard|main)\b",
    re.I,
)
_SIG_DELIVERY_WORD = re.compile(
    r"\b(?:text|sms|send|call|ring|reach|contact|use|new|number|nummer|número|numéro|envo\w*|stuur\w*"
    r"|schick\w*|manda\w*|whatsapp|instead|temporary|temp|code|password|passwort|wachtwoord|contraseña"
    r"|mot de passe)\b",
    re.I,
)


def strip_html(text: str) -> str:
    """Turn an HTML fragment into plain text; the content of HTML comments is kept (it may be hidden input)."""
    if "<" not in text and "&" not in text:
        return text
    text = _COMMENT.sub(lambda m: "\n" + m.group(1) + "\n", text)
    text = _BLOCK_TAG.sub("\n", text)
    text = _TAG.sub(" ", text)
    return html.unescape(text)


def normalise(text: str) -> str:
    """Plain text with runs of spaces collapsed and at most one blank line in a row."""
    text = strip_html(text).replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()


def split_thread(body: str) -> tuple[str, str]:
    """Split a cleaned body into (newest message, quoted history)."""
    match = _QUOTE_START.search(body)
    if match is None:
        return body, ""
    return body[: match.start()].strip(), body[match.start() :].strip()


def phone_numbers(line: str) -> list[str]:
    """Phone-like numbers in ``line`` (at least 8 digits, not a date or an IP address)."""
    found = []
    for match in PHONE.finditer(line):
        candidate = match.group(0).strip()
        digits = sum(ch.isdigit() for ch in candidate)
        separated = candidate.startswith(("+", "(", "0")) or not candidate.isdigit()
        if (
            digits < (7 if separated else 9)
            or digits > 15
            or _DATE_LIKE.match(candidate)
            or _IPV4.match(candidate)
        ):
            continue
        found.append(candidate)
    return found


def is_signature_phone_line(line: str) -> bool:
    """A short line that only carries a contact number (``Direct: 555 0100``), not a sentence asking for one."""
    rest = line
    for number in phone_numbers(line):
        rest = rest.replace(number, " ")
    if _SIG_DELIVERY_WORD.search(rest):
        return False
    if _SIG_LABEL.match(rest):
        return True
    words = re.findall(r"[^\W\d_]+", rest)
    return len(words) <= 3 or ("|" in rest and len(words) <= 10)


def is_header_line(line: str) -> bool:
    """An e-mail header line of a quoted or forwarded message (``From:``, ``Sent:``, ``Van:`` ...)."""
    return bool(_HEADER_LINE.match(line))


@dataclass(frozen=True)
class TicketView:
    """The views of one ticket that the rules and the model read."""

    subject: str
    raw: str
    body: str
    top: str
    quoted: str
    requester: str
    truncated: bool = False

    @property
    def head(self) -> str:
        """Subject and newest message: what the requester is asking for now."""
        return f"{self.subject}\n{self.top}"

    @property
    def request(self) -> str:
        """The head without its sign-off and signature block (company names, addresses and disclaimers there
        are not part of what is asked)."""
        lines = self.top.split("\n")
        for index in range(max(0, len(lines) - 14), len(lines)):
            if index > 0 and _CLOSING.match(lines[index].strip()):
                return f"{self.subject}\n" + "\n".join(lines[:index])
        return self.head

    @property
    def everything(self) -> str:
        """Subject and the whole cleaned body, quoted history included."""
        return f"{self.subject}\n{self.body}"

    def prose(self, text: str) -> str:
        """``text`` without e-mail header lines."""
        return "\n".join(line for line in text.split("\n") if not is_header_line(line))

    @property
    def model_text(self) -> str:
        """What the statistical model reads: subject, newest message, then a bounded part of the history."""
        text = f"{self.subject}\n{self.top}"
        if self.quoted:
            text += "\n" + self.prose(self.quoted)[:1_500]
        return text[:MAX_MODEL_CHARS]

    @property
    def requester_local(self) -> str:
        """The part before the @ of the requester's address (lower case), or ''."""
        return self.requester.split("@", 1)[0] if "@" in self.requester else ""

    @property
    def requester_domain(self) -> str:
        """The domain of the requester's address (lower case), or ''."""
        return self.requester.rsplit("@", 1)[1] if "@" in self.requester else ""


def view(subject: str, body: str, requester_email: str = "") -> TicketView:
    """Prepare the views of a ticket."""
    clean = normalise(body[:MAX_SCAN_CHARS])
    top, quoted = split_thread(clean)
    if not top and quoted:
        # A bare forward: the forwarded text is what we have.
        top = quoted[:2_000]
    return TicketView(
        subject=normalise(subject[:2_000]),
        raw=f"{subject}\n{body}",
        body=clean,
        top=top,
        quoted=quoted,
        requester=requester_email.strip().lower(),
        truncated=len(body) > MAX_SCAN_CHARS,
    )
