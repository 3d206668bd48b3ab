"""A small deterministic language guess for reports: which language's common words a text uses most.

Not a classifier feature — the evaluation report groups tickets by language with it when a ticket carries
no ``language`` field and no ``lang:xx`` tag. Counting stop words is crude but stable, explainable and fast;
a text with too few of them is ``unknown`` rather than a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

UNKNOWN = "unknown"
MIN_HITS = 2

STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the and is are was to of my i you it in on for with this that have not can please be me "
        "we your our from at am do don't can't it's i'm".split()
    ),
    "de": frozenset(
        "der die das und ist nicht ich mein meine bitte mit ein eine es sie wir zu auf für den dem "
        "des kann können habe haben mich mir ihr auch noch wie danke".split()
    ),
    "fr": frozenset(
        "le la les et est pas je mon ma mes vous nous un une des du de pour avec sur ne peux "
        "pouvez merci bonjour mot passe suis ai".split()
    ),
    "es": frozenset(
        "el la los las y es no mi mis yo usted por para con una un del que puedo pueden gracias "
        "hola favor contraseña estoy tengo".split()
    ),
    "nl": frozenset(
        "de het een en is niet ik mijn je jij wij we met voor op van dat kan kunnen bedankt "
        "alstublieft graag wachtwoord heb ben".split()
    ),
    "it": frozenset(
        "il lo la gli le e è non io mio mia per con una uno del che posso potete grazie ciao "
        "favore sono ho".split()
    ),
    "pt": frozenset(
        "o a os as e é não eu meu minha por para com uma um do da que posso podem obrigado "
        "olá favor senha estou tenho".split()
    ),
}

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the language whose stop words occur most, or ``unknown`` (ties: unknown)."""
    words = [w.lower() for w in _WORD.findall(text or "")]
    scores = {lang: sum(1 for w in words if w in vocab) for lang, vocab in STOP_WORDS.items()}
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    (best, top), (_, runner_up) = ranked[0], ranked[1]
    if top < MIN_HITS or top == runner_up:
        return UNKNOWN
    return best


def language_of(row: Mapping[str, Any]) -> str:
    """A ticket row's language: its ``language`` field, else a ``lang:xx`` tag, else :func:`detect_language`."""
    given = str(row.get("language") or "").strip().lower()
    if given:
        return given
    for tag in row.get("tags") or ():
        prefix, _, value = str(tag).partition(":")
        if prefix.strip().lower() in ("lang", "language") and value.strip():
            return value.strip().lower()
    return detect_language(f"{row.get('subject', '')}\n{row.get('body', '')}")
