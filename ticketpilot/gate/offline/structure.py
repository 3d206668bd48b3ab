"""Structural risk detectors: deterministic, mostly language-independent checks of a ticket's *shape*.

Each detector returns evidence snippets (empty when nothing was found) and knows nothing of the model:

* :func:`encoded_text`: base64 and hex blobs, reversed or ROT13 text, zero-width and bidi control characters,
  words that mix scripts (Latin with Cyrillic or Greek look-alikes), hidden HTML (comments, ``display:none``,
  white or zero-size text);
* :func:`links`: links in the request (a link alone on a signature line, or on the requester's own domain, is
  not counted);
* :func:`quoted_other_sender`: a quoted or forwarded message whose sender is neither the requester nor a
  helpdesk;
* :func:`automated_sender`: no-reply, monitoring and RMM senders; alert-shaped, machine-written bodies;
* :func:`multiple_people`: more than one person as the subject of the request;
* :func:`other_system`: a credential named after something other than the work sign-in ("my Xero password",
  "contraseña de Holded", "Buchhaltungs-Passwort").
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata

from .intents import folded
from .text import TicketView

# --- encoded or obfuscated text ---------------------------------------------------------------------------

_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{20,}={0,2}(?![A-Za-z0-9+/=])")
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){16,}(?![0-9A-Fa-f])")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad\u180e]")
_HIDDEN_HTML = re.compile(
    r"<!--|display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.\d+)?(?:px|pt|em|rem)?\s*[;\"']"
    r"|opacity\s*:\s*0(?:\.0+)?\s*[;\"']|(?<![-\w])color\s*:\s*(?:#f{3}\b|#f{6}\b|white\b|rgb\(\s*255\s*,\s*255\s*,"
    r"\s*255\s*\))|height\s*:\s*0(?:px)?\s*;[^\"']{0,40}overflow\s*:\s*hidden|<\s*(?:script|style|template)\b"
    r"|\bhidden\b(?=[^<>]{0,40}>)",
    re.I,
)
_WORD = re.compile(r"[^\W\d_]{3,}")
# Common words, in the languages the gate reads, whose reversed or ROT13 form gives away hidden text.
_COMMON = frozenset(
    "the and you your please reset password account admin ignore previous instructions send code to for this"
    " that with from have not all are system user verified approve approved mfa now must new give access"
    " contrasena cuenta por favor para enviar codigo ignora instrucciones usuario mot passe compte pour les"
    " envoyer ignorez bitte passwort konto alle anweisungen senden wachtwoord alsjeblieft negeer instructies"
    " sturen aan het een".split()
)
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE")


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    for script in _SCRIPTS:
        if name.startswith(script):
            return script
    return ""


def _decodes_to_text(blob: str) -> bool:
    """A base64 blob that decodes to mostly printable text (a hidden message, not random bytes or an id)."""
    try:
        raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=False)
    except (binascii.Error, ValueError):
        return False
    if len(raw) < 12:
        return False
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in raw)
    return printable / len(raw) > 0.9


def _looks_base64(blob: str) -> bool:
    has_upper = any(c.isupper() for c in blob)
    has_lower = any(c.islower() for c in blob)
    has_digit_or_sym = any(c.isdigit() or c in "+/=" for c in blob)
    return (has_upper and has_lower and has_digit_or_sym) or _decodes_to_text(blob)


def _common_hits(words: list[str]) -> int:
    return sum(w in _COMMON for w in words)


def encoded_text(view: TicketView) -> list[str]:
    """Evidence of encoded, obfuscated or hidden text anywhere in the raw ticket."""
    found: list[str] = []
    raw = view.raw
    for match in _BASE64.finditer(raw):
        blob = match.group(0)
        if _looks_base64(blob) and (_decodes_to_text(blob) or len(blob) >= 32):
            found.append(f"base64-like blob {blob[:24]}")
            break
    hex_blob = _HEX.search(raw)
    if hex_blob:
        found.append(f"hex blob {hex_blob.group(0)[:24]}")
    for invisible in _INVISIBLE.finditer(raw):
        before = raw[invisible.start() - 1] if invisible.start() else ""
        if invisible.group(0) == "\u200d" and before and ord(before) > 0x2000 and not before.isalnum():
            continue  # a zero-width joiner inside an emoji sequence
        found.append(f"invisible control character U+{ord(invisible.group(0)):04X}")
        break
    hidden = _HIDDEN_HTML.search(raw)
    if hidden:
        found.append(f"hidden HTML: {hidden.group(0)[:30]}")
    for word in re.findall(r"\w{3,}", raw)[:5_000]:
        if word.isascii():
            continue
        scripts = {_script(ch) for ch in word if ch.isalpha() and not ch.isascii()} | (
            {"LATIN"} if any(ch.isascii() and ch.isalpha() for ch in word) else set()
        )
        scripts.discard("")
        if len(scripts) > 1:
            found.append(f"mixed-script word {word[:30]!r}")
            break
    words = [w for w in _WORD.findall(folded(view.everything))][:3_000]
    forward = _common_hits(words)
    reversed_hits = _common_hits([w[::-1] for w in words])
    if reversed_hits >= 3 and reversed_hits > forward:
        found.append("reversed text")
    rot13_hits = _common_hits([codecs.encode(w, "rot13") for w in words if w.isascii()])
    if rot13_hits >= 3 and rot13_hits > forward:
        found.append("ROT13 text")
    return found


# --- links ------------------------------------------------------------------------------------------------

_LINK = re.compile(
    r"(?:\bhttps?://|\bhxxps?://|\bwww\.)[^\s<>\"')\]]+|\b[\w-]{2,63}(?:\.[\w-]{2,63})*\.(?:com|net|org|io|ly|info"
    r"|biz|xyz|top|site|online|app|link|click|co|me|ru|cn|tk)/[^\s<>\"')\]]*",
    re.I,
)


def _host(link: str) -> str:
    link = re.sub(r"^(?:h[tx]{2}ps?://)", "", link, flags=re.I)
    return link.split("/", 1)[0].split("?", 1)[0].lower().removeprefix("www.")


def links(view: TicketView) -> list[str]:
    """Links in the newest message outside signature-like lines and outside the requester's own domain."""
    found = []
    for line in view.head.split("\n"):
        for match in _LINK.finditer(line):
            host = _host(match.group(0))
            own = view.requester_domain and (
                host == view.requester_domain or host.endswith("." + view.requester_domain)
            )
            rest = line.replace(match.group(0), " ")
            words = re.findall(r"[^\W\d_]+", rest)
            signature_like = len(words) <= 3 or ("|" in rest and len(words) <= 10)
            if not (own and signature_like) and not (signature_like and not _LINK_VERB.search(rest)):
                found.append(f"link {match.group(0)[:40]}")
    return found[:3]


_LINK_VERB = re.compile(
    r"\b(?:click|go|open|visit|log ?in|sign ?in|use|via|here|link|enlace|lien|klik\w*|klick\w*|clicca|pulsa|cliquez"
    r"|hier|aqui|ici|qui|aqu[íi]|entra\w*|abr\w*|ouvr\w*|[öo]ffne\w*|open\w*|apri|acesse|wejd\w*)\b",
    re.I,
)


# --- quoted or forwarded messages from another sender -----------------------------------------------------

_SENDER_LINE = re.compile(
    r"^[ \t>]*(?:from|de|von|van|da|od|expediteur|remitente)\s*:\s*(.{1,160})$", re.I | re.M
)
_WROTE_LINE = re.compile(
    r"^[ \t>]*(?:on|le|am|op|el|il|em|w dniu)\s[^\n]{5,120}?,\s*([^,\n]{2,80}?)\s*(?:<[^>\n]{3,80}>)?\s*"
    r"(?:wrote|a [ée]crit|schrieb|schreef|escribi[óo]|ha scritto|escreveu|napisa[łl]\w*)\s*:",
    re.I | re.M,
)
_WROTE_FIRST_LINE = re.compile(
    r"^[ \t>]*(?:am|le|op|el|il|em)\s[^\n]{3,80}?\s(?:schrieb|a [ée]crit|schreef|escribi[óo]|ha scritto|escreveu)"
    r"\s+([^\n:]{2,120}?)\s*:",
    re.I | re.M,
)
_HELPDESK = re.compile(
    r"\b(?:service ?desk|help ?desk|it support|support|servicedesk|helpdesk|it team|tech(?:nical)? support|soporte"
    r"|it notifications?|it department|it dept|it services|notifications?|no-?reply|do-?not-?reply"
    r"|assistance|assistenza|suporte|ticket|noc|msp)\b|^(?:support|helpdesk|servicedesk|it|itsupport|tickets?"
    r"|service)@",
    re.I,
)
_ADDRESS = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")


def _same_person(sender: str, view: TicketView) -> bool:
    address = _ADDRESS.search(sender)
    if address is not None:
        sender_address = address.group(0).lower().rstrip(".")
        local, _, domain = sender_address.partition("@")
        own_it = domain == view.requester_domain and _AUTOMATED_LOCAL.match(local) is not None
        return sender_address == view.requester or own_it
    names = {part for part in re.split(r"[^a-z]+", folded(sender)) if len(part) > 1}
    mine = {part for part in re.split(r"[._-]+", folded(view.requester_local)) if len(part) > 1}
    if not names or not mine:
        return False
    return bool(names & mine) or any(
        len(m) >= 2 and n.startswith(m) for n in names for m in mine if len(n) > 1
    )


def quoted_other_sender(view: TicketView) -> list[str]:
    """Senders of quoted or forwarded messages who are neither the requester nor a helpdesk. (Without a
    requester address there is no one to compare with: the gate always has one.)"""
    if not view.requester:
        return []
    text = view.quoted or ""
    if view.top and not view.quoted and re.search(r"(?im)^\s*(?:fwd?|fw|tr|wg|rv|i)\s*:", view.subject):
        text = view.body
    found = []
    senders = [
        m.group(1)
        for pattern in (_SENDER_LINE, _WROTE_LINE, _WROTE_FIRST_LINE)
        for m in pattern.finditer(text)
    ]
    for sender in senders[:20]:
        sender = sender.strip()
        if not sender or _HELPDESK.search(sender) or _same_person(sender, view):
            continue
        found.append(f"quoted from {sender[:40]}")
        break
    return found


# --- automated senders and machine-written bodies ---------------------------------------------------------

_AUTOMATED_LOCAL = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply|alerts?|alerting|monitor(?:ing)?|notifications?|notify"
    r"|mailer-daemon|postmaster|system|automation|rmm|nagios|zabbix|prtg|datto|ninja\w*|kaseya|atera|syncro"
    r"|n-?able|connectwise|auvik|sentinel\w*|defender|security-?alerts?|daemon|root|bounce\w*|cron|scheduler"
    r"|robot|bot)(?:[-_.+].*)?$",
    re.I,
)
_MACHINE_BODY = re.compile(
    r"\b(?:alert (?:triggered|raised|id|name|details)|severity\s*:|event id\s*[:#]?\s*\d|monitor(?:ing)? (?:alert"
    r"|policy)|threshold (?:exceeded|breached)|(?:ninjaone|ninjarmm|datto rmm|n-able|n-central|kaseya|atera"
    r"|syncro|connectwise automate|auvik|prtg|zabbix|nagios)\b|this (?:is an? )?(?:automated|automatic|auto-generated"
    r"|system[- ]generated) (?:message|e-?mail|notification|alert)|do not reply to this (?:message|e-?mail)"
    r"|delivery (?:status notification|has failed)|undeliverable|auto(?:matic)?[- ]?reply|(?:i am|i'm|currently)"
    r" out of (?:the )?office|out of (?:the )?office (?:until|till|from|and will|returning|with limited)"
    r"|automatische antwort|abwesenheitsnotiz|respuesta autom[aá]tica|r[ée]ponse automatique"
    r"|automatisch antwoord|risposta automatica|resposta autom[aá]tica)",
    re.I,
)


def automated_sender(view: TicketView) -> list[str]:
    """Evidence that a machine wrote the ticket."""
    found = []
    if view.requester_local and _AUTOMATED_LOCAL.match(view.requester_local):
        found.append(f"automated sender {view.requester_local}@")
    match = _MACHINE_BODY.search(view.head)
    if match:
        found.append(f"machine-written: {match.group(0)[:40]}")
    return found


# --- more than one person -----------------------------------------------------------------------------------

_MULTIPLE = re.compile(
    r"\b(?:for|de|of|voor|per|f[üu]r|dla|para)\s+(?:everyone|everybody|the whole team|all of us|todo (?:el )?mundo|todos|toda"
    r" (?:la|a) (?:equipe|equipo)|tout le monde|toute l'[ée]quipe|alle|iedereen|tutti|wszystkich)\b"
    r"|\b(?:i|me|eu|yo|moi|ich|ik|io|ja),\s*(?-i:[A-Z][\w'-]+)(?: (?-i:[A-Z][\w'-]+))?,\s*(?-i:[A-Z][\w'-]+)"
    r"|\b(?:we|we're|we've|we are|we both|we all|both of us|us both|all of us|the two of us|me and (?:my )?"
    r"\w+|(?-i:(?!Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June"
    r"|July|August|September|October|November|December|Today|Yesterday)[A-Z][a-z]+) and (?:i|me|myself)|(?:colleague|boss|manager|wife|husband|partner) and (?:i|me))\b"
    r"[^.!?\n]{0,50}\b(?:locked|blocked|can't|cannot|can not|unable|forgot|need|lost"
    r"|reset|log ?in|sign ?in|password|passwords|accounts|mfa|authenticator)\b"
    r"|\bour (?:passwords|accounts|logins|mfa|authenticators)\b|\bboth (?:of )?(?:our|the|these) accounts\b"
    r"|\b(?:no podemos|no pudimos|estamos bloquead)\w*|\b(?:mi|mis) compa\w+ y yo\b|\blos dos\b"
    r"|\bambos\b|\bnous (?:ne pouvons|n'arrivons|sommes bloqu|avons)\w*|\b(?:mon|ma) coll[eè]gue et moi\b"
    r"|\btous les deux\b|\b(?:mein|meine) kolleg\w* und ich\b|\bbeide\b"
    r"|\b(?:wir|wij|nosotros|nous|noi|n[óo]s)\b[^.!?\n]{0,40}\b(?:gesperrt|anmelden|einloggen|passw\w*|kennw\w*"
    r"|bloquead\w*|contrase\w*|bloqu\w*|connecter|geblokkeerd|inloggen|wachtwoord|bloccat\w*|accedere|zalogowa\w*"
    r"|zablokowan\w*|has[łl]\w*)|\bmijn collega en ik\b|\ballebei\b|\bnon riusciamo\b"
    r"|\b(?:il mio|la mia) collega e io\b|\bentrambi\b|\bn[aã]o conseguimos\b|\beu e (?:o|a) (?:meu|minha) colega\b"
    r"|\bnie mo[zż]emy\b|\boboje\b"
    r"|\b(?:estamos|somos|nous sommes|sind wir|wir sind|zijn we|we zijn|siamo|jeste[śs]my)\b[^.!?\n]{0,40}"
    r"\b(?:bloquead\w*|bloqu\w*|gesperrt|geblokkeerd|bloccat\w*|zablokowan\w*|sin acceso|sem acesso|locked)"
    r"|\b(?:los|las|os|as|les|die|i|le)\s+(?:dos|tres|tr[êe]s|cuatro|dois|quatro|deux|trois|quatre|zwei|drei"
    r"|vier|twee|drie|due|tre|quattro|dwa|trzy|cztery)\b(?![-\w])(?!\s+(?:\w+\s+)?(?:veces|fois|mal|keer|volte|vezes|razy"
    r"|semanas|semaines|wochen|weken|settimane|dias|jours|tage|dagen|giorni|dni|horas|heures|stunden|uren|ore))",
    re.I,
)


def multiple_people(view: TicketView) -> list[str]:
    """More than one person is the subject of the request."""
    match = _MULTIPLE.search(view.head)
    return [match.group(0)[:50]] if match else []


# --- a system other than the work sign-in -------------------------------------------------------------------

_CREDENTIAL_EN = re.compile(
    r"\b(?:my|the|our|your|a|an|this|that)\s+(?:([\w.&'-]{2,30})\s+)?([\w.&'-]{2,30})\s+(?:pass ?word|passcode|pw|login"
    r"|log-in|logon|sign-in|account|pin|credentials?|username|user ?name)s?\b",
    re.I,
)
_CREDENTIAL_OF = re.compile(
    r"\b(?:contrase[ñn]a|clave|cuenta|usuario|mot de passe|compte|identifiant|password|account|senha|conta"
    r"|has[łl]o|konto|wachtwoord|passwort|kennwort|zugang)\s+(?:de|del|d'|di|do|da|dla|f[üu]r|voor|van|von|des)"
    r"\s+(?:la |le |el |il |lo |o |a |das |den |dem |het |de |l')?([\w.&'-]{2,30})"
    r"|\b(?:zugang|acceso|acc[eè]s|toegang|accesso|acesso|dost[ęe]p)\s+(?:zum|zur|al|alla|ao|au|tot|do)"
    r"\s+(?:la |le |el |il |lo |o |a |das |den |dem |het |de |l')?([\w.&'-]{2,30})",
    re.I,
)
_CREDENTIAL_FOR = re.compile(
    r"\b(?i:password|passcode|login|log-in|account|pin|credentials|username)\s+(?i:for|to)\s+(?:the\s+)?"
    r"([A-Z][\w.&'-]{1,30})"
)
_COMPOUND = re.compile(
    r"\b([a-zäöüß]{3,25})-?(?:passwort|kennwort|konto|zugang|wachtwoord|account|portal|portaal|programm|software"
    r"|systeem|system)\b",
    re.I,
)
_ALLOWED_MODIFIERS = frozenset(
    """
    my the a an your our this that his her their its any same own other new old current temporary temp expired
    expiring locked blocked disabled forgotten forgot wrong correct right usual normal main default initial
    previous existing actual first second real whole entire bloody stupid damn flipping darn one-time
    work school office company business corporate staff employee user network domain windows microsoft ms m365
    o365 365 office365 microsoft365 outlook email e-mail mail teams onedrive sharepoint azure entra ad computer
    laptop pc desktop machine workstation device surface login log-in logon sign-in signin account
    accounts password passwords mfa 2fa authenticator and or of to for in on at with is was be been it i me
    can't cant cannot not no yes now still just also even again please pls reset unlock change changed
    remember enter entered type typed typing use using get got need needs want wanted set update updated
    expire expires expiry expiration forgetting locking mistyped mistyping microsoft's school's company's
    domain's work's teacher staff's referenced monday tuesday wednesday thursday friday saturday sunday january
    february march april may june july august september october november december today tomorrow tonight
    morning week weekend usual regular normal saved stored cached few couple several many both
    schul uni buro system computor compter compu maquina laburo trabajo
    mi mis la el los las tu su nuestra nuestro una un del de mon ma mes le les ton ta votre notre un une du des
    mein meine meinen meinem mein das der die dem den ein eine mijn de het een onze il lo gli mio mia meu minha
    o os as um uma moje moja
    nuevo nueva antiguo antigua actual temporal caducado caducada bloqueado bloqueada
    nouveau nouvelle ancien ancienne actuel actuelle temporaire expire expiree bloque bloquee
    neues neue neuen altes alte aktuelles aktuelle abgelaufenes abgelaufene gesperrtes gesperrte
    nieuw nieuwe oud oude huidig huidige tijdelijk tijdelijke verlopen geblokkeerd geblokkeerde
    nuovo nuova vecchio vecchia attuale temporanea scaduta bloccato bloccata
    novo nova antigo antiga atual temporaria expirada bloqueado bloqueada
    correo ordenador equipo portatil sesion windows trabajo empresa oficina
    messagerie ordinateur poste session travail bureau entreprise
    rechner computer arbeit firma buro windows benutzer anmelde anmeldung domanen netzwerk email outlook
    werk computer kantoor netwerk email outlook gebruikers
    acceso accesso acces acesso dostepu inicio entrada connexion cuenta compte conta konto konta computador rede
    komputera poczty mail firmen arbeits windows- microsoft- outlook- office- e-mail- mitarbeiter- kunden- benutzer- correio eletronico electronico einmal einmal- temporares initial start nutzer mitarbeiter anmelde zugangs
    lavoro ufficio computer posta
    trabalho escritorio computador email
    """.split()
)


_WORK_WORDS = frozenset(
    "microsoft windows network domain office 365 o365 m365 office365 microsoft365 outlook email e-mail mail"
    " computer laptop pc work school company staff entra azure teams".split()
)


def _modifier_ok(word: str) -> bool:
    word = folded(word).strip(".'-&")
    return (
        not word
        or word in _ALLOWED_MODIFIERS
        or word.isdigit()
        or word.endswith(("'s", "s'"))  # possessive of a person: left to the other-person rules
    )


_FILE_PASSWORD = re.compile(
    r"\bpassword[- ]protect\w*|\bprotected (?:file|document|spreadsheet|pdf|zip|workbook|folder)\b"
    r"|\b(?:file|document|spreadsheet|workbook|pdf|zip|excel|word doc|archive|usb|drive|bitlocker|sheet)\b"
    r"[^.!?\n]{0,40}\bpass ?word\b|\bpass ?word\b[^.!?\n]{0,30}\b(?:on|for|of|to|from) (?:the|a|an|my|this|that)"
    r" (?:[\w-]+ ){0,2}(?:file|document|spreadsheet|pdf|zip|workbook|folder|excel|archive|usb|drive)\b"
    r"|\.(?:xlsx?|docx?|pdf|zip|7z|rar|pptx?|accdb)\b",
    re.I,
)
# A named application: "log into DentaBook", "bloqueada en FacturaNet", "el programa de facturación".
_NAMED_APP = re.compile(
    r"\b(?:log ?(?:in)?(?:to| into)|sign(?:ed)? ?in(?:to| to)|get into|access to|locked (?:myself |me )?out of"
    r"|password for)[ \t]+"
    r"(?:the\s+)?([A-Z][\w.&'-]{2,30})"
    r"|\b(?i:bloquead[oa]|bloqu[ée]e?|gesperrt|geblokkeerd|bloccat[oa]|zablokowan[ya]|bloqueado)\s+(?i:en|dans|in|im|no|na|w)"
    r"\s+([A-Z][\w.&'-]{2,30})"
    r"|\b(?i:entrar|acceder|conectarme|entrare|accedere|acessar|aceder|me connecter|zalogowa\w*)\s+(?:si[eę]\s+)?"
    r"(?i:en|a|al|in|nel|nella|no|na|sur|[àa]|do|bei)\s+(?:(?i:el|la|il|lo|o|a|le)\s+)?([A-Z0-9][\w.&'-]{1,30})"
)
_SOFTWARE_NOUN = re.compile(
    r"\b(?:programa|programme|logiciel|programm|applicatie|applicazione|aplicativo|aplicaci[oó]n|plataforma"
    r"|piattaforma|plateforme|plattform)\s+(?:de|di|do|da|f[üu]r|voor|van|des|du|per|para)\s+\w+"
    r"|\b([\w-]{3,25})[ \t]+(?:software|system|portal|platform|programme|program|app|application|tool|website)\b",
    re.I,
)
_BUSINESS_SOFTWARE = re.compile(
    r"\b(?:gestionale|erp|crm|warenwirtschaft\w*|kassensystem|kassasysteem|boekhoud\w*|contabilit\w*|facturaci[oó]n"
    r"|contabilidad\w*|buchhaltung|ksi[ęe]gowo[śs][ćc]"
    r"|fatturazion\w*|buchhaltungs\w*|comptabilit[ée]|payroll (?:system|software|portal|app|login)|n[oó]minas"
    r"|logiciel de paie|lohnbuchhaltung|accounting (?:thing|software|system|package|app|program|tool|portal|platform)"
    r"|online accounting|bookkeeping (?:software|app|system)|invoicing (?:software|app|system)"
    r"|salarisadministratie|ksi[ęe]gow\w*|patient(?:en)?(?:system|systeem)|practice management|dms)\b",
    re.I,
)
_ALLOWED_APP_WORDS = frozenset(
    "microsoft windows office outlook teams onedrive sharepoint azure entra authenticator the my our your this that"
    " mfa 365 o365 m365 email e-mail mail work company operating security sign-in login phone mobile same new old"
    " ticketing ticket support helpdesk service remote desktop web whole entire from via in on at to using through"
    " into of for with and or by self-service verification sign-in authentication".split()
)


def other_system(view: TicketView) -> list[str]:
    """A credential or account named after something that is not the work sign-in. A mention the requester
    negates ("not the practice software", "no es la del programa de facturación") does not count: the
    negation must stand right before the name, so "can't log into DentaBook" still counts."""
    from .rules import negated_at

    head = view.prose(view.request)
    lowered = head.lower()
    return [
        label
        for label, start in _other_system(head)
        if not negated_at(lowered, start) and not _IS_FINE.match(lowered, start)
    ][:3]


# "the booking system is fine, I'm in there now": the other system is named as the one that works.
_IS_FINE = re.compile(
    r"[^.!?\n]{0,40}\b(?:is|are|'s|seems|works?|working|funciona|marche|fonctionne|funktioniert|werkt|funziona)\b"
    r"[^.!?\n]{0,15}\b(?:fine|ok|okay|good|normal|normally|bien|gut|goed|bene|perfectly)\b|[^.!?\n]{0,40}\bi'?m in\b"
)


def _other_system(head: str) -> list[tuple[str, int]]:
    """(evidence, position of the named thing) for every mention."""
    found: list[tuple[str, int]] = []
    match = _FILE_PASSWORD.search(head)
    if match:
        found.append((f"file password: {match.group(0)[:40]}", match.start()))
    for app in _NAMED_APP.finditer(head):
        group = 1 if app.group(1) else 2 if app.group(2) else 3
        name = app.group(group)
        if name and not _modifier_ok(name) and folded(name) not in _ALLOWED_APP_WORDS:
            found.append((f"named application: {app.group(0)[:40]}", app.start(group)))
    software = _BUSINESS_SOFTWARE.search(head)
    if software:
        found.append((f"business software: {software.group(0)[:40]}", software.start()))
    for noun in _SOFTWARE_NOUN.finditer(head):
        qualifier = noun.group(1)
        if qualifier is None or (folded(qualifier) not in _ALLOWED_APP_WORDS and not _modifier_ok(qualifier)):
            found.append((f"another application: {noun.group(0)[:40]}", noun.start()))
    for match in _CREDENTIAL_EN.finditer(head):
        first, last = match.groups()
        # "my council Microsoft account" names the work sign-in; "the booking system login" does not.
        words = [last] if folded(last) in _WORK_WORDS else [w for w in (first, last) if w]
        if not all(_modifier_ok(word) for word in words):
            found.append((match.group(0)[:40], match.start()))
    for pattern in (_CREDENTIAL_OF, _CREDENTIAL_FOR, _COMPOUND):
        for match in pattern.finditer(head):
            word = next(g for g in match.groups() if g)
            if not _modifier_ok(word):
                found.append((match.group(0)[:40], match.start()))
    return found
