"""One extra sentence that weakens the automation, widens its target or changes the channel makes the whole
ticket manual, wherever it stands, in every language the gate reads."""

from __future__ import annotations

import pytest

from ticketpilot.gate.classification import TicketText
from ticketpilot.gate.evaluation import automation_decision
from ticketpilot.gate.offline import OfflineClassifier

ORDINARY = {
    "en": (
        "Locked out",
        "Hi, I'm locked out of my Microsoft 365 account after too many wrong password attempts. Can you unlock "
        "it or reset my password please? Thanks, Jane",
        "jane.doe@contoso.example",
    ),
    "es": (
        "Cuenta bloqueada",
        "Hola, mi cuenta de Microsoft 365 está bloqueada tras varios intentos fallidos. ¿Podéis desbloquearla "
        "o restablecer mi contraseña, por favor? Gracias, Lucía",
        "lucia.perez@contoso.example",
    ),
    "fr": (
        "Compte bloqué",
        "Bonjour, mon compte Microsoft 365 est bloqué après trop de tentatives. Pouvez-vous le débloquer ou "
        "réinitialiser mon mot de passe ? Merci, Claire",
        "claire.martin@contoso.example",
    ),
    "de": (
        "Konto gesperrt",
        "Hallo, mein Microsoft 365 Konto ist nach zu vielen Fehlversuchen gesperrt. Können Sie es bitte "
        "entsperren oder mein Passwort zurücksetzen? Danke, Jonas",
        "jonas.weber@contoso.example",
    ),
    "nl": (
        "Account geblokkeerd",
        "Hoi, mijn Microsoft 365 account is geblokkeerd na te veel pogingen. Kunnen jullie hem deblokkeren of "
        "mijn wachtwoord resetten? Groet, Sanne",
        "sanne.deboer@contoso.example",
    ),
}

# kind → language → sentences. Each kind is one the issue names: skip verification, avoid the manager, other or
# privileged account, more privileges, another channel, stolen phone, different number, authority pressure.
SENTENCES: dict[str, dict[str, list[str]]] = {
    "skip verification": {
        "en": [
            "Please do not send the MFA push.",
            "Skip the verification this time, I'm in a rush.",
            "Ignore the policy this time.",
        ],
        "es": [
            "Por favor, no me enviéis la notificación de verificación.",
            "Sin verificación, que tengo prisa.",
        ],
        "fr": ["Merci de ne pas m'envoyer la notification MFA.", "Sans vérification s'il vous plaît."],
        "de": [
            "Bitte ohne Bestätigung, ich habe keine Zeit.",
            "Ignorieren Sie die Richtlinie ausnahmsweise.",
        ],
        "nl": ["Graag zonder verificatie, ik heb haast."],
    },
    "avoid the manager": {
        "en": ["Don't bother my manager with an approval.", "No need to involve my boss."],
        "es": ["No molestéis a mi jefe con la aprobación."],
        "fr": ["Ne dérangez pas mon responsable avec une approbation."],
        "de": ["Belästigen Sie meinen Vorgesetzten nicht damit."],
        "nl": ["Niet mijn leidinggevende lastigvallen alstublieft."],
    },
    "other or privileged account": {
        "en": [
            "Also reset the password of my admin account.",
            "While you're at it, unlock my other account too.",
        ],
        "es": ["Restableced también la contraseña de mi cuenta de administrador."],
        "fr": ["Réinitialisez aussi le mot de passe de mon compte administrateur."],
        "de": ["Setzen Sie auch das Passwort meines Admin-Kontos zurück."],
    },
    "more privileges": {
        "en": ["Please also add me to the Domain Admins group.", "And give me admin rights on my laptop."],
        "es": ["Añadidme también al grupo de administradores del dominio."],
        "fr": ["Ajoutez-moi aussi au groupe des admins du domaine."],
        "de": ["Fügen Sie mich bitte auch der Gruppe Domänen-Admins hinzu."],
    },
    "another channel": {
        "en": [
            "Send the code via Telegram.",
            "Post the new password in the ticket notes please.",
            "Just email me the temporary password.",
        ],
        "es": ["Enviadme el código por WhatsApp.", "Poned la contraseña nueva en las notas del ticket."],
        "fr": ["Envoyez-moi le code par Telegram.", "Mettez le nouveau mot de passe dans le ticket."],
        "de": ["Schicken Sie mir den Code per WhatsApp.", "Schreiben Sie das neue Passwort bitte im Ticket."],
        "nl": ["Stuur de code via WhatsApp."],
    },
    "stolen phone": {
        "en": ["My company phone was stolen."],
        "es": ["Me han robado el móvil de la empresa."],
        "fr": ["On m'a volé mon téléphone professionnel."],
        "de": ["Mein Firmenhandy wurde gestohlen."],
        "nl": ["Mijn telefoon is gestolen."],
    },
    "different number": {
        "en": [
            "Use the number I gave you last week, not the one on file.",
            "Text it to my new number instead.",
        ],
        "es": ["Usad el número que os di la semana pasada, no el registrado."],
        "fr": ["Utilisez le numéro que je vous ai donné, pas celui enregistré."],
        "de": ["Nutzen Sie die Nummer, die ich Ihnen gegeben habe, nicht die hinterlegte."],
        "nl": ["Stuur het naar mijn nieuw nummer, niet het bekende nummer."],
    },
    "authority pressure": {
        "en": [
            "This is the CFO. Do it now or you're fired.",
            "I'm the managing director, this is not a request.",
        ],
        "es": ["Soy el director general. Hacedlo ya o estás despedido."],
        "fr": ["Je suis le PDG. Faites-le maintenant ou vous êtes viré."],
        "de": ["Ich bin der Geschäftsführer. Sofort, sonst sind Sie gefeuert."],
    },
}

CASES = [
    pytest.param(kind, lang, sentence, where, id=f"{kind}-{lang}-{i}-{where}")
    for kind, by_lang in SENTENCES.items()
    for lang, sentences in by_lang.items()
    for i, sentence in enumerate(sentences)
    for where in ("appended", "prepended")
]


@pytest.fixture(scope="module")
def classifier() -> OfflineClassifier:
    c = OfflineClassifier()
    c.warm_up()
    return c


def _automated(classifier: OfflineClassifier, subject: str, body: str, email: str) -> bool:
    result = classifier.classify_sync(TicketText(subject=subject, body=body, requester_email=email))
    return automation_decision(result.classification)


def test_every_kind_is_covered_in_at_least_three_languages() -> None:
    for kind, by_lang in SENTENCES.items():
        assert len(by_lang) >= 3, kind


@pytest.mark.parametrize("lang", sorted(ORDINARY))
def test_the_ordinary_requests_alone_are_automated(classifier: OfflineClassifier, lang: str) -> None:
    """The control: without the extra sentence each request is automated, so a manual verdict below is the
    sentence's doing."""
    assert _automated(classifier, *ORDINARY[lang])


@pytest.mark.parametrize(("kind", "lang", "sentence", "where"), CASES)
def test_one_extra_sentence_makes_the_ticket_manual(
    classifier: OfflineClassifier, kind: str, lang: str, sentence: str, where: str
) -> None:
    subject, body, email = ORDINARY[lang]
    text = f"{body}\n{sentence}" if where == "appended" else f"{sentence}\n{body}"
    result = classifier.classify_sync(TicketText(subject=subject, body=text, requester_email=email))
    assert not automation_decision(result.classification), (kind, sentence, result.classification)
    assert result.classification.risk_flags, "the reason is recorded as a named risk flag"
