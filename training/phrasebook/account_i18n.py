"""Own-account sign-in requests in Spanish, French, German and Dutch (see ``account.py`` for the format)."""

from __future__ import annotations

OWN_I18N: dict[str, dict[str, dict[str, list[str]]]] = {
    "PASSWORD_RESET": {
        "es": {
            "subjects": [
                "Contraseña",
                "He olvidado mi contraseña",
                "No puedo entrar",
                "Contraseña caducada",
                "Restablecer contraseña",
                "Problema con la contraseña",
            ],
            "problems": [
                "He olvidado mi contraseña de {sys}.",
                "No puedo entrar en {sys}, me dice que la contraseña es incorrecta.",
                "Se me ha caducado la contraseña {when} y no recuerdo la anterior para poder cambiarla.",
                "Después de {leave} no me acuerdo de la contraseña de {sys}.",
                "Cambié la contraseña {when} y ahora no recuerdo cuál puse.",
                "{Sys} no acepta mi contraseña desde {when}.",
            ],
            "asks": [
                "¿Me la podéis restablecer?",
                "¿Podéis resetearla, por favor?",
                "Por favor, cambiádmela.",
                "¿Me podéis dar una contraseña temporal?",
                "Necesito que me la restablezcáis.",
            ],
            "contexts": [
                "Tengo pacientes a las {time}.",
                "Estoy en la oficina toda la mañana.",
                "Es urgente.",
                "",
            ],
        },
        "fr": {
            "subjects": [
                "Mot de passe oublié",
                "Mot de passe",
                "Impossible de me connecter",
                "Mot de passe expiré",
                "Réinitialisation mot de passe",
            ],
            "problems": [
                "J'ai oublié mon mot de passe pour {sys}.",
                "Je n'arrive plus à me connecter à {sys}, il me dit que le mot de passe est incorrect.",
                "Mon mot de passe a expiré {when} et je n'arrive pas à le changer.",
                "Après {leave}, impossible de me souvenir de mon mot de passe.",
                "J'ai changé mon mot de passe {when} et je ne sais plus ce que j'ai mis.",
                "{Sys} refuse mon mot de passe depuis {when}.",
            ],
            "asks": [
                "Pouvez-vous le réinitialiser ?",
                "Merci de me le réinitialiser.",
                "Pourriez-vous me donner un mot de passe temporaire ?",
                "Pouvez-vous me le remettre à zéro ?",
            ],
            "contexts": [
                "J'ai un rendez-vous à {time}.",
                "Je suis au bureau toute la journée.",
                "C'est urgent.",
                "",
            ],
        },
        "de": {
            "subjects": [
                "Passwort vergessen",
                "Passwort",
                "Kann mich nicht anmelden",
                "Kennwort abgelaufen",
                "Passwort zurücksetzen",
            ],
            "problems": [
                "ich habe mein Passwort für {sys} vergessen.",
                "ich komme nicht mehr in {sys}, das Passwort wird als falsch angezeigt.",
                "mein Kennwort ist {when} abgelaufen und beim Ändern sagt er, das alte sei falsch.",
                "nach {leave} fällt mir mein Passwort nicht mehr ein.",
                "ich habe {when} mein Passwort geändert und weiß es nicht mehr.",
                "{Sys} nimmt mein Passwort seit {when} nicht mehr an.",
            ],
            "asks": [
                "Würden Sie es bitte zurücksetzen?",
                "Bitte setzen Sie mein Passwort zurück.",
                "Können Sie mir ein Einmalkennwort geben?",
                "Könnt ihr das bitte zurücksetzen?",
            ],
            "contexts": [
                "Ich habe um {time} einen Termin.",
                "Ich bin den ganzen Tag im Büro.",
                "Es ist dringend.",
                "",
            ],
        },
        "nl": {
            "subjects": [
                "Wachtwoord vergeten",
                "Wachtwoord",
                "Kan niet inloggen",
                "Wachtwoord verlopen",
                "Wachtwoord resetten",
            ],
            "problems": [
                "ik ben mijn wachtwoord voor {sys} vergeten.",
                "inloggen op {sys} lukt niet, mijn wachtwoord wordt geweigerd.",
                "mijn wachtwoord is {when} verlopen en ik weet het oude niet meer om het te wijzigen.",
                "na {leave} weet ik mijn wachtwoord niet meer.",
                "ik heb {when} mijn wachtwoord veranderd en weet niet meer wat ik heb ingevuld.",
                "{Sys} accepteert mijn wachtwoord niet meer sinds {when}.",
            ],
            "asks": [
                "Kunnen jullie het resetten?",
                "Willen jullie mijn wachtwoord resetten?",
                "Kan ik een tijdelijk wachtwoord krijgen?",
                "Graag een reset.",
            ],
            "contexts": [
                "Ik heb om {time} een afspraak.",
                "Ik zit de hele dag op kantoor.",
                "Het is dringend.",
                "",
            ],
        },
    },
    "ACCOUNT_LOCKOUT": {
        "es": {
            "subjects": ["Cuenta bloqueada", "Usuario bloqueado", "Me he quedado bloqueado"],
            "problems": [
                "He puesto mal la contraseña demasiadas veces y {sys} me ha bloqueado.",
                "{Sys} me dice que la cuenta está bloqueada.",
                "Me he quedado bloqueada al intentar entrar en {sys} {when}.",
            ],
            "asks": [
                "¿Me la podéis desbloquear?",
                "Por favor, desbloquead mi cuenta.",
                "¿Podéis desbloquearme?",
            ],
            "contexts": ["Estoy en la oficina.", "Lo necesito para las {time}.", ""],
        },
        "fr": {
            "subjects": ["Compte bloqué", "Session verrouillée", "Bloqué"],
            "problems": [
                "Trop d'essais ratés {when} : mon compte est désormais verrouillé.",
                "{Sys} m'indique que mon compte est verrouillé.",
                "Ma session Windows refuse de s'ouvrir : compte verrouillé après trop d'essais.",
            ],
            "asks": [
                "Pouvez-vous le débloquer ?",
                "Merci de débloquer mon compte.",
                "Pourriez-vous me débloquer ?",
            ],
            "contexts": ["J'ai une audience à {time}.", "Je suis au cabinet.", ""],
        },
        "de": {
            "subjects": ["Konto gesperrt", "Benutzerkonto gesperrt", "Gesperrt"],
            "problems": [
                "mein Konto wurde nach mehreren falschen Eingaben gesperrt.",
                "{Sys} meldet, dass mein Konto gesperrt ist.",
                "nach mehreren Fehlversuchen bin ich aus {sys} ausgesperrt.",
            ],
            "asks": [
                "Bitte entsperren.",
                "Können Sie mein Konto entsperren?",
                "Könnt ihr mich freischalten?",
            ],
            "contexts": ["Ich sitze im Büro.", "Ich brauche es bis {time}.", ""],
        },
        "nl": {
            "subjects": ["Account geblokkeerd", "Geblokkeerd", "Kan niet meer inloggen"],
            "problems": [
                "mijn account is geblokkeerd, ik heb te vaak een verkeerd wachtwoord ingetypt.",
                "{Sys} zegt dat mijn account vergrendeld is.",
                "ik ben buitengesloten van {sys} na een paar verkeerde pogingen.",
            ],
            "asks": [
                "Kunnen jullie de blokkade opheffen?",
                "Kunnen jullie mijn account ontgrendelen?",
                "Graag deblokkeren.",
            ],
            "contexts": ["Ik zit op kantoor.", "Ik heb het om {time} nodig.", ""],
        },
    },
    "MFA_RESET": {
        "es": {
            "subjects": ["Cambio de móvil", "Authenticator", "Verificación en dos pasos", "Móvil nuevo"],
            "problems": [
                "Tengo teléfono nuevo y la app Authenticator no tiene mi cuenta del trabajo, así que no puedo entrar en {sys}.",
                "Me robaron el móvil y no puedo aprobar el inicio de sesión en {sys}.",
                "He reinstalado la app Authenticator y ha desaparecido mi cuenta del trabajo.",
                "He cambiado de número y los códigos por SMS de {sys} siguen llegando al antiguo.",
            ],
            "asks": [
                "¿Me podéis quitar el registro antiguo del MFA para configurarlo otra vez?",
                "¿Me podéis resetear el MFA para configurarlo en el nuevo?",
            ],
            "contexts": ["Ya no tengo el teléfono anterior.", ""],
        },
        "fr": {
            "subjects": ["Nouveau téléphone", "Double authentification", "Authenticator"],
            "problems": [
                "Nouveau smartphone : l'appli Authenticator est vide et {sys} me demande une validation.",
                "J'ai perdu mon téléphone, je ne peux plus valider la connexion à {sys}.",
                "L'application Authenticator a été réinstallée et mon compte pro a disparu.",
                "J'ai changé de numéro et les codes SMS pour {sys} arrivent toujours sur l'ancien.",
            ],
            "asks": [
                "Pourriez-vous remettre à zéro la validation en deux étapes de mon compte ?",
                "Pourriez-vous remettre à zéro mon MFA pour que je le reconfigure ?",
            ],
            "contexts": ["Je n'ai plus l'ancien appareil.", ""],
        },
        "de": {
            "subjects": ["Neues Handy", "Authenticator", "MFA zurücksetzen", "Zwei-Faktor"],
            "problems": [
                "mein Firmenhandy wurde getauscht und die Authenticator-App ist jetzt leer.",
                "mein Handy ist kaputt, ich kann die Anmeldung an {sys} nicht bestätigen.",
                "nach dem Zurücksetzen des Handys ist mein Arbeitskonto nicht mehr in der Authenticator-App.",
                "ich habe eine neue Handynummer und die SMS-Codes für {sys} gehen noch an die alte.",
            ],
            "asks": [
                "Könnten Sie die Zwei-Faktor-Anmeldung für mich neu aufsetzen?",
                "Könnt ihr die Zwei-Faktor-Anmeldung zurücksetzen, damit ich das neue Handy einrichten kann?",
            ],
            "contexts": ["Das alte Gerät habe ich nicht mehr.", ""],
        },
        "nl": {
            "subjects": ["Nieuwe telefoon", "Authenticator", "MFA resetten", "Tweestapsverificatie"],
            "problems": [
                "mijn telefoon is vervangen en in de Authenticator-app ontbreekt mijn werkaccount.",
                "ik ben mijn telefoon kwijt, ik kan de aanmelding bij {sys} niet goedkeuren.",
                "{sys} wil dat ik goedkeur op een toestel dat ik niet meer heb.",
                "ik heb een nieuw nummer en de sms-codes voor {sys} gaan nog naar het oude.",
            ],
            "asks": [
                "Willen jullie mijn MFA opnieuw instellen zodat ik de nieuwe telefoon kan koppelen?",
                "Willen jullie mijn tweestapsverificatie resetten?",
            ],
            "contexts": ["De oude telefoon heb ik ingeleverd.", ""],
        },
    },
}
