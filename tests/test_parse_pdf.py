"""Overview PDFs in several EU languages and scripts, built with the features of EMA's own, through
the real loader and parser: language, medicine, numbers, canonical sections and page numbers."""

from __future__ import annotations

import re

import pytest

from ingest.languages import get
from ingest.loaders import load
from ingest.parse import parse

from .pdf_factory import ema_pdf

MEDICINE, SUBSTANCE = "Examplix", "examplinib"
REF, PRODUCT = "EMA/512345/2024", "EMEA/H/C/006123"

# Per language: (indication, dose, side effects). Written for these tests in each language.
TEXT = {
    "en": ("Examplix is a medicine used to treat adults with chronic heart failure. Examplix contains the active substance examplinib.",
           "Examplix can only be obtained with a prescription and is available as tablets. The recommended dose is 100 mg once a day with a meal.",
           "The most common side effects with Examplix are headache, nausea and tiredness, which may affect more than 1 in 10 people."),
    "sv": ("Examplix är ett läkemedel som används för att behandla vuxna med kronisk hjärtsvikt. Examplix innehåller den aktiva substansen examplinib.",
           "Examplix är receptbelagt och finns som tabletter. Den rekommenderade dosen är 100 mg en gång dagligen i samband med en måltid.",
           "De vanligaste biverkningarna som orsakas av Examplix är huvudvärk, illamående och trötthet, som kan förekomma hos fler än 1 av 10 användare."),
    "da": ("Examplix er et lægemiddel, der anvendes til behandling af voksne med kronisk hjertesvigt. Examplix indeholder det aktive stof examplinib.",
           "Examplix udleveres kun efter recept og fås som tabletter. Den anbefalede dosis er 100 mg én gang dagligt sammen med et måltid.",
           "De hyppigste bivirkninger ved Examplix er hovedpine, kvalme og træthed, som kan forekomme hos flere end 1 ud af 10 personer."),
    "de": ("Examplix ist ein Arzneimittel zur Behandlung von Erwachsenen mit chronischer Herzinsuffizienz. Examplix enthält den Wirkstoff examplinib.",
           "Examplix ist nur auf ärztliche Verschreibung erhältlich und als Tabletten erhältlich. Die empfohlene Dosis beträgt 100 mg einmal täglich zu einer Mahlzeit.",
           "Die häufigsten Nebenwirkungen von Examplix sind Kopfschmerzen, Übelkeit und Müdigkeit, die mehr als 1 von 10 Behandelten betreffen können."),
    "pl": ("Examplix jest lekiem stosowanym w leczeniu dorosłych pacjentów z przewlekłą niewydolnością serca. Examplix zawiera substancję czynną examplinib.",
           "Lek wydaje się wyłącznie z przepisu lekarza i jest dostępny w postaci tabletek. Zalecana dawka wynosi 100 mg raz na dobę podczas posiłku.",
           "Najczęstsze działania niepożądane związane ze stosowaniem leku Examplix to ból głowy, nudności i zmęczenie, które mogą wystąpić u więcej niż 1 na 10 osób."),
    "cs": ("Examplix je léčivý přípravek, který se používá k léčbě dospělých s chronickým srdečním selháním. Examplix obsahuje léčivou látku examplinib.",
           "Výdej přípravku Examplix je vázán na lékařský předpis a je dostupný ve formě tablet. Doporučená dávka je 100 mg jednou denně s jídlem.",
           "Nejčastějšími nežádoucími účinky přípravku Examplix jsou bolest hlavy, nevolnost a únava, které mohou postihnout více než 1 osobu z 10."),
    "hu": ("Az Examplix egy gyógyszer, amelyet krónikus szívelégtelenségben szenvedő felnőttek kezelésére alkalmaznak. Az Examplix hatóanyaga az examplinib.",
           "Az Examplix csak orvosi rendelvényre kapható, és tabletta formájában kerül forgalomba. Az ajánlott adag naponta egyszer 100 mg, étkezés közben.",
           "Az Examplix leggyakoribb mellékhatásai a fejfájás, a hányinger és a fáradtság, amelyek 10 betegből több mint 1 beteget érinthetnek."),
    "el": ("Το Examplix είναι φάρμακο που χρησιμοποιείται για τη θεραπεία ενηλίκων με χρόνια καρδιακή ανεπάρκεια. Το Examplix περιέχει τη δραστική ουσία examplinib.",
           "Το Examplix χορηγείται μόνο με ιατρική συνταγή και διατίθεται σε μορφή δισκίων. Η συνιστώμενη δόση είναι 100 mg μία φορά την ημέρα με ένα γεύμα.",
           "Οι συχνότερες ανεπιθύμητες ενέργειες του Examplix είναι πονοκέφαλος, ναυτία και κόπωση, οι οποίες ενδέχεται να εμφανιστούν σε περισσότερους από 1 στους 10 ανθρώπους."),
    "bg": ("Examplix е лекарство, което се използва за лечение на възрастни с хронична сърдечна недостатъчност. Examplix съдържа активното вещество examplinib.",
           "Examplix се отпуска по лекарско предписание и се предлага под формата на таблетки. Препоръчителната доза е 100 mg веднъж дневно с храна.",
           "Най-честите нежелани реакции при Examplix са главоболие, гадене и умора, които може да засегнат повече от 1 на 10 души."),
}
# Filler that pushes the risks section onto page 2, so page numbers and footers are exercised.
FILLER = {
    "en": "Examplix was compared with placebo in a main study involving adults, and patients treated with Examplix had fewer admissions to hospital.",
}


def _heading(code: str, key: str) -> str:
    for pattern in get(code).headings[key]:
        if "{*}" not in pattern:
            return pattern.replace("{X}", MEDICINE)
    pytest.skip(f"{code}: no exact {key} heading in the language file")


def _title(code: str) -> str:
    for pattern in get(code).titles:
        if "{*}" not in pattern and "{X}" in pattern and ":" not in pattern:
            return pattern.replace("{X}", MEDICINE)
    return MEDICINE


def _build(tmp_path, code: str):
    indication, dose, side_effects = TEXT[code]
    benefit = FILLER.get(code, FILLER["en"]) if code == "en" else dose.split(". ")[0] + "."
    sections = [
        (_heading(code, "what_is"), [indication]),
        (_heading(code, "how_used"), [dose] + [benefit] * 3),
        (_heading(code, "risks"), [side_effects]),
    ]
    page_word = get(code).page_words[0]
    path = ema_pdf(tmp_path / f"examplix_{code}.pdf", medicine=MEDICINE, substance=SUBSTANCE, ref=REF, product=PRODUCT,
                   title=_title(code), sections=sections, page_word=page_word, lines_per_page=16, width=70)
    loaded = load(path, 50 * 1024 * 1024)
    return loaded, parse(loaded.pages, loaded.format, file_name=path.name)


@pytest.mark.parametrize("code", sorted(TEXT))
def test_overview_pdf_in_each_script(tmp_path, code):
    loaded, doc = _build(tmp_path, code)
    assert loaded.format == "pdf" and len(loaded.pages) >= 2
    assert doc.language == code
    assert (doc.medicine, doc.ref, doc.product_number) == (MEDICINE, REF, PRODUCT)
    assert doc.medicine_source == "heading"
    assert doc.substance == SUBSTANCE
    by_key = {s.key: s for s in doc.sections}
    assert set(by_key) == {"what_is", "how_used", "risks"}
    flat = {k: re.sub(r"\s+", " ", s.text) for k, s in by_key.items()}
    indication, dose, side_effects = TEXT[code]
    assert indication in flat["what_is"]
    assert dose in flat["how_used"]  # hyphenated words are joined again
    assert side_effects in flat["risks"]
    assert by_key["what_is"].page == 1 and by_key["risks"].page >= 2
    everything = " ".join(flat.values())
    page_word = get(code).page_words[0]
    for junk in ("Domenico Scarlattilaan", "Official address", "An agency of the European Union", f"{page_word} 1/",
                 f"{page_word} 2/", f"({SUBSTANCE})", REF):
        assert junk not in everything, junk
    assert not re.search(r"[^\W\d_]-\s", everything)  # no word left broken at a line end


def test_pdf_page_of_each_section_is_kept(tmp_path):
    loaded, doc = _build(tmp_path, "en")
    pages = {s.key: s.page for s in doc.sections}
    # The risks heading stands on the page where the PDF prints it.
    on_page = [n for n, text in enumerate(loaded.pages, 1) if _heading("en", "risks") in text]
    assert pages["risks"] == on_page[0]
