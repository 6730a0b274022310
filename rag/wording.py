"""What the bot says around the quoted text, in the question's language (English or Swedish)."""

from __future__ import annotations

LANG_NAMES = {
    "en": {"en": "English", "sv": "Swedish", "de": "German", "fr": "French"},
    "sv": {"en": "engelska", "sv": "svenska", "de": "tyska", "fr": "franska"},
}

TEXT = {
    "en": {
        "intro": "According to the EMA overview of {medicine}",
        "in_language": " (the overview is in {language})",
        "pointer": "For advice about your own treatment, read the package leaflet or ask a doctor or pharmacist.",
        "not_covered": "The EMA summaries I have do not answer this question.",
        "unknown_medicine": "The EMA summaries I have do not cover {names}.",
        "covered": "I can answer from the EMA overviews of: {medicines}.",
        "empty": "Please type a question about a medicine, for example: How often is Conexxence given?",
        "too_long": "That question is {n} characters long; please keep it under {limit} characters.",
        "injection": "I can only answer questions from the EMA medicine overviews, and I follow the same rules for every question.",
        "empty_store": "No documents are loaded yet. Run `python -m ingest` (or `make run`) first.",
        "out_of_scope": "The EMA summaries do not cover prices, reimbursement or where to buy a medicine; ask a pharmacist.",
        "no_section": "The EMA overview of {medicine} does not have that information.",
    },
    "sv": {
        "intro": "Enligt EMA:s sammanfattning om {medicine}",
        "in_language": " (sammanfattningen är på {language})",
        "pointer": "För råd om din egen behandling, läs bipacksedeln eller fråga läkare eller apotekspersonal.",
        "not_covered": "EMA-sammanfattningarna som jag har svarar inte på den frågan.",
        "unknown_medicine": "EMA-sammanfattningarna som jag har omfattar inte {names}.",
        "covered": "Jag kan svara utifrån EMA:s sammanfattningar om: {medicines}.",
        "empty": "Skriv en fråga om ett läkemedel, till exempel: Hur ofta ges Conexxence?",
        "too_long": "Frågan är {n} tecken lång; håll den under {limit} tecken.",
        "injection": "Jag kan bara svara på frågor utifrån EMA:s läkemedelssammanfattningar, med samma regler för varje fråga.",
        "empty_store": "Inga dokument är inlästa ännu. Kör `python -m ingest` (eller `make run`) först.",
        "out_of_scope": "EMA:s sammanfattningar tar inte upp priser, subventioner eller var läkemedel kan köpas; fråga på apoteket.",
        "no_section": "EMA:s sammanfattning om {medicine} innehåller inte den informationen.",
    },
}


def say(lang: str, key: str, **values) -> str:
    table = TEXT.get(lang, TEXT["en"])
    return table[key].format(**values)


def language_name(language: str, in_language: str) -> str:
    return LANG_NAMES.get(in_language, LANG_NAMES["en"]).get(language, language)
