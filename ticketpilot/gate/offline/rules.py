"""The conservative safety layer: explicit, multilingual rules that raise risk flags.

Rules never make a ticket *more* automatable. Each finding keeps a short evidence snippet so the
classification's ``reasoning`` can say why a ticket was held back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..classification import RiskFlag
from . import context_patterns as P
from . import intents, narratives, structure
from .patterns import HIDDEN_TEXT
from .text import TicketView, is_signature_phone_line, phone_numbers

_NAME_STATE = re.compile(
    r"(?<![\w'\u2019])((?:Dr|Mr|Mrs|Ms|Miss)\.? [A-Z][a-z]+|[A-Z][a-z]+(?: [A-Z][a-z'-]+)?)"
    r"(?:'s| is| are| has)? (?:locked|blocked|unable|stuck|off sick|on leave|away|starting|leaving"
    r"|can'?t (?:log|sign|get|access|login|remember|open|use)|cannot (?:log|sign|get|access|login|remember)"
    r"|can not (?:log|sign|get|access)|couldn'?t (?:log|sign|get|access)|isn'?t able|got a new (?:phone|mobile)"
    r"|forgot (?:his|her|their)|lost (?:his|her|their)|needs (?:a|his|her|their|to|access|an)|asked me"
    r"|no puede|est[áa] bloquead|ha olvidado|olvid[óo]|ne peut pas|n'arrive pas|est bloqu[ée]|a oubli[ée]"
    r"|kann sich nicht|kommt nicht|ist gesperrt|hat (?:sein|ihr)|kan niet|is geblokkeerd|komt niet"
    r"|hat ein neues handy|a chang[ée] de t[ée]l[ée]phone|heeft een nieuwe telefoon|tiene (?:un )?m[óo]vil nuevo"
    r"|ha cambiado de m[óo]vil)"
)
_DETERMINERS = frozenset(
    "my the our your this that his her a an their mein meine das der die dein unser ihr sein ein eine mijn de het"
    " mi la el su mon ma le les son sa i ik ich je yo we wij wir nous on he she they hij zij er sie il elle".split()
)
_NOT_NAMES = frozenset(
    "I It This That There Here What Which Who When Where My Our Your Everything Nothing Something Someone "
    "Everyone Nobody Account Laptop Computer Pc PC Outlook Teams Windows Email Mailbox Phone Password Mfa MFA "
    "Authenticator Office Microsoft Screen User Login Profile Machine Desktop Surface System App Device "
    "Workstation Onedrive OneDrive Sharepoint SharePoint Excel Word Chrome Edge Google Apple Iphone iPhone "
    "Printer Internet Wifi Vpn VPN Server Network Today Yesterday Sorry Thanks Please Hi Hello Also And But Now "
    "Konto Benutzerkonto Passwort Kennwort Rechner Handy Postfach Zugang Drucker Bildschirm Cuenta Correo "
    "Ordenador Compte Ordinateur Session Messagerie Wachtwoord Telefoon Still Again Mine Sign Signin Access Mail "
    "E-mail".split()
)
_REQUEST = re.compile(
    r"\b(?:reset|unlock|help(?!desk)|can you|could you|can u|please|pls|plz|fix|need|want|restablec|desbloque|reinicia"
    r"|r[ée]initialis|d[ée]bloqu|zur[üu]cksetzen|entsperr|freischalt|resetten|deblokker|ontgrendel|helpen"
    r"|ayuda|aide|hilfe)\w*|\?",
    re.I,
)
_NOTIFICATION = re.compile(
    r"\bwill expire in \d+ days?\b|\bexpires? (?:today|soon|in \d+)|\bmailbox is (?:almost )?full\b|\bpassword"
    r" (?:has been|was) (?:reset|changed)\b|\bcaduca en \d+|\bexpire dans \d+|\bl[äa]uft in \d+ tagen ab\b"
    r"|\bverloopt over \d+",
    re.I,
)
_BLANK_RUN = re.compile(r"\n(?:[ \t]*\n){12}")
_USERNAME_CONTEXT = re.compile(
    r"\b(?i:unlock|reset|unblock|user(?:name)?|account|login|for|of|as|is|desbloquear|d[ée]bloquer|entsperren"
    r"|deblokkeren)\s*:?\s*([a-z]{2,}[._][a-z]{2,})\b(?![\w@.])"
)


MAX_ADDRESSES = 20
"""At most this many addresses per line are looked at (a wall of addresses is not a request)."""


@dataclass
class RuleFindings:
    """Flags raised by the rules, each with evidence snippets, plus the rule-level facts the model needs."""

    flags: dict[RiskFlag, list[str]] = field(default_factory=dict)
    personal_sender: bool = False
    work_system_named: bool = True
    password_works: str | None = None

    def add(self, flag: RiskFlag, evidence: str) -> None:
        """Record ``flag`` with a short evidence snippet (kept to 60 characters)."""
        snippet = " ".join(evidence.split())[:60]
        self.flags.setdefault(flag, [])
        if snippet not in self.flags[flag]:
            self.flags[flag].append(snippet)

    @property
    def own_account(self) -> bool:
        """False when the text points at someone else's, a shared, or an unverifiable account."""
        return not (
            self.personal_sender
            or RiskFlag.OTHER_PERSON in self.flags
            or RiskFlag.SHARED_OR_SERVICE_ACCOUNT in self.flags
        )


def _first_names(local: str) -> set[str]:
    return {part for part in re.split(r"[._-]+", local) if len(part) > 1}


def _lines(text: str, view: TicketView) -> Iterable[str]:
    return (line for line in view.prose(text).split("\n") if line.strip())


def _check_phones(view: TicketView, found: RuleFindings) -> None:
    for line in _lines(view.everything, view):
        numbers = phone_numbers(line)
        if numbers and not is_signature_phone_line(line):
            found.add(RiskFlag.CONTACT_IN_BODY, f"number in the text: {numbers[0]}")


def _check_addresses(view: TicketView, found: RuleFindings) -> None:
    for line in _lines(view.everything, view):
        if "@" not in line:
            continue
        rest = P.EMAIL_ADDRESS.sub(" ", line)
        signature_like = len(re.findall(r"[^\W\d_]+", rest)) <= 3 or "|" in rest
        for address in P.EMAIL_ADDRESS.findall(line)[:MAX_ADDRESSES]:
            address = address.lower().rstrip(".")
            if address == view.requester:
                continue
            domain = address.rsplit("@", 1)[1]
            if P.CONSUMER_DOMAINS.search(domain):
                found.add(RiskFlag.CONTACT_IN_BODY, f"personal address: {address}")
            elif view.requester_domain and domain == view.requester_domain:
                found.add(RiskFlag.OTHER_PERSON, f"another mailbox: {address}")
            elif not signature_like:
                found.add(RiskFlag.CONTACT_IN_BODY, f"outside address: {address}")


def _check_usernames(view: TicketView, found: RuleFindings) -> None:
    own = view.requester_local.replace("_", ".")
    for match in _USERNAME_CONTEXT.finditer(view.prose(view.head)):
        name = match.group(1).replace("_", ".")
        if P.NOT_USERNAME_SUFFIX.search(name):
            continue
        if name != own:
            found.add(RiskFlag.OTHER_PERSON, f"another username: {name}")


def _check_names(view: TicketView, found: RuleFindings) -> None:
    mine = _first_names(view.requester_local)
    for match in _NAME_STATE.finditer(view.prose(view.everything)):
        name = match.group(1)
        first = name.split()[0]
        if first in _NOT_NAMES or first.lower() in _DETERMINERS or {n.lower() for n in name.split()} & mine:
            continue
        before = view.prose(view.everything)[: match.start()].rstrip().split()
        if before and before[-1].lower() in _DETERMINERS:
            continue
        found.add(RiskFlag.OTHER_PERSON, match.group(0))


def _check_work_system(view: TicketView, found: RuleFindings) -> None:
    found.work_system_named = P.WORK_SYSTEM.search(view.head) is not None
    found.password_works = P.PASSWORD_WORKS.search(view.head)


def _check_notification(view: TicketView, found: RuleFindings) -> None:
    if view.quoted and _NOTIFICATION.search(view.quoted) and not _REQUEST.search(view.top[:300]):
        found.add(RiskFlag.NO_ACTION_NEEDED, "forwarded notification without a request")
    elif not view.quoted and _NOTIFICATION.search(view.top) and not _REQUEST.search(view.top):
        found.add(RiskFlag.NO_ACTION_NEEDED, "notification without a request")


def detect(view: TicketView) -> RuleFindings:
    """Run every rule over ``view``."""
    found = RuleFindings()
    everything = f"{view.everything}\n{view.raw}" if "<" in view.raw or "&" in view.raw else view.everything
    prose = view.prose(view.everything)
    request = view.request
    texts = {"all": (everything, everything.lower()), "head": (request, request.lower())}
    if _logged_call_from_requester(view):
        # An agent's note of the requester's own call: "his", "su", "son" are the requester.
        prose = _THIRD_PERSON.sub(" ", prose)
    for flag, scope, phrases in P.RULES:
        text, lowered = texts[scope] if flag is not RiskFlag.OTHER_PERSON else (prose, prose.lower())
        snippet = phrases.search(text, lowered)
        if snippet is not None and not (flag in _NEGATABLE and negated(lowered, snippet.lower())):
            found.add(flag, snippet)
    blank_run = _BLANK_RUN.search(view.raw)
    if HIDDEN_TEXT.search(view.raw) or (blank_run and view.raw[blank_run.end() :].strip()):
        found.add(RiskFlag.MANIPULATION, "hidden or invisible text")
    if view.requester_domain and P.CONSUMER_DOMAINS.search(view.requester_domain):
        found.personal_sender = True
    _check_phones(view, found)
    _check_addresses(view, found)
    _check_usernames(view, found)
    _check_names(view, found)
    _check_notification(view, found)
    _check_work_system(view, found)
    _check_structure(view, found)
    role = _ROLE_AND_NAME.search(request)
    if role is not None and not _logged_call_from_requester(view):
        found.add(RiskFlag.OTHER_PERSON, role.group(0))
    # Quoted lines are wrapped ("> ... no further\n> checks are needed"): read them joined as well.
    folded = intents.folded(_WRAPPED.sub(" ", everything))
    for finding in [*intents.find(folded), *narratives.find(folded)]:
        found.add(finding.flag, f"{finding.kind}: {finding.evidence}")
    return found


_STRUCTURE = (
    (RiskFlag.HIDDEN_OR_ENCODED_TEXT, structure.encoded_text),
    (RiskFlag.LINK_IN_BODY, structure.links),
    (RiskFlag.QUOTED_OTHER_SENDER, structure.quoted_other_sender),
    (RiskFlag.AUTOMATED_SENDER, structure.automated_sender),
    (RiskFlag.MULTIPLE_PEOPLE, structure.multiple_people),
    (RiskFlag.THIRD_PARTY_SYSTEM, structure.other_system),
)


def _check_structure(view: TicketView, found: RuleFindings) -> None:
    for flag, detector in _STRUCTURE:
        for evidence in detector(view):
            found.add(flag, evidence)


_CALLER = re.compile(
    r"^[ \t]*(?:caller|call from|phone call from|llamada de|appelant|appel de|anrufer(?:in)?|anruf von|beller|gebeld door"
    r"|chiamata da|chiamante|chamada de|dzwoni[aą]c\w*|telefon od)\s*:?\s*([^\W\d_][\w'-]+(?:[ \t]+[^\W\d_][\w'-]+)?)",
    re.I | re.M,
)
_THIRD_PERSON = re.compile(
    r"\b(?:he|she|his|her|him|hers|he's|she's|su|sus|el|ella|son|sa|ses|il|elle|lui|sein|seine|seinen|seinem|ihr|ihre"
    r"|ihren|ihrem|er|sie|zijn|haar|hij|zij|suo|sua|suoi|lei|ele|ela|seu|sua|dele|dela|jego|jej|on|ona)\b",
    re.I,
)


def _logged_call_from_requester(view: TicketView) -> bool:
    """The ticket is an agent's note of a call whose caller is the requester (by name)."""
    caller = _CALLER.search(view.top)
    if caller is None or not view.requester_local:
        return False
    names = {part.lower() for part in re.split(r"[\s'-]+", caller.group(1)) if len(part) > 1}
    mine = _first_names(view.requester_local)
    return bool(names & mine)


_WRAPPED = re.compile(r"(?<=[a-z,;])[ \t]*\n[ \t>]*(?=[a-z])")
"""A line break inside a sentence (the next line goes on in lower case), as in wrapped or quoted mail."""
_ROLE_AND_NAME = re.compile(
    r"\b(?i:our|my|la nostra|il nostro|nuestra|nuestro|nuestras|notre|nos|unsere|unser|unseren|onze|ons|nossa|nosso"
    r"|nasza|nasz|mijn|mi|mon|ma|mein|meine|meinen|la mia|il mio|a minha|o meu|moja|moj)\s+(?i:colleague|hygienist"
    r"|receptionist|nurse|assistant|secretary|manager|boss|director|intern|apprentice|accountant|dentist|doctor|teacher"
    r"|driver|employee|worker|wife|husband|son|daughter|igienista|receptionista|segretaria|assistente|infermiera"
    r"|collega|capo|dipendente|stagista|compa[ñn]er[oa]|recepcionista|secretaria|asistente|enfermera|jef[ea]"
    r"|emplead[oa]|becari[oa]|coll[èe]gue|r[ée]ceptionniste|secr[ée]taire|assistante|infirmi[èe]re|stagiaire"
    r"|employ[ée]e?|patronne|patron|kollegin|kollege|assistentin|sekret[äa]rin|mitarbeiterin|mitarbeiter|azubi"
    r"|chefin|chef|praktikant(?:in)?|receptioniste|secretaresse|medewerker|stagiair|baas|colega|rececionista"
    r"|secret[áa]ria|enfermeira|chefe|funcion[áa]ri[oa]|estagi[áa]ri[oa]|kole[żz]anka|kolega|recepcjonistka"
    r"|sekretarka|asystentka|piel[ęe]gniarka|szef(?:owa)?|pracownik|pracownica|sta[żz]ysta)\s+(?:\w+\s+)?"
    r"(?-i:[A-ZÁÉÍÓÚÀÈÌÒÙÄÖÜŁŚŻŹĆŃ][a-záéíóúàèìòùäöüłśżźćńç]+)"
)
_NEGATABLE = frozenset({RiskFlag.THIRD_PARTY_SYSTEM, RiskFlag.SHARED_OR_SERVICE_ACCOUNT})
_NEGATION = re.compile(
    r"(?:(?<!can )(?<!could )(?<!do )(?<!does )(?<!did )(?<!will )\bnot|\bisn'?t|\baren'?t|\bno es|\bno son|\bni|\bpas"
    r"|\bnicht|\bkein\w*|\bniet|\bgeen|\bnon|\bn[ãa]o [ée]|\bnie|\brather than|\binstead of|\bother than"
    r"|\bapart from|\bexcept)\b(?:[ \t]+[^\s.!?]+){0,3}[ \t]*$"
)


def negated(lowered: str, snippet: str) -> bool:
    """Every occurrence of ``snippet`` in ``lowered`` follows a negation within three words ("not the practice
    software", "no es la del programa de facturación"): the requester says what the ticket is *not* about."""
    key = snippet[:25]
    starts = [m.start() for m in re.finditer(re.escape(key), lowered)] if key else []
    return bool(starts) and all(negated_at(lowered, start) for start in starts)


def negated_at(lowered: str, start: int) -> bool:
    """A negation stands within three words before position ``start`` of ``lowered``."""
    return _NEGATION.search(lowered[max(0, start - 40) : start]) is not None
