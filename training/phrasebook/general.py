"""Everything that is not an own-account sign-in: (sub_category, category, flags, own_account) -> tickets.

Each language maps to (subject, body) pairs; the generator adds greetings, closings and noise.
"""

from __future__ import annotations

Key = tuple[str, str, tuple[str, ...], bool]

GENERAL: dict[Key, dict[str, list[tuple[str, str]]]] = {
    ("HARDWARE_ISSUE", "INCIDENT", (), False): {
        "en": [
            (
                "Monitor flickering",
                "My left monitor flickers every few seconds and sometimes goes black. I swapped "
                "the cable with the other screen and it's the same.",
            ),
            (
                "Laptop overheating",
                "The laptop gets really hot and the fan never stops. It shut itself down twice.",
            ),
            ("Keys not working", "The space bar and the N key only work if I press really hard."),
            (
                "Broken hinge",
                "The hinge on my laptop snapped on one side and the screen wobbles. Can it be fixed?",
            ),
            ("Docking station", "The dock isn't charging the laptop any more and its USB ports are dead."),
            (
                "Bluetooth headset",
                "My wireless headset keeps disconnecting from the laptop in the middle of calls.",
            ),
            (
                "Smartboard not responding",
                "The interactive whiteboard in {room} shows a picture but ignores touch.",
            ),
            (
                "Mouse not working",
                "The wireless mouse on my desk has stopped working even with new batteries.",
            ),
            ("Laptop won't charge", "My laptop won't charge, the light on the charger doesn't come on."),
            ("Barcode scanner", "The barcode scanner at the front desk beeps but nothing appears on screen."),
            ("Webcam black", "My webcam shows a black image in every app."),
            ("PC won't boot", "The PC in {room} only shows a black screen with a blinking cursor."),
            (
                "Work mobile smashed",
                "My work mobile fell on the tiles and the screen is shattered, touch barely works.",
            ),
        ],
        "es": [
            ("Pantalla", "La segunda pantalla se queda en negro desde esta mañana."),
            ("Portátil no carga", "El portátil no carga, la luz del cargador no se enciende."),
            ("Teclado", "Varias teclas del teclado no responden."),
        ],
        "fr": [
            ("Écran noir", "Mon écran principal reste noir alors que l'ordinateur est allumé."),
            ("Clavier", "Des touches de mon clavier ne fonctionnent plus."),
            ("Souris", "La souris sans fil ne répond plus, même avec des piles neuves."),
        ],
        "de": [
            ("Tastatur", "Mein Laptop erkennt die Tastatur an der Dockingstation nicht."),
            ("Laptop lädt nicht", "Mein Laptop lädt nicht mehr, das Netzteil wird warm."),
            ("Bildschirm flackert", "Der Monitor an meinem Platz flackert ständig."),
        ],
        "nl": [
            ("Scherm doet het niet", "Mijn tweede scherm geeft geen beeld meer."),
            ("Muis kapot", "Mijn muis werkt niet meer, ook niet met nieuwe batterijen."),
            ("Laptop wordt heet", "Mijn laptop wordt erg warm en de ventilator blijft razen."),
        ],
    },
    ("PRINTER_ISSUE", "INCIDENT", (), False): {
        "en": [
            (
                "Printer says door open",
                "The office printer keeps saying 'close front cover' even though it's shut.",
            ),
            (
                "Printer offline for me only",
                "My PC shows the Canon as offline but everyone else can print to it.",
            ),
            ("Receipt printer", "The receipt printer at the till cuts off half of every line."),
            ("Can't cancel print job", "A 200-page job is stuck at the top of the queue and won't delete."),
            ("Smudged prints", "Everything from the colour printer comes out smudged with a pink tint."),
            ("Scans saving blank", "When I scan double-sided, every second page comes out blank."),
            ("Toner light", "The printer says toner low but we just put a new cartridge in."),
            ("Printer missing", "The upstairs printer has disappeared from my list of printers."),
            ("Envelopes jamming", "The printer chews up every envelope I feed through the side tray."),
        ],
        "es": [
            ("Impresora", "La impresora de recepción marca error de papel aunque tiene folios."),
            ("No imprime", "Mando a imprimir y no sale nada, la impresora aparece sin conexión."),
        ],
        "fr": [
            ("Imprimante", "L'imprimante du couloir affiche un bourrage papier en permanence."),
            ("Impression en couleur", "Les impressions couleur sortent toutes délavées."),
        ],
        "de": [
            ("Drucker", "Der Drucker im Flur zeigt dauernd 'Papierstau', obwohl nichts klemmt."),
            ("Scanner", "Der Scanner am Kopierer schickt keine Scans mehr."),
        ],
        "nl": [
            ("Printer foutmelding", "De printer in de gang geeft een foutmelding over de papierlade."),
            ("Afdrukken vlekken", "Alle afdrukken hebben grijze vlekken."),
        ],
    },
    ("NETWORK_ISSUE", "INCIDENT", (), False): {
        "en": [
            ("Websites timing out", "Some websites time out on my PC but load fine on my phone's data."),
            ("No Wi-Fi upstairs", "The Wi-Fi upstairs is down to one bar and video calls freeze."),
            ("Echo on calls", "Callers say they hear an echo of themselves when they ring the main line."),
            (
                "No network on my desk",
                "The network socket at my desk doesn't seem to work, no internet on the PC.",
            ),
            ("VPN disconnects", "The VPN connects but drops every ten minutes when I work from home."),
            ("Shared drive slow", "Opening files from the shared drive takes ages today."),
        ],
        "es": [
            ("Wifi", "El wifi se corta continuamente en la sala de espera."),
            ("Internet lento", "Internet va lentísimo en la oficina desde ayer."),
        ],
        "fr": [
            ("Réseau lent", "Internet est très lent au bureau depuis ce matin."),
            ("Wi-Fi", "Le Wi-Fi décroche sans arrêt dans la salle de réunion."),
        ],
        "de": [
            ("WLAN", "Das WLAN bricht im Besprechungsraum ständig ab."),
            ("Netzwerk", "Mein PC bekommt keine Netzwerkverbindung mehr."),
        ],
        "nl": [
            ("Internet traag", "Het internet is heel traag vandaag op mijn werkplek."),
            ("Wifi valt weg", "De wifi valt steeds weg in de spreekkamer."),
        ],
    },
    ("EMAIL_ISSUE", "INCIDENT", (), False): {
        "en": [
            ("Emails to a client rejected", "Anything I send to one particular firm comes back undelivered."),
            ("Outlook freezes on startup", "Outlook hangs on 'loading profile' every morning."),
            ("Calendar invites missing", "Meeting invites from one colleague never show in my calendar."),
            ("Newsletter in junk", "Our own newsletter lands in everyone's junk folder."),
            (
                "Outlook password prompt loop",
                "Outlook keeps showing a sign-in window every few minutes. Teams and "
                "the web version are fine with my password.",
            ),
            ("Out of office help", "How do I set up an out-of-office message for next week?"),
            (
                "Archive old mail",
                "Can you help me archive emails older than two years? Outlook is getting slow.",
            ),
            ("Not receiving emails", "I haven't received any emails since 10am but I can send."),
            ("Search not working", "Search in Outlook doesn't find anything older than a week."),
        ],
        "es": [
            ("Outlook no recibe", "Desde esta mañana Outlook no recibe correos nuevos en el ordenador."),
            ("Correo rebotado", "Los correos a un cliente me vuelven devueltos."),
        ],
        "fr": [
            (
                "Pièces jointes",
                "Impossible d'envoyer des pièces jointes depuis Outlook, le message reste "
                "dans la boîte d'envoi.",
            ),
            ("Calendrier", "Les invitations d'une collègue n'apparaissent pas dans mon agenda."),
        ],
        "de": [
            ("Outlook hängt", "Outlook stürzt beim Öffnen von Anhängen ab."),
            ("Mails im Spam", "Mails von einem Kunden landen immer im Junk-Ordner."),
        ],
        "nl": [
            ("Mail komt niet binnen", "Ik ontvang sinds vanochtend geen mail meer in Outlook."),
            ("Agenda", "Uitnodigingen van een collega komen niet in mijn agenda."),
        ],
    },
    ("SOFTWARE_ISSUE", "INCIDENT", (), False): {
        "en": [
            (
                "Program error on start",
                "The stock control program shows 'database not found' when I open it.",
            ),
            ("Excel formulas", "Formulas in my Excel sheets don't recalculate until I press F9."),
            ("Teams notifications", "I don't get any Teams notifications when someone messages me."),
            (
                "Accounts package slow",
                "Our accounts package takes minutes to open each client file since Monday.",
            ),
            (
                "Word won't save",
                "Word says the document is locked for editing by another user, but it isn't.",
            ),
            ("Adobe error", "Acrobat gives an error when I try to combine PDFs."),
            ("Teams camera", "Teams can't find my camera, but the camera app works."),
            (
                "RE: RE: Slow login",
                "No change, still takes five minutes to reach the desktop.\n\nFrom: Service Desk"
                "\nSent: Tuesday\nSubject: RE: Slow login\n\nWe've removed some startup programs, please restart and "
                "tell us if it's quicker.",
            ),
        ],
        "es": [
            ("Programa se cierra", "El programa de citas se cierra solo al abrir la agenda."),
            ("Excel", "Excel se queda colgado al guardar."),
        ],
        "fr": [
            ("Logiciel bloqué", "Word se fige dès que j'ouvre un document un peu long."),
            ("Erreur logiciel", "Le logiciel de facturation affiche une erreur au démarrage."),
        ],
        "de": [
            ("Programmfehler", "Das Warenwirtschaftsprogramm startet nicht mehr, Fehlermeldung beim Öffnen."),
            ("Word", "Word stürzt beim Drucken ab."),
        ],
        "nl": [
            ("Word crasht", "Word sluit af zodra ik wil printen."),
            ("Programma start niet", "Het planningsprogramma geeft een foutmelding bij het opstarten."),
        ],
    },
    ("SOFTWARE_INSTALL", "REQUEST", (), False): {
        "en": [
            ("Install 7-Zip", "Could you install 7-Zip? I need to open an archive a client sent."),
            ("SketchUp", "Please install SketchUp on the design PC."),
            (
                "Install Chrome",
                "Can Chrome be installed on the reception PC? One supplier site only works in it.",
            ),
            ("Label printer driver", "Please install the driver for the new label printer on my PC."),
            ("Visio licence", "I need Visio for process diagrams, can it be installed on my laptop?"),
            ("New app request", "Can you install the new bookkeeping desktop app on my PC?"),
        ],
        "es": [
            ("Instalar programa", "¿Podéis instalar el programa de facturación en el portátil nuevo?"),
            ("Instalar Chrome", "Necesito Chrome instalado en el ordenador de recepción."),
        ],
        "fr": [
            ("Installation logiciel", "Pouvez-vous installer un lecteur PDF sur mon poste ?"),
            ("Nouveau logiciel", "Merci d'installer le logiciel de paie sur le PC de la comptabilité."),
        ],
        "de": [
            ("Software installieren", "Bitte installieren Sie auf meinem Rechner das Zeichenprogramm."),
            ("Treiber", "Können Sie den Treiber für das neue Etikettendrucker installieren?"),
        ],
        "nl": [
            ("Software installeren", "Kunnen jullie Visio op mijn laptop installeren?"),
            ("Programma nodig", "Graag het boekhoudprogramma installeren op de nieuwe pc."),
        ],
    },
    ("ACCESS_REQUEST", "REQUEST", (), True): {
        "en": [
            (
                "Access to HR folder",
                "I've taken over payroll, can I have access to the HR folder on SharePoint?",
            ),
            ("Planner board", "Please add me to the Planner board for the {project} build."),
            (
                "Distribution list",
                "Can I be added to the all-staff email list? I don't get the announcements.",
            ),
            ("Calendar access", "I need to be able to see the meeting room calendar."),
            ("Edit rights", "I can open the pricing folder but can't save changes. Can I get edit rights?"),
        ],
        "es": [
            ("Acceso a carpeta", "Necesito acceso a la carpeta de Clientes en el servidor."),
            ("Permisos", "¿Me podéis dar permiso de edición en la hoja de turnos?"),
        ],
        "fr": [
            ("Accès dossier", "Pourriez-vous me donner accès au dossier Comptabilité ?"),
            ("Droits", "Je n'ai que la lecture sur le dossier Clients, il me faudrait la modification."),
        ],
        "de": [
            ("Zugriff Ordner", "Ich brauche Zugriff auf den Ordner Projekte auf dem Laufwerk."),
            ("Verteiler", "Bitte nehmen Sie mich in den Verteiler 'Alle Mitarbeiter' auf."),
        ],
        "nl": [
            ("Toegang map", "Mag ik toegang krijgen tot de map Offertes op de server?"),
            ("Rechten", "Ik kan de planning wel openen maar niet aanpassen."),
        ],
    },
    ("ACCESS_REQUEST", "REQUEST", ("other_person",), False): {
        "en": [
            ("Access for {col}", "{colfull} needs read access to the Contracts library from Monday."),
            ("Mailbox delegation", "Please give {col} access to my inbox while I'm on leave."),
            ("Same access as me", "Can {col} get the same shared drive access as me?"),
        ],
    },
    ("ACCESS_REQUEST", "QUESTION", ("third_party_system",), False): {
        "en": [
            ("Wi-Fi for visitors", "We have auditors in tomorrow, can you give me a Wi-Fi key for them?"),
            ("Tablet wifi", "What's the wifi password for the new tablet in {room}?"),
        ],
        "es": [("Wifi invitados", "¿Cuál es la contraseña del wifi para las visitas?")],
    },
}
