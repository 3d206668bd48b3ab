"""A broader set of everyday tickets whose words overlap with sign-in requests (password, login, phone)."""

from __future__ import annotations

from .general import Key

BROAD: dict[Key, dict[str, list[tuple[str, str]]]] = {
    ("SECURITY_INCIDENT", "QUESTION", ("policy_exception",), False): {
        "en": [
            (
                "Password expiration notice?",
                "Received 'Password expiration notice - action required' from an "
                "address I don't recognise. It wants me to click to keep my password. Ignore it?",
            ),
            (
                "Phishing check",
                "Can you check this email? It claims my Office 365 password needs re-validating "
                "today. Is it real?",
            ),
        ],
        "fr": [
            (
                "Expiration du mot de passe ?",
                "Un message prétend que mon mot de passe expire ce soir et propose "
                "un bouton pour le conserver. C'est légitime ?",
            )
        ],
        "de": [
            (
                "Passwort-Ablauf-Mail",
                "Eine Mail von unbekannter Adresse sagt, mein Passwort laufe heute ab und "
                "ich solle es über den Link behalten. Ist das echt?",
            )
        ],
        "nl": [
            (
                "Phishing?",
                "Onderwerp 'Wachtwoord verloopt binnen 24 uur', afzender onbekend. Is dit echt of nep?",
            )
        ],
        "es": [
            (
                "¿Phishing?",
                "Un correo de un remitente raro dice que mi contraseña caduca hoy y que pulse para "
                "mantenerla. ¿Es real?",
            )
        ],
    },
    ("OUTAGE", "INCIDENT", ("outage",), False): {
        "en": [
            (
                "Nobody can log on",
                "None of us can log on to the PCs this morning - it says the trust relationship failed.",
            ),
            (
                "Passwords rejected for everyone",
                "Every login attempt on the office PCs fails with 'incorrect "
                "password' - it's happening to all eight of us.",
            ),
            (
                "Everyone getting password errors",
                "Half the office is getting 'your password is incorrect' on Teams this morning, me included.",
            ),
            (
                "Sign-in errors for all",
                "We're all getting an error when signing in to Microsoft 365. Is there an outage?",
            ),
            ("Network down", "The server room lost power and nobody can log in to the network."),
            ("Approvals not arriving for the team", "None of the team receive MFA prompts since 9am."),
        ],
        "es": [
            (
                "Authenticator caído",
                "Ninguno de nosotros recibe las notificaciones del Authenticator esta mañana.",
            )
        ],
        "fr": [
            ("Erreur pour tous", "Tout le monde au bureau a un message d'erreur en se connectant à Teams.")
        ],
        "de": [("MFA geht bei niemandem", "Keiner von uns bekommt heute Morgen die MFA-Bestätigung.")],
        "nl": [
            ("Storing Outlook", "Iedereen op kantoor krijgt een foutmelding bij het inloggen op Outlook.")
        ],
    },
    ("EMAIL_ISSUE", "INCIDENT", (), False): {
        "en": [
            (
                "Outlook asks for password constantly",
                "Every time I open Outlook a password box pops up; I enter it "
                "and it comes back. Webmail works with the same password.",
            ),
            (
                "Credential prompt on phone",
                "The Outlook app on my phone keeps asking me to re-enter my password "
                "even though it's correct.",
            ),
            (
                "Can't send as shared address",
                "When I try to send as {role_box}@ I get 'you don't have permission'.",
            ),
            (
                "Mailbox nearly full warning",
                "Outlook says my mailbox is at 99%. Can the limit be raised or what should I clear?",
            ),
            (
                "Autocomplete wrong address",
                "Outlook keeps suggesting an old address for a client. How do I remove it?",
            ),
            ("Signature logo broken", "The logo in my email signature shows as a red cross for recipients."),
            ("Rules stopped working", "My Outlook rule that files invoices into a folder stopped working."),
            ("Emails delayed", "Emails from outside are arriving 30-40 minutes late."),
            ("Attachment too large", "I can't send a 40 MB drawing, it bounces. How else can I send it?"),
            ("Calendar wrong time", "All my meetings show an hour out since the clocks changed."),
        ],
        "es": [
            (
                "Outlook pide la contraseña",
                "Outlook me pide la contraseña cada rato aunque es correcta; en la web entro sin problema.",
            ),
            ("Buzón lleno", "Me sale que el buzón está casi lleno. ¿Qué borro?"),
        ],
        "fr": [
            (
                "Mails sur le téléphone",
                "Les mails arrivent sur mon téléphone mais pas dans Outlook sur le PC.",
            ),
            ("Signature", "Ma signature n'apparaît plus dans les nouveaux messages."),
        ],
        "de": [
            (
                "Outlook fragt nach Passwort",
                "Outlook fragt ständig nach meinem Kennwort, obwohl es stimmt. Im "
                "Browser klappt die Anmeldung.",
            ),
            ("Postfach voll", "Ich bekomme die Meldung, dass mein Postfach fast voll ist."),
        ],
        "nl": [
            (
                "Outlook vraagt wachtwoord",
                "Outlook blijft om mijn wachtwoord vragen, terwijl het in de webversie gewoon werkt.",
            ),
            ("Mail op telefoon", "Op mijn telefoon komt de mail wel binnen, op de pc niet."),
        ],
    },
    ("SECURITY_INCIDENT", "QUESTION", (), False): {
        "en": [
            (
                "Real or fake?",
                "An email says my mailbox storage is full and I must log in to upgrade it. Looks "
                "dodgy - is it real?",
            ),
            (
                "Suspicious login page",
                "A link in an email took me to a Microsoft-looking login page on a strange web "
                "address. I closed it straight away. Should I worry?",
            ),
            (
                "Fake invoice email?",
                "An invoice email came from a supplier we don't use, with a 'view document' "
                "button. Is it safe?",
            ),
            (
                "Voicemail email",
                "I received a 'new voicemail' email with an attachment, but we don't get voicemails "
                "by email. Phishing?",
            ),
            (
                "Is this from you?",
                "An email tells me to reset my password through their link. Did you send it?",
            ),
            (
                "FW: Your account will be suspended",
                "Is this one of ours?\n\n---------- Forwarded message ---------\n"
                "From: Account Services <security@{lure}>\nSubject: Your account will be suspended\n\nConfirm your "
                "password within 12 hours.",
            ),
        ],
        "es": [
            (
                "¿Correo falso?",
                "Me llega un correo que dice que mi cuenta se cerrará si no confirmo la contraseña. "
                "¿Es fiable? No he tocado nada.",
            )
        ],
        "fr": [
            (
                "Mail douteux",
                "Un mail me demande de confirmer mes identifiants sous 24 h, sinon ma boîte sera "
                "fermée. Arnaque ? Je n'ai rien saisi.",
            )
        ],
        "de": [
            (
                "Echte Mail?",
                "Angeblich von Microsoft: Ich soll mein Konto bestätigen, sonst wird es gesperrt. Echt "
                "oder Phishing? Nichts eingegeben.",
            )
        ],
        "nl": [
            (
                "Verdachte mail",
                "Er staat een bericht in mijn inbox dat mijn account wordt geblokkeerd tenzij ik "
                "mijn gegevens bevestig. Betrouwbaar? Ik heb niets gedaan.",
            )
        ],
    },
    ("SECURITY_INCIDENT", "INCIDENT", ("compromise_signs",), True): {
        "en": [
            (
                "Forwarding rule",
                "I found a mail rule forwarding everything to an outside address. I didn't set it up.",
            ),
            (
                "Replies to mails I never wrote",
                "There are replies in my inbox to messages I never wrote, sent overnight.",
            ),
        ],
    },
    ("ONBOARDING", "REQUEST", ("other_person",), False): {
        "en": [
            (
                "Starter on {day}",
                "{colfull} starts on {day} as {role}. Please have a laptop, login and email ready, "
                "and add {him} to the same groups as {col2}.",
            ),
            (
                "New joiner - accounts",
                "We've hired {colfull}. Can you create {his} email and give {him} access to "
                "the client folders?",
            ),
            (
                "Login for new staff member",
                "New staff member {col} needs a computer login and a mailbox before {day}.",
            ),
            (
                "New starter checklist",
                "Please set up {colfull}: Microsoft 365 licence, Teams, shared drive and the booking system.",
            ),
        ],
        "es": [
            (
                "Alta de usuario",
                "Necesitamos dar de alta a {colfull}, que empieza el {day}: correo y usuario.",
            )
        ],
        "fr": [("Création de compte", "Merci de créer les accès de {colfull} qui commence le {day}.")],
        "de": [
            ("Neuer Kollege", "{colfull} fängt am {day} an. Bitte Anmeldung, E-Mail und Laptop vorbereiten.")
        ],
        "nl": [
            ("Account aanmaken", "Willen jullie een account aanmaken voor {colfull}? {He_} begint op {day}.")
        ],
    },
    ("OTHER", "QUESTION", ("policy_exception",), False): {
        "en": [
            ("Writing passwords down", "Is it acceptable to keep my passwords in a locked notebook?"),
            (
                "Password on a sticky note",
                "A colleague keeps their password on a sticky note on the screen. Is that allowed?",
            ),
        ],
    },
    ("OTHER", "REQUEST", (), False): {
        "en": [
            ("Second phone line", "Can we get a second phone line for the annex?"),
            ("Teams training", "Could someone run a short Teams training for the office?"),
            ("Borrow a projector", "Can we borrow a projector for the open day?"),
        ],
    },
    ("BILLING_OR_ADMIN", "REQUEST", (), False): {
        "en": [
            (
                "Toner running out",
                "We're down to the last cartridge for the back office printer, can you order more?",
            ),
            ("Licence for new hire", "We need one more Microsoft 365 licence for a new hire next month."),
            (
                "Invoice address",
                "Our accounts team has moved; please update the billing address on your invoices.",
            ),
            ("Quote for tablets", "Can we have a price for 8 tablets with cases?"),
        ],
        "es": [("Tóner", "¿Podéis pedir tóner para la impresora de recepción?")],
        "fr": [("Cartouches", "Pouvez-vous commander des cartouches pour l'imprimante ?")],
        "de": [("Toner bestellen", "Bitte bestellen Sie Toner für den Drucker am Empfang.")],
        "nl": [("Toner", "Kunnen jullie nieuwe toner bestellen voor de printer?")],
    },
    ("HARDWARE_ISSUE", "INCIDENT", (), False): {
        "en": [
            ("Desk phone dead", "The desk phone in {room} has no dial tone and the screen is blank."),
            ("Headset mic quiet", "People say my headset microphone is very quiet on calls."),
            ("Conference camera", "The conference camera in {room} doesn't turn on."),
            ("Tablet won't turn on", "The check-in tablet at reception won't turn on even after charging."),
            ("Phone won't charge", "My work phone stopped charging, tried two cables."),
        ],
    },
    ("PRINTER_ISSUE", "INCIDENT", (), False): {
        "en": [
            (
                "Scan to folder fails",
                "Scanning to the shared folder from the copier fails since the server change.",
            ),
            ("Double-sided printing", "I can't get double-sided printing to work on the office printer."),
            ("Wrong tray", "Everything prints from the manual feed tray instead of tray 1."),
        ],
    },
    ("NETWORK_ISSUE", "INCIDENT", (), False): {
        "en": [
            ("Calls dropping", "Our internet phone calls drop after about five minutes."),
            ("Guest network", "Visitors can join the guest Wi-Fi but get no internet."),
            ("Slow VPN", "The VPN is very slow in the evenings."),
        ],
    },
    ("SOFTWARE_ISSUE", "INCIDENT", (), False): {
        "en": [
            ("Booking software freezes", "The booking software freezes when I open the weekly view."),
            ("PDF blank", "PDFs open as a blank grey page."),
            ("Teams keeps crashing", "Teams restarts itself every few minutes on my laptop."),
        ],
    },
    ("SOFTWARE_INSTALL", "REQUEST", (), False): {
        "en": [
            ("DocuSign add-in", "Could you add the DocuSign add-in to Outlook for me?"),
            ("Update AutoCAD", "Can you update AutoCAD to the latest version on my PC?"),
            ("Office on new laptop", "Please install the Office apps and Teams on the new laptop."),
        ],
    },
    ("ACCESS_REQUEST", "REQUEST", (), True): {
        "en": [
            (
                "Access to {project} folder",
                "Could I get edit access to the {project} folder? My manager has approved.",
            ),
            ("Teams channel", "Please add me to the Marketing channel in Teams."),
            ("Holiday calendar", "Can I get access to the holidays calendar?"),
        ],
    },
    ("ACCESS_REQUEST", "REQUEST", ("other_person",), False): {
        "en": [("Calendar for my PA", "Can {col} manage my calendar? {He_} arranges my meetings.")],
    },
    ("OFFBOARDING", "REQUEST", ("other_person",), False): {
        "en": [
            (
                "Leaver",
                "{colfull} left yesterday. Please disable {his} login and redirect {his} email to me.",
            ),
            (
                "Former employee",
                "Please make sure {colfull} can no longer get into email; {he} left last month.",
            ),
        ],
    },
}
