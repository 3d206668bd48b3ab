"""Situations told as a story that make an account request unsafe or unnecessary, in eight languages.

A request can be ordinary in its first sentence and dangerous in its third: a sign-in from abroad "that
wasn't me", a form that asked for the password, a prompt approved without thinking, a colleague's password
"as well while you're there", a login "we all use". Each group below is written for the *kind* of story, and
runs on :func:`~.intents.folded` text (lower case, no accents) of the whole ticket.
"""

from __future__ import annotations

import re

from ..classification import RiskFlag
from .intents import IntentFinding, search_kinds


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
    r"|richiest\w*|notific\w*|pedidos?|notificac\w*|powiadomie\w*|zadan\w*|prosb\w*|\w*verzoek\w*|\w*anfrage\w*"
    r"|goedkeuring\w*|approve sign-?in)"
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
    r"|goedkeuren|gedrukt|genehmigen|akzeptieren|aprobar|aceptar|approuver|accepter|approvare|aprovar|zatwierdzi\w*"
    r"|bestatigt|genehmigt|goedgekeurd|geaccepteerd|approvat\w*|aprovad\w*|aprovei"
    r"|zatwierdz\w*|potwierdz\w*|aceit\w*)",
    r"\b(?:approved|accepted|tapped|pressed|clicked|hit approve|aprobe|acepte|approuve|accepte|bestatigt|goedgekeurd"
    r"|approvat\w*|aprovad\w*|aprovei|zatwierdzi\w*)\b[^.!?\n]{0,40}\b(?:without thinking|by accident|by mistake"
    r"|accidentally|por error|sin pensar|sin querer|par erreur|sans reflechir|versehentlich|aus versehen"
    r"|per ongeluk|per sbaglio|por engano|przez pomylke)\b",
    # Prompts at night, in floods, or approved without meaning to.
    rf"\b(?:buzz\w*|ping\w*|going off|flood\w*|spamm\w*|bombard\w*|bombing|non-?stop|all night|overnight"
    rf"|in the middle of the night|at night|at \d{{1,2}}(?:[-\u2013]\d{{1,2}})? ?(?:am|a\.m\.)|de madrugada|por la noche|la nuit"
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
    # A click on a lure, then a sign-in or details typed in; a brand in quotes that sent the lure.
    r"\b(?:clicked|clicking|klikn\w*|klikte|hice clic|pulse|clique\w*|geklickt|geklikt|cliccat\w*|cliquei)\b"
    r"[^.!?\n]{0,80}\b(?:logged in|signed in|entered|typed|put in|zalogowa\w*|inici\w* sesion|me connecte|connecte"
    r"|angemeldet|eingeloggt|eingegeben|ingelogd|ingevuld|ingevoerd|accedut\w*|inserit\w*|entrei|inseri\w*|meti"
    r"|introduj\w*|puse|wpisa\w*|saisi\w*)\b",
    r"(?:^|[.!?\n])(?=[^.!?\n]*[\"'\u201c\u201e\u00ab\u2018]\s?[A-Z][\w-]+(?: [A-Z][\w-]+)?\s?[\"'\u201d\u00bb\u2019])"
    r"(?=[^.!?\n]*\b(?:put|entered|typed|filled|logged in|meti|puse|introduj\w*|rellen\w*|saisi\w*|rempli\w*"
    r"|eingegeben|ingevuld|ingevoerd|inserit\w*|inseri\w*|digit\w*|wpisa\w*|zalogowa\w*|clicked|clique\w*"
    r"|geklickt|geklikt|cliccat\w*|klikn\w*|hice clic)\b)",
    r"\b(?:my|mis|mes|meine|mijn|i miei|os meus|moje|the)\s+(?:microsoft[- ])?(?:details|datos|donnees|daten|gegevens|dati"
    r"|dados|dane|credentials|credenciales|identifiants|zugangsdaten|inloggegevens|credenziali|credenciais)\b"
    r"[^.!?\n]{0,40}\b(?:entered|typed|put|eingegeben|ingevuld|ingevoerd|inserit\w*|meti|puse|introduj\w*"
    r"|saisi\w*|wpisa\w*|inseri\w*|digitei)\b|\b(?:entered|typed|put|eingegeben|ingevuld|ingevoerd|inserit\w*"
    r"|meti|puse|introduj\w*|saisi\w*|wpisa\w*|inseri\w*|digitei)\b[^.!?\n]{0,20}\b(?:my|mis|mes|meine|mijn|i miei"
    r"|os meus|moje)\s+(?:microsoft[- ])?(?:details|datos|donnees|daten|gegevens|dati|dados|dane|credentials"
    r"|credenciales|identifiants|zugangsdaten|inloggegevens|credenziali|credenciais)\b",
    # Money and mail moving without the requester: invoices with new bank details, rules nobody made.
    r"\b(?:iban|bank details|account number|numero de cuenta|numer\w* konta|coordonnees bancaires|bankgegevens"
    r"|bankverbindung|coordinate bancarie|dados bancarios|rekeningnummer)\b[^.!?\n]{0,60}\b(?:never|nunca|jamais"
    r"|nie|nooit|mai|nicht|didn'?t|did not|new|nuevo|novo|nouveau|neue|nieuwe|nuovo|nowy|innym|other|different"
    r"|otro|outro|autre|andere|ander|altro)\b|\b(?:new|nuevo|novo|nouveau|neue|nieuwe|nuovo|nowy|innym|other"
    r"|different|otro|outro|autre|anderen|ander|altro) (?:iban|bank details|account number|numerem konta"
    r"|numero de cuenta|rekeningnummer|bankverbindung)\b",
    r"\b(?:customers|clients|suppliers|contacts|proveedores|clientes|kontrahent\w*|klienci|fournisseurs|kunden"
    r"|klanten|clienti|fornecedores|cliente|client|customer|supplier)\b[^.!?\n]{0,80}\b(?:from me|de mi parte"
    r"|ode mnie|de moi|de ma part|von mir|van mij|da me|de mim|i sent|les he mandado|les he enviado|wyslalem"
    r"|j'ai envoye|geschickt habe|gestuurd heb|ho inviato|eu enviei|strange|weird|odd|raros?|raro|dziwn\w*"
    r"|bizarres?|seltsam\w*|vreemde?|strani|strane|estranh\w*)\b",
    r"\b(?:rules?|regeln|reglas|regles|regels|regole|regras|regul\w*|forwarding|reenvio|transfert|weiterleitung"
    r"|doorsturen|inoltro|encaminhamento|przekierowani\w*)\b[^.!?\n]{0,60}\b(?:didn'?t|did not|never|nicht angelegt"
    r"|nicht erstellt|no (?:he )?cread\w*|pas cree\w*|niet aangemaakt|niet gemaakt|non ho creat\w*|nao criei"
    r"|nie utworzy\w*)\b",
    r"\b(?:sim[- ]?swap|(?:my )?number (?:was|has been) (?:moved|ported|transferred)|port(?:ed)? out|new sim (?:which|that)"
    r" i didn'?t|(?:e)?sim\b[^.!?\n]{0,40}\b(?:didn'?t ask|did not ask|not me|no (?:la )?ped\w*|je n'ai pas demande"
    r"|nicht beantragt|niet aangevraagd|non ho chiesto|nao pedi|nie zamawia\w*))",
    r"\b(?:while|alors que|mientras|wahrend|terwijl|mentre|enquanto|kiedy|gdy)\s+(?:i was |i'm |je |yo |ich |ik |io |eu )?"
    r"(?:asleep|sleeping|dormais|dormia|dormía|schlief|sliep|dormivo|spalem|spalam)\b"
    r"|\b(?:to make (?:it|them) stop|pour que (?:ca|cela) (?:s')?arrete|para que (?:pare|paren|parara)|damit es aufhort"
    r"|zodat het stopt|perche smettesse|para (?:parar|que pare)|zeby przestal\w*)\b"
    r"|\b(?:a dozen|dozens of|a bunch of|tons of|une dizaine de|une douzaine de|una docena de|decenas de|ein dutzend"
    r"|dutzende|tientallen|een stuk of \d+|una decina di|decine di|uma duzia de|dezenas de|kilkanascie|kilkadziesiat)\b"
    r"[^.!?\n]{0,40}\b" + _PROMPT,
    r"\b(?:i'?m|i am|i was) (?:\w+ )?not (?:logging|signing|trying to (?:log|sign))|\b(?:terwijl|wahrend|mientras|alors que"
    r"|mentre|enquanto) (?:ik|ich|yo|je|io|eu) (?:niet|nicht|no|ne|non|nao) (?:inlog\w*|anmelde\w*|me conecto"
    r"|me connecte\w*|accedo|entro)\b",
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

# A password written into the ticket: it is exposed, whatever happens next.
EXPOSED = _any(
    r"\b(?:password|pw|passwort|kennwort|contrasena|mot de passe|wachtwoord|senha|palavra-passe|haslo|current one"
    r"|old one|new one)\s+(?:is|was|=|:|es|est|ist|e|jest|era|war)\s*[\"']?(?=\S*[a-z])(?=\S*[\d!@#$%^&*])\S{6,}",
)

NO_ACTION = _any(
    r"\b(?:olvidad|ignorad|olvide) (?:el|mi) (?:correo|mensaje|email) anterior|\bya me (?:he acordado|acorde)\b"
    r"|\bje m'en suis souvenue?\b|\bhab(?:e)? es wieder\b|\bweet het (?:al )?weer\b|\bmi sono ricordat[oa]\b"
    r"|\bja me lembrei\b|\bprzypomnia\w+ sobie\b|\bi(?:'ve| have)? remembered\b|\bignore my (?:last|previous)\b",
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
    r"\b(?:sending|sent|writing|emailing|mailing|escribo|envio|j'ecris|schreibe|stuur|scrivo|escrevo|pisze)\b"
    r"[^.!?\n]{0,40}\b(?:from|via|on|using|desde|de|depuis|von|vanaf|dalla|dal|do|da|z)\s+(?:the |la |el |le |die |de"
    r" |a |o |my colleague'?s |[a-z]+'s )?(?:reception|shared|front desk|office|team|colleague'?s?|general|main"
    r"|recepcion|compartid\w*|accueil|empfang|receptie|ricezione|recepcao|recepcj\w*|mia mail personale"
    r"|mi correo personal|ma messagerie perso\w*|meiner privaten|mijn prive|meu e-?mail pessoal|prywatn\w*)\b",
    r"\b(?:i )?(?:finished|left|quit|resigned|stopped working)\b[^.!?\n]{0,30}\b(?:on|last|at|in|yesterday|friday"
    r"|monday|week|month)\b[^.!?\n]{0,60}\b(?:one last time|last time|download|payslips|photos|personal)\b"
    r"|\b(?:(?:temp|temporary)(?!\s+(?:password|pass|pw|code|access|pin|one)\b)|fixed-term|agency|contract"
    r"|placement|internship|trainee|work experience)\b[^.!?\n]{0,60}"
    r"\b(?:until last|ended|finished|which finished|was over|expired|came to an end)\b"
    r"|\b(?:my|the) (?:contract|placement|internship|temp job|assignment) (?:ended|finished|is over|was over|expired)\b"
    r"|\b(?:my last day (?:was|is)|no longer work (?:here|at|for)|since i left|former employee|ex-employee"
    r"|ya no trabajo|deje la empresa|ne travaille plus|j'ai quitte|arbeite nicht mehr (?:bei|fur)|nicht mehr (?:\w+ )?(?:angestellt|beschaftigt)"
    r"|werk (?:hier )?niet meer|non lavoro piu|ja nao trabalho|nie pracuje juz)\b",
    r"\b(?:guest|external|gast|invitad\w*|invite\w*|ospite|convidad\w*|gosc\w*|externo|externe)\s+(?:access|account"
    r"|user|auditor|consultant|contractor|acceso|cuenta|acces|compte|zugang|konto|toegang|accesso|acesso|konto)\b"
    r"|\b(?:external auditor|auditor from|contractor from|consultant from)\b",
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
    r"\bfor me and (?:the rest of )?(?:the|my|our) (?:team|department|office|colleagues|staff)\b|\bme and the rest"
    r" of (?:the|my|our)\b|\bfor (?:the whole|my whole|our whole) (?:team|department|office)\b",
    r"\bfor all (?:\d+ )?(?:the |our |my )?(?:drivers|staff|users|people|employees|teachers|nurses|team|engineers"
    r"|agents|volunteers|students|members|accounts)\b|\ball (?:\d+|the) (?:drivers|staff|users|employees|teachers"
    r"|nurses|engineers|agents|volunteers|students)\b|\b\d+ (?:drivers|users|people|employees|teachers|nurses|staff"
    r"|engineers|agents|volunteers|students|accounts)\b",
    r"\b(?:theirs|hers|his) (?:isn't|aren't|is not|are not|went|has gone|have gone|too|as well|also|either)\b"
    r"|\b(?:aren't|isn't|are not|is not) working either\b|\b(?:the )?(?:front desk|reception|office) one is"
    r" doing the same\b|\b(?:we all|all of us|everyone|everybody|the whole team|several of us) (?:use|uses|share"
    r"|shares|log in with)\b|\bused by (?:all|everyone|several|the team)\b",
)

NARRATIVES: tuple[tuple[str, RiskFlag, re.Pattern[str]], ...] = (
    ("compromise", RiskFlag.COMPROMISE_SIGNS, COMPROMISE),
    ("password in the text", RiskFlag.COMPROMISE_SIGNS, EXPOSED),
    ("nothing to do", RiskFlag.NO_ACTION_NEEDED, NO_ACTION),
    ("someone else", RiskFlag.OTHER_PERSON, OTHER_PERSON),
    ("several people", RiskFlag.MULTIPLE_PEOPLE, MULTIPLE),
)


def find(text: str) -> list[IntentFinding]:
    """Every kind of story found in ``text`` (already folded), each with its first evidence snippet."""
    return search_kinds(NARRATIVES, text)
