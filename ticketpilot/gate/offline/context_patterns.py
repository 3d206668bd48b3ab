"""Multilingual phrase patterns about the ticket's context: whose account, which system, whether it is a
policy question or an outage, and whether the work system is named at all. Data only: see ``rules.py``."""

from __future__ import annotations

import re

from ..classification import RiskFlag
from .patterns import (
    _ACCOUNT_NOUN,
    _MFA,
    _PRODUCT,
    COMPROMISE,
    CONTACT,
    MANIPULATION,
    NO_ACTION,
    F,
    Phrases,
    Scope,
    _c,
)

POLICY = _c(
    rf"\b(?:disable|turn off|switch off|stop|deactivate|exempt|exclude|opt (?:me )?out|bypass|take off|lift)"
    rf"(?:\W+(?:the|my|our|all|this|that|their|me|us|it|from|of|for|annoying|bloody|stupid|whole|those|these))*"
    rf"\W+{_MFA}\b",
    rf"\b(?:turn|switch|take)\b(?:\W+\w+){{0,3}}?\W+{_MFA}\W+off\b",
    rf"\b{_MFA}\b[^.?!\n]{{0,40}}\b(?:be (?:disabled|turned off|switched off|removed)|exempt)\b",
    rf"\b{_MFA}\b[^\n]{{0,120}}\b(?:disable|deactivate|(?:turn|switch) (?:it|this|that|them) off)\b",
    rf"\bremove (?:all (?:the |my )?|the )?{_MFA}(?: methods?)? (?:completely|altogether|for good|requirement"
    rf"|entirely|permanently)\b|\bwithout {_MFA}\b",
    rf"\b(?:don'?t|do not|no longer) (?:want|need|like)\b[^.\n]{{0,25}}\b{_MFA}\b",
    rf"\b(?:make|set|keep)\s+(?:the\s+)?{_MFA}\s+(?:\w+\s+)?(?:optional|voluntary|not required|off)\b"
    rf"|\b{_MFA}\b[^.\n]{{0,30}}\b(?:optional|not (?:be )?(?:required|mandatory|compulsory))\b",
    r"\b(?:not|never) (?:to )?expire\b|\bdoesn'?t expire\b|\bno caduque\b|\bn'expire (?:pas|plus|jamais)\b"
    r"|\bnicht abl[äa]uft\b|\bniet verloopt\b|\bnon scada\b|\bn[ãa]o expire\b|\bnie wygas\w*",
    r"\b(?:password|passwords|pw)\s+(?:rules|policy|policies|requirements|complexity|expiry policy|guidelines"
    r"|standards)\b|\bnever expire\b|\bevery \d+ days\b|\bexpir(?:y|ation) policy\b",
    r"\bhow (?:often|many)\b[^.\n?]{0,50}\b(?:password|passwords|mfa|change|expire)",
    r"\b(?:add|allow|whitelist|exempt|exclude|unblock)\b[^.\n]{0,40}\b(?:to|from|in)\s+(?:the )?(?:allowed|trusted"
    r"|named|permitted|blocked) (?:locations?|countries|country list|ips?|networks?)\b|\bconditional access\b"
    r"|\blocation (?:policy|rules?|restrictions?)\b|\bgeo-?block\w*|\b(?:set|change|make) (?:it|my password|the password"
    r"|my pw|the new one) to\s+[\"']?(?=\S*[a-z])(?=\S*\d)\S{4,}|\b(?:no need for|without|skip|don'?t (?:need|want))\b[^.\n]{0,20}\b(?:change[- ]at[- ]next"
    r"|must change|forced? (?:change|reset)|random ones?)\b|\b(?:account|cuenta|compte|konto|account|conta)\s+(?:is|has"
    r" been|esta|est|ist|is|e|foi|jest)\s+(?:disabled|deshabilitad\w*|desactivad\w*|desactive\w*|deaktiviert"
    r"|uitgeschakeld|disabilitat\w*|desativad\w*|wylaczon\w*)\b|\baadsts50057\b",
    r"\bremove\b[^.\n]{0,10}\b(?:mfa|2fa|authenticator|two-factor|multi-factor)\b[^.\n]{0,30}\b(?:until|till|for a"
    r"|for the|for one|for two|while)\b|\b(?:mfa|2fa|two-factor)\b[^.\n]{0,30}\b(?:until i'?m back|for (?:a|one|two)"
    r" weeks?|temporar\w*|while i'?m away)\b",
    r"\bde quanto em quanto tempo\b|\bcom que frequ[êe]ncia\b|\bogni quanto\b|\bcon che frequenza\b"
    r"|\bjak cz[ęe]sto\b|\bco ile\b",
    # A question about whether a message is genuine: a report, not a recovery request.
    r"\bis (?:this|it|that) (?:real|genuine|legit(?:imate)?|safe|a scam|phishing|spam|from you|one of ours)\b"
    r"|\b(?:real|genuine|legit|fake|dodgy|phishing|spam|scam|real or fake)\s*\?|\bdid you send (?:it|this)\b",
    r"\bes (?:real|fiable|seguro|leg[íi]timo)\b|\b(?:fiable|falso|phishing|estafa)\s*\?|\b(?:est-ce|c'est) (?:vrai"
    r"|l[ée]gitime|fiable|s[ûu]r|une arnaque)\b|\b(?:arnaque|l[ée]gitime)\s*\?|\b(?:echt|seri[öo]s|phishing)\s*\?"
    r"|\becht oder\b|\bis (?:dit|deze mail|het) (?:echt|betrouwbaar|veilig|nep)\b|\b(?:betrouwbaar|nep)\s*\?",
    r"\b(?:is it|is that|would it be) (?:ok|okay|safe|allowed|fine|permitted|secure)\b|\b(?:are we|am i|are staff"
    r"|are users|is anyone) (?:allowed|permitted) to\b",
    r"\b(?:what|which) (?:are|is) (?:the|our|your)\b[^.\n]{0,30}\b(?:rules|policy|requirements)\b"
    r"|\bwhat do other (?:schools|firms|clients|companies|practices|offices|customers)\b",
    r"\btrusted device\b|\bremember (?:this|my) (?:device|computer|laptop)\b|\b(?:sms|text message|phone call)s?"
    r" (?:codes? )?instead of (?:the )?(?:app|authenticator)\b|\b(?:sms|text)\S* ?(?:codes? )?(?:statt|anstelle|en "
    r"lugar de|au lieu de|in plaats van)\b",
    r"\b(?:share|sharing) (?:a |my |our |the |one )?(?:password|login|account)\b",
    r"\bdesactiv\w*\s+(?:\w+\s+){0,3}?(?:el |la )?(?:mfa|doble factor|autenticaci[óo]n|verificaci[óo]n en dos"
    r"|2fa|dos pasos)|\bquit\w*\s+(?:el |la )?(?:mfa|doble factor|2fa|verificaci[óo]n en dos pasos)\b|\bpol[íi]tica de contrase[ñn]as\b|\brequisitos de (?:la )?contrase[ñn]a\b|\bcada cu[áa]nto\b"
    r"|\bcon qu[ée] frecuencia\b|\bno quiero\b[^.\n]{0,20}\b(?:mfa|authenticator|doble factor|verificaci)",
    r"\bd[ée]sactiv\w*\b[^.\n]{0,30}\b(?:mfa|double authentification|double facteur|authentification|2fa"
    r"|v[ée]rification)|\bpolitique (?:de|des) mots? de passe\b|\br[èe]gles (?:de|des|pour les) mots? de passe\b"
    r"|\btous les combien\b|\b[àa] quelle fr[ée]quence\b|\bje ne veux plus\b[^.\n]{0,20}\b(?:mfa|double"
    r"|authenticator|authentification|codes?)\b",
    r"\b(?:mfa|2fa|zwei-?faktor\w*|authenticator|mehrstufige\w*)\b[^.\n]{0,30}\b(?:deaktivier|abschalt"
    r"|ausschalt|abstell|entfern)\w*|\b(?:deaktivier|abschalt|ausschalt|abstell)\w*\b[^.\n]{0,30}\b(?:mfa|2fa"
    r"|zwei-?faktor|authenticator)|\b(?:passwort|kennwort)richtlinie|\b(?:passwort|kennwort)-?regeln\b"
    r"|\bwie oft\b[^.\n]{0,40}\b(?:passw|kennw|[äa]ndern)|\bm[öo]chte (?:kein|keine)\b[^.\n]{0,15}(?:mfa|zwei)",
    r"\b(?:mfa|2fa|tweestaps\w*|authenticator|tweefactor\w*)\b[^.\n]{0,30}\b(?:uitzetten|uitschakelen|uit "
    r"zetten|weghalen)|\b(?:uitzetten|uitschakelen)\b[^.\n]{0,30}\b(?:mfa|2fa|tweestaps|authenticator)"
    r"|\bwachtwoord(?:beleid|regels|eisen)\b|\bhoe vaak\b[^.\n]{0,40}\b(?:wachtwoord|wijzigen|veranderen)"
    r"|\bwil (?:geen|niet meer)\b[^.\n]{0,20}\b(?:mfa|authenticator|tweestaps)",
)

OUTAGE = _c(
    r"\b(?:nobody|no one|no-one|noone|none of us|all of us|anyone else|it'?s not just me|not only me|not just me)"
    r"\b|(?<!hi )(?<!hello )(?<!hey )(?<!morning )(?<!dear )(?<!thanks )\b(?:everyone|everybody)\b"
    r"(?! else(?:'s| is| seems| are)? (?:fine|ok|okay|working|good|unaffected))",
    r"\bnone of the (?:staff|users|teachers|team|computers|pcs|laptops|machines|devices|workstations|terminals)\b"
    r"|\ball (?:the )?(?:staff|users|teachers|computers|pcs|laptops|machines|devices|workstations|terminals"
    r"|classroom|surgery|office)\b",
    r"\b(?:the )?whole (?:office|practice|school|team|site|building|firm|clinic|company|floor|department)\b"
    r"|\b(?:multiple|several|many|lots of|a few|other) (?:people|users|staff|colleagues|of us)\b"
    r"|\b(?:\d+|two|three|four|five|six|seven|eight|ten|half(?: of)?(?: the)?) (?:people|users|staff|colleagues"
    r"|of us)\b",
    r"\b(?:office ?365|microsoft ?365|m365|o365|outlook|teams|email|e-mail|internet|server|network|wifi|wi-fi"
    r"|the system|azure|entra|sharepoint|exchange|the vpn|vpn)\s+(?:is |are |seems |seem |looks |)"
    r"(?:down|offline|out)\b|\boutage\b|\bservice (?:incident|degradation)\b",
    r"\bnadie (?:puede|podemos|consigue)\b|\bninguno de (?:nosotros|los)\b|\btodos (?:los ordenadores|los equipos"
    r"|nosotros|estamos|los usuarios|en la oficina)\b|\btoda la (?:oficina|cl[íi]nica|empresa)\b|\bvarios "
    r"(?:compa[ñn]eros|usuarios)\b|\best[áa] ca[íi]d[oa]\b",
    r"\bpersonne ne (?:peut|peux|arrive)\b|\baucun de nous\b|(?<!bonjour )\btout le monde\b|\btous les (?:postes|ordinateurs"
    r"|utilisateurs|coll[èe]gues)\b|\btout le (?:bureau|cabinet|service)\b|\bplusieurs (?:coll[èe]gues"
    r"|utilisateurs|personnes)\b|\bpanne g[ée]n[ée]rale\b",
    r"\bniemand (?:kann|hier|von uns)\b|\bkeiner (?:von uns|kann)\b|\balle (?:kollegen|mitarbeiter|rechner|pcs"
    r"|benutzer)\b|\bwir alle\b|\bdas ganze b[üu]ro\b|\bdie ganze (?:praxis|kanzlei|firma)\b|\bmehrere "
    r"(?:kollegen|mitarbeiter|benutzer)\b|\bausgefallen\b|\bst[öo]rung\b",
    r"\bniemand (?:kan|van ons)\b|(?<!hallo )(?<!hoi )(?<!beste )(?<!goedemorgen )\biedereen\b|\bgeen van (?:ons|de)\b|\balle (?:collega|computers|pc|gebruikers)"
    r"\w*|\bhet hele (?:kantoor|team|bedrijf)\b|\bmeerdere (?:collega|gebruikers|mensen)\w*|\bstoring\b"
    r"|\bligt (?:er )?(?:plat|eruit)\b",
)

_NOT_PRODUCT = rf"(?!mi\b|mij\b|{_PRODUCT})"

OTHER_PERSON = _c(
    # English
    r"\bon behalf of\b|\bfor (?:my|a|our|one of (?:my|our)) (?:colleague|coworker|co-worker|employee|staff"
    r"|team ?mate|assistant|tech|technician|boss|director|intern|temp|student|pupil|new starter|new hire"
    r"|receptionist|nurse|teacher|hygienist|secretary|associate|worker|apprentice)s?\b",
    rf"\b(?:my|our|the) (?:colleague|coworker|co-worker|employee|staff member|team ?mate|assistant|tech"
    rf"|technician|boss|manager|director|intern|temp|apprentice|receptionist|nurse|associate)s?(?:'s|\u2019s)"
    rf"\s+{_ACCOUNT_NOUN}",
    rf"\b(?:his|her|their)\s+(?:\w+\s+)?{_ACCOUNT_NOUN}\b",
    r"\b(?:unlock|reset|unblock|re-?enable|enable|help)\s+(?:him|her|them)\b|\b(?:he|she)'s\b"
    r"|\b(?:he|she)\s+(?:is|are|has|have|had|can'?t|cannot|can not|couldn'?t|got|forgot|lost|needs?"
    r"|says?|said|was|were|will|keeps?|doesn'?t|does not|isn'?t|won'?t|asked|wants?|tried)\b",
    r"\b(?:reset|unlock|unblock|re-?enable|change|set up)\s+(?:the\s+)?(?:password|passwords|mfa|account"
    r"|accounts|login|authenticator)?\s*(?:for|of)\s+(?:(?:mr|mrs|ms|miss|dr)\.?\s|(?-i:[A-Z][a-z]+)|the "
    r"following|all (?:the|our)|our\b|these\b|those\b|each\b|every\b|both\b|[\w.+-]{1,64}@)",
    r"\bnew (?:starter|hire|joiner|employee|staff member|colleague|guy|girl|person|receptionist|assistant"
    r"|teacher|nurse|associate|accountant|estimator|physio|hygienist|member of staff|team member|recruit)\b",
    r"\b(?:our|my|the|a) (?:supply|temp|agency|locum|relief|substitute|cover) (?:teacher|worker|nurse|staff"
    r"|vet|receptionist|doctor|dentist)\b|\b(?:pupils?|students?|children|kids|staff|users|people)'?s?'?\s+"
    r"(?:passwords?|accounts?|logins?)\b|\bthese (?:children|kids|pupils|students|users|people|accounts)\b",
    r"\b(?:typing|writing|sending this|emailing|logged in) (?:on|from) (?:(?-i:[A-Z][a-z]+)'s|my (?:colleague"
    r"|manager|boss|wife|husband)'s|someone else'?s|a colleague'?s)\b|\basked me to (?:log|raise|report"
    r"|send|email|contact|let you know|pass|tell)\b",
    # Spanish
    r"\b(?:de|para) (?:mi|un|una|nuestr[oa]) (?:compa[ñn]er[oa]|emplead[oa]|jef[ea]|asistente|colega"
    r"|trabajador[a]?)\b|\ben nombre de\b|\b(?:su|sus) (?:contrase[ñn]a|cuenta|usuario|correo|m[óo]vil"
    r"|autenticador)\b|\b(?:[ée]l|ella) (?:est[áa]|no puede|ha|tiene)\b|\bnuev[oa] (?:emplead|compa[ñn]er"
    r"|trabajador)|\bme ha pedido que\b",
    rf"\bla contrase[ñn]a (?:de|del|para) {_NOT_PRODUCT}(?-i:[A-ZÁÉÍÓÚ])",
    # French
    r"\b(?:pour|de) (?:mon|ma|notre|un|une) (?:coll[èe]gue|collaborat(?:eur|rice)|employ[ée]e?|salari[ée]e?"
    r"|assistante?|associ[ée]e?|stagiaire|secr[ée]taire)\b|\bau nom de\b|\bpour le compte de\b",
    r"\b(?:son|sa|ses) (?:mot de passe|compte|session|messagerie|t[ée]l[ée]phone|authentification|acc[èe]s"
    r"|identifiant|mfa|2fa|double authentification|portable)\b|\b(?:il|elle) (?:ne peut pas|n'arrive pas"
    r"|a oubli[ée]|a perdu|a chang[ée]|s'est bloqu)|\bnouvel(?:le)? (?:employ|collaborat|recrue|arrivant)"
    r"|\bm'a demand[ée] de\b",
    rf"\bmot de passe (?:de|d')\s?{_NOT_PRODUCT}(?-i:[A-ZÉ])",
    # German
    r"\b(?:f[üu]r|von) (?:meine[nmrs]?|unsere[nmrs]?|eine[nmrs]?) (?:kolleg|mitarbeiter|chef|azubi|praktikant"
    r"|assistent)\w*|\bim (?:namen|auftrag) (?:von|meine)|\bsein(?:e|en|em)?\s+(?:passwort|kennwort|konto"
    r"|zugang|benutzer|handy|postfach|authenticator|zwei-faktor|mfa)|(?-i:\bihr(?:e|en|em)?\s+(?:Passwort"
    r"|Kennwort|Konto|Zugang|Handy|Postfach|Zwei-Faktor|MFA|Authenticator))|(?-i:\b(?:er|sie) (?:ist|kann|hat"
    r"|kommt|braucht)\b)|\bneue[rn]? (?:mitarbeiter|kolleg|azubi)\w*|(?-i:\b(?:Frau|Herr|Herrn) [A-ZÄÖÜ]\w+"
    r" (?:kann|ist|hat))",
    rf"\bdas (?:passwort|kennwort|konto) (?:von|f[üu]r) (?:herrn|frau|{_NOT_PRODUCT}(?-i:[A-ZÄÖÜ]))",
    # Dutch
    r"\b(?:voor|van) (?:mijn|onze|een) (?:collega|medewerker|werknemer|baas|leidinggevende|stagiair|assistent)"
    r"|\bnamens\b|\b(?:zijn|haar|hun) (?:wachtwoord|account|login|mail|telefoon|authenticator|toegang)\b"
    r"|\bnieuwe (?:medewerker|collega|stagiair)",
    rf"\bwachtwoord van {_NOT_PRODUCT}(?-i:[A-Z])",
)

SHARED = _c(
    r"\b(?:shared|generic|role|group|team|common|communal|departmental|service|functional)\s+(?:\w+\s+){0,2}?"
    r"(?:mailbox|inbox|account|login|log-in|logon|email|e-mail|address|user|password)\b",
    r"(?<![\w.])(?:accounts|reception|info|office|admin|scanner|scan|scans|leasing|sales|billing|hr|payroll"
    r"|enquiries|inquiries|frontdesk|front\.desk|hello|contact|bookings|svc|noreply|no-reply|finance|orders"
    r"|invoices)@",
    r"\b(?:copier|scanner|printer|mfp|kiosk)(?:'s)? (?:account|login|password|email account)\b",
    r"\bnone of us know\b|\bnobody (?:here )?knows (?:it|the password)\b",
    r"\bbuz[óo]n compartido\b|\bcuenta (?:compartida|gen[ée]rica|de servicio)\b|\bbo[îi]te (?:aux lettres )?"
    r"(?:partag[ée]e|g[ée]n[ée]rique)\b|\bcompte (?:partag[ée]|g[ée]n[ée]rique|de service)\b|\b(?:gemeinsames"
    r"|geteiltes) postfach\b|\b(?:sammel|funktions|gruppen)postfach\b|\b(?:dienst|service|sammel)konto\b"
    r"|\bgedeelde (?:mailbox|postbus|account)\b|\balgemene (?:mailbox|account)\b|\bserviceaccount\b",
    r"\b(?:casella|caixa|skrzynk\w*) (?:condivisa|comune|partilhada|compartilhada|wsp[óo]lna)\b|\baccount (?:condiviso"
    r"|di servizio)\b|\bconta (?:partilhada|compartilhada|de servi[çc]o)\b|\bkonto (?:wsp[óo]lne|serwisowe)\b",
    r"(?<![\w.])(?:prenotazioni|reservas|reservations|recepcion|recepci[óo]n|accueil|empfang|receptie|recepcja"
    r"|contabilidad|facturacion|ventas|kontakt|buchhaltung|administratie|amministrazione|segreteria|secretaria"
    r"|secretariat|sekretariat|office|team|praxis|kanzlei|clinica|clinic|studio|biuro)@",
    r"\b(?:teams room|meeting room|board ?room|conference room|room account|resource account|room mailbox"
    r"|kiosk|console|meeting display|sala de reuniones"
    r"|salle de r[ée]union|besprechungsraum|konferenzraum|vergaderruimte|sala riunioni|sala de reuni[õo]es"
    r"|sala konferencyjna)\b[^.!?\n]{0,60}\b(?:account|login|password|sign[- ]?in|locked|cuenta|compte|konto"
    r"|contrase[ñn]a|mot de passe|passwort|wachtwoord|senha|has[łl]o)",
    r"\b(?:we all use|all of us use|we share|is shared by|used by (?:all|everyone|the team)|la usiamo|lo usiamo"
    r"|la usamos|lo usamos|on l'utilise|on le partage|nutzen wir|teilen wir|gebruiken we|delen we|usamos todos"
    r"|usiamo tutti|u[żz]ywamy)\b",
)

THIRD_PARTY_APPS = (
    r"xero|sage|quickbooks|qbo|myob|freeagent|netsuite|(?<!food )bank(?!\s+(?:holiday|details))|banking|paypal|stripe|adp|gusto|paychex|bamboohr"
    r"|salesforce|hubspot|docusign|dropbox|gmail|googlemail|google account|google workspace|hotmail|yahoo"
    r"|icloud|apple id|apple-id|facebook|instagram|linkedin|amazon|ebay|appfolio|yardi|buildium|procore|clio"
    r"|practicepanther|actionstep|dentally|dentrix|eaglesoft|open dental|ezyvet|avimark|arbor|sims|bromcom"
    r"|parentmail|classdojo|class dojo|seesaw|google classroom|datev|lexware|elster|gesden|contasol|holded"
    r"|afas|twinfield|snelstart|moneybird|exact online|pennylane|cegid|doctolib|ultratax|lacerte|cch"
    r"|proseries|taxdome|karbon|canva|mailchimp|shopify|wordpress|godaddy|ionos|ovh|strato|vpn (?:password|login|account|pin|credentials)|forticlient"
    r"|anyconnect|globalprotect|wi-?fi (?:password|key|code)|wlan-?(?:passwort|schl[üu]ssel)|wifi-?wachtwoord|voicemail (?:pin|password|code)|(?<!support )(?<!service )(?<!helpdesk )(?<!customer )(?<!from )(?<!via )(?<!web )(?<!help )(?<!client )(?<!self-service )portal(?!\s*[\]:>])(?! submission| form| request)|payroll (?:system|portal|software)"
    r"|booking system|patient portal|practice (?:management )?software|copier pin|printer pin|door code"
    r"|alarm code|keypad"
)

THIRD_PARTY = _c(
    rf"\b(?:{THIRD_PARTY_APPS})\b(?!\s*(?:is|are|'s|seems?)\s+(?:fine|ok|okay|working|good|all right)\b)"
    r"(?![^.\n]{0,20}\bi'?m in\b)",
    r"\b(?:computer|laptop|windows|email|e-mail|outlook|pc|microsoft|office|teams|desktop|mail)(?: login"
    r"| sign-?in| password| account| log-?in)?(?: and (?:my )?(?:email|e-mail|outlook|computer|laptop|teams"
    r"|windows)(?: login| password)?)? (?:is|are|works?|'s|seems?) (?:all )?(?:fine|ok|okay|working|good)\b",
    r"\b(?:its|their) own (?:username|user ?name|login|password|account|credentials)\b|\bseparate (?:login"
    r"|password|account|username|credentials)\b|\bdifferent password (?:than|from|to)\b|\bnot the (?:same|windows"
    r"|computer|microsoft|work|email|normal|usual) (?:password|login|one|account)\b",
    r"\bseparate from (?:my|the) (?:work|windows|computer|microsoft|normal|usual)\b|\b(?:can still|still can"
    r"|have no problems?|no problems? with)\b[^.\n]{0,25}\b(?:outlook|windows|e-?mail|computer|laptop|pc|teams"
    r"|microsoft)\b|\bcontrase[ñn]a del wi-?fi\b|\bmot de passe (?:du )?wi-?fi\b|\b(?:wlan|wifi)-?passwort\b",
    r"\bpersonal (?:gmail|email|e-mail|account|icloud|apple|google|facebook|instagram|mailbox|hotmail|yahoo"
    r"|outlook)\b|\bmy own (?:gmail|hotmail|yahoo|icloud)\b|\bpin (?:for|on) the (?:copier|printer|door|alarm)\b",
    r"\b(?:el ordenador|el correo|windows|outlook)(?: y (?:el )?(?:correo|ordenador|windows))? (?:funciona[n]?|van?)"
    r" (?:bien|perfectamente|sin problemas?)\b|\bes solo "
    r"(?:el|la) (?:programa|aplicaci[óo]n|app|portal)\b|\bprograma de (?:gesti[óo]n|contabilidad|n[óo]minas)\b"
    r"|\bcuenta personal\b|\bcorreo personal\b|\bbanco\b",
    r"\b(?:ordinateur|windows|messagerie|outlook|session)(?: et (?:la |ma )?(?:messagerie|outlook))? "
    r"(?:fonctionne(?:nt)?|marche(?:nt)?|va(?:nt)?) (?:bien|tr[èe]s bien|normalement)\b|\blogiciel\b"
    r"|\bcompte perso\b|\bmessagerie perso\b|\bbanque\b",
    r"\bnicht das (?:windows|computer|microsoft)-?(?:passwort|kennwort)\b|\b(?:windows|outlook|rechner|computer)"
    r"(?:-passwort)? (?:funktioniert|geht)(?: ganz)? (?:normal|gut|einwandfrei|problemlos)\b|\bprivates? "
    r"(?:konto|postfach|gmail)\b|\b(?:online-?)?banking\b",
    r"\b(?:computer|windows|outlook|mail|laptop)(?: en (?:mijn )?(?:mail|outlook))? (?:werkt|werken|doet het|doen"
    r" het) (?:prima|wel|goed|gewoon)\b|\bpriv[ée]-?account\b|\bpersoonlijke (?:account|gmail)\b"
    r"|\bprogramma\b|\bpakket\b",
)

# The password is said to work: the problem is not a forgotten or locked password.
PASSWORD_WORKS = _c(
    r"\b(?:same|my|the) password\b[^.\n]{0,40}\b(?:works|worked|is working|just fine|is fine|no problem)\b"
    r"|\bcan (?:log|sign)"
    r" (?:in|into|on)\b[^.\n]{0,40}\b(?:just fine|fine|no problem|without (?:a )?problem)|\beven though (?:it'?s|it is"
    r"|the password is|my password is) (?:correct|right)\b|\b(?:web ?mail|the web version|office\.com|the browser)"
    r"\b[^.\n]{0,30}\b(?:works|is fine|fine)\b[^.\n]{0,30}\b(?:same )?password",
    r"\baunque (?:es|sea) correcta\b|\ben la web entro\b|\b(?:alors que|bien qu'|m[êe]me si) ?il est (?:correct|bon)\b"
    r"|\bobwohl es stimmt\b|\bim browser klappt\b|\bterwijl het (?:klopt|werkt|goed is)\b|\bin de webversie "
    r"(?:gewoon )?werkt\b",
)

# Work (Microsoft Entra) sign-in vocabulary: an automated account action needs the system to be named.
WORK_SYSTEM = _c(
    r"\b(?:computer|computor|laptop|pc|desktop|workstation|windows|login screen|log-?on|e-?mail|emails|mail"
    r"|outlook|teams|onedrive|sharepoint|office|microsoft|m365|o365|365|work account|school account|network"
    r"|authenticator|mfa|2fa|two[- ]factor|multi[- ]factor|2[- ]step|verification code|approve|approval|sign-?in"
    r"|domain|machine|terminal|surface|ipad|work phone|inbox|mailbox|werkmail|werkaccount|portable pro|pc portable)\b|\bexpired password\b"
    r"|\b(?:password|contrase[ñn]a|mot de passe|passwort|kennwort|wachtwoord)\b[^.\n]{0,30}\b(?:expired|caducad[oa]"
    r"|expir[ée]|abgelaufen|verlopen)",
    r"\b(?:ordenador|port[áa]til|equipo|correo|sesi[óo]n|cuenta de microsoft|ordinateur|poste|messagerie"
    r"|session|courriel|rechner|anmeldung|postfach|benutzerkonto|windows-konto|pc|werkplek|work account"
    r"|school account|microsoft account|office account|domain account|network account|user account)\b",
)

RULES: tuple[tuple[RiskFlag, Scope, Phrases], ...] = (
    (F.MANIPULATION, "all", MANIPULATION),
    (F.CONTACT_IN_BODY, "head", CONTACT),
    (F.COMPROMISE_SIGNS, "all", COMPROMISE),
    (F.NO_ACTION_NEEDED, "head", NO_ACTION),
    (F.POLICY_EXCEPTION, "head", POLICY),
    (F.OUTAGE, "head", OUTAGE),
    (F.OTHER_PERSON, "all", OTHER_PERSON),
    (F.SHARED_OR_SERVICE_ACCOUNT, "all", SHARED),
    (F.THIRD_PARTY_SYSTEM, "head", THIRD_PARTY),
)

CONSUMER_DOMAINS = re.compile(
    r"(?:^|\.)(?:gmail|googlemail|outlook|hotmail|live|msn|yahoo|ymail|icloud|me|mac|aol|gmx|web|proton|protonmail"
    r"|pm|mail|zoho|yandex|orange|free|wanadoo|laposte|sfr|t-online|freenet|ziggo|kpnmail|telenet|hetnet|planet"
    r"|terra|telefonica|movistar|btinternet|sky|virginmedia|comcast|verizon|att|bigpond|optusnet)\.",
    re.I,
)
EMAIL_ADDRESS = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
NOT_USERNAME_SUFFIX = re.compile(
    r"\.(?:com|net|org|co|uk|de|nl|fr|es|io|au|ca|eu|be|ch|at|us|info|biz|gov|edu|txt|pdf|docx?|xlsx?|exe|msi"
    r"|png|jpe?g|zip|local|lan|js|py|app|dev|cloud|online|tech|it|ie|nz)$"
)
