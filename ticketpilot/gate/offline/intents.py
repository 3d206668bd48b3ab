"""Sentences that ask the automation to weaken itself, widen its target or change the channel.

One such sentence anywhere in a ticket (subject, newest message or quoted history) makes the whole ticket
manual, however ordinary the rest of it is. Each kind is a group of patterns in English, Spanish, French,
German, Dutch, Italian, Portuguese and Polish, written for the *kind* of wording, never for one ticket.

The patterns run on :func:`folded` text: lower case, accents removed, apostrophes and dashes unified, so
they are written in plain ASCII (``verificacion`` matches "verificación").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..classification import RiskFlag

_COMBINING = re.compile(r"[\u0300-\u036f]+")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'", "\u2013": "-", "\u2014": "-"})


def folded(text: str) -> str:
    """Lower case, without accents, with typographic quotes and dashes made plain (same length not kept)."""
    text = text.lower().translate(_QUOTES)
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).replace("\u0142", "l")


def _any(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), re.M)


# Words that name a verification or a check, in every language.
_CHECK = (
    r"(?:verification|verify|verifying|mfa|2fa|push|prompt|notification|authenticator|approval|approve|confirmation"
    r"|confirm|check|checks|checking|security questions?|call-?back|code|text|sms|anything to my phone|identity"
    r"|verificacion|verificar|comprobacion|comprobar|notificacion|aprobacion|confirmacion|codigo|mensaje"
    r"|verification|verifier|notification|validation|approbation|controle|confirmation"
    r"|bestatigung|verifizierung|prufung|freigabe|ruckfrage|benachrichtigung|genehmigung|kontrolle"
    r"|verificatie|controle|bevestiging|goedkeuring|melding|verifica|conferma|notifica|approvazione|controllo"
    r"|verificacao|confirmacao|notificacao|aprovacao|weryfikacj\w*|potwierdzeni\w*|powiadomieni\w*)"
)
_PROC = (
    r"(?:verification|verifying|verify|approval|confirmation|checks?|checking|call-?back|security questions?"
    r"|identity checks?|verificacion|comprobacion|aprobacion|confirmacion|validation|approbation|controle"
    r"|bestatigung|verifizierung|prufung|freigabe|ruckfrage|genehmigung|kontrolle|verificatie|bevestiging"
    r"|goedkeuring|verifica|conferma|approvazione|controllo|verificacao|confirmacao|aprovacao|weryfikacj\w*"
    r"|potwierdzeni\w*|controlli|controles|kontrollen|kontroli|prozedere|procedimiento|procedure|procedura"
    r"|procedimento|procedur\w*|oddzwan\w*|terugbel\w*|ruckruf|rappel|richiamata|chamada de verificacao"
    r"|llamada de verificacion|appel de verification|verification call)"
)
_POLICY_WORD = (
    r"(?:policy|policies|procedure|process|rules?|protocol|politica|procedimiento|reglas?|normas?|protocolo"
    r"|politique|procedure|regles?|protocole|richtlinien?|regeln?|vorgaben?|prozess|beleid|procedure|regels?"
    r"|regole|procedura|politica|regras?|procedimento|zasad\w*|procedur\w*|polityk\w*)"
)
_MANAGER = (
    r"(?:manager|boss|supervisor|line manager|team ?lead(?:er)?|my director|head of department|approver"
    r"|jefe|jefa|(?:mi|mon|ma|notre|votre|nuestro|nuestra|el|la|le) responsable|gerente|superior|encargad[oa]"
    r"|(?:mon|ma|le|la|notre|votre) (?:chef|superieur|superieure|n\+1)|chef de service"
    r"|vorgesetzte[nr]?|chefin|teamleiter\w*|abteilungsleiter\w*|leidinggevende|baas|teamleider"
    r"|capo|responsabile|gestor|gestora|chefe|kierownik\w*|szef\w*|przelozon\w*)"
)
_PHONE = (
    r"(?:phone|mobile|cell(?:phone)?|smartphone|iphone|handy|movil|telefono|celular|portable|telephone|telefoon"
    r"|mobiel|cellulare|telemovel|telefone|telefon|komork\w*)"
)
_CREDENTIAL = (
    r"(?:password|passcode|pass|code|tap|temporary access pass|pin|credentials?|login details|contrasena|clave"
    r"|codigo|mot de passe|mdp|passwort|kennwort|zugangsdaten|wachtwoord|inloggegevens|senha|haslo|hasla)"
)

SKIP_VERIFICATION = _any(
    # "don't send the push", "no need to verify", "you don't have to call me back"
    rf"\b(?:do not|don't|dont|pls don't|please don't|no need to|there's no need to|you don't need to|you dont need to"
    rf"|needn't|never|not to)\s+(?:\w+\s+){{0,3}}?(?:send|sending|trigger|do|bother|use|run|ask|verify|check|call"
    rf"|ring|push|confirm|approve|wait|go through)\b[^.!?\n]{{0,40}}\b{_CHECK}\b",
    r"\b(?:do not|don't|dont|no need to)\s+(?:verify|check|confirm|authenticate|call me back)\b",
    rf"\bno need (?:for|of)\s+(?:any\s+|the\s+|a\s+|an\s+)?(?:\w+\s+)?{_CHECK}\b",
    rf"\bne pas (?:m'|me |nous )?(?:envoyer|faire|appeler|verifier|demander|deranger|contacter|solliciter)\b"
    rf"[^.!?\n]{{0,40}}\b(?:{_CHECK}|{_MANAGER})\b",
    rf"\b(?:without|no)\s+(?:the\s+|any\s+|all\s+|a\s+|this\s+|that\s+|your\s+)?(?:usual\s+|normal\s+|whole\s+"
    rf"|extra\s+|mfa\s+|phone\s+|further\s+)?{_PROC}\b",
    rf"\b(?:skip|skipping|bypass|bypassing|waive|waiving|ignore|ignoring|forget about|drop)\b[^.!?\n]{{0,40}}\b{_CHECK}\b",
    rf"\b{_CHECK}\s+(?:nonsense|rubbish|crap|theatre|theater|circus|is not needed|isn't needed|not needed|is unnecessary)\b",
    rf"\b(?:ignore|skip|bypass|bend|break|override|waive)\s+(?:the\s+|your\s+|this\s+|that\s+)?{_POLICY_WORD}\b",
    rf"\b{_POLICY_WORD}\b[^.!?\n]{{0,30}}\b(?:this (?:one )?time|just this once|doesn't apply|does not apply|for once)\b",
    r"\b(?:make an exception|just this once|this one time only|for once, please)\b",
    # es
    rf"\bno\s+(?:me\s+|nos\s+)?(?:envie\w*|mande\w*|mandes|hag(?:a|as|an|ais)|llam(?:e|es|en|eis)|verifiqu\w+"
    rf"|compruebe\w*|pid(?:a|an|as|ais)|hace falta)\b"
    rf"[^.!?\n]{{0,40}}\b{_CHECK}\b",
    rf"\bsin\s+(?:la\s+|el\s+|ninguna?\s+|tanta\s+)?{_PROC}\b",
    rf"\b(?:salt\w+|omit\w+|ignor\w+)\s+(?:el|la|los|las|esta|este)\s+(?:{_CHECK}|{_POLICY_WORD})\b",
    r"\bpor (?:esta|una) vez\b|\bhaga(?:n|is)? una excepcion\b",
    # fr
    rf"\bn'(?:envoyez|envoie|envoyer)\s+pas\b|\bne\s+(?:m')?(?:envoyez|faites|appelez|verifiez|demandez)\s+pas\b"
    rf"[^.!?\n]{{0,40}}\b{_CHECK}\b",
    rf"\bsans\s+(?:la\s+|le\s+|aucune?\s+|de\s+)?{_PROC}\b",
    rf"\b(?:ignorez|ignore|passez|sautez|contournez|oubliez)\s+(?:la|le|les|cette|ce)\s+(?:{_CHECK}|{_POLICY_WORD})\b",
    r"\bpour (?:cette|une) fois\b|\bfaites une exception\b|\bexceptionnellement\b",
    # de
    rf"\bohne\s+(?:jede\s+|eine\s+|die\s+|den\s+)?{_PROC}\b",
    rf"\b(?:keine|keinen)\s+(?:\w+\s+){{0,2}}?{_CHECK}\b[^.!?\n]{{0,30}}\b(?:schicken|senden|notig|erforderlich)\b",
    r"\b(?:schicken|senden)\s+sie\s+(?:mir\s+)?(?:keine|keinen|nichts)\b",
    rf"\b(?:ignorieren|uberspringen|umgehen)\s+sie\s+(?:die|den|das)\s+(?:{_CHECK}|{_POLICY_WORD})\b",
    r"\bausnahmsweise\b|\bdieses eine mal\b|\bnur dieses mal\b",
    # nl
    rf"\bzonder\s+(?:de\s+|een\s+|enige\s+)?{_PROC}\b",
    rf"\b(?:stuur|stuurt|sturen)\s+(?:me\s+|mij\s+)?(?:geen|niks|niets)\b|\bgeen\s+{_CHECK}\s+(?:nodig|sturen|doen)\b",
    rf"\b(?:negeer|sla)\s+(?:de|het|die)\s+(?:{_CHECK}|{_POLICY_WORD})\b|\bbij uitzondering\b|\bdeze ene keer\b",
    # it
    rf"\bsenza\s+(?:la\s+|il\s+|le\s+|i\s+|alcuna?\s+|nessuna?\s+)?(?:solit[ei]\s+|sue\s+)?{_PROC}\w*\b",
    rf"\bnon\s+(?:mi\s+)?(?:mandate|inviate|mandare|inviare|fate|chiamate|serve)\b[^.!?\n]{{0,40}}\b{_CHECK}\b",
    rf"\b(?:ignorate|saltate|ignora|salta)\s+(?:la|il|le|i)\s+(?:{_CHECK}|{_POLICY_WORD})\b|\bper (?:questa|una) volta\b",
    # pt
    rf"\bsem\s+(?:a\s+|o\s+|nenhuma?\s+)?{_PROC}\b",
    rf"\bnao\s+(?:me\s+)?(?:enviem|envie|mandem|mande|facam|liguem|precisa)\b[^.!?\n]{{0,40}}\b{_CHECK}\b",
    rf"\b(?:ignorem|ignore|saltem|pulem)\s+(?:a|o|as|os)\s+(?:{_CHECK}|{_POLICY_WORD})\b|\bso (?:desta|esta) vez\b",
    # pl
    rf"\bbez\s+(?:zadnej\s+)?{_PROC}\b|\bnie\s+(?:wysylajcie|wysylaj|dzwoncie)\b|\btylko ten jeden raz\b",
)

AVOID_MANAGER = _any(
    rf"\b(?:do not|don't|dont|no need to|never|without|not|no)\b[^.!?\n]{{0,40}}\b{_MANAGER}\b",
    rf"\b{_MANAGER}\b[^.!?\n]{{0,40}}\b(?:out of (?:this|it)|doesn't need to|does not need to|need not|shouldn't"
    rf"|should not|mustn't|must not)\b",
    rf"\b(?:leave|keep)\s+(?:my\s+|the\s+)?{_MANAGER}\s+out\b",
    rf"\b(?:sin|no|nunca|ni)\b[^.!?\n]{{0,40}}\b{_MANAGER}\b",
    rf"\b(?:sans|ne|pas|jamais)\b[^.!?\n]{{0,40}}\b{_MANAGER}\b",
    rf"\b(?:ohne|nicht|kein\w*|nie)\b[^.!?\n]{{0,40}}\b{_MANAGER}\b",
    rf"\b(?:zonder|niet|geen|nooit)\b[^.!?\n]{{0,40}}\b{_MANAGER}\b",
    rf"\b(?:senza|non|mai)\b[^.!?\n]{{0,40}}\b{_MANAGER}\b",
    rf"\b(?:sem|nao|nunca)\b[^.!?\n]{{0,40}}\b{_MANAGER}\b",
    rf"\b(?:bez|nie)\b[^.!?\n]{{0,40}}\b{_MANAGER}\b",
    rf"\b{_MANAGER}\b[^.!?\n]{{0,30}}\b(?:not|nicht|niet|pas|non|nao|nie|no)\b",
    r"\b(?:without|no|sin|sans|ohne|zonder|senza|sem|bez)\s+(?:an?\s+|any\s+|la\s+|l'|die\s+|de\s+|l\s+)?"
    r"(?:approval|aprobacion|approbation|freigabe|genehmigung|goedkeuring|approvazione|aprovacao|zgody)\b",
    r"\b(?:don't|do not|no need to)\s+(?:bother|ask|contact|involve)\s+(?:anyone|anybody|someone)\b"
    r"|\b(?:don't|do not)\s+go\s+bothering\b",
)

PRIVILEGED_OR_OTHER_ACCOUNT = _any(
    r"\b(?:emergency (?:access|admin)|break[- ]?glass|firefighter (?:account|id)|cuenta de emergencia|compte d'urgence"
    r"|notfall-?(?:konto|zugang)|noodaccount|account di emergenza|conta de emergencia|konto awaryjne)\b",
    r"\b(?:admin|administrator|administrative|privileged|elevated|global admin|domain admin|break-?glass|root"
    r"|superuser|service)\s+(?:account|accounts|login|logins|user|password|credentials?)\b",
    r"\b(?:my|the|our)\s+(?:other|second|secondary|backup|alt|alternate|test|admin)\s+(?:account|login|user"
    r"|mailbox)\b",
    r"\b(?:[a-z]{2,}[._-])?(?:adm|admin|administrator|svc)[._-][a-z]{2,}\b(?!\.)|\b[a-z]{2,}[._-](?:adm|admin)\b",
    r"\b(?:cuenta|usuario|contrasena) (?:de |del )?(?:administrador|admin|servicio)\b|\bcuenta de admin\b"
    r"|\bmi otra cuenta\b",
    r"\bcompte (?:d')?(?:administrateur|admin|de service)\b|\bmon autre compte\b",
    r"\b(?:admin|administrator|dienst)-?(?:konto|account|kennwort|passwort|zugang)\b|\bmein (?:anderes|zweites) konto\b",
    r"\b(?:beheerders?|admin)-?(?:account|wachtwoord)\b|\bmijn andere account\b",
    r"\baccount (?:di |da )?(?:amministratore|admin|servizio)\b|\bil mio altro account\b",
    r"\bconta (?:de )?(?:administrador|admin|servico)\b|\bminha outra conta\b",
    r"\bkonto (?:administratora|admina|serwisowe)\b",
    r"\b(?:also|as well|too|and then|while you're at it|at the same time)\b[^.!?\n]{0,50}\b(?:reset|unlock|change)"
    r"\b[^.!?\n]{0,30}\b(?:for|of)\s+(?:my\s+)?(?:colleague|team|boss|manager|assistant|wife|husband|partner|everyone"
    r"|all|him|her|them)\b",
)

MORE_PRIVILEGES = _any(
    r"\badd\s+(?:me|my account|us)\s+(?:\w+\s+){0,2}?to\s+(?:the\s+)?[\w .'-]{0,40}?\b(?:group|admins?|role|team"
    r"|owners?|distribution list|security group|share)\b",
    r"\b(?:give|grant|assign|get)\s+(?:me|my account)\s+(?:\w+\s+){0,3}?(?:admin|administrator|full|elevated|global"
    r"|extra|more|owner|root|local admin|domain)\b[^.!?\n]{0,20}\b(?:rights|access|permissions?|privileges|role"
    r"|control)\b",
    r"\bmake me\s+(?:an?\s+)?(?:admin|administrator|owner|global admin|domain admin)\b",
    r"\b(?:domain|global|enterprise|exchange|tenant|local)\s+admins?\b|\badmin (?:rights|privileges|access|role)\b",
    r"\b(?:group|groupe|gruppe|groep|gruppo|grupo|grupy)\b[^.!?\n]{0,30}\badmin\w*|\badmin\w* (?:du|del|de|des|do)"
    r" (?:domaine|dominio)\b|\bdomanen-?admin\w*|\b(?:anadi|agreg|aniad)\w*[^.!?\n]{0,30}\bal grupo\b|\bpermisos de (?:administrador|admin)\b"
    r"|\bderechos de administrador\b",
    r"\bajoute[zr]?[- ]moi\b[^.!?\n]{0,30}\b(?:au|dans le)\s+groupe\b|\bdroits (?:d')?(?:admin|administrateur)\b",
    r"\bfugen sie mich\b[^.!?\n]{0,30}\bgruppe\b|\badmin-?rechte\b|\badministratorrechte\b",
    r"\bvoeg (?:me|mij) toe aan\b|\b(?:admin|beheerders)-?rechten\b",
    r"\baggiunge\w*mi al gruppo\b|\bdiritti (?:di )?(?:amministratore|admin)\b|\bpermessi (?:di )?amministratore\b",
    r"\badicion\w*[- ]?me ao grupo\b|\bpermissoes de (?:administrador|admin)\b",
    r"\bdodaj\w* mnie do grupy\b|\buprawnienia administratora\b",
)

_CHANNEL_PHRASE = (
    r"(?:by|via|over|through|per|in|on|to)\s+(?:e-?mail|my e-?mail|mail|teams|chat|the phone|a call|phone call|reply"
    r"|my personal\b|my private\b|my gmail|my home)"
    r"|por (?:correo|e-?mail|chat|teams)|en el ticket|en las notas|en la respuesta"
    r"|par (?:mail|e-?mail|courriel|chat|teams)|dans (?:le ticket|les notes|la reponse)|en reponse"
    r"|per (?:e-?mail|mail|chat|teams)|im ticket|in (?:die|den) notizen|in der antwort"
    r"|in het ticket|in de (?:notities|notes)|in het antwoord|via (?:e-?mail|mail|chat|teams)"
    r"|nel ticket|nelle note|nella risposta|no ticket|nas notas|na resposta|por e-?mail"
    r"|w zgloszeniu|w notatkach|mailem|e-?mailem"
)

OTHER_CHANNEL = _any(
    r"\b(?:whats ?app|telegram|signal app|on signal|via signal|viber|wechat|imessage|facebook messenger"
    r"|skype|snapchat|discord|instagram dm|dm me|direct message me)\b",
    rf"\b(?:post|put|write|add|leave|include|paste|type|share)\b[^.!?\n]{{0,40}}\b{_CREDENTIAL}\b[^.!?\n]{{0,30}}"
    rf"\b(?:in|into|on|to)\s+(?:the\s+|this\s+|my\s+)?(?:ticket|notes?|reply|comments?|portal|chat|thread)\b",
    rf"\b(?:reply|respond|answer)\s+(?:to me\s+|back\s+)?with\s+(?:the\s+|my\s+)?(?:new\s+|temporary\s+|temp\s+)?"
    rf"{_CREDENTIAL}\b",
    rf"(?:^|[.!?,]\s*|\b(?:please|pls|just|can you|could you|would you|and|then)\s+)(?:e-?mail|mail)\s+(?:me\s+)?"
    rf"(?:it|them|the\s+(?:new\s+|temporary\s+|temp\s+)?{_CREDENTIAL})\b",
    rf"\b(?:send|forward|give|tell|read|text|message)\s+(?:me\s+)?(?:it|them|the\s+(?:new\s+|temporary\s+|temp\s+)?"
    rf"{_CREDENTIAL})\s+(?:{_CHANNEL_PHRASE})\b",
    rf"\b(?:tell|read)\s+me\s+(?:the\s+)?(?:new\s+|temporary\s+)?{_CREDENTIAL}\b",
    rf"\b{_CREDENTIAL}\b[^.!?\n]{{0,30}}\b(?:{_CHANNEL_PHRASE})\b",
    # Handed on by someone else, sent "here", or into the reply.
    r"\b(?:i'?ll pass it on|i will pass it on|and i'?ll (?:give|pass|hand|read) it|przekaz\w*|przekaze\w*"
    r"|se (?:lo|la) (?:paso|pasare|dare|doy)|je (?:le |la )?lui (?:transmets|transmettrai|passe|donne)"
    r"|(?:gebe|leite) (?:es|ihn|sie)? ?(?:ihm|ihr) weiter|geef (?:ik )?(?:die|het|hem) (?:telefonisch )?door"
    r"|glie(?:lo|la) (?:passo|do)(?: io)?|(?:que )?eu (?:passo|repasso)|eu (?:lhe )?passo)\b",
    r"\b(?:send|email|mail|text|schicken|senden|envi\w*|envoy\w*|stuur\w*|mand\w*|invia\w*|wyslij\w*)\b"
    r"[^.!?\n]{0,25}\b(?:here|hierher|hierheen|aqui|ici|qui|tutaj)\b|\bmandarmel[ao] qui\b|\bmandem-?ma aqui\b",
    rf"\b(?:in|into|on)\s+(?:your|the|this|a)\s+(?:reply|response|answer|respuesta|reponse|antwort|antwoord|risposta"
    rf"|resposta|odpowiedzi)\b[^.!?\n]{{0,40}}|\b(?:reply|respond\w*|answer|responda\w*|respondam|antworten"
    rf"|rispondete|odpowiedz\w*)\b[^.!?\n]{{0,40}}\b(?:with|com|con|avec|mit|met|z)\s+(?:the |a |la |le |il |o |das )?"
    rf"(?:new |temporary |temporaria |temporal |temporaire |temporare |tijdelijke |temporanea |tymczasow\w* )?"
    rf"(?:{_CREDENTIAL}|one|palavra-passe)\b",
    r"\b(?:put|pop|post|include|stick)\b[^.!?\n]{0,40}\b(?:the new one|new password|password|it)\b[^.!?\n]{0,20}"
    r"\b(?:in|into)\s+(?:your|the|this|a)\s+(?:reply|response|email|ticket)\b",
    r"\b(?:read|tell|give|say|dictate|spell)\b[^.!?\n]{0,40}\b(?:to me|me)\b[^.!?\n]{0,30}\b(?:over the phone"
    r"|on the phone|when you call|by phone|on a call|when you ring|out loud)\b",
    rf"\b(?:over the phone|on the phone|when you call|when you ring|call me with|ring me with)\b[^.!?\n]{{0,40}}"
    rf"\b{_CREDENTIAL}\b|\b{_CREDENTIAL}\b[^.!?\n]{{0,40}}\b(?:over the phone|when you call|when you ring|by phone)\b",
    rf"\b(?:por telefono|al telefono|cuando (?:me )?llam\w+|au telephone|quand vous (?:m')?appel\w+|am telefon"
    rf"|wenn sie (?:mich )?anrufen|telefonisch|aan de telefoon|als je (?:me )?belt|telefonisch|al telefono|quando"
    rf" (?:mi )?chiam\w+|ao telefone|quando (?:me )?lig\w+|przez telefon)\b[^.!?\n]{{0,40}}\b{_CREDENTIAL}\b"
    rf"|\b{_CREDENTIAL}\b[^.!?\n]{{0,40}}\b(?:por telefono|al telefono|au telephone|am telefon|telefonisch"
    rf"|aan de telefoon|al telefono|ao telefone|przez telefon)\b",
    rf"\b(?:{_CHANNEL_PHRASE})\b[^.!?\n]{{0,20}}\b{_CREDENTIAL}\b",
)

_STOLEN = (
    r"(?:stolen|stole|nicked|pickpocketed|snatched|robbed|theft|robad[oa]s?|robaron|me han robado|hurto"
    r"|vole|volee|gestohlen|geklaut|diebstahl|gestolen|beroofd|diefstal|rubat[oa]|furto|roubad[oa]"
    r"|roubaram|skradzion\w*|ukradzion\w*|kradziez\w*)"
)
_CARRIED = (
    rf"(?:{_PHONE}|\w*handy|\w*telefoon|laptop|computer|tablet|ipad|bag|handbag|backpack|wallet|purse|car|bolso|mochila|cartera"
    r"|portatil|ordenador|sac|sacoche|portefeuille|ordinateur|tasche|rucksack|geldborse|tas|rugzak|portemonnee"
    r"|borsa|zaino|portafoglio|mala|carteira|torba|plecak|portfel|device|dispositivo|appareil|gerat|apparaat"
    r"|sim)"
)
STOLEN_DEVICE = _any(
    rf"\b{_STOLEN}\b[^.!?\n]{{0,50}}\b{_CARRIED}\b|\b{_CARRIED}\b[^.!?\n]{{0,50}}\b{_STOLEN}\b",
    rf"\bsome(?:one|body) (?:else )?(?:has|took|grabbed) my {_PHONE}\b",
)

DIFFERENT_NUMBER = _any(
    r"\b(?:send (?:it|the code|the password|them)?\s*to|text|sms|call|ring|reach|contact)\s+(?:me\s+)?(?:on|at|to)?\s*"
    r"(?:my\s+|the\s+|this\s+|a\s+)?(?:new|other|different|second|personal|private|home|temporary|following"
    r"|backup|alternative|alternate|spare)\s+(?:mobile\s+|phone\s+|cell\s+)?(?:number|no\.?|mobile|phone|cell)\b",
    r"\buse\s+(?:my\s+|the\s+|this\s+|a\s+)?(?:new|other|different|second|personal|private|home|temporary|following"
    r"|backup|alternative|alternate|spare)\s+(?:mobile\s+|phone\s+|cell\s+)?(?:number|no\.?)\b",
    r"\b(?:the )?number (?:i (?:gave|sent|left|provided|emailed|mentioned|put)|below|above|in my signature|i'll send)\b",
    r"\b(?:text|sms|send|call|ring|whatsapp|envia\w*|manda\w*|envoy\w*|schick\w*|stuur\w*|invia\w*|wyslij\w*)\b"
    r"[^.!?\n]{0,30}\b(?:on|at|to|al|au|an|naar|a|para|na)\s+\+?\d(?:[ .-]?\d){6,}",
    r"\bnot (?:to )?the (?:one|number|phone|mobile) (?:on file|on record|you have|in the system|registered|listed)\b",
    r"\b(?:change|update|replace|switch|set)\s+(?:the\s+|my\s+)?(?:mobile|phone|cell|contact)?\s*(?:number|mobile"
    r"|phone)\s+(?:on|in|for|of)\s+(?:my|the)\s+(?:account|profile|record)\b",
    r"\b(?:envi\w*|mand\w*|us[ae]\w*|utiliz\w*|llam\w*)\b[^.!?\n]{0,30}\b(?:otro|nuevo|este|distinto|diferente)"
    r" numero\b|\bnumero (?:que (?:os|les|te) di|de abajo|personal)\b|\bno (?:al|el) (?:numero )?(?:que teneis"
    r"|que tienen|registrado)\b",
    r"\b(?:envoy\w*|utilis\w*|appel\w*)\b[^.!?\n]{0,30}\b(?:autre|nouveau|ce) numero\b|\ble numero (?:que je vous ai"
    r"|ci-dessous|perso)\b|\bpas (?:celui|le numero) (?:enregistre|que vous avez)\b",
    r"\b(?:schick\w*|send\w*|nutz\w*|verwend\w*|anruf\w*)\b[^.!?\n]{0,30}\b(?:andere|neue|diese|folgende|private)"
    r" (?:nummer|handynummer|mobilnummer|telefonnummer)\b|\b(?:nummer|handynummer),? die ich\b|\bnicht (?:die|an die)"
    r" (?:hinterlegte|gespeicherte)\b",
    r"\b(?:stuur\w*|gebruik\w*|bel\w*)\b[^.!?\n]{0,30}\b(?:ander|nieuw|dit|mijn prive) (?:nummer|telefoonnummer"
    r"|mobiel nummer)\b|\bniet (?:het|naar het) (?:bekende|geregistreerde) nummer\b",
    r"\b(?:mand\w*|invi\w*|us\w*|chiam\w*)\b[^.!?\n]{0,30}\b(?:altro|nuovo|questo) numero\b|\bnon (?:quello|il numero)"
    r" registrato\b",
    r"\b(?:envi\w*|mand\w*|us\w*|lig\w*)\b[^.!?\n]{0,30}\b(?:outro|novo|este) numero\b|\bnao (?:o|para o) (?:numero )?"
    r"(?:registado|registrado)\b",
    r"\b(?:wysl\w*|uzyj\w*|dzwon\w*)\b[^.!?\n]{0,30}\b(?:inny|nowy|ten) numer\b",
)

AUTHORITY_PRESSURE = _any(
    r"\b(?:i expect|ich erwarte|espero que|j'attends|je m'attends|ik verwacht|mi aspetto|oczekuje)\b[^.!?\n]{0,60}"
    r"\b(?:minutes?|minuten|minutos|minuti|minut\w*|now|sofort|ya|immediatement|meteen|subito|ja|natychmiast)\b"
    r"|\b(?:hier spricht|this is dr\.?|aqui (?:habla|el|la) (?:dr|doctor)|ici le (?:dr|docteur))\b",
    r"\b(?:this is|i am|i'm|im|it's)\s+(?:the\s+)?(?:ceo|cfo|coo|cto|cio|md|managing director|company director"
    r"|director|owner|founder|president|chairman|managing partner|senior partner|head of the company|boss here)\b",
    r"\b(?:or (?:else|you're fired|you are fired|you'll be fired|i'll have your job|there will be consequences)"
    r"|you(?:'re| are| will be| will get) fired|your job is on the line|i'll have your job|heads will roll"
    r"|this is not a request|that's an order|this is an order|i am ordering you|i'm ordering you|i demand)\b",
    r"\b(?:soy|habla) (?:el|la) (?:director\w*|ceo|dueno|duena|gerente general|presidente|jefe de la empresa)\b"
    r"|\bo (?:estas|estais|esta) despedid[oa]s?\b|\bes una orden\b",
    r"\bje suis (?:le|la) (?:directeur|directrice|pdg|patron|patronne|president|gerant)\b|\bou (?:vous etes|tu es)"
    r" vire\b|\bc'est un ordre\b",
    r"\bich bin (?:der|die) (?:geschaftsfuhrer\w*|chef\w*|inhaber\w*|vorstand|direktor\w*)\b|\bsonst (?:sind sie|bist du)"
    r" (?:gefeuert|entlassen|raus)\b|\bdas ist eine anweisung\b",
    r"\bik ben de (?:directeur|eigenaar|ceo|baas)\b|\banders (?:ben je|bent u) ontslagen\b|\bdat is een bevel\b",
    r"\bsono (?:il |l'|la )?(?:direttore|direttrice|ceo|titolare|presidente|capo|amministratore delegato)\b"
    r"|\bo (?:sei|siete) licenziat[oi]\b|\be un ordine\b",
    r"\b(?:going|go|straight|escalate this|complain)\b[^.!?\n]{0,20}\bto your (?:md|boss|manager|director|ceo|owner)\b"
    r"|\b(?:review(?:ing)?|cancel(?:ling)?|terminat\w*) (?:the|our|your) contract\b"
    r"|\b(?:chiamo|llamo|appelle|rufe|bel|ligo|dzwoni\w*)\b[^.!?\n]{0,20}\b(?:il vostro|vuestro|a vuestro|votre|ihren"
    r"|jullie|o vosso|seu|waszego) (?:titolare|jefe|patron|chef|baas|chefe|szefa|direttore|director|directeur)\b",
    r"\bsou o (?:diretor|ceo|dono|presidente|chefe)\b|\bou (?:esta|estas) (?:despedido|demitido)\b|\be uma ordem\b",
    r"\bjestem (?:prezesem|dyrektorem|wlascicielem)\b|\balbo (?:jestes|jestescie) zwolni\w*\b",
)

# Text addressed to the automation itself, or claiming the checks already happened.
TO_THE_AUTOMATION = _any(
    r"\b(?:sistema automatico|automatic system|automated system|systeme automatique|automatische[sn]? system"
    r"|geautomatiseerd systeem|sistema automatizado|system automatyczny|the automation|l'automatisation"
    r"|la automatizacion|die automatisierung|de automatisering|l'automazione|a automacao|automatyzacja)\b"
    r"[^.!?\n]{0,30}\b(?:puo|can|puede|peut|kann|kan|pode|moze|may|should|must|debe|doit|muss|moet|deve|musi)\b",
    # "IT said on the phone it's fine", "my manager approved it on Teams": checks claimed, not done here.
    r"\b(?:approved|aprobo|aprovou|a approuve|hat (?:es )?(?:genehmigt|freigegeben)|heeft (?:het )?goedgekeurd"
    r"|ha approvato|zatwierdzi\w*|signed off|ok'?d|okayed)\b[^.!?\n]{0,30}\b(?:on|in|via|por|no|en|sur|par|im|op"
    r"|w|su|pelo)\s+(?:the )?(?:teams|slack|chat|whatsapp|e-?mail|mail|phone|telefono|telefone|telephone|telefon)\b",
    r"\b(?:spoke|talked|rozmawia\w*|hable|parle|gesprochen|gesproken|parlato|falei|called)\b[^.!?\n]{0,50}"
    r"\b(?:it|helpdesk|service ?desk|support|informatyk\w*|z it|soporte|informatique|technik\w*|supporto|suporte"
    r"|tecnico|technicien|your (?:tech|engineer|colleague))\b[^.!?\n]{0,80}\b(?:said|dijo|a dit|sagte|zei|detto"
    r"|disse|powiedzia\w*|fine|ok|okay|without|sin|sans|ohne|zonder|senza|sem|bez|approved|agreed)\b",
    r"\b(?:verifica|verificacion|verification|verifizierung|verificatie|verificacao|weryfikacja|identity check"
    r"|identita|identidad|identite|identitat|identiteit|identidade|tozsamos\w*)\b[^.!?\n]{0,40}\b(?:gia (?:stata )?fatta"
    r"|ya (?:se )?(?:hizo|hecha|realizada)|deja (?:ete )?faite|bereits (?:erfolgt|gemacht)|al gedaan|ja (?:foi )?feita"
    r"|juz (?:zostala )?(?:zrobion\w*|przeprowadzon\w*)|already (?:been )?done|was done)\b",
    r"\[\s*(?:system|admin|assistant|ai|automation|bot|auto|internal|note to (?:ai|bot|automation))\s*\]",
    r"\b(?:automation|automated system|ai|bot|assistant|system|sistema|systeme|systeem|ki|ia)\s*:\s*(?:proceed|approve"
    r"|reset|skip|return|mark|set|verified|do not|don't|procede|aprueba|valide|genehmig|ga door|procedi)",
    r"\bverified (?:your|his|her|their|the user'?s|my) identity\b|\bno (?:further|more|other|additional) (?:checks?"
    r"|verification|controls?)\b|\bpre-?(?:verified|validated|authori[sz]ed|checked)\b|\bverified by (?:the )?(?:service ?desk|helpdesk|it|l[12]"
    r"|security|support)\b|\b(?:already|ya|deja|bereits|al|gia|ja) (?:been )?(?:verified|validated|verificad[oa]"
    r"|verifie|verifiziert|geverifieerd|verificat[oa]|weryfikowan\w*)\b",
    rf"\b(?:return|post|put|include|paste|write|print|show|leave|add)\b[^.!?\n]{{0,50}}\b{_CREDENTIAL}\b[^.!?\n]{{0,30}}"
    r"\b(?:in|into|on) (?:the |this |my |your )?(?:ticket|body|reply|response|notes?|comments?|description)\b",
)

KINDS: tuple[tuple[str, RiskFlag, re.Pattern[str]], ...] = (
    ("instruction to the automation", RiskFlag.MANIPULATION, TO_THE_AUTOMATION),
    ("skip verification", RiskFlag.SKIP_VERIFICATION, SKIP_VERIFICATION),
    ("avoid the manager", RiskFlag.SKIP_VERIFICATION, AVOID_MANAGER),
    ("other or privileged account", RiskFlag.PRIVILEGE_REQUEST, PRIVILEGED_OR_OTHER_ACCOUNT),
    ("more privileges", RiskFlag.PRIVILEGE_REQUEST, MORE_PRIVILEGES),
    ("another channel", RiskFlag.CHANNEL_CHANGE, OTHER_CHANNEL),
    ("stolen device", RiskFlag.COMPROMISE_SIGNS, STOLEN_DEVICE),
    ("different number", RiskFlag.CHANNEL_CHANGE, DIFFERENT_NUMBER),
    ("authority pressure", RiskFlag.AUTHORITY_PRESSURE, AUTHORITY_PRESSURE),
)


@dataclass(frozen=True)
class IntentFinding:
    """One sentence that asks the automation to weaken itself, widen its target or change the channel."""

    kind: str
    flag: RiskFlag
    evidence: str


def search_kinds(kinds: tuple[tuple[str, RiskFlag, re.Pattern[str]], ...], text: str) -> list[IntentFinding]:
    """Every kind of ``kinds`` found in ``text``, each with its first evidence snippet."""
    found = []
    for kind, flag, pattern in kinds:
        match = pattern.search(text)
        if match is not None:
            found.append(IntentFinding(kind, flag, " ".join(match.group(0).split())[:60]))
    return found


def find(text: str) -> list[IntentFinding]:
    """Every kind found in ``text`` (already :func:`folded`), each with its first evidence snippet."""
    return search_kinds(KINDS, text)
