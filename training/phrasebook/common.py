"""Shared material for the example generator: people, organisations, greetings, closings, signatures.

All names, organisations, numbers and addresses are invented. Phone numbers use ranges reserved for
fiction or drama where a country has one (UK 07700 900xxx, US 555-01xx, AU 0491 570xxx).
"""

from __future__ import annotations

LANGS = ("en", "es", "fr", "de", "nl")

FIRST = {
    "en": "Aisha Ben Carla Dev Erin Fraser Gemma Hugo Imogen Jack Kira Liam Megan Noah Orla Pete Quinn Rosa Sean "
    "Tilly Umar Vicky Will Yasmin Zoe Callum Hannah Ravi Bethany Connor Lorna Theo Nia Shaun Freya".split(),
    "es": "Alba Bruno Carmen Diego Elena Fermín Gloria Hugo Inés Jorge Lola Mateo Nuria Óscar Paula Raúl Sara "
    "Tomás Valeria Iker".split(),
    "fr": "Amélie Baptiste Chloé Damien Émilie Fabien Gaëlle Hélène Isabelle Jérôme Léa Mathis Nathalie Olivier "
    "Pauline Romain Sophie Thierry Valentin Yasmine".split(),
    "de": "Anja Bernd Claudia Dirk Eva Florian Gisela Heiko Ines Jonas Karin Lukas Monika Niklas Petra Ralf "
    "Sabine Tobias Ute Volker".split(),
    "nl": "Anouk Bram Daan Eline Fleur Gijs Hanneke Jeroen Kim Lotte Maarten Noor Pim Roos Sem Tess Thijs Vera "
    "Wouter Yara".split(),
}
LAST = {
    "en": "Ashworth Bell Carver Doyle Ellison Fenwick Garner Hughes Irwin Jarvis Kaur Lowry Mercer Nash Okafor "
    "Pryce Quigley Rowntree Sutton Tran Underwood Vance Whitlock Yeo".split(),
    "es": "Álvarez Blanco Castro Delgado Esteban Flores García Herrera Iglesias Jiménez León Molina Navarro "
    "Ortiz Prieto Ramos Serrano Torres Vidal".split(),
    "fr": "Arnaud Bertin Carpentier Dubois Étienne Fontaine Girard Henry Jacquet Lambert Mercier Noël Perrin "
    "Renaud Simon Tessier Vasseur".split(),
    "de": "Albrecht Brandt Dietrich Engel Fischer Graf Hartmann Jansen Keller Lorenz Meier Neumann Otto "
    "Pohl Richter Schuster Vogel Winter".split(),
    "nl": "Bakker Claassen Dekker Evers Gerritsen Hendriks Jacobs Kok Mulder Nieuwenhuis Peeters Schouten "
    "Timmermans Vos Willems".split(),
}
FEMALE = frozenset(
    "Aisha Carla Erin Gemma Imogen Kira Megan Orla Rosa Tilly Vicky Yasmin Zoe Hannah Bethany Lorna Nia Freya "
    "Alba Carmen Elena Gloria Inés Lola Nuria Paula Sara Valeria Amélie Chloé Émilie Gaëlle Hélène Isabelle Léa "
    "Nathalie Pauline Sophie Yasmine Anja Claudia Eva Gisela Ines Karin Monika Petra Sabine Ute Anouk Eline "
    "Fleur Hanneke Kim Lotte Noor Roos Tess Vera Yara".split()
)
PRONOUNS = {
    "en": {"m": ("he", "his", "him"), "f": ("she", "her", "her")},
    "es": {"m": ("él", "su", "le"), "f": ("ella", "su", "le")},
    "fr": {"m": ("il", "son", "lui"), "f": ("elle", "son", "lui")},
    "de": {"m": ("er", "sein", "ihn"), "f": ("sie", "ihr", "sie")},
    "nl": {"m": ("hij", "zijn", "hem"), "f": ("zij", "haar", "haar")},
}

# (organisation, domain, kind)
ORGS = {
    "en": [
        ("Fairlight Dental Studio", "fairlightdental.co.uk", "dental"),
        ("Hollis & Crane Solicitors", "hollis-crane.co.uk", "law"),
        ("Greyfield Primary Academy", "greyfield.sch.uk", "school"),
        ("Tamarack Property Group", "tamarackpg.com", "property"),
        ("Birchmoor Veterinary Clinic", "birchmoorvets.com", "vet"),
        ("Coastline Accounting", "coastline-accounting.com.au", "accounting"),
        ("Redwater Civil Engineering", "redwater-eng.com", "engineering"),
        ("Summit Roofing & Build", "summitroofing.ca", "builder"),
        ("Lindale Physio Clinic", "lindalephysio.co.uk", "clinic"),
        ("Orchard Lane Nursery", "orchardlane.org", "school"),
    ],
    "es": [
        ("Asesoría Montalbán", "asesoriamontalban.es", "accounting"),
        ("Clínica Veterinaria Los Robles", "vetlosrobles.es", "vet"),
        ("Construcciones Arenal", "arenalobras.es", "builder"),
        ("Despacho Vidal Abogados", "vidalabogados.es", "law"),
    ],
    "fr": [
        ("Cabinet Dentaire des Tilleuls", "dentaire-tilleuls.fr", "dental"),
        ("Fiduciaire Lambert", "fiduciaire-lambert.fr", "accounting"),
        ("Étude Mercier Notaires", "mercier-notaires.fr", "law"),
        ("Kiné Santé Rive Gauche", "kine-rivegauche.fr", "clinic"),
    ],
    "de": [
        ("Praxis Dr. Keller", "praxis-keller.de", "clinic"),
        ("Ingenieurbüro Brandt", "ib-brandt.de", "engineering"),
        ("Kanzlei Graf & Partner", "graf-partner.de", "law"),
        ("Schreinerei Vogel GmbH", "schreinerei-vogel.de", "builder"),
    ],
    "nl": [
        ("Tandartspraktijk De Linde", "tandartsdelinde.nl", "dental"),
        ("Administratiekantoor Mulder", "mulder-administratie.nl", "accounting"),
        ("Bouwbedrijf Dekker B.V.", "dekkerbouw.nl", "builder"),
        ("Basisschool De Regenboog", "regenboog-school.nl", "school"),
    ],
}
ROLES = {
    "en": "Office Manager|Receptionist|Associate Solicitor|Dental Nurse|Practice Manager|Class Teacher|Site "
    "Supervisor|Payroll Administrator|Senior Accountant|Veterinary Nurse|Project Engineer|Leasing Consultant|"
    "Bookkeeper|Teaching Assistant|Physiotherapist|Estimator|Paralegal|Finance Officer".split("|"),
    "es": "Recepción|Administración|Abogada asociada|Auxiliar de clínica|Contable|Jefe de obra|Asesor fiscal".split(
        "|"
    ),
    "fr": "Assistante de direction|Comptable|Clerc de notaire|Assistante dentaire|Kinésithérapeute|Secrétaire".split(
        "|"
    ),
    "de": "Sachbearbeiterin|Steuerfachangestellter|Bauleiter|Medizinische Fachangestellte|Projektingenieur|"
    "Buchhaltung|Empfang".split("|"),
    "nl": "Receptie|Administratie|Werkvoorbereider|Tandartsassistente|Projectleider|Boekhouder|Leerkracht".split(
        "|"
    ),
}
GREETINGS = {
    "en": [
        "Hi,",
        "Hello,",
        "Hi team,",
        "Morning,",
        "Good morning,",
        "Hi there,",
        "Hey,",
        "Dear Helpdesk,",
        "Hello IT,",
        "Good afternoon,",
        "Hiya,",
        "",
        "",
        "",
    ],
    "es": ["Hola,", "Buenos días,", "Buenas tardes,", "Hola equipo,", "Estimados:", ""],
    "fr": ["Bonjour,", "Bonjour à tous,", "Bonsoir,", "Madame, Monsieur,", ""],
    "de": ["Hallo,", "Guten Morgen,", "Hallo zusammen,", "Sehr geehrte Damen und Herren,", "Guten Tag,", ""],
    "nl": ["Hoi,", "Hallo,", "Goedemorgen,", "Beste helpdesk,", "Hoi allemaal,", ""],
}
CLOSINGS = {
    "en": [
        "Thanks,",
        "Thanks",
        "Many thanks,",
        "Cheers,",
        "Kind regards,",
        "Regards,",
        "Thank you!",
        "Ta,",
        "Thanks in advance,",
        "Best,",
        "Thx",
        "",
    ],
    "es": ["Gracias,", "Un saludo,", "Saludos,", "Muchas gracias,", "Un abrazo,"],
    "fr": ["Merci,", "Cordialement,", "Bien à vous,", "Merci d'avance,", "Bonne journée,"],
    "de": ["Danke,", "Viele Grüße", "Mit freundlichen Grüßen", "Beste Grüße,", "Gruß"],
    "nl": ["Bedankt,", "Groet,", "Met vriendelijke groet,", "Alvast bedankt!", "Groetjes,"],
}
SENT_FROM = {
    "en": "Sent from my iPhone|Sent from Outlook for Android|Get Outlook for iOS".split("|"),
    "es": "Enviado desde mi iPhone|Enviado desde Outlook para Android".split("|"),
    "fr": "Envoyé de mon iPhone|Envoyé depuis Outlook pour Android".split("|"),
    "de": "Von meinem iPhone gesendet|Gesendet von Outlook für Android".split("|"),
    "nl": "Verzonden vanaf mijn iPhone|Verzonden met Outlook voor Android".split("|"),
}
DISCLAIMERS = {
    "en": [
        "CONFIDENTIALITY: This e-mail and any attachments are confidential and intended solely for the "
        "addressee. If you are not the intended recipient, please delete it and notify the sender.",
        "This message may contain privileged information. Think of the planet before you print it.",
        "{org} is registered in England and Wales. Registered office as above.",
    ],
    "es": [
        "AVISO LEGAL: Este mensaje es confidencial y va dirigido exclusivamente a su destinatario. Si lo ha "
        "recibido por error, le rogamos que lo comunique al remitente y lo elimine."
    ],
    "fr": [
        "Ce message et ses pièces jointes sont confidentiels et destinés exclusivement à leurs destinataires. "
        "Si vous l'avez reçu par erreur, merci de le supprimer et d'en avertir l'expéditeur."
    ],
    "de": [
        "Diese E-Mail enthält vertrauliche Informationen. Wenn Sie nicht der richtige Adressat sind, "
        "informieren Sie bitte sofort den Absender und vernichten Sie diese E-Mail."
    ],
    "nl": [
        "Dit bericht is uitsluitend bestemd voor de geadresseerde. Heeft u dit bericht per abuis ontvangen, "
        "verwijder het dan en stel de afzender op de hoogte."
    ],
}
ADDRESSES = {
    "en": [
        "14 Wharf Road, Bristol BS1 4QX",
        "Unit 3, Kingsmead Park, Leeds LS9 0AB",
        "2210 Alder Street, Suite 5, Portland, OR 97205",
        "45 Beach Parade, Coogee NSW 2034",
    ],
    "es": ["C/ Mayor 18, 2º, 28013 Madrid", "Av. de la Constitución 7, 41004 Sevilla"],
    "fr": ["12 rue des Tanneurs, 67000 Strasbourg", "3 place Bellecour, 69002 Lyon"],
    "de": ["Hauptstraße 41, 79098 Freiburg", "Am Markt 5, 48143 Münster"],
    "nl": ["Stationsweg 22, 3811 MB Amersfoort", "Kerkstraat 9, 9711 AB Groningen"],
}
SIG_PHONE_LABEL = {
    "en": ["T: {p}", "Direct: {p}", "Mob {p}", "Tel {p}", "P {p}", "{p}", "M: {p} | T: {p2}"],
    "es": ["Tel. {p}", "Móvil: {p}", "{p}"],
    "fr": ["Tél. : {p}", "Portable : {p}", "{p}"],
    "de": ["Tel.: {p}", "Mobil: {p}", "{p}"],
    "nl": ["T {p}", "Tel: {p}", "M: {p}"],
}
PHONES = {
    "en": [
        "07700 900{n3}",
        "+44 7700 900{n3}",
        "(503) 555-01{n2}",
        "555-01{n2}",
        "0491 570 {n3}",
        "+61 491 570 {n3}",
        "020 7946 0{n3}",
    ],
    "es": ["+34 600 {n3} {n3}", "612 {n3} {n3}", "91 {n3} {n2} {n2}"],
    "fr": ["06 {n2} {n2} {n2} {n2}", "+33 6 {n2} {n2} {n2} {n2}", "01 {n2} {n2} {n2} {n2}"],
    "de": ["0151 {n3}{n3}{n2}", "+49 170 {n3} {n3}", "0761 {n3}{n2}"],
    "nl": ["06-{n3}{n3}{n2}", "+31 6 {n2}{n2}{n2}{n2}", "033 {n3} {n2}{n2}"],
}
PERSONAL_DOMAINS = [
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.co.uk",
    "icloud.com",
    "gmx.de",
    "hotmail.fr",
    "ziggo.nl",
    "proton.me",
    "web.de",
    "orange.fr",
    "yahoo.es",
]
CITIES = [
    "Lagos",
    "Bucharest",
    "Jakarta",
    "São Paulo",
    "Minsk",
    "Hanoi",
    "Lima",
    "Kyiv",
    "Nairobi",
    "Manila",
    "Caracas",
    "Tashkent",
]
MSP = ("Brightline IT", "brightline-it.com")
