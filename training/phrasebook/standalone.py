"""Whole tickets that must stay manual: third-party systems, shared accounts, policy, outages, notifications."""

from __future__ import annotations

# (sub_category, category, flags, own_account): list of (subject, body) per language
STANDALONE: dict[tuple[str, str, tuple[str, ...], bool], dict[str, list[tuple[str, str]]]] = {
    ("PASSWORD_RESET", "REQUEST", ("third_party_system",), False): {
        "en": [
            (
                "{app} password",
                "Could you reset my password for {app}? I can still get into Outlook and Windows "
                "without problems.",
            ),
            (
                "{app} login",
                "{app} says invalid credentials. I created that account myself, separate from my work login.",
            ),
            (
                "Forgot {app} password",
                "The reset email from {app} never arrives. Can you look into my login for it?",
            ),
            (
                "Home email",
                "Bit cheeky - my personal Hotmail won't let me in and it's the recovery address for "
                "everything. Can you help?",
            ),
            (
                "VPN login",
                "The remote access client keeps rejecting my login from home. Not sure if it uses my "
                "normal password.",
            ),
            ("Door code", "I've forgotten the alarm code for the back office. Can you remind me?"),
            (
                "Tablet Google account",
                "The shop tablet is asking for a Google account password to install updates. Who has it?",
            ),
        ],
        "es": [
            (
                "Contraseña de {app}",
                "No consigo entrar en {app}; el correo y Windows van perfectamente. ¿Me la podéis cambiar?",
            )
        ],
        "fr": [
            ("Mot de passe {app}", "J'ai oublié mon mot de passe {app}. Ma session Windows fonctionne bien.")
        ],
        "de": [
            (
                "{app} Zugang",
                "Mein Zugang zu {app} funktioniert nicht mehr, Windows und Outlook gehen aber. "
                "Können Sie helfen?",
            )
        ],
        "nl": [
            (
                "Wachtwoord {app}",
                "Ik ben mijn wachtwoord van {app} vergeten. Mijn computer en mail werken prima.",
            )
        ],
    },
    ("ACCOUNT_LOCKOUT", "INCIDENT", ("third_party_system",), False): {
        "en": [
            (
                "Online banking",
                "Our online banking token has locked after three wrong PINs. Can you reset it or "
                "is that the bank?",
            ),
            (
                "{app} locked",
                "{app} has locked my account for 30 minutes after failed logins. Can you unlock it sooner?",
            ),
        ],
        "es": [
            ("Banco bloqueado", "La banca online del banco me ha bloqueado el acceso. ¿Podéis hacer algo?")
        ],
        "de": [
            ("{app} gesperrt", "Mein Zugang zu {app} ist gesperrt. Windows und Outlook funktionieren normal.")
        ],
    },
    ("PASSWORD_RESET", "REQUEST", ("shared_or_service_account",), False): {
        "en": [
            (
                "{role_box}@ mailbox password",
                "We need to log in to {role_box}@{domain} on the new PC. Can you reset its password?",
            ),
            (
                "Kiosk login",
                "The kiosk PC in the waiting room uses a generic login that stopped working. Can you "
                "reset it?",
            ),
            (
                "Shared mailbox login",
                "What's the password for the shared {role_box} mailbox? The front desk PC logged out of it.",
            ),
        ],
        "de": [("Sammelpostfach", "Wie lautet das Passwort für das Sammelpostfach {role_box}@{domain}?")],
        "nl": [("Gedeelde mailbox", "Wat is het wachtwoord van de gedeelde mailbox {role_box}@{domain}?")],
    },
    ("MFA_RESET", "REQUEST", ("policy_exception",), True): {
        "en": [
            (
                "MFA every day",
                "The Authenticator asks me every single morning. Can you disable it for my account?",
            ),
            ("Remove 2FA", "Could 2FA be turned off for me? My phone is ancient and I hate using it."),
            (
                "MFA exemption",
                "Can I be exempt from MFA? I don't want the Authenticator on my personal phone.",
            ),
        ],
        "es": [
            ("Quitar MFA", "¿Podéis desactivar la verificación en dos pasos de mi cuenta? Es muy pesado.")
        ],
        "fr": [("Désactiver MFA", "Pouvez-vous désactiver la double authentification sur mon compte ?")],
        "de": [("MFA abschalten", "Können Sie die Zwei-Faktor-Authentifizierung für mich deaktivieren?")],
        "nl": [("MFA uitzetten", "Kunnen jullie de MFA voor mijn account uitzetten? Ik word er gek van.")],
    },
    ("MFA_RESET", "QUESTION", ("policy_exception",), False): {
        "en": [
            (
                "Staff without smartphones",
                "Two of our staff only have basic phones. Can they get SMS codes "
                "instead of the app, or is there another option?",
            )
        ],
        "de": [("SMS statt App?", "Dürfen unsere Mitarbeiter SMS-Codes statt der Authenticator-App nutzen?")],
    },
    ("PASSWORD_RESET", "QUESTION", ("policy_exception",), False): {
        "en": [
            (
                "Password length",
                "How many characters does a password need here? What are the requirements? "
                "Mine keeps getting rejected.",
            ),
            ("Password expiry", "How often do passwords expire here, and is that still best practice?"),
            (
                "Cyber insurance form",
                "Our insurer asks about our password policy and MFA. Can you tell me what we enforce?",
            ),
        ],
        "es": [
            (
                "Política de contraseñas",
                "¿Cada cuánto tenemos que cambiar la contraseña? ¿Hay alguna política?",
            )
        ],
        "fr": [
            (
                "Règles mots de passe",
                "Quelle est la politique de mots de passe chez nous ? Tous les combien faut-il les changer ?",
            )
        ],
        "de": [("Passwortregeln", "Welche Passwortregeln gelten bei uns? Das System lehnt meins ab.")],
        "nl": [
            ("Wachtwoordbeleid", "Hoe vaak moeten we ons wachtwoord wijzigen? Is er een wachtwoordbeleid?")
        ],
    },
    ("OUTAGE", "INCIDENT", ("outage",), False): {
        "en": [
            (
                "Nobody can get in",
                "All the PCs in the practice say 'no logon servers available' since 8am. Nobody can work.",
            ),
            ("Outlook down?", "Outlook and Teams won't connect for any of us since lunchtime. Is it down?"),
            (
                "Authenticator down?",
                "Three of us can't get approvals through this morning. Is Microsoft having problems?",
            ),
            ("No internet", "The whole site has lost internet and the phones are dead too."),
            ("Server down", "The file server is down, nobody can open the shared drive."),
            (
                "Shared laptops rejecting logins",
                "After last night's update the shared laptops reject every staff "
                "login. Everyone is affected.",
            ),
        ],
        "es": [("No funciona nada", "Nadie puede entrar en el correo desde esta mañana, toda la oficina.")],
        "fr": [("Panne générale", "Personne ne peut se connecter ce matin, tout le cabinet est bloqué.")],
        "de": [("Störung", "Niemand kann sich anmelden, das ganze Büro ist betroffen.")],
        "nl": [("Storing", "Niemand kan inloggen sinds vanochtend, het hele kantoor ligt plat.")],
    },
    ("ACCOUNT_LOCKOUT", "INCIDENT", ("no_action_needed", "other_person"), False): {
        "en": [
            (
                "[Monitoring] Lockout detected on {host}",
                "Alert type: Account lockout\nHost: {host}\nUser: {uname}"
                "\nSource: domain controller\n\nThis is an automated message generated by the monitoring "
                "platform.",
            )
        ],
    },
    ("PASSWORD_RESET", "INCIDENT", ("no_action_needed",), True): {
        "en": [
            (
                "FW: Password expiry reminder",
                "---------- Forwarded message ---------\nFrom: Microsoft 365 "
                "<no-reply@{domain}>\nSubject: Password expiry reminder\n\nYour password will expire in {d} days. "
                "Change it from office.com > Settings.",
            ),
            (
                "All sorted - self-service worked",
                "Just so you know, I used the self-service page and set a new "
                "password myself. Nothing needed.",
            ),
        ],
    },
    ("OTHER", "INCIDENT", ("no_action_needed",), False): {
        "en": [
            (
                "Automatic reply: [Ticket#{n}] {subject}",
                "I'm away on leave and back on {day}. Your message has "
                "not been forwarded. This is an automatic reply.",
            )
        ],
        "es": [
            (
                "Respuesta automática: {subject}",
                "Estoy fuera de la oficina hasta el {day}. Respuesta automática.",
            )
        ],
        "fr": [
            (
                "Réponse automatique : {subject}",
                "Je suis absente du bureau jusqu'au {day}. Message automatique.",
            )
        ],
        "de": [
            (
                "Automatische Antwort: {subject}",
                "Ich bin bis {day} nicht im Büro. Dies ist eine automatische Antwort.",
            )
        ],
        "nl": [
            (
                "Automatisch antwoord: {subject}",
                "Ik ben tot {day} niet op kantoor. Dit is een automatisch antwoord.",
            )
        ],
    },
}
