"""Multilingual (en, es, fr, de, nl) phrase patterns: directives aimed at automation, delivery channels,
compromise signs, no-action messages. Data only: see ``rules.py`` (and ``context_patterns.py``).

Each pattern is written for a *kind* of wording (a directive aimed at automation, a delivery channel, an
account that is someone else's ...), never for one particular ticket. Patterns are case-insensitive unless
they start with ``(?-i:``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..classification import RiskFlag

F = RiskFlag
Scope = str  # "all": subject + whole body (+ raw text); "head": subject + newest message


_ESCAPE = re.compile(r"\\[A-Za-z]")


@dataclass(frozen=True)
class Phrases:
    """A group of patterns. Case-insensitive parts run without ``re.I`` on lower-cased text (much faster);
    parts that need case (``(?-i:...)``) run on the original text."""

    folded: re.Pattern[str] | None
    cased: re.Pattern[str] | None

    def search(self, text: str, lowered: str | None = None) -> str | None:
        """The first match with a little following context (for the reasoning), or None.

        ``lowered`` is ``text.lower()`` if the caller already has it."""
        if self.folded is not None:
            source = text.lower() if lowered is None else lowered
            match = self.folded.search(source)
            if match:
                return _snippet(source, match)
        if self.cased is not None:
            match = self.cased.search(text)
            if match:
                return _snippet(text, match)
        return None


def _snippet(source: str, match: re.Match[str]) -> str:
    end = max(match.end(), min(len(source), match.start() + 40))
    return source[match.start() : end].split("\n", 1)[0] or match.group(0)


def _c(*parts: str) -> Phrases:
    cased = [p for p in parts if "(?-i:" in p]
    folded = [p for p in parts if "(?-i:" not in p]
    for part in folded:
        if any(ch.isupper() for ch in _ESCAPE.sub("", part)):
            raise ValueError(f"upper-case letters in a case-folded pattern: {part[:60]!r}")
    return Phrases(
        folded=re.compile("|".join(f"(?:{p})" for p in folded), re.M) if folded else None,
        cased=re.compile("|".join(f"(?:{p})" for p in cased), re.I | re.M) if cased else None,
    )


_AI = (
    r"(?:(?-i:AI|A\.I\.)|bot|chat-?bot|classifier|llm|gpt|language model|ai (?:assistant|model|system|triage)"
    r"|virtual assistant|automated (?:system|assistant|agent|triage|process)s?|automation (?:system|bot)"
    r"|triage (?:bot|system|ai|agent)|ticket (?:bot|system)|(?-i:KI|IA)|sistema autom[áa]tico|syst[èe]me automatique"
    r"|automatische[sn]? system|geautomatiseerd systeem|asistente virtual|assistant virtuel)"
)
_MFA = (
    r"(?:mfa|2fa|two[- ]?factor|multi[- ]?factor|2[- ]?step|two[- ]?step|authenticator|approvals?|verification"
    r"|security defaults|conditional access)"
)
_PRODUCT = (
    r"(?:teams|outlook|windows|microsoft|office|onedrive|sharepoint|azure|entra|m365|o365|365|exchange|intune"
    r"|authenticator|mfa)\b"
)
_CHECK_LABEL = (
    r"(?:verification|verificaci[óo]n|v[ée]rification|verifizierung|verificatie|identity|identidad|identit[ée]"
    r"|identit[äa]t|identiteit|approval|aprobaci[óo]n|approbation|freigabe|goedkeuring|caller id|security check)"
)
_CHECK_DONE = (
    r"(?:confirmed|verified|approved|passed|confirmad[oa]|verificad[oa]|aprobad[oa]|confirm[ée]e?|v[ée]rifi[ée]e?"
    r"|approuv[ée]e?|best[äa]tigt|verifiziert|gepr[üu]ft|freigegeben|bevestigd|geverifieerd|goedgekeurd)"
)
_ACCOUNT_NOUN = (
    r"(?:password|passwords|passcode|account|accounts|login|logins|log-?in|mfa|2fa|authenticator|sign-?in"
    r"|user ?name|mailbox|email|e-mail|laptop|computer|pc|phone|credentials?|pin|access|details)"
)

MANIPULATION = _c(
    r"\[\s*(?:auto[-_ ]?approved?|approved|priority[-_ ]override|override|verified|no[-_ ]?review|skip[-_ ]?review"
    r"|bypass|pre-?approved|trusted)[^\]\n]{0,40}\]",
    r"(?-i:^\s*(?:SYSTEM|ASSISTANT|AI|BOT|ADMIN|INSTRUCTIONS?)\s*:)|(?-i:\b(?:SYSTEM|ASSISTANT|INSTRUCTIONS?)\s*:)",
    r"^\s*(?:system|assistant) (?:message|prompt|override|note|instruction)s?\s*:",
    r"\bsystem\s*:\s*(?:identity|user|requester|verified|approved|maintenance|proceed|override|reset|ignore)",
    r"\bignor(?:e|ieren?|iere|ar|a|ad|ez|er|eer)\b[^.\n]{0,40}\b(?:previous|prior|above|earlier|all|alle|"
    r"vorherigen|bisherigen|pr[ée]c[ée]dentes|anteriores|eerdere|vorige)\b[^.\n]{0,25}\b(?:instructions?|"
    r"anweisungen|instrucciones|consignes|instructies|rules|regeln|reglas|r[èe]gles|regels|prompts?|directives?)",
    r"\b(?:disregard|forget|override)\b[^.\n]{0,30}\b(?:instructions|rules|policy|policies|checks|prompt)\b",
    r"\b(?:ignor\w*|negeer\w*|olvida\w*|oubliez|vergiss|vergeet)\b[^.\n]{0,40}\b(?:instructions?|anweisungen"
    r"|instrucciones|consignes|instructies|prompts?|r[èe]gles|reglas|regels|regeln)\b",
    r"\byou are now\b|\bdu bist (?:jetzt|nun|ab sofort)\b|\bahora eres\b|\btu es (?:maintenant|d[ée]sormais)\b"
    r"|\bje bent nu\b",
    r"\b(?:maintenance|developer|admin|debug|god|test) mode\b|\bmodo (?:mantenimiento|administrador)\b"
    r"|\bmode (?:maintenance|administrateur)\b|\b(?:wartungs|admin)modus\b|\bonderhoudsmodus\b",
    rf"\b{_AI}s?\b[^.\n]{{0,40}}\b(?:must|should|shall|need to|needs to|has to|mark|set|classify|treat|respond"
    r"|reply|output|approve|do not|don't|skip|proceed|process|reading|processing)\b",
    rf"\bif you(?:'re| are) (?:an? )?(?:{_AI}|automated|machine|language model|ai model)",
    rf"(?:^|[.!?]\s+)(?:dear |hi |hello |hey |attention |note to )?(?:the |all |any )?{_AI}s?\s*[:,]",
    rf"\b(?:to|dear|hi|hello|hey|note (?:to|for)|attention|attn:?|for|para|pour|an|aan|voor|hola|bonjour|hallo)"
    rf"\s+(?:the\s+|el\s+|la\s+|l'|le\s+|die\s+|das\s+|de\s+|het\s+)?{_AI}\b",
    r"\b(?:classify|categori[sz]e|label|route|mark|tag|treat|flag|process)\s+(?:this|the|my)\s+(?:ticket|request"
    r"|message|email|e-mail|case)\s+as\b",
    r"\"?\b(?:sub_?category|expected_automate|own_account|risk_flags|automate)\"?\s*[:=]",
    r"\bconfidence\s*[:=]\s*[01]?\.\d",
    r"\b(?:requester|user|identity|caller|id|sender)\s*(?:is\s+)?(?:verified|verification|check(?:ed)?)\s*[:=]"
    r"\s*(?:yes|true|passed|ok|done|complete)",
    r"\bverified\s*[:=]\s*(?:yes|true|1)\b|\brisk\s*(?:score|level)\s*[:=]|\bmanager approval\s*[:=]",
    r"\b(?:identity|user|requester|caller|request)\s+(?:has\s+)?(?:been|was|is|already)\s+(?:already\s+)?"
    r"(?:verified|confirmed|authenticated|approved|validated)\b",
    r"\balready (?:been )?(?:verified|approved|authori[sz]ed)\b|\bpre-?screened\b|\bpre-?approved\b",
    r"\bidentidad (?:verificada|confirmada)\b|\bidentit[ée] (?:v[ée]rifi[ée]e|confirm[ée]e)\b"
    r"|\bidentit[äa]t (?:verifiziert|best[äa]tigt|gepr[üu]ft)\b|\bidentiteit (?:geverifieerd|bevestigd)\b",
    r"\b(?:do not|don't|dont|no need to|never|not to)\s+(?:escalate|contact me|call me|ring me|phone me"
    r"|check with|verify|involve|create a note|review|ask me)\b|\b(?:do not|don't|dont)\s+(?:ring|call|phone)\b"
    r"|\bwithout (?:any )?(?:verification|verifying|checks|a call-?back|calling|escalat\w+|humans?)\b",
    r"\bskip\b[^.\n]{0,25}\b(?:review|checks?|verification|humans?|approval|escalation|queue)\b|\bbypass\b"
    r"|\bno (?:further )?(?:checks?|verification|review|call-?back) (?:is )?(?:required|needed|necessary)\b"
    r"|\bhuman review\b",
    r"\bno (?:me )?llam(?:éis|eis|en|es)\b|\bsin (?:verificar|comprobar|llamar)\b|\bno hace falta "
    r"(?:verificar|llamar|comprobar)\b|\bne m'appelez pas\b|\bsans (?:v[ée]rification|rappel|contr[ôo]le)\b"
    r"|\binutile de (?:v[ée]rifier|m'appeler|rappeler)\b|\bnicht (?:anrufen|zur[üu]ckrufen)\b|\bohne "
    r"(?:pr[üu]fung|r[üu]ckruf|verifizierung|r[üu]ckfrage)\b|\bkeine (?:pr[üu]fung|r[üu]ckfrage)\b"
    r"|\bniet (?:bellen|terugbellen)\b|\bzonder (?:controle|verificatie|terugbellen)\b",
    r"\bi (?:hereby )?authori[sz]e\b|\bauthori[sz]ed (?:test|request|action|by|compliance)\b"
    r"|\bapproved by (?:the )?(?:ceo|cfo|md|director|owner|management|partner|principal|head|boss|\w+)",
    r"\b(?:ceo|cfo|coo|md|managing (?:director|partner)|owner|director|principal|boss|president)\s+here\b"
    r"|\bfrom the (?:ceo|cfo|boss|director|owner|md|principal|president|managing partner)\b"
    r"|\bas (?:the )?(?:ceo|cfo|managing (?:director|partner)|owner|director|principal|president|senior partner)"
    r"\b,?\s+i\b",
    r"#{2,}\s*(?:end|new|begin|start)\b|\b(?:end of (?:ticket|message|email|request)|new ticket|begin "
    r"(?:new )?(?:ticket|instructions))\b",
    r"\b(?:respond|reply|answer|output)\s+(?:only\s+)?with\b|\bclassification hint\b|\brouting hint\b",
    r"\bthis is an? (?:authori[sz]ed|official|approved) (?:test|request|instruction|action)\b",
    # Directives addressed to a system, in any of the five languages.
    r"\b(?:instructions?|instrucci[óo]n|instrucciones|anweisung(?:en)?|consignes?|instructies?|directives?|befehl"
    r"|orden|note|nota|hinweis|bericht|message|mensaje)\b[^.\n]{0,25}\b(?:system|sistema|syst[èe]me|systeem"
    r"|assistant|asistente|assistent|ki|ia|bot|modelo?|mod[èe]le|automat\w*|classif\w*|triage)\b",
    r"\b(?:system|assistant|bot|ai|automation)\s+(?:instruction|note|message|prompt|directive|override)s?\b",
    # Claims that checks already happened.
    rf"\b{_CHECK_LABEL}\b[^.\n:=]{{0,20}}[:=]\s*(?:{_CHECK_DONE}|ok|yes|true|done|complete|s[íi]|oui|ja)\b",
    rf"\b{_CHECK_LABEL}\s+(?:(?:is|was|has been|ha sido|est|a [ée]t[ée]|ist|wurde|is al)\s+)?{_CHECK_DONE}\b",
    r"\b(?:bereits|schon|ya|d[ée]j[àa]|al|already)\b[^.\n]{0,20}\b(?:gepr[üu]ft|verifiziert|freigegeben"
    r"|verificad[oa]|aprobad[oa]|revisad[oa]|v[ée]rifi[ée]e?|valid[ée]e?|approuv[ée]e?|gecontroleerd|geverifieerd"
    r"|goedgekeurd|checked|verified|approved|cleared)\b|\bpre-?cleared\b|\bcleared by\b",
    r"\b(?:marcar|marque[rz]?|markier\w*|markeer|mark)\b[^.\n]{0,20}\b(?:como|comme|als|as)\s+(?:verificad"
    r"|v[ée]rifi|verifiziert|geverifieerd|verified|approved|resolved|safe|legit|trusted)",
    # Asking for no human review or for automatic execution.
    r"\bno (?:revisar|comprobar|verificar|escalar)\b|\bsin (?:revisi[óo]n|revisar)\b|\bne pas (?:v[ée]rifier"
    r"|escalader|transmettre|contr[ôo]ler)\b|\bnicht (?:pr[üu]fen|eskalieren|weiterleiten)\b|\bniet "
    r"(?:controleren|escaleren|doorsturen)\b|\bno review\b|\bwithout (?:review|checking)\b",
    r"\b(?:automatisch|autom[áa]ticamente|automatiquement|automatically)\s+(?:ausf[üu]hren|durchf[üu]hren"
    r"|freigeben|genehmigen|uitvoeren|goedkeuren|aprobar|ejecutar|procesar|ex[ée]cuter|valider|traiter|approve"
    r"|process|execute|action|run|reset)|\b(?:approve|process|execute|action|run|handle)\s+(?:this|it|the "
    r"request)?\s*automatically\b",
    r"\b(?:can'?t|cannot|unable to|won'?t be able to) (?:take|answer|receive) (?:calls|the phone|a call|any calls)\b",
    r"\b(?:classify|label|mark|tag|treat|flag|route|process)\s+(?:this|it|me|my request|the request|the ticket)?"
    r"\s*as\s+(?:an?\s+|my\s+)?(?:low[- ]risk|routine|safe|verified|approved|pre-?approved|self|own|trusted"
    r"|resolved|legit|genuine|no[- ]risk|priority)",
    r"\bno (?:note|ticket note|record|log|logging|paper trail) (?:is )?(?:needed|required|necessary)\b"
    r"|\bdear (?:assistant|bot|ai|system|automation)\b|\bunattended\b",
    r"\b(?:correct|expected|required|right|desired)\s+(?:automated\s+|system\s+|model\s+)?(?:outcome|response"
    r"|answer|output|classification|decision|result)\b",
    r"\"?\b(?:decision|verified|approved|action|status)\"?\s*[:=]\s*\"?(?:automate|auto|true|yes|approve)",
    r"\b(?:admin|administrator|system|security|manager|supervisor|priority)\s+override\b",
    r"\b(?:approved|cleared|authori[sz]ed|eligible|flagged|marked|whitelisted)\s+for\s+(?:automatic|automated|auto"
    r"|immediate|direct)\b|\b(?:automatic|automated)\s+(?:processing|approval|handling|completion)\b",
    r"\b(?:review|approval|verification|escalation|callback|human|checks?)\s*[=:]\s*(?:none|no|false|skip|skipped"
    r"|auto|0|off|n/a)\b|\bpriority\s*[=:]\s*auto\b",
    rf"\b{_AI}s?\s*:(?!//)",
    r"\b(?:routing|classification|triage|priority|handling)\s+(?:hint|note|instruction|override)s?\s*:"
    r"|\b(?:see|per|as per)\s+(?:the\s+)?(?:approval|authori[sz]ation|sign-?off)\s+(?:below|attached|above)\b",
)

HIDDEN_TEXT = re.compile(
    r"[ \t\u00a0]{60,}|[\u200b-\u200f\u2060\ufeff]{2,}"
    r"|display\s*:\s*none|font-size\s*:\s*0(?:px|pt)?\b|visibility\s*:\s*hidden"
    r"|<!--[^>]{0,300}\b(?:assistant|ai|bot|classif|automat|target|system|ignore|instruction|verified|triage"
    r"|owner|requester|approve|proceed)",
    re.I,
)

CONTACT = _c(
    r"\b(?:send|text|sms|e-?mail|mail|forward|message|whatsapp)\s+(?:it|them|this|that|the\b[^.\n]{0,40}?"
    r"|me\b[^.\n]{0,30}?|him\b|her\b)\s*(?:over\s+)?(?:to|at|on|via)\s+(?:this|that|these|my (?:personal|private"
    r"|home|new|other|own|backup|gmail|hotmail|wife|husband|partner|son|daughter|mum|mom|dad|friend)|her\b|his\b"
    r"|him\b|them\b|[\w.+-]{1,64}@|\+?\(?\d)",
    r"\bsend\s+(?:it|them|the\b[^.\n]{0,40}?)\s*(?:to|at)\s+(?:me|us)\b[^.\n]{0,40}\b(?:instead|directly|and i"
    r"|i'?ll|so i can)\b",
    r"\b(?:give|pass|read|hand|forward)\s+(?:me|us)\s+(?:his|her|their|the (?:new |temp(?:orary)? )?)"
    rf"{_ACCOUNT_NOUN}",
    r"\b(?:add|register|change|update|set|switch|put|use)\b[^.\n]{0,40}\b(?:number|mobile|cell|phone|email"
    r"|e-mail|address)\b[^.\n]{0,20}\b(?:to|as|:)\s*(?:\+?\(?\d|[\w.+-]{1,64}@|the one (?:below|above)|this one)",
    r"\b(?:number|mobile|phone|cell|address) (?:in|from) my (?:signature|sig)\b|\b(?:number|address) "
    r"(?:below|above)\b|\b(?:at|on) the number\b",
    r"\breply (?:to|with)\b[^.\n]{0,30}\b(?:this|the) (?:sender|address)\b|\bto this (?:address|e-?mail|inbox)\b"
    r"|\bsend it (?:here|back here)\b|\breply (?:here|to this (?:e-?mail|message)|back)\b[^.\n]{0,25}\b(?:with"
    r"|the)\b",
    r"\b(?:my|her|his) (?:wife|husband|partner|son|daughter|mum|mom|dad|friend|assistant|neighbou?r)'?s "
    r"(?:phone|mobile|cell|number|email|e-mail|address)\b",
    r"\bpersonal (?:e-?mail|address|gmail|mobile number|number)\b|\bprivate (?:e-?mail|address|number)\b",
    r"\b(?:send|give|pass|forward|text|email|hand)\s+(?:it|them|the (?:new |temporary |temp )?(?:password|code|login"
    r"|details))\s+(?:to|on to)\s+(?:my\s+)?(?:colleague|manager|assistant|secretary|wife|husband|partner|boss|pa|son"
    r"|daughter|friend)\b",
    r"\b(?:envoy|transmett|donn)\w*\s+(?:le |la |les )?[àa] (?:ma|mon) (?:coll[èe]gue|responsable|assistante?|femme"
    r"|mari|secr[ée]taire|fils|fille)\b|\bqui me le (?:transmettra|donnera|passera)\b",
    r"\b(?:env[íi]a|manda|d[áa])\w*\s+a (?:mi )?(?:compa[ñn]er[oa]|jef[ea]|mujer|marido|asistente|hij[oa])\b"
    r"|\bque me la (?:pasar[áa]|dar[áa])\b",
    r"\ban (?:meine[nr]? )?(?:kolleg\w*|chef\w*|frau|mann|assistent\w*|sohn|tochter) (?:schicken|senden|geben"
    r"|weiterleiten)\b|\bschick\w* (?:es |das passwort |den code )?an (?:meine[nr]? )?(?:kolleg|frau|mann|chef)",
    r"\b(?:stuur|geef)\w* (?:het |die |de code )?(?:naar|aan) (?:mijn )?(?:collega|vrouw|man|leidinggevende|baas"
    r"|zoon|dochter)\b",
    r"\b(?:hand it over|pass it on|give it to (?:him|her|them)|pass it to (?:him|her|them)|and i'?ll (?:give|pass"
    r"|hand|read))\b|\b(?:put|include|send|write)\b[^.\n]{0,30}\bin (?:a |your )?reply\b",
    r"\b(?:env[íi]a|env[íi]e|envi[ae]n|enviad|m[áa]nda|mande|manden|mandad)(?:me|la|lo|melo|mela|nos)?\b"
    r"[^.\n]{0,60}\b(?:a|al|en)\s+(?:este|esta|mi (?:correo|email|m[óo]vil|n[úu]mero) (?:personal|privado)"
    r"|mi (?:otro|nuevo) (?:correo|m[óo]vil|n[úu]mero)|otro (?:correo|n[úu]mero)|[\w.+-]{1,64}@|\+?\d)",
    r"\b(?:correo|email|m[óo]vil|n[úu]mero|tel[ée]fono) (?:personal|privado)\b",
    r"\b(?:envoy|transmett|renvoy|textot)\w*\b[^.\n]{0,60}\b(?:[àa]|au|sur|par)\s+(?:cette|cet|ce|mon (?:adresse|"
    r"mail|e-mail|num[ée]ro|portable) perso|[\w.+-]{1,64}@|\+?\d)",
    r"\b(?:adresse|mail|e-mail|num[ée]ro|portable) (?:perso|personnel(?:le)?|priv[ée]e?)\b",
    r"\b(?:schick|schicken|sende|senden|simse|simsen|mailen|mail)\w*\b[^.\n]{0,60}\b(?:an|auf|per)\s+(?:diese|"
    r"meine private|meine pers[öo]nliche|[\w.+-]{1,64}@|\+?\d)",
    r"\bprivate[nr]?\s+(?:e-?mail|adresse|nummer|handynummer|mobilnummer)\b|\bprivat(?:adresse|nummer|handy)\b",
    r"\b(?:stuur|stuurt|sturen|mail|sms|app)\w*\b[^.\n]{0,60}\b(?:naar|op)\s+(?:dit|deze|mijn priv[ée]|"
    r"[\w.+-]{1,64}@|\+?\d)",
    r"\bpriv[ée]-?(?:mail|adres|nummer|e-mail)\b|\bpersoonlijke (?:e-?mail|mail|adres)\b",
)

COMPROMISE = _c(
    r"\b(?:didn'?t|did not|never|haven'?t|have not|wasn'?t|was not|not)\s+(?:request|ask for|ask|make|send"
    r"|write|set up|create|initiate|authori[sz]e|trigger|approve|do|change|reset|recogni[sz]e)\b[^.\n]{0,60}"
    r"\b(?:codes?|sign-?ins?|log-?ins?|approvals?|prompts?|pop-?ups?|notifications?|emails?|messages?|rules?"
    r"|forward\w*|password|texts?|sms|requests?|changes?|invoices?|payments?)\b",
    r"\b(?:codes?|sign-?ins?|log-?ins?|approvals?|prompts?|pop-?ups?|notifications?|emails?|messages?|rules?"
    r"|texts?|requests?|changes?)\b[^.\n]{0,40}\b(?:i|we)\s+(?:didn'?t|did not|never|haven'?t)\s+(?:request|ask"
    r"|make|send|write|create|set up|initiate|trigger|do|sent|made|wrote|written|requested|asked|created|did"
    r"|triggered)\b",
    r"\b(?:wasn'?t|was not|not) me\b|\bsome(?:one|body) (?:else )?(?:has |is |was |had |may have |might have )"
    r"(?:been )?(?:sign|log|logg|access|us|try|tri|chang|reset|sent|send|got|hack|get|broke)\w*"
    r"|\bsome(?:one|body) (?:else )?(?:signed|logged|accessed|used|tried|changed|sent|got into|hacked|broke)\b"
    r"|\bi (?:did not|didn'?t|never) (?:send|sent|write|wrote) (?:anything|that|those|these|them|it|this)\b",
    r"\b(?:unusual|suspicious|unrecogni[sz]ed|unknown|strange|unexpected|random|unrequested|unsolicited)\b"
    r"[^.\n]{0,25}\b(?:sign-?in|log-?in|login|activity|location|device|codes?|prompts?|approvals?|texts?|sms)",
    r"\bhacked\b|\bcompromised\b|\baccount takeover\b|\bbreach(?:ed)?\b",
    r"\b(?:clicked|opened)\b[^.\n]{0,40}\b(?:link|attachment)\b[^.\n]{0,40}\b(?:e-?mail|message|text|sms|mail)\b"
    r"|\b(?:clicked|opened)\b[^.\n]{0,15}\b(?:a|the|an|this|that) (?:link|attachment) (?:in|from)\b"
    r"|\b(?:clicked|opened)\b[^.\n]{0,60}\b(?:dodgy|suspicious|weird|strange|fake|phishing|scam)",
    r"\b(?:entered|typed|put|gave)\s+(?:in\s+)?(?:my|our)\s+(?:email\s+and\s+|e-mail\s+and\s+|username\s+and\s+)?"
    r"(?:password|credentials|login details|details|code)\s+(?:in|on|into)\s+(?:a|the|that|this|their)\s+"
    r"(?:page|site|website|form|link|screen)\b|\b(?:entered|typed|gave)\b[^.\n]{0,50}\bbefore i reali[sz]ed\b",
    r"\b(?:i'?m|i am|i was|i wasn'?t|i was not) not (?:logging|signing|trying to (?:log|sign))\b|\b(?:i'?m|i am|i was)"
    r" not (?:logging|signing) in\b|\bpressed (?:deny|no)\b|\bdenied (?:it|them|each)\b",
    r"\b(?:saying|says|said|stating|that)\s+(?:that\s+)?(?:my|your|the)\s+(?:account )?(?:password|pin|mfa"
    r"|phone number|recovery \w+) (?:was|has been|had been) (?:changed|reset|updated)\b",
    r"\bno (?:lo |la |los |las )?(?:he|hemos) (?:solicitado|pedido|enviado|hecho|escrito)\b|\bno (?:fui|era) yo\b"
    r"|\balguien (?:ha|est[áa]|estuvo|intent[óo]|intenta|entr[óo]|cambi[óo])\b|\bhackead|\bpirateado\b"
    r"|\binicio de sesi[óo]n (?:inusual|sospechoso|desconocido)\b|\b(?:hice|he hecho) clic en (?:un|el|ese) enlace\b"
    r"|\b(?:introduje|puse|met[íi]) mi contrase[ñn]a en (?:una|la|esa) (?:p[áa]gina|web)\b",
    r"\bque je n'ai pas (?:demand|fait|envoy|[ée]crit|initi)\w*|\bce n'(?:[ée]tait|est) pas moi\b"
    r"|\bquelqu'un (?:a|essaie|tente|se connecte|s'est)\b|\bpirat[ée]|\b(?:compte|messagerie|mot de passe|bo[îi]te)\b[^.\n]{0,30}\bcompromis\b|\bconnexion "
    r"(?:inhabituelle|suspecte|inconnue)\b|\bj'ai cliqu[ée] sur (?:un|le|ce) lien\b|\b(?:saisi|entr[ée]|tap[ée])"
    r" mon mot de passe sur (?:un|le|ce|cette) (?:site|lien|page)\b",
    r"\b(?:nicht|nie) (?:angefordert|angefragt|veranlasst|gesendet|geschrieben|gemacht)\b|\bdas war "
    r"(?:nicht ich|ich nicht)\b|\bjemand (?:hat|versucht|meldet)\b|\bgehackt\b|\bkompromittiert\b"
    r"|\b(?:ungew[öo]hnliche|verd[äa]chtige|unbekannte) (?:anmeldung|aktivit[äa]t)\b|\blink (?:an)?geklickt\b"
    r"|\bpasswort (?:auf|in) (?:einer|der|dieser) (?:seite|webseite|maske)\w* eingegeben\b",
    r"\b(?:niet|nooit) (?:heb |hebben |had )?(?:aangevraagd|gevraagd|verstuurd|geschreven|gedaan)\b|\b(?:dat )?was ik niet\b"
    r"|\biemand (?:heeft|probeert|is)\b|\b(?:ongebruikelijke|verdachte|onbekende) (?:aanmelding|inlog\w*"
    r"|activiteit)\b|\blink geklikt\b|\bwachtwoord (?:ingevuld|ingevoerd|ingetypt) op (?:een|die|de|deze)"
    r" (?:site|pagina|website)\b",
)

NO_ACTION = _c(
    r"\bnever ?mind\b|\bnvm\b|\bignore (?:my|this|the) (?:last|previous|earlier|other) (?:email|message|ticket"
    r"|request|mail)\b|\bdisregard (?:my|this|the) (?:last|previous|earlier)\b",
    r"(?<!until )(?<!once )(?<!when )(?<!till )(?<!before )(?<!after )(?<!unless )(?<!until it's )"
    r"\b(?:it'?s|its|it is|all|that'?s|everything'?s|everything is|we'?re|i'?m) (?:now |all )?(?:sorted|fixed"
    r"|resolved|working (?:again|now)|good now|fine now|ok now|okay now|in now)\b|\bsorted now\b|\ball good\b",
    r"\b(?:please|you can|feel free to|go ahead and|can you|could you) close (?:the|this|my)? ?(?:ticket|request"
    r"|case|call)\b|\bno longer (?:needed|required|an issue|a problem)\b|\bno action (?:needed|required)\b"
    r"|\b(?:you can|please|feel free to|go ahead and) close (?:this|it)\b|\bplease disregard\b(?! (?:the|my) "
    r"(?:signature|disclaimer))|\bcleared (?:on its own|by itself|itself)\b|\bgot it working\b|\b(?:fixed|sorted)"
    r" it myself\b",
    r"\b(?:managed|was able) to (?:get|log|sign) (?:back )?in\b|\b(?:it|then|eventually|finally) let me "
    r"(?:back )?in\b|(?<!n't )(?<!not )(?<!isn't )\bworking again\b|\bfixed itself\b|\bsorted itself\b|\bfound it\b|\bcame back to me\b"
    r"|\bremembered it\b|\bfalse alarm\b",
    r"\bfyi\b|\bjust (?:letting you know|so you know|to let you know|an fyi)\b|\bfor your (?:information|records)\b"
    r"|\bno need to do anything\b",
    r"\bautomatic reply\b|\bauto[- ]?reply\b|\bout of (?:the )?office (?:until|till|from|returning|with limited"
    r"|and will)\b|^\s*(?:out of office|abwesend|afwezig|absence)\b|\bthis (?:is an? )?(?:automated|automatic"
    r"|auto-generated|system[- ]generated) (?:message|e-?mail|notification|alert|reminder)\b|\bthis (?:ticket"
    r"|message|e-?mail|alert|notification) (?:was|has been|is) (?:created|generated|sent) automatically\b"
    r"|\bautomated alert\b|\bdo not reply to this\b|\bevent id \d+|\bundeliverable\b",
    r"\bya (?:est[áa] )?(?:solucionado|resuelto|arreglado)\b|\bya (?:funciona|puedo entrar|he podido|me deja)\b"
    r"|\bhe podido entrar\b|\bpod[ée]is cerrar\b|\bno hace falta que hag[áa]is\b|\brespuesta autom[áa]tica\b"
    r"|\bfuera de la oficina\b|\bmensaje autom[áa]tico\b|\bolvidad(?:lo|lo todo)\b",
    r"\bc'est (?:bon|r[ée]gl[ée]|r[ée]solu|arrang[ée])\b|\bprobl[èe]me r[ée]solu\b|\b[çc]a (?:marche|fonctionne)"
    r" (?:[àa] nouveau|de nouveau|maintenant)\b|\blaissez tomber\b|\bvous pouvez (?:clore|fermer|cl[ôo]turer)\b"
    r"|\br[ée]ponse automatique\b|\babsente? du bureau\b|\bmessage automatique\b|\bj'ai pu me (?:re)?connecter\b"
    r"|\bne tenez pas compte\b",
    r"\bhat sich (?:erledigt|gel[öo]st)\b|\b(?:ist|schon) erledigt\b|\bfunktioniert wieder\b(?! nicht)|\bgeht "
    r"wieder\b(?! nicht)|\bk[öo]nnen (?:das ticket )?(?:geschlossen|schlie[ßs]en)\b|\bautomatische antwort\b"
    r"|\babwesenheitsnotiz\b|\bnicht im b[üu]ro\b|\bautomatisch (?:erstellt|generiert)\b|\bkonnte mich "
    r"(?:wieder )?anmelden\b|\bvergessen sie (?:meine|die|das) (?:letzte|vorige|e-?mail|nachricht|anfrage)\b",
    r"\b(?:is|alweer|al) opgelost\b|\bhet werkt (?:weer|alweer)\b|\blaat maar\b(?! weten| horen)|\bmag (?:gesloten|dicht)\b"
    r"|\bautomatisch antwoord\b|\bafwezigheidsbericht\b|\bniet op kantoor\b|\bautomatisch (?:gegenereerd"
    r"|aangemaakt)\b|\bkon (?:weer|alweer) inloggen\b|\bben (?:er )?weer in\b",
)
