"""The card's own few strings in the cardholder's language: a small catalogue kept apart from the UI's.

The staff interface is in Swedish or English (Flask-Babel); the card itself speaks the person's language.
Translations other than Swedish and English were written without a native speaker and must be reviewed
by one before the card is printed for real (see docs/cards.md).
"""

from __future__ import annotations

RTL = frozenset({"ar", "fa"})

# The language's own name, for the caseworker's choice and the card's lang attribute.
NATIVE_NAMES = {
    "sv": "Svenska", "en": "English", "ar": "العربية", "uk": "Українська", "fa": "فارسی / دری",
    "so": "Soomaali", "ti": "ትግርኛ",
}

TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Välkommenkort",
        "first_name": "Förnamn",
        "valid_until": "Giltigt till",
        "card_number": "Kortnummer",
        "access": "Kortet ger tillgång till",
        "no_partners": "Inga samarbetspartner är inlagda ännu.",
        "not_id": "Kortet är ingen identitetshandling.",
        "scan": "Skanna koden för att kontrollera att kortet gäller.",
        "found": "Hittat kortet? Lämna det till kommunen.",
        "transport": "Kollektivtrafik",
        "library": "Bibliotek",
        "museum": "Museum",
        "course": "Kurser och studier",
        "other": "Övrigt",
    },
    "en": {
        "title": "Welcome card",
        "first_name": "First name",
        "valid_until": "Valid until",
        "card_number": "Card number",
        "access": "This card gives access to",
        "no_partners": "No partners have been added yet.",
        "not_id": "This card is not an identity document.",
        "scan": "Scan the code to check that the card is valid.",
        "found": "Found this card? Please hand it in to the municipality.",
        "transport": "Public transport",
        "library": "Library",
        "museum": "Museum",
        "course": "Courses and studies",
        "other": "Other",
    },
    "ar": {
        "title": "بطاقة الترحيب",
        "first_name": "الاسم الأول",
        "valid_until": "صالحة حتى",
        "card_number": "رقم البطاقة",
        "access": "تتيح هذه البطاقة الدخول إلى",
        "no_partners": "لم تتم إضافة شركاء بعد.",
        "not_id": "هذه البطاقة ليست وثيقة هوية.",
        "scan": "امسح الرمز للتحقق من صلاحية البطاقة.",
        "found": "هل وجدت هذه البطاقة؟ يرجى تسليمها إلى البلدية.",
        "transport": "المواصلات العامة",
        "library": "المكتبة",
        "museum": "المتحف",
        "course": "الدورات والدراسة",
        "other": "أخرى",
    },
    "uk": {
        "title": "Вітальна картка",
        "first_name": "Ім’я",
        "valid_until": "Дійсна до",
        "card_number": "Номер картки",
        "access": "Картка дає доступ до",
        "no_partners": "Партнерів ще не додано.",
        "not_id": "Ця картка не є документом, що посвідчує особу.",
        "scan": "Скануйте код, щоб перевірити, чи картка дійсна.",
        "found": "Знайшли цю картку? Будь ласка, передайте її до муніципалітету.",
        "transport": "Громадський транспорт",
        "library": "Бібліотека",
        "museum": "Музей",
        "course": "Курси та навчання",
        "other": "Інше",
    },
    "fa": {
        "title": "کارت خوش‌آمدگویی",
        "first_name": "نام",
        "valid_until": "معتبر تا",
        "card_number": "شماره کارت",
        "access": "این کارت امکان استفاده از این خدمات را می‌دهد",
        "no_partners": "هنوز هیچ همکاری اضافه نشده است.",
        "not_id": "این کارت مدرک شناسایی نیست.",
        "scan": "برای بررسی اعتبار کارت، کد را اسکن کنید.",
        "found": "این کارت را پیدا کرده‌اید؟ لطفاً آن را به شهرداری تحویل دهید.",
        "transport": "حمل‌ونقل عمومی",
        "library": "کتابخانه",
        "museum": "موزه",
        "course": "دوره‌ها و تحصیل",
        "other": "سایر",
    },
    "so": {
        "title": "Kaarka soo dhaweynta",
        "first_name": "Magaca koowaad",
        "valid_until": "Wuu shaqeynayaa ilaa",
        "card_number": "Lambarka kaarka",
        "access": "Kaarkan wuxuu ku siinayaa gelitaanka",
        "no_partners": "Weli lama darin la-hawlgalayaal.",
        "not_id": "Kaarkan ma aha dukumenti aqoonsi.",
        "scan": "Iskaan garee koodka si aad u hubiso in kaarku shaqeynayo.",
        "found": "Ma heshay kaarkan? Fadlan u geey degmada.",
        "transport": "Gaadiidka dadweynaha",
        "library": "Maktabad",
        "museum": "Matxaf",
        "course": "Koorsooyin iyo waxbarasho",
        "other": "Kuwo kale",
    },
    "ti": {
        "title": "ናይ እንቋዕ ብደሓን መጻእኩም ካርድ",
        "first_name": "ስም",
        "valid_until": "ዝሰርሕ ክሳብ",
        "card_number": "ቁጽሪ ካርድ",
        "access": "እዚ ካርድ ዘእትወሉ ቦታታት",
        "no_partners": "ክሳብ ሕጂ ዝተወሰኸ መሻርኽቲ የለን።",
        "not_id": "እዚ ካርድ ሰነድ መንነት ኣይኮነን።",
        "scan": "ካርድ ዝሰርሕ ምዃኑ ንምርግጋጽ ነቲ ኮድ ስካን ግበሩ።",
        "found": "ነዚ ካርድ ረኺብኩሞ? በጃኹም ናብ ምምሕዳር ከተማ ኣረክቡ።",
        "transport": "ህዝባዊ መጓዓዝያ",
        "library": "ቤት መጻሕፍቲ",
        "museum": "ቤተ-መዘክር",
        "course": "ኮርሳትን ትምህርትን",
        "other": "ካልእ",
    },
}


def card_text(language: str) -> dict[str, str]:
    """The card's strings in `language` (English for an unknown code)."""
    return TEXTS.get(language, TEXTS["en"])


def direction(language: str) -> str:
    """Return the text direction: rtl for Arabic and Persian, else ltr."""
    return "rtl" if language in RTL else "ltr"
