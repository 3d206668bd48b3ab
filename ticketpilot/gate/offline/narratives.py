"""Situations told as a story that make an account request unsafe or unnecessary, in eight languages.

A request can be ordinary in its first sentence and dangerous in its third: a sign-in from abroad "that
wasn't me", a form that asked for the password, a prompt approved without thinking, a colleague's password
"as well while you're there", a login "we all use". Each group below is written for the *kind* of story, and
runs on :func:`~.intents.folded` text (lower case, no accents) of the whole ticket.
"""

from __future__ import annotations

import re

from ..classification import RiskFlag


def _any(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), re.M)


_SIGN_IN = (
    r"(?:sign(?:ed|ing)?[- ]?in|log(?:ged|ging)?[- ]?in|login|log-?on|access(?:ed)?|anmeld\w*|angemeldet|eingeloggt"
    r"|inicio de sesion|inici\w+ sesion|entr\w+|conect\w+|connexion|connect\w+|aanmeld\w*|aangemeld|ingelogd|inlog\w*"
    r"|accesso|accedut\w*|acess\w*|logowani\w*|zalogowa\w*)"
)
_ABROAD = (
    r"(?:another country|a different country|abroad|overseas|an unknown location|a strange location|im ausland"
    r"|aus dem ausland|en el extranjero|desde el extranjero|otro pais|a l'etranger|depuis l'etranger|un autre pays"
    r"|het buitenland|buitenland|all'estero|dall'estero|un altro paese|no estrangeiro|outro pais|za granic\w+"
    r"|innego kraju|z zagranicy|russia|russland|rusia|russie|rusland|russia|rosji|china|chine|cina|chiny|nigeria|brazil|brasil"
    r"|brasilien|bresil|brazilie|brasile|brazylii|north korea|iran|ukraine|india|indien|vietnam|romania|rumanien|rumunii|rumania|roumanie|roemenie"
    r"|turkey|turkei|turquia|turquie)"
)
_PROMPT = (
    r"(?:mfa|2fa|push\w*|prompts?|approvals?|requests?|notifications?|codes?|sign-?in requests?|verzoek\w*"
    r"|melding\w*|anfrage\w*|benachrichtigung\w*|solicitud\w*|notificacion\w*|peticion\w*|demandes?|notifications?"
    r"|richiest\w*|notific\w*|pedidos?|notificac\w*|powiadomie\w*|zadan\w*|prosb\w*)"
)

COMPROMISE = _any(
    # A sign-in from somewhere else, or by someone else.
    rf"\b{_SIGN_IN}\b[^.!?\n]{{0,60}}\b(?:from|aus|desde|de|depuis|uit|vanuit|da|dal|dalla|do|da|z|ze)\s+{_ABROAD}\b",
    rf"\b(?:someone|somebody|jemand|alguien|quelqu'un|iemand|qualcuno|alguem|ktos)\b[^.!?\n]{{0,40}}\b{_ABROAD}\b",
    r"\b(?:war ich|das war ich) (?:\w+ )?nicht\b|\bno (?:fui|he sido|era) yo\b|\bce n'(?:etait|est) pas moi\b"
    r"|\bdat was ik niet\b|\bik was dat niet\b|\bnon ero io\b|\bnao fui eu\b|\bto nie (?:ja|bylem|bylam)\b"
    r"|\b(?:it )?(?:wasn'?t|was not) me\b|\bit was not me\b",
    rf"\b(?:unusual|suspicious|unknown|unrecogni[sz]ed|strange|inusual|sospechos\w*|desconocid\w*|inhabituel\w*"
    rf"|suspect\w*|inconnu\w*|ungewohnlich\w*|verdachtig\w*|unbekannt\w*|ongebruikelijk\w*|verdacht\w*"
    rf"|onbekend\w*|insolit\w*|sospett\w*|sconosciut\w*|incomu\w*|suspeit\w*|desconhecid\w*|nietypow\w*"
    rf"|podejrzan\w*|nieznan\w*)\b[^.!?\n]{{0,20}}\b{_SIGN_IN}"
    rf"|\b{_SIGN_IN}\b[^.!?\n]{{0,20}}\b(?:unusual|suspicious|unknown|inusual|sospechos\w*|desconocid\w*"
    rf"|inhabituel\w*|suspect\w*|insolit\w*|sospett\w*|incomu\w*|suspeit\w*|nietypow\w*|podejrzan\w*)\b",
    # Many prompts, refused or approved by mistake (MFA fatigue).
    rf"\b(?:\d{{1,2}}(?![- ]?digit)|many|multiple|several|lots of|loads of|dozens of|repeated|constant|endless|non-?stop|so many"
    rf"|zeker \d+|keeps? getting|kept getting|keep receiving|varias|muchas|plusieurs|beaucoup de|mehrere|viele"
    rf"|meerdere|veel|tante|molte|varie|muitas|varios|wiele|kilka)\b[^.!?\n]{{0,30}}\b{_PROMPT}",
    rf"\b\d{{1,3}}\s*(?:times|keer|mal|veces|fois|volte|vezes|razy)\b[^.!?\n]{{0,40}}\b{_PROMPT}",
    rf"\b(?:denied|declined|rejected|refused|geweigerd|afgewezen|abgelehnt|rechace|rechazad\w*|denegad\w*"
    rf"|refuse\w*|rifiutat\w*|recusad\w*|recusei|odrzuci\w*)\b[^.!?\n]{{0,30}}\b{_PROMPT}"
    rf"|\b{_PROMPT}\b[^.!?\n]{{0,60}}\b(?:i|ik|ich|je|j'ai|yo|io|eu|ja|heb|habe|he|ho|all|allemaal|alle|todas"
    rf"|toutes|tutte|wszystkie)\b[^.!?\n]{{0,20}}\b(?:denied|declined|rejected|refused|geweigerd|afgewezen|abgelehnt"
    rf"|rechace|rechazad\w*|denegad\w*|refuse\w*|rifiutat\w*|recusad\w*|recusei|odrzuci\w*)\b",
    r"\b(?:without thinking|by accident|by mistake|accidentally|por error|sin pensar|sin querer"
    r"|par erreur|sans reflechir|par reflexe|versehentlich|aus versehen|ohne nachzudenken|per ongeluk"
    r"|zonder na te denken|per sbaglio|senza pensare|por engano|sem pensar|przez pomylke|bez zastanowienia)\b"
    r"[^.!?\n]{0,40}\b(?:approved|accepted|allowed|tapped|pressed|clicked|aprobe|aprobada|acepte|approuve|accepte"
    r"|bestatigt|genehmigt|goedgekeurd|geaccepteerd|approvat\w*|aprovad\w*|aprovei"
    r"|zatwierdz\w*|potwierdz\w*|aceit\w*)",
    r"\b(?:approved|accepted|tapped|pressed|clicked|hit approve|aprobe|acepte|approuve|accepte|bestatigt|goedgekeurd"
    r"|approvat\w*|aprovad\w*|aprovei|zatwierdzi\w*)\b[^.!?\n]{0,40}\b(?:without thinking|by accident|by mistake"
    r"|accidentally|por error|sin pensar|sin querer|par erreur|sans reflechir|versehentlich|aus versehen"
    r"|per ongeluk|per sbaglio|por engano|przez pomylke)\b",
    # Prompts at night, in floods, or approved without meaning to.
    rf"\b(?:buzz\w*|ping\w*|going off|flood\w*|spamm\w*|bombard\w*|bombing|non-?stop|all night|overnight"
    rf"|in the middle of the night|at night|at \d{{1,2}} ?(?:am|a\.m\.)|de madrugada|por la noche|la nuit"
    rf"|en pleine nuit|nachts|mitten in der nacht|'s nachts|vannacht|di notte|stanotte|de madrugada|a noite"
    rf"|w nocy|w srodku nocy)\b[^.!?\n]{{0,60}}\b{_PROMPT}|\b{_PROMPT}\b[^.!?\n]{{0,60}}\b(?:all night|overnight"
    rf"|in the middle of the night|at night|at \d{{1,2}} ?(?:am|a\.m\.)|de madrugada|la nuit|nachts|vannacht"
    rf"|di notte|w nocy)\b",
    r"\b(?:hit|tapped|pressed|clicked|accepted|approved|said yes|pulse|clique|gedruckt|gedrukt|premut\w*"
    r"|carregu\w*|klikn\w*)\s+(?:on\s+)?(?:approve|yes|accept|allow|aprobar|aceptar|approuver|accepter"
    r"|genehmigen|bestatigen|goedkeuren|approva|aprovar|zatwierdz)\b[^.!?\n]{0,60}\b(?:half asleep|asleep|without"
    r" thinking|by accident|by mistake|accidentally|didn't mean|did not mean|dormido|medio dormid\w*|endormi"
    r"|a moitie endormi|im halbschlaf|verschlafen|half slapend|mezzo addormentat\w*|meio a dormir|meio dormindo"
    r"|w polsnie)\b",
    r"\b(?:don'?t|do not|didn'?t|did not|can'?t|cannot) recogni[sz]e\b|\bunrecogni[sz]ed\b|\bno (?:lo |la )?reconozco\b"
    r"|\bje ne (?:le |la |les )?reconnais pas\b|\b(?:erkenne|kenne) ich nicht\b|\bherken ik niet\b"
    r"|\bnon (?:lo |la )?riconosco\b|\bnao (?:o |a )?reconheco\b|\bnie rozpoznaj\w*\b",
    # Credentials typed into a page behind a link, or mail sent from the account by someone else.
    r"(?:^|[.!?\n])(?=[^.!?\n]*\b(?:link|linkje|enlace|lien|collegamento|linku|page|pagina|site|sitio|website"
    r"|formulario|form|formulaire|formulier|modulo|formularz|login page|sign-?in page)\b)(?=[^.!?\n]*\b(?:password"
    r"|wachtwoord|contrasena|mot de passe|passwort|kennwort|senha|haslo|credenziali|credentials|credenciales"
    r"|identifiants|zugangsdaten|inloggegevens|login details|usuario|username)\b)(?=[^.!?\n]*\b(?:entered|typed"
    r"|put|filled|submitted|gave|ingevuld|ingevoerd|ingetypt|introduj\w*|puse|meti|rellen\w*|saisi\w*|rempli\w*"
    r"|tape|eingegeben|eingetragen|ausgefullt|inserit\w*|inserit[oe]|inseri\w*|digit\w*|preench\w*|wpisa\w*"
    r"|poda\w*)\b)",
    r"\b(?:sent|verstuurd|verzonden|enviad\w*|envoy\w*|gesendet|verschickt|inviat\w*|wyslan\w*)\b[^.!?\n]{0,20}"
    r"\b(?:from|vanaf|van|desde|depuis|von|da|de|z)\s+(?:my|mijn|mi|mon|meinem|meiner|mio|meu|mojego|mojej)\s+"
    r"(?:address|adres|account|cuenta|compte|konto|indirizzo|conta|mailbox|e-?mail|correo|mail|postfach|casella)\b",
    r"\b(?:da|from|desde|depuis|aus|uit|de|z)\s+(?:posti|luoghi|places|locations|sitios|lugares|endroits|orten"
    r"|plekken|locais|miejsc)\w*\s+(?:strani|strange|unusual|raros|extranos|bizarres|seltsamen|vreemde|estranhos"
    r"|dziwn\w*|odd|weird)\b",
    # Credentials or codes handed over: a form, a page, a caller.
    r"\b(?:filled (?:in|out)|entered|typed|submitted|put in|rellen\w*|introduj\w*|puse|meti|escrib\w+|rempli\w*"
    r"|saisi\w*|entre mon|ausgefullt|eingegeben|eingetragen|ingevuld|ingevoerd|ingetypt|compilat\w*|inserit\w*"
    r"|preenchi\w*|introduzi\w*|inseri\w*|wypelni\w*|wpisa\w*)\b[^.!?\n]{0,60}\b(?:form|page|site|website|link"
    r"|formulario|pagina|web|enlace|formulaire|page|lien|formular|seite|webseite|formulier|pagina|website|modulo"
    r"|sito|formulario|pagina|site|formularz\w*|stron\w*)\b",
    r"\b(?:read (?:out|him|her|them)|gave (?:him|her|them|the caller)|told (?:him|her|them)|read it out|dictated"
    r"|le (?:di|lei|dicte)|lui ai (?:donne|lu|dicte)|ihm (?:den|die|das) \w+ (?:gegeben|gesagt|vorgelesen)"
    r"|heb (?:hem|haar) (?:de|het) \w+ (?:gegeven|voorgelezen)|gli ho (?:dato|letto|detto)|(?:lhe|le) (?:dei|li|disse))"
    r"\b[^.!?\n]{0,50}\b(?:code|number|digits|password|codigo|numero|mot de passe|code|numero|passwort|nummer"
    r"|wachtwoord|codice|numero|senha|codigo|kod|haslo)\b",
    r"\b(?:anydesk|teamviewer|supremo|ultraviewer|logmein|remote access|remote control|fernzugriff|fernwartung"
    r"|acceso remoto|acces a distance|prise en main a distance|toegang op afstand|accesso remoto|acesso remoto"
    r"|zdalny dostep)\b",
    r"\b(?:virus|malware|ransomware|trojan|scam|scammer|scammed|fraudster|estafa|arnaque|betrug"
    r"|betruger|oplichting|oplichter|truffa|truffatore|golpe|burla|oszust\w*)\b",
    rf"\b{_SIGN_IN}\b[^.!?\n]{{0,40}}\bz (?:rosji|chin|rumunii|nigerii|brazylii|ukrainy|indii|iranu)\b",
    r"\b(?:phone call|call|rang|phoned|called|llamada|llamo|appel|a appele|anruf|rief|gebeld|belde|chiamata"
    r"|chiamato|ligacao|ligou|telefon\w*)\b[^.!?\n]{0,60}\b(?:from|de|von|van|da|z|od) (?:the )?\"?(?:microsoft"
    r"|it support|tech support|the bank|your bank|helpdesk|support|windows|apple|google)\b",
    r"\b(?:my|mi|mon|mein|mijn|il mio|o meu|moje) (?:password|contrasena|mot de passe|passwort|kennwort|wachtwoord"
    r"|senha|haslo|mfa|phone number|number|numero)\b[^.!?\n]{0,30}\b(?:was|has been|got|wurde|ist|fue|ha sido|a ete"
    r"|werd|is|e stat[oa]|foi|zostal\w*) (?:changed|reset|cambiad\w*|change|geandert|gewijzigd|cambiat\w*"
    r"|alterad\w*|zmienion\w*)\b[^.!?\n]{0,40}\b(?:not me|wasn't me|i didn't|i did not|no fui yo|pas moi|nicht ich"
    r"|niet ik|non io|nao fui eu|nie ja|without me|by someone|por alguien|par quelqu'un|von jemandem|door iemand)\b",
    r"\b(?:new|unknown|strange|extra|another|unrecogni[sz]ed|second) (?:mfa|authentication|sign-?in|security|phone)"
    r" (?:method|device|number)\b[^.!?\n]{0,40}\b(?:added|registered|appeared|showed up|i didn't|i did not)\b"
    r"|\b(?:que no (?:he )?(?:envi\w+|mand\w+)|che non ho (?:mai )?(?:inviato|mandato|scritto)|que (?:eu )?nao"
    r" (?:enviei|mandei)|(?:ktorych|ktore|ktory) nie (?:wysyla\w*|wysla\w*)|i (?:never|didn'?t|did not) send)\b"
    r"|\b(?:added|registered)\b[^.!?\n]{0,40}\b(?:method|device|phone number)\b[^.!?\n]{0,30}\b(?:not me|i didn't"
    r"|i did not|don't recogni[sz]e|do not recogni[sz]e)\b",
)

NO_ACTION = _any(
    r"\b(?:that'?s|that has|it'?s|it has|this has) worked\b|(?<!once )(?<!when )(?<!until )(?<!till )(?<!after )"
    r"(?<!soon as )(?<!so )\bi'?m back in\b|\bback in now\b|\bthanks? (?:you )?for"
    r" (?:sorting|resetting|unlocking|fixing|resolving|the quick)|\brating\s*:|\bhow did we do\b|\bsatisfaction"
    r" survey\b|\b(?:i'm|i am) not locked out\b|\b(?:for|just in case of) next time\b|\bnext time (?:it|this)"
    r" happens\b|\bno action (?:is )?(?:needed|required)\b|\bjust for (?:the record|your records|info)\b",
    r"\bnao e preciso fazer nada\b|\bso para (?:saberem|registo|registro|informar)\b|\bvoltou ao normal\b"
    r"|\bja (?:esta|funciona|consegui)\b|\bnon (?:serve|c'e bisogno di) fare (?:nulla|niente)\b|\bsolo per"
    r" (?:conoscenza|informazione|info)\b|\b(?:e )?tornat[oa] (?:normale|a funzionare)\b|\bnie trzeba nic\b"
    r"|\btylko dla informacji\b|\bjuz dziala\b|\bno hace falta hacer nada\b|\bsolo para (?:que lo sepais"
    r"|informar|que conste)\b|\bpour info\b|\bpour information\b|\bzur info\b|\bnur zur information\b"
    r"|\bter info\b|\bter informatie\b",
)

OTHER_PERSON = _any(
    r"\b(?:using|on|from|via|with)\s+(?:[a-z]+'s|a colleague'?s|my colleague'?s|someone else'?s|my (?:boss|manager"
    r"|wife|husband|partner)'?s)\s+(?:laptop|computer|pc|e-?mail|mailbox|phone|account|login|desk|machine)\b",
    r"\b(?:could you|can you|please)?\s*(?:do|reset|unlock|sort)\s+[a-z]+'s\s+(?:as well|too|also)\b"
    r"|\b[a-z]+'s (?:as well|too)\b[^.!?\n]{0,40}\b(?:hers|his|theirs|went|locked|too)\b",
    r"\b(?:dla|od) (?:mojego |naszego )?(?:szefa|kolegi|kolezanki|pracownika|kierownika|prezesa)\b|\b(?:jego|jej)"
    r" (?:hasl\w*|kont\w*|poczt\w*|telefon\w*)\b|\bw imieniu\b",
    r"\bper (?:il mio|la mia|un|una|conto di) (?:collega|capo|responsabile|dipendente)?\b|\bper conto di\b"
    r"|\b(?:la|il) (?:password|account) (?:di|del|della) (?:mio|mia) (?:collega|capo)\b",
    r"\bpara (?:o meu|a minha|um|uma) (?:colega|chefe|funcionari[oa])\b|\bem nome de\b|\b(?:senha|conta"
    r"|palavra-passe|e-?mail) (?:dele|dela)\b|\b(?:o meu|a minha|do meu|da minha) (?:colega|chefe|gerente)\b",
)

MULTIPLE = _any(
    r"\b(?:theirs|hers|his) (?:isn't|aren't|is not|are not|went|has gone|have gone|too|as well|also|either)\b"
    r"|\b(?:aren't|isn't|are not|is not) working either\b|\b(?:the )?(?:front desk|reception|office) one is"
    r" doing the same\b|\b(?:we all|all of us|everyone|everybody|the whole team|several of us) (?:use|uses|share"
    r"|shares|log in with)\b|\bused by (?:all|everyone|several|the team)\b",
)

NARRATIVES: tuple[tuple[str, RiskFlag, re.Pattern[str]], ...] = (
    ("compromise", RiskFlag.COMPROMISE_SIGNS, COMPROMISE),
    ("nothing to do", RiskFlag.NO_ACTION_NEEDED, NO_ACTION),
    ("someone else", RiskFlag.OTHER_PERSON, OTHER_PERSON),
    ("several people", RiskFlag.MULTIPLE_PEOPLE, MULTIPLE),
)


def find(text: str) -> list[tuple[RiskFlag, str]]:
    """(flag, evidence) for every kind of story found in ``text`` (already folded)."""
    found = []
    for kind, flag, pattern in NARRATIVES:
        match = pattern.search(text)
        if match is not None:
            found.append((flag, f"{kind}: {' '.join(match.group(0).split())[:50]}"))
    return found
