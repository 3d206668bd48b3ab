"""Positive evidence: does the newest message explicitly ask to reset, unlock or re-register the sign-in?

The gate abstains by default: a ticket is automated only on positive evidence of an account action on the
requester's own sign-in, and only when it is a request to act now (not a question, a hypothetical or a plan
for later). This module finds that evidence, deterministically, in English, Spanish, French, German, Dutch,
Italian, Portuguese and Polish; patterns run on :func:`~.intents.folded` text (lower case, no accents).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .intents import folded
from .text import TicketView

_PASSWORD = (
    r"(?:pass ?words?|pasword|passwrd|passowrd|paswd|passwd|passcode|pwd?|paswoord|ww|palavras?-passe|login password|contrasenas?|claves?|mots? de passe|mdp|passwort|kennwort"
    r"|wachtwoord|password|senhas?|hasl[oa]|parola)"
)
_PASSWORD_PROBLEM = (
    r"(?:reset|resetting|re-set|forgot|forgotten|forget|forgetting|can'?t remember|cannot remember|can not remember"
    r"|don'?t remember|do not remember|blanked|expired|expiring|expires|has expired|not working|doesn'?t work"
    r"|does not work|isn'?t working|won'?t work|stopped working|wrong|incorrect|not accepted|won'?t accept|rejected"
    r"|invalid|change|changed|new one|new password|locked|unlock|mistyped"
    r"|olvid\w*|restablec\w*|reset\w*|resete\w*|reinici\w*|caducad\w*|no funciona|incorrect\w*|cambi\w*|no me deja"
    r"|oubli\w*|reinitialis\w*|expire\w*|ne fonctionne|ne marche|incorrect|chang\w*|perdu"
    r"|vergessen|zurucksetz\w*|zuruck ?gesetzt|abgelaufen|funktioniert nicht|falsch|andern|geandert|neues"
    r"|vergeten|resetten|gereset|verlopen|werkt niet|onjuist|fout|wijzig\w*|nieuw"
    r"|dimentica\w*|reimposta\w*|resett\w*|scadut\w*|non funziona|errat\w*|sbagliat\w*|cambia\w*"
    r"|esquec\w*|redefin\w*|expirou|expirad\w*|nao funciona|errad\w*|alter\w*"
    r"|zapomnia\w*|zresetowa\w*|wygasl\w*|nie dziala|zmieni\w*)"
)
_LOCKOUT = (
    r"(?:locked ?out|locked|lock ?out|lockout|unlock|blocked|unblock|disabled|suspended|can'?t (?:log|sign|get) ?in"
    r"|cannot (?:log|sign|get) ?in|can not (?:log|sign|get) ?in|unable to (?:log|sign|get) ?in|won'?t let me (?:in|log)"
    r"|can'?t (?:access|login|logon|get into)|cannot (?:access|login|get into)|not letting me (?:in|log)"
    r"|bloquead\w*|desbloque\w*|no puedo (?:entrar|acceder|iniciar)|no me deja (?:entrar|acceder)"
    r"|bloque\w*|debloqu\w*|je n'arrive (?:pas|plus) a me connecter|je ne peux (?:pas|plus) me connecter|verrouill\w*"
    r"|gesperrt|entsperr\w*|komme nicht (?:mehr )?(?:rein|ins|in)|kann mich nicht (?:mehr )?anmelden|freischalt\w*"
    r"|geblokkeerd|deblokk\w*|kan niet (?:meer )?inloggen|kom niet (?:meer )?in|vergrendeld|ontgrendel\w*"
    r"|bloccat\w*|sblocc\w*|non riesco (?:ad|a) (?:accedere|entrare)"
    r"|bloqueado|bloqueada|desbloque\w*|nao consigo (?:entrar|acessar|aceder)"
    r"|zablokowan\w*|odblokow\w*|nie moge sie zalogowac)"
)
_MFA = (
    r"(?:mfa|2fa|two[- ]?factor|multi[- ]?factor|2[- ]?step|two[- ]?step|authenticator|authentication app"
    r"|verification code|(?:text|sms|security|sign-?in|login|log-?in|6[- ]digit) codes?|sign-?in (?:texts?|sms|messages?)|sign-?in (?:approval|request|prompt)|approve (?:the |a |my )?sign-?in|number matching"
    r"|doble factor|autenticacion|verificacion en dos pasos|double authentification|authentification"
    r"|zwei-?faktor\w*|mehrstufige\w*|tweestaps\w*|tweefactor\w*|autenticazione|a due fattori|autenticacao"
    r"|dois fatores|multifator|multifatorial|uwierzytelni\w*|dwuetapow\w*)"
)
_MFA_PROBLEM = (
    r"(?:reset|re-?register|re-?set ?up|set (?:it )?up again|setup again|new phone|new mobile|new iphone|new android"
    r"|replacement phone|lost|broke|broken|died|dead|smashed|cracked|wiped|factory reset|traded in|upgraded"
    r"|not (?:getting|receiving|showing|coming|appearing|working)|doesn'?t (?:show|appear|arrive|work)"
    r"|don'?t get|can'?t approve|cannot approve|no (?:prompt|notification|code)s?|empty|missing|gone"
    r"|resett\w*|resete\w*|reimposta\w*|rompi\w*|rompe\w*|quebr\w*|zepsu\w*|popsu\w*|clear|remove|redo|re-?do|again|from scratch|delete|repor|troquei|trocar|cambie de movil|change de portable"
    r"|quit\w+|borr\w+|otra vez|de nuevo|configurar\w* (?:otra vez|de nuevo)|remettre a zero|reconfigur\w*"
    r"|a nouveau|supprim\w*|neu aufsetzen|neu einricht\w*|erneut|entfern\w*|opnieuw|verwijder\w*|di nuovo"
    r"|rimuov\w*|novamente|de novo|remov\w*|ponownie|usun\w*"
    r"|nuevo movil|movil nuevo|cambiado de movil|perdi\w*|roto|no (?:me )?llega\w*|reinici\w*|restablec\w*"
    r"|nouveau (?:telephone|portable)|change de telephone|perdu|casse|ne recois plus|reinitialis\w*"
    r"|neues (?:handy|telefon|smartphone|diensthandy)|handy (?:verloren|kaputt|gewechselt)|zurucksetz\w*|verloren"
    r"|kaputt|neu einrichten|nieuwe telefoon|telefoon kwijt|kapot|opnieuw instellen|resetten"
    r"|nuovo telefono|telefono nuovo|perso|rotto|reimposta\w*|novo telemovel|novo celular|perdi|partido|redefin\w*"
    r"|nowy telefon|zgubi\w*|zresetowa\w*)"
)

_STRONG_PASSWORD = (
    r"(?:reset|resetting|forgot|forgotten|forget|can'?t remember|cannot remember|can not remember|don'?t remember"
    r"|do not remember|blanked|expired|has expired|olvid\w*|restablec\w*|caducad\w*|oubli\w*|reinitialis\w*"
    r"|expire|vergessen|zurucksetz\w*|abgelaufen|vergeten|resetten|verlopen|dimentica\w*|reimposta\w*|scadut\w*"
    r"|esquec\w*|redefin\w*|expirou|expirad\w*|zapomnia\w*|zresetowa\w*|wygasl\w*|gereset|reposicao|repor"
    r"|no (?:me )?(?:recuerdo|acuerdo)|ne m'en souviens|je ne me souviens|erinnere mich nicht|weiss (?:\w+ )?nicht mehr"
    r"|weet (?:\w+ )?niet meer|non (?:me lo )?ricordo|nao me (?:recordo|lembro)|nie pamietam)"
)
_CREDENTIAL_NOUN = (
    rf"(?:{_PASSWORD}|login|log-?in|logon|sign-?in|account|cuenta|compte|konto|account|conta|konta)"
)
_GENERIC_REQUEST = (
    r"(?:reset|resete\w*|reseta\w*|resett\w*|unlock|re-?enable|re-?register|debarr\w*|repor|reposicao|desbloque\w*|reinicia\w*|reinitialis\w*|debloqu\w*"
    r"|zurucksetz\w*|entsperr\w*|freischalt\w*|resetten|deblokk\w*|ontgrendel\w*|reimposta\w*|sblocc\w*"
    r"|redefin\w*|desbloque\w*|zresetuj\w*|odblokuj\w*)"
)
_WEAK_LOCKOUT = (
    r"(?:can'?t (?:log|sign|get) ?in|cannot (?:log|sign|get) ?in|can not (?:log|sign|get) ?in|unable to (?:log|sign|get)"
    r" ?in|won'?t let me (?:in|log)|can'?t (?:access|login|logon|get into)|cannot (?:access|login|get into)"
    r"|not letting me (?:in|log)|no puedo (?:entrar|acceder|iniciar)|no me deja (?:entrar|acceder)"
    r"|je n'arrive (?:pas|plus) a me connecter|je ne peux (?:pas|plus) me connecter|komme nicht (?:mehr )?"
    r"(?:rein|ins|in)|kann mich nicht (?:mehr )?anmelden|kan niet (?:meer )?inloggen|kom niet (?:meer )?in"
    r"|non riesco (?:ad|a) (?:accedere|entrare)|nao consigo (?:entrar|acessar|aceder)|nie moge sie zalogowac)"
)

_STRONG_LOCKOUT = (
    r"(?:ausgesperrt|ausgeschlossen|barre|barree|debarr\w*|locked ?out|locked|lock ?out|lockout|unlock|blocked|unblock|disabled|suspended|bloquead\w*|desbloque\w*"
    r"|bloque\w*|debloqu\w*|verrouill\w*|gesperrt|entsperr\w*|freischalt\w*|geblokkeerd|deblokk\w*|vergrendeld"
    r"|ontgrendel\w*|bloccat\w*|sblocc\w*|zablokowan\w*|odblokow\w*)"
)
STRONG_LOCKOUT = re.compile(rf"\b{_STRONG_LOCKOUT}\b")
_ACCOUNT_THING = (
    rf"(?:{_CREDENTIAL_NOUN}|log ?in|sign ?in|log ?on|me|myself|mich|mir|moi|mij|mnie|computer|laptop|pc|windows|outlook|e-?mail|teams"
    r"|office|microsoft|365|mfa|authenticator|profile|ordenador|portatil|equipo|correo|ordinateur|messagerie"
    r"|session|rechner|anmeldung|postfach|computador|komputer|poczta)"
)
SIGN_IN_CONTEXT = re.compile(
    rf"\b{_ACCOUNT_THING}\b[^.!?\n]{{0,50}}\b(?:{_STRONG_LOCKOUT}|{_GENERIC_REQUEST})"
    rf"|\b(?:{_STRONG_LOCKOUT}|{_GENERIC_REQUEST})\b[^.!?\n]{{0,40}}\b{_ACCOUNT_THING}\b"
    r"|\blocked ?out\b|\block(?:ed)? (?:me|myself) out\b|\bunlock\b"
    r"|\b(?:bin|ich bin|hab mich|habe mich) ausgesperrt\b|\bme he quedado bloquead|\bje suis (?:bloque|barre)"
    r"|\bik ben (?:buitengesloten|geblokkeerd)|\bsono bloccat|\bestou bloquead|\bjestem zablokowan"
)
STRONG_PASSWORD = re.compile(rf"\b{_STRONG_PASSWORD}\b")
CREDENTIAL_NOUN = re.compile(rf"\b{_CREDENTIAL_NOUN}\b")
GENERIC_REQUEST = re.compile(rf"\b{_GENERIC_REQUEST}\b")
WEAK_LOCKOUT = re.compile(rf"\b{_WEAK_LOCKOUT}")
PASSWORD_ACTION = re.compile(
    rf"\b{_PASSWORD}\b[^.!?\n]{{0,60}}\b{_PASSWORD_PROBLEM}|\b{_PASSWORD_PROBLEM}\b[^.!?\n]{{0,60}}\b{_PASSWORD}\b",
)
LOCKOUT_ACTION = re.compile(rf"\b{_LOCKOUT}")
MFA_ACTION = re.compile(
    rf"\b{_MFA}\b[^.!?\n]{{0,80}}\b{_MFA_PROBLEM}|\b{_MFA_PROBLEM}\b[^.!?\n]{{0,80}}\b{_MFA}\b"
    r"|\b(?:can'?t|cannot|can not|unable to|no way to) approve\b|\bno puedo (?:\w+ )?aprobar\b|\bje ne peux (?:plus |pas )+"
    r"approuver\b|\bkann (?:\w+ )?nicht (?:mehr )?(?:bestatigen|genehmigen)\b|\bkan (?:\w+ )?niet (?:meer )?goedkeuren\b"
    r"|\bnon posso (?:piu )?approvare\b|\bnao consigo aprovar\b|\bnie moge zatwierdzic\b",
)

NOT_A_REQUEST = re.compile(
    r"\b(?:is it (?:acceptable|allowed|permitted|safe|ok|okay) to|am i allowed to|in theory|theoretically|hypothetically|just wondering|i was wondering|i'm wondering|just curious"
    r"|out of curiosity|planning ahead|plan ahead|not yet|not changing yet|for future reference|in the future"
    r"|next (?:week|month|year)|do i need to (?:do|change|reset) (?:anything|it)|should i (?:change|reset|do)"
    r"|how (?:do|can|should) i (?:reset|change|update|set up|re-?register)|is it possible to .{0,40}\bmyself"
    r"|what happens (?:if|when)|would it be possible,? (?:in theory|at some point)|just checking (?:if|whether)"
    r"|en teoria|por curiosidad|me preguntaba|el (?:mes|ano|la semana) que viene|la proxima semana|como puedo"
    r"|tengo que hacer algo|en theorie|par curiosite|je me demandais|le mois prochain|la semaine prochaine"
    r"|comment (?:puis-je|je peux|faire pour)|dois-je|theoretisch|aus neugier|ich frage mich|nachsten monat"
    r"|nachste woche|wie kann ich|muss ich (?:etwas|was)|in theorie|uit nieuwsgierigheid|ik vroeg me af"
    r"|volgende (?:maand|week)|hoe kan ik|moet ik (?:iets|wat)|in teoria|per curiosita|mi chiedevo"
    r"|il (?:mese|anno) prossimo|la prossima settimana|come posso|devo fare qualcosa|em teoria|por curiosidade"
    r"|queria saber|no (?:mes|ano) que vem|na proxima semana|como posso|preciso fazer algo|teoretycznie"
    r"|z ciekawosci|w przyszlym (?:tygodniu|miesiacu)|jak moge"
    # Plans for later: "I'll probably forget it while I'm away", "might need a reset then".
    r"|i'?ll (?:\w+ ){0,2}forget|i will (?:\w+ ){0,2}forget|(?:might|may) need (?:a reset|to reset)"
    r"|will let you know|by the time i'?m back|will my (?:password|account) (?:expire|lock)"
    r"|for the future|pour l'avenir|para el futuro|fur die zukunft|voor de toekomst|per il futuro|para o futuro"
    r"|na przyszlosc|personne n'est bloque|nobody is locked|no one is locked|nadie esta bloquead\w*"
    r"|niemand ist gesperrt|niemand is geblokkeerd|nessuno e bloccato|ninguem esta bloquead\w*|nikt nie jest"
    r"|is there a way (?:for (?:them|users|staff|people)|they can)|(?:existe|y a)-t-il (?:une solution|un moyen)"
    r"|if (?:i|my (?:account|password|login)) (?:ever )?(?:get|gets|got|am|'m|is|was|were) (?:locked|blocked|expired)"
    r"|would (?:anyone|someone|somebody) be (?:around|available|in)|is (?:anyone|someone) (?:around|available) (?:at|on|over)"
    r"|what(?:'s| is) the process|just (?:want|wanted) to know"
    r"|i (?:don'?t|do not) need (?:a |to )?reset|i'?m not locked out|si se me bloquea|(?:es )?solo para saber"
    r"|no necesito (?:que|un|el)? ?(?:reset|restablec)|si (?:jamais )?je suis bloque|juste pour savoir"
    r"|je n'ai pas besoin|falls ich (?:mich )?(?:\w+ )?(?:ausgesperrt|gesperrt)|nur zur info|ich brauche (?:\w+ )?kein"
    r"|als ik (?:word )?geblokkeerd|ik heb (?:\w+ )?geen (?:\w+ )?nodig|se (?:mi )?(?:blocco|si blocca)|solo per sapere"
    r"|non ho bisogno|se (?:eu )?ficar bloquead|so para saber|nao preciso|jezeli (?:sie )?zablokuj|tylko (?:pytam|dla informacji)"
    r"|nie potrzebuj\w*"
    r"|olvidare|necesitare|os (?:aviso|avisare)|j'oublierai|j'aurai (?:surement )?besoin|je vous tiendrai"
    r"|werde (?:\w+ ){0,3}(?:vergessen|brauchen)|melde mich|zal (?:\w+ ){0,3}(?:vergeten|nodig)|laat (?:het )?weten"
    r"|dimentichero|avro bisogno|vi faro sapere|vou (?:\w+ )?(?:esquecer|precisar)|zapomne|bede potrzebowa\w*)\b",
)


@dataclass(frozen=True)
class Evidence:
    """What the newest message explicitly asks for. ``actions`` is empty when nothing was found; ``strong``
    is False when the only evidence is a symptom ("can't log in", "password not working") that could be about
    any system."""

    actions: tuple[str, ...]
    snippet: str
    not_a_request: str | None
    strong: bool = True

    @property
    def positive(self) -> bool:
        """An account action is asked for, and as a request to act now."""
        return bool(self.actions) and self.not_a_request is None


# A document locked for editing is not an account: its words are taken out before evidence is looked for.
NOT_AN_ACCOUNT_LOCK = re.compile(
    r"\b(?:photocopier|copier|printer|scanner|mfp|kiosk|fotocopiadora|impresora|photocopieuse|imprimante|kopierer"
    r"|drucker|kopieerapparaat|printer|fotocopiatrice|stampante|fotocopiadora|impressora|kserokopiarka|drukarka)\b"
    r"(?:[ \t]+[\w\"'-]+){0,8}[ \t]+(?:locked|blocked|bloquead[oa]|bloqu[ée]e?|gesperrt|geblokkeerd|bloccat[oa]"
    r"|zablokowan\w*)|\be-?mail\w*\b(?:[ \t]+\w+){0,4}[ \t]+(?:bloccate|bloqueados|bloqueadas|bloquees|geblokkeerd|blocked)\b|"
    r"\b(?:e-?mails|mails|messages|mensajes|correos|messaggi|mensagens|wiadomosci|allegati|attachments|adjuntos"
    r"|pieces jointes|anhange|bijlagen|anexos|zalaczniki|websites?|sites|paginas|pop-?ups|macros?|downloads?|usb"
    r"|ports?|calls|llamadas|appels|anrufe|oproepen|chiamate|chamadas|posta in uscita|outbox|bandeja de salida)\b"
    r"(?:[ \t]+\w+){0,6}[ \t]+(?:locked|blocked|bloquead[oa]s|bloqu[ée]e?s|gesperrt|geblokkeerd|bloccat[ei]"
    r"|zablokowan\w*)|\b(?:locked|blocked|bloquead[oa]s|bloqu[ée]e?s|gesperrt|geblokkeerd|bloccat[ei]"
    r"|zablokowan\w*)\b(?:[ \t]+\w+){0,3}[ \t]+(?:e-?mails|mails|messages|mensajes|correos|messaggi|allegati"
    r"|attachments|websites?|sites|pop-?ups|macros?|downloads?|usb|ports?)\b"
    r"|\b(?:teclado|keyboard|clavier|tastatur|toetsenbord|tastiera|klawiatur\w*|num ?lock|bloq ?num|caps ?lock"
    r"|verr\.? num|screen|pantalla|ecran|bildschirm|scherm|schermo|tela|ekran|door|puerta|porte|tur|deur|porta"
    r"|drzwi|building|edificio|batiment|gebaude|gebouw|edificio|budynek|car|coche|voiture|auto|phone screen"
    r"|file|document|archivo|fichero|documento|fichier|datei|bestand|ficheiro|plik|excel|word|spreadsheet"
    r"|hoja|cursor|mouse|raton|souris|maus|muis)\b(?:[ \t]+\w+){0,6}[ \t]+(?:locked|blocked|bloquead[oa]|verrouill\w*"
    r"|bloqu[ée]e?|gesperrt|geblokkeerd|vergrendeld|bloccat[oa]|zablokowan\w*)"
    r"|\b(?:locked|bloquead[oa]|verrouill\w*|bloqu[ée]e?|gesperrt|geblokkeerd|bloccat[oa]|zablokowan\w*)\s+"
    r"(?:out of (?:the )?(?:building|office|car|house|room)|fuera de(?:l| la)? (?:oficina|edificio)"
    r"|dehors|ausgesperrt aus)"
    r"|\b(?:locked|bloquead[oa]|verrouill\w*|bloqu[ée]e?|gesperrt|geblokkeerd|bloccat[oa]|zablokowan\w*)\s+"
    r"(?:for editing|para (?:su )?edicion|en (?:modo )?edicion|pour (?:la )?modification|en ecriture"
    r"|zur bearbeitung|voor bewerking|per (?:la )?modifica|para edicao|do edycji)"
    r"|\b(?:by|por|par|von|door|da|przez) (?:another|otro|un autre|einem anderen|een andere|un altro|outro|innego)"
    r" (?:user|usuario|utilisateur|benutzer|gebruiker|utente|utilizador|uzytkownika)\b"
)
# "reset my Outlook view": a reset whose object is not the sign-in.
_RESET_OBJECT = re.compile(
    rf"\b{_GENERIC_REQUEST}\s+(?:(?:my|the|your|our|his|her|mi|la|el|mon|ma|le|mein|meine|das|den|mijn|de|het"
    r"|il|o|a|moje)\s+)?(?:[\w-]+\s+){{0,2}}?(?:"
    rf"{_CREDENTIAL_NOUN}|it|me|this|that|lo|la|le|les|es|ihn|hem|het|mi|mnie|mfa|2fa|authenticator|sign-?in"
    r"|log-?in|access|accesso|acceso|acces|zugang|toegang|dostep)\b"
    rf"|\b(?:{_CREDENTIAL_NOUN}|mfa|2fa|authenticator)\b[^.!?\n]{{0,40}}\b{_GENERIC_REQUEST}"
    rf"|\b(?:me|te|nos)?\s*(?:la|lo)\s+(?:pod\w+|pued\w+)\s+{_GENERIC_REQUEST}"
    rf"|\b{_GENERIC_REQUEST}(?:la|lo|mela|melo|me|le|lha|mi)\b"
    r"|\b(?:fazer|faire|hacer|doen|fare|machen|zrobic) (?:o |um |un |el |le |een |uno |il |den |einen )?reset\b"
)


PHYSICAL_ACCESS = re.compile(
    r"\b(?:door|fob|badge|key ?card|keycard|building|entrance|gate|car park|parking|alarm|turnstile|puerta|llavero"
    r"|tarjeta|edificio|porte|badge|batiment|tur|turen|schlussel|gebaude|deur|pasje|gebouw|porta|badge|edificio"
    r"|cancello|chave|cartao|predio|drzwi|karta|budynek)\b"
)
SIGN_IN_THING = re.compile(
    rf"\b(?:{_CREDENTIAL_NOUN}|log ?in|sign ?in|log ?on|computer|laptop|pc|windows|outlook|e-?mail|teams|office"
    r"|microsoft|365|mfa|authenticator|ordenador|portatil|correo|ordinateur|messagerie|rechner|computador|komputer)\b"
)
OWN_CONFIRMATION = re.compile(
    r"\b(?:(?:it'?s|it is|yes,? (?:it'?s )?|this is) (?:just )?my own\b|my own (?:account|login|email|microsoft|work)"
    r"|mi propia cuenta|es mi cuenta|mon propre compte|mein(?:e)? eigene[sn]? (?:konto|account|zugang)"
    r"|mijn eigen (?:account|microsoft|login)|il mio account|(?:a )?minha propria conta|moje wlasne konto)"
)
_ACCOUNT_PROBLEM = re.compile(
    r"\b(?:can'?t|cannot|unable to) (?:log|sign|get) ?in|\blocked\b|\bpassword\b|\blogin problem|\bno puedo entrar"
    r"|\bproblema de (?:acceso|conexion)|\bprobleme de connexion|\banmeldeproblem|\bkan niet inloggen"
    r"|\bproblema di accesso|\bproblema de acesso|\bproblem z logowaniem|\bwhich (?:account|login)\b|\bcuenta de"
    r" microsoft|\bcompte microsoft|\bmicrosoft[- ]365\b"
)


def find(view: TicketView) -> Evidence:
    """The positive evidence in the subject and newest message of ``view``."""
    head = NOT_AN_ACCOUNT_LOCK.sub(" ", folded(view.head))
    strong: list[tuple[str, re.Match[str]]] = []
    weak: list[tuple[str, re.Match[str]]] = []
    match = STRONG_PASSWORD.search(head)
    if match and CREDENTIAL_NOUN.search(head):
        strong.append(("password", match))
    for name, pattern in (("lockout", STRONG_LOCKOUT), ("mfa", MFA_ACTION), ("reset", GENERIC_REQUEST)):
        match = pattern.search(head)
        # "locked" or "reset" alone can be a document or a router: it needs an account, a sign-in or a device.
        if match and (name == "mfa" or SIGN_IN_CONTEXT.search(head)):
            if name == "reset" and not _RESET_OBJECT.search(head):
                continue
            strong.append((name, match))
    for name, pattern in (("password", PASSWORD_ACTION), ("lockout", WEAK_LOCKOUT)):
        match = pattern.search(head)
        if match:
            weak.append((name, match))
    if PHYSICAL_ACCESS.search(head) and not SIGN_IN_THING.search(head):
        strong = [(n, m) for n, m in strong if n != "lockout"]
        weak = [(n, m) for n, m in weak if n != "lockout"]
    found = strong or weak
    if not found and OWN_CONFIRMATION.search(head) and view.quoted:
        # A reply that confirms "it's my own account" to the helpdesk's question: the request is below it.
        earlier = find(TicketView(view.subject, view.quoted, view.quoted, view.quoted, "", view.requester))
        if earlier.actions or _ACCOUNT_PROBLEM.search(folded(view.quoted)):
            confirmed = OWN_CONFIRMATION.search(head)
            assert confirmed is not None
            strong = [("confirmed", confirmed)]
            found = strong
    actions = tuple(dict.fromkeys(name for name, _m in found))
    musing = NOT_A_REQUEST.search(head)
    return Evidence(
        actions=actions,
        snippet=" ".join(found[0][1].group(0).split())[:60] if found else "",
        not_a_request=" ".join(musing.group(0).split())[:60] if musing else None,
        strong=bool(strong),
    )
