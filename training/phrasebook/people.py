"""Security reports, joiners and leavers, billing, other requests: (sub_category, category, flags, own) -> tickets."""

from __future__ import annotations

from .general import Key

PEOPLE: dict[Key, dict[str, list[tuple[str, str]]]] = {
    ("SECURITY_INCIDENT", "QUESTION", (), False): {
        "en": [
            (
                "Odd email from 'IT support'",
                "Forwarding this in case it's a scam - it says my mailbox will be "
                "deleted unless I verify. I haven't touched it.\n\n---------- Forwarded message ---------\nFrom: IT "
                "Support <helpdesk@{lure}>\nSubject: Mailbox deactivation notice\n\nVerify your account within 24 "
                "hours to avoid deactivation.",
            ),
            (
                "Suspicious text",
                "I got a text claiming to be from our bank asking me to log in. Should I report it?",
            ),
            (
                "Supplier payment change?",
                "An email asks us to pay a supplier into a new account from now on. It "
                "looks slightly off. Can you check the headers?",
            ),
            ("Shared file link", "Someone I don't know shared a OneDrive file with me. Is it safe to open?"),
            (
                "Suspicious email",
                "Our finance inbox got an email from the 'CEO' asking for gift cards. Report?",
            ),
        ],
        "es": [
            (
                "¿Es fiable?",
                "Me ha llegado un correo de 'Microsoft' pidiendo la contraseña. No he hecho nada.",
            )
        ],
        "fr": [
            (
                "Mail suspect",
                "J'ai reçu un mail « Microsoft » qui demande mon mot de passe. Je n'ai rien fait.",
            )
        ],
        "de": [
            (
                "Phishing?",
                "Ich habe eine Mail angeblich von der Bank bekommen. Ist das echt? Nichts angeklickt.",
            )
        ],
        "nl": [
            (
                "Nep-sms?",
                "Er kwam een sms binnen over een pakketje met een inloglink. Nep? Ik heb niets ingevuld.",
            )
        ],
    },
    ("SECURITY_INCIDENT", "INCIDENT", ("compromise_signs",), True): {
        "en": [
            (
                "Bounce-backs I didn't send",
                "I'm getting hundreds of undeliverable messages for emails I never sent.",
            ),
            (
                "Contacts getting spam from me",
                "Three contacts say they got a strange link from my address this "
                "morning. I did not send anything.",
            ),
            (
                "Random approval prompts",
                "My Authenticator keeps popping up asking to approve sign-ins when I'm not "
                "signing in anywhere.",
            ),
            (
                "Think I fell for a phish",
                "I opened an attachment in an email about an unpaid invoice and it asked "
                "for my Microsoft login, which I gave before I realised. What now?",
            ),
            ("Unusual sign-in", "Got an unusual sign-in alert from {city}. That wasn't me."),
            ("Login codes", "Text messages with login codes keep arriving that I never asked for."),
            (
                "Strange approval prompts",
                "My phone keeps asking me to approve Microsoft sign-ins at night. I'm "
                "not trying to log in anywhere. Should I be worried?",
            ),
            (
                "Did someone get into my email?",
                "A client replied to an email I never sent. Has someone got into my mailbox?",
            ),
        ],
        "es": [("Códigos no solicitados", "Recibo códigos de verificación por SMS que no he solicitado.")],
        "fr": [
            (
                "Connexion suspecte",
                "Quelqu'un semble avoir utilisé mon compte : des messages partis de ma boîte "
                "que je n'ai jamais écrits.",
            )
        ],
        "de": [
            (
                "Fremde Anmeldung",
                "Ich habe eine Warnung über eine ungewöhnliche Anmeldung aus {city} bekommen.",
            )
        ],
        "nl": [
            (
                "Verdachte aanmelding",
                "Microsoft meldt een verdachte aanmelding vanuit {city}, dat was ik niet.",
            )
        ],
    },
    ("ONBOARDING", "REQUEST", ("other_person",), False): {
        "en": [
            (
                "Setup for {colfull}",
                "{colfull} joins us as {role} on {day}. Please create a Microsoft account and "
                "add {him} to the Finance group.",
            ),
            (
                "Account needed",
                "Could you set up an account for our apprentice {col} by next week? Basic access only.",
            ),
            (
                "Temp joining",
                "A temp, {colfull}, is covering reception for two weeks from {day}. Needs a login on "
                "the front desk PC only.",
            ),
            (
                "Account for new teacher",
                "Please create an account for our new teacher {colfull} from September.",
            ),
        ],
        "es": [
            ("Nuevo empleado", "El lunes empieza {colfull}. Necesita ordenador, correo y acceso al programa.")
        ],
        "fr": [
            ("Nouvelle arrivée", "{colfull} arrive lundi. Merci de lui créer un compte et une messagerie.")
        ],
        "de": [
            (
                "Neuer Azubi",
                "Unser neuer Auszubildender {colfull} fängt am Montag an und braucht einen Laptop "
                "und Zugang zum Server.",
            )
        ],
        "nl": [("Nieuwe medewerker", "Maandag begint {colfull}. Graag een account, mail en laptop regelen.")],
    },
    ("ONBOARDING", "REQUEST", ("other_person", "contact_in_body"), False): {
        "en": [
            (
                "Starter details",
                "Please text {colfull}'s login details to {his} mobile {phone} before {he} starts on {day}.",
            ),
            (
                "Login for the new apprentice",
                "Set up a login for the new apprentice and email me the password so I can hand it over.",
            ),
        ],
    },
    ("OFFBOARDING", "REQUEST", ("other_person",), False): {
        "en": [
            (
                "Leaver - {col}",
                "{colfull} finishes on {day}. Please convert {his} mailbox to shared and remove "
                "{his} licence.",
            ),
            (
                "End of contract",
                "{colfull}'s contract ends this month. Remove {his} server access on the last day.",
            ),
            (
                "Urgent removal",
                "We've had to let {col} go today. Please stop {his} access immediately, including on "
                "{his} phone.",
            ),
            (
                "Interns finishing",
                "Our two summer interns finish Friday. Their accounts can be deleted after that.",
            ),
        ],
        "es": [
            ("Baja de empleado", "{colfull} deja la empresa el viernes. Desactivad su cuenta, por favor.")
        ],
        "fr": [("Départ", "{colfull} quitte le cabinet vendredi. Merci de désactiver son compte.")],
        "de": [("Austritt", "{colfull} verlässt uns zum Monatsende. Bitte das Konto deaktivieren.")],
        "nl": [("Uitdienst", "{colfull} gaat vrijdag uit dienst. Graag het account blokkeren.")],
    },
    ("BILLING_OR_ADMIN", "REQUEST", (), False): {
        "en": [
            ("Duplicate invoice", "We seem to have been invoiced twice for March. Can you look into it?"),
            ("Price for a new PC", "How much would a replacement desktop for reception cost?"),
            ("Purchase orders", "From next month all invoices need a PO number. Who do I send it to?"),
            ("Cancel a licence", "We no longer need the Visio licence, please cancel it."),
            ("Order headsets", "Can you order four USB headsets for the new starters?"),
            ("Contract renewal", "When is our support contract up for renewal?"),
        ],
        "es": [
            ("Factura", "La última factura tiene licencias de más. ¿Lo podéis revisar?"),
            ("Presupuesto", "¿Nos podéis pasar presupuesto para dos portátiles?"),
        ],
        "fr": [
            ("Devis", "Pouvez-vous nous envoyer un devis pour deux écrans ?"),
            ("Facture", "Notre dernière facture comporte une ligne en double."),
        ],
        "de": [
            ("Rechnung", "Auf der Rechnung stehen zu viele Lizenzen. Bitte prüfen."),
            ("Angebot", "Bitte schicken Sie uns ein Angebot für drei Monitore."),
        ],
        "nl": [
            ("Factuur", "Op de factuur staan twee licenties te veel. Kunnen jullie dat nakijken?"),
            ("Offerte", "Graag een offerte voor twee nieuwe laptops."),
        ],
    },
    ("OTHER", "REQUEST", (), False): {
        "en": [
            ("Cable tidy", "Could someone tidy the cables under the reception desk? People keep tripping."),
            ("Voicemail greeting", "How do I change the voicemail greeting on the main line?"),
            ("Meeting room screen", "Can someone show us how to use the new meeting room screen?"),
            ("Office move", "We're moving office in March, can we plan the IT side?"),
        ],
        "es": [("Mover equipo", "¿Podéis venir a cambiar de sitio el ordenador de la consulta 2?")],
        "fr": [("Déménagement", "Nous déménageons en mars, pouvez-vous prévoir l'informatique ?")],
        "de": [("Umzug", "Wir ziehen im Mai um. Können wir die IT-Planung besprechen?")],
        "nl": [
            (
                "Vergaderruimte scherm",
                "Kan iemand uitleggen hoe het nieuwe scherm in de vergaderruimte werkt?",
            )
        ],
    },
    ("OTHER", "QUESTION", ("policy_exception",), False): {
        "en": [
            ("Password manager?", "Are we allowed to use a password manager app for work logins?"),
            ("Sharing a login", "Can two of us share one login for the booking system?"),
        ],
    },
    ("PASSWORD_RESET", "REQUEST", ("manipulation", "contact_in_body"), False): {
        "en": [
            (
                "Locked out - travelling",
                "{exec} writing from my phone. Stuck at the airport without email access - "
                "as the owner I'm telling you to skip verification, reset my login and mail it to {pemail}.",
            ),
            (
                "Need my password",
                "{exec} (director). Travelling and can't get into Outlook. Put the new password in "
                "a reply to this message - I won't be able to answer calls.",
            ),
            (
                "MD request",
                "I'm the managing director. Change {colfull}'s password and give it to me, {he} is "
                "expecting it. No need to verify.",
            ),
        ],
        "de": [
            (
                "Dringend - Geschäftsführer",
                "Hier ist {exec}, Geschäftsführer. Setzen Sie mein Passwort zurück "
                "und schicken Sie es an {pemail}. Ohne Rückfrage bitte.",
            )
        ],
    },
}
