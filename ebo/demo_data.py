"""Fictional name lists and places for the demo municipality "Sjöviks kommun" (no real people)."""

from __future__ import annotations

MUNICIPALITY = "Sjöviks kommun"
TOWN = "Sjövik"
MUNICIPALITY_CODE = "0199"  # not a real kommunkod
POPULATION = 42_000
HOUSEHOLDS = 18_500
TARGET_PERCENT = 5.0
CENTRE = (59.37, 17.03)

# Neighbourhoods: name, centre (lat, lon), postal codes. Street names are generated per neighbourhood.
NEIGHBOURHOODS: list[tuple[str, tuple[float, float], list[str]]] = [
    ("Centrum", (59.3700, 17.0300), ["745 30", "745 31", "745 32"]),
    ("Sjöängen", (59.3815, 17.0085), ["745 40", "745 41"]),
    ("Ekbacken", (59.3605, 17.0560), ["745 50", "745 51"]),
    ("Kyrkbyn", (59.3545, 17.0060), ["745 60", "745 61"]),
    ("Björkdalen", (59.3900, 17.0480), ["745 70", "745 71"]),
]

STREET_PREFIXES = [
    "Björk", "Ek", "Sjö", "Kyrk", "Skol", "Lönn", "Rönn", "Tall", "Gran", "Hassel", "Lind", "Ängs",
    "Back", "Strand", "Kvarn", "Sol", "Al", "Asp", "Hag", "Löv", "Mos", "Bäck", "Åker", "Gärdes",
]
STREET_SUFFIXES = ["vägen", "gatan", "stigen", "gränd"]

# Twelve fictional schools, by neighbourhood index.
SCHOOLS: list[tuple[str, int]] = [
    ("Sjöängsskolan", 1),
    ("Strandskolan", 1),
    ("Centralskolan Sjövik", 0),
    ("Kvarnbackens skola", 0),
    ("Lönnskolan", 0),
    ("Ekbackens skola", 2),
    ("Solbackeskolan", 2),
    ("Kyrkbyskolan", 3),
    ("Rönnbärsskolan", 3),
    ("Björkdalsskolan", 4),
    ("Skogsgläntans skola", 4),
    ("Tallmoskolan", 4),
]

# Municipal asylum housing: name, neighbourhood index, beds, step-free.
UNITS: list[tuple[str, int, int, bool]] = [
    ("Kvarnbackens boende", 0, 60, True),
    ("Strandvillan", 1, 35, False),
]

# Hosts: common Swedish first names and surnames, combined at random (no real person intended).
HOST_FIRST_NAMES = [
    "Anna", "Eva", "Maria", "Karin", "Kristina", "Lena", "Sara", "Emma", "Ingrid", "Malin", "Linnea",
    "Elin", "Sofia", "Johanna", "Ulla", "Birgitta", "Annika", "Helena", "Cecilia", "Maja", "Lars",
    "Anders", "Johan", "Per", "Erik", "Karl", "Peter", "Magnus", "Mikael", "Jonas", "Fredrik",
    "Henrik", "Stefan", "Björn", "Gustav", "Oskar", "Nils", "Olof", "Mattias", "Daniel",
]
HOST_SURNAMES = [
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
    "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Lindberg", "Lindqvist", "Lundgren", "Berg",
    "Bergström", "Sjöberg", "Holm", "Ekström", "Björk", "Nyström", "Lindahl", "Hedlund", "Forsberg",
    "Sandberg", "Åberg", "Engström", "Dahl", "Wikström", "Ek", "Strand", "Söderlund", "Ahlgren",
]
HOST_FREE_TEXT = [
    "Vi har ett gästrum på övervåningen med eget badrum.",
    "Nära till buss och matbutik. Vi har en trädgård som barnen får använda.",
    "Stort kök som vi gärna delar. Vi pratar lite engelska.",
    "Källarlägenhet med egen ingång, pentry och dusch.",
    "Vi är pensionärer och har gott om tid att hjälpa till med skola och myndigheter.",
    "Vi har en katt som bor inne.",
    "Rummet är ledigt från vårterminen när vår son flyttar hemifrån.",
    "Gästhus på tomten med två rum.",
]
VISIT_NOTES = [
    "Rummet motsvarar beskrivningen. Referenser kontrollerade.",
    "Bra standard, brandvarnare finns. Familjen är väl förberedd.",
    "Trevligt bemötande. Rummet behöver en garderob till.",
    "Ny kontroll av referenser behövs innan beslut.",
]
REJECT_REASONS = [
    "Rummet saknar fönster och kan inte användas som sovrum.",
    "Referenserna kunde inte bekräftas.",
]
STAFF_NAMES = ["Johan Berglund", "Elsa Wik", "Amir Haddad", "Lisa Fors"]

# Families: name lists by origin, with the languages spoken (ISO 639-1). Combinations are fictional.
FAMILY_ORIGINS: list[tuple[list[str], list[str], list[list[str]], int]] = [
    # (first names, surnames, language sets, weight)
    (["Olena", "Iryna", "Oksana", "Natalia", "Tetiana", "Andrii", "Serhii", "Dmytro", "Yulia", "Mykola"],
     ["Kovalenko", "Bondarenko", "Tkachenko", "Shevchuk", "Melnyk", "Kravets", "Moroz", "Lysenko"],
     [["uk", "ru"], ["uk"], ["uk", "en"]], 40),
    (["Amal", "Rania", "Layla", "Omar", "Khaled", "Samir", "Yara", "Hassan", "Nour", "Fadi"],
     ["Haddad", "Khalil", "Nasser", "Saleh", "Darwish", "Mansour", "Aziz", "Yousef"],
     [["ar"], ["ar", "en"], ["ar", "ku"]], 25),
    (["Farid", "Mariam", "Zahra", "Ahmad", "Hamid", "Parwana", "Nasrin", "Javid"],
     ["Rahimi", "Ahmadi", "Karimi", "Hosseini", "Sultani", "Noori"],
     [["fa"], ["fa", "ps"], ["fa", "en"]], 15),
    (["Senait", "Yonas", "Helen", "Tesfay", "Mehret", "Dawit", "Saba", "Filmon"],
     ["Tesfaye", "Gebremedhin", "Haile", "Berhane", "Kidane", "Woldu"],
     [["ti"], ["ti", "en"], ["ti", "ar"]], 10),
    (["Hodan", "Abdi", "Faadumo", "Ayaan", "Mahad", "Sahra", "Liban", "Nimco"],
     ["Warsame", "Farah", "Hassan", "Jama", "Abdullahi", "Osman"],
     [["so"], ["so", "en"], ["so", "ar"]], 10),
]
HEALTH_NOTES = [
    "Ett barn har astma; behöver rökfritt och dammfritt sovrum.",
    "Vuxen med rullator efter en skada; behöver bostad utan trappor.",
    "Pälsdjursallergi hos yngsta barnet.",
    "Ett barn har diabetes typ 1; kylskåp för insulin behövs.",
    "Kontakt med vårdcentralen är upprättad.",
]
FAMILY_NOTES = [
    "Önskar boende nära barnens nuvarande skola.",
    "Familjen har släktingar i Centrum.",
    "Tolk behövs vid möten.",
    "Äldsta barnet börjar gymnasiet till hösten.",
]
DECLINE_REASONS = [
    "Vi har fått besked om renovering av badrummet och kan inte ta emot under hösten.",
    "Tyvärr passar datumet inte, vi är bortresta då.",
    "Vi kan inte ta emot små barn just nu.",
]
FOLLOW_UP_NOTES = [
    "Allt fungerar bra. Barnen har kommit i gång i skolan.",
    "Värden önskar stöd med kontakt med Försäkringskassan.",
    "Familjen trivs. Planerat nästa besök om två månader.",
    "Mindre tvist om tvättstugetider, löst på plats.",
]
LANGUAGE_EXTRAS = ["en", "en", "en", "en", "de", "fr", "es", "ar", "fa", "uk", "ru", "pl", "fi", "so", "ti"]
# Fictional phone numbers: PTS keeps 070-174 06 05 – 070-174 06 99 for use in fiction.
PHONE_FICTION = [f"070-174 06 {n:02d}" for n in range(5, 100)]
