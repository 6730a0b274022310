"""The per-language data files: every heading, title, substance sentence and page footer of all 24 EU languages."""

from __future__ import annotations

import re

import pytest

from ingest import clean
from ingest.headings import WILDCARD, match_heading, substance_in, title_medicine
from ingest.languages import EU_CODES, HEADING_KEYS, LanguageFileError, get, languages, load_file, parse_language
from ingest.parse import parse

# Names with the letters of each language, so that the patterns are exercised beyond ASCII.
NAMES = {"pl": "Łódź-Med", "cs": "Řepík", "sk": "Ďatelin", "hu": "Őszike", "ro": "Știrix", "de": "Gödmed", "sv": "Åkermed",
         "da": "Ærø-Med", "fi": "Zynteglo", "lv": "Ģimenol", "lt": "Ėglitas", "mt": "Ħarmed", "hr": "Čarmed", "sl": "Šipek"}
CODES = sorted(EU_CODES)


def name_for(code: str) -> str:
    return NAMES.get(code, "Zynteglo")


def exact(patterns):
    return [p for p in patterns if WILDCARD not in p]


def test_all_24_eu_languages_are_there_and_complete():
    langs = languages()
    assert sorted(langs) == CODES
    for code, lang in langs.items():
        assert set(lang.headings) == set(HEADING_KEYS), code
        assert all(exact(ps) for ps in lang.headings.values()), f"{code}: a key has only wildcard patterns"
        assert lang.titles and lang.substance and lang.page_words, code
        assert set(lang.cues) == set(HEADING_KEYS), code
        assert get(code) is lang
    assert get("xx") is None


@pytest.mark.parametrize("code", CODES)
def test_every_exact_heading_matches_with_its_key_language_and_name(code):
    name = name_for(code)
    for key, patterns in get(code).headings.items():
        for pattern in exact(patterns):
            line = pattern.replace("{X}", name)
            for medicine in (None, name):
                m = match_heading(line, medicine)
                assert m is not None, f"{line!r} (medicine={medicine}) is not recognised"
                assert (m.key, m.language, m.name) == (key, code, name), line
            assert match_heading("## " + line).key == key  # a markdown heading mark changes nothing


@pytest.mark.parametrize("code", CODES)
def test_wildcard_headings_match_only_for_the_known_medicine(code):
    name = name_for(code)
    checked = 0
    for key, patterns in get(code).headings.items():
        for pattern in patterns:
            if WILDCARD not in pattern:
                continue
            line = re.sub(r"\s+", " ", pattern.replace("{*}", " xq ").replace("{X}", name)).strip()
            m = match_heading(line, name)
            assert m is not None and (m.key, m.name) == (key, name), f"{code} {key}: {line!r} gave {m}"
            other = match_heading(line, "Othermed")
            assert other is None or other.name != "Othermed"
            checked += 1
    assert checked >= 1 or code in {"en"}


def test_inflected_medicine_name_is_read_back_as_the_medicine():
    m = match_heading("Miten Zyntegloa käytetään?", "Zynteglo")
    assert (m.language, m.key, m.name) == ("fi", "how_used", "Zynteglo")
    assert match_heading("Miten Zyntegloa käytetään?") is None  # unverified wording: only with the name known


@pytest.mark.parametrize("code", CODES)
def test_title_lines_give_the_medicine_name(code):
    name = name_for(code)
    titled = [p for p in get(code).titles if "{X}" in p]
    assert titled, f"{code} has no title pattern naming the medicine"
    for pattern in titled:
        assert title_medicine(pattern.replace("{X}", name)) == name, pattern
    assert title_medicine(f"{name} is a medicine used to treat a disease.") is None


@pytest.mark.parametrize("code", CODES)
def test_substance_sentences_yield_the_substance(code):
    name = name_for(code)
    conj = {"bg": "и", "cs": "a", "el": "και", "et": "ja", "fi": "ja", "hr": "i", "lt": "ir", "lv": "un", "mt": "u",
            "sv": "och", "de": "und", "fr": "et", "da": "og", "nl": "en", "it": "e", "es": "y", "pl": "i"}.get(code, "and")
    for pattern in get(code).substance:
        sentence = pattern.replace("{X}", name).replace("{S}", "examplimab")
        # A list of substances where the pattern says substances: all of them
        sentence = sentence.replace("{S+}", f"examplimab {conj} testinib")
        expected = f"examplimab {conj} testinib" if "{S+}" in pattern else "examplimab"
        text = f"Some text before.\n{sentence}. More text after, which names nothing."
        assert substance_in(text, name) == expected, sentence
    assert substance_in("Nothing about any substance here.", name) is None


def test_substance_stops_at_and_and_keeps_two_word_names():
    text = "Luxturna contains the active substance voretigene neparvovec and is a type of gene therapy."
    assert substance_in(text, "Luxturna") == "voretigene neparvovec"
    sv = "Conexxence innehåller den aktiva substansen denosumab och är ett biologiskt läkemedel."
    assert substance_in(sv, "Conexxence") == "denosumab"


@pytest.mark.parametrize("code", CODES)
def test_page_footer_in_every_language_is_recognised(code):
    name = name_for(code)
    for word in get(code).page_words:
        footer = f"{name} (examplimab) EMA/123456/2024 {word} 2/3"
        assert clean.strip_footers(["Text before.", footer, "Text after."], name) == ["Text before.", "Text after."], footer
        assert clean.is_page_marker(f"{word} 2/3")
        # Spread over three lines, as PDF text often arrives.
        assert clean.strip_footers([f"{name} (examplimab)", "EMA/123456/2024", f"{word} 3/3"], name) == []
    assert not clean.is_page_marker(f"{name} is given 2/3 of the dose")


@pytest.mark.parametrize("line", ["Page 2 of 3", "Strona 2 z 3", "Страница 2 от 3", "Σελίδα 2 από 3", "2/3. oldal",
                                  "Puslapis 2 iš 3", "Blz. 2/3", "Seite 2 von 3", "Sida 2 av 3"])
def test_page_counters_with_each_separator(line):
    assert clean.is_page_marker(line)


def test_language_boilerplate_lines_are_dropped_and_sentences_are_not():
    assert clean.is_boilerplate("This summary was last updated in 02-2016.", web=False)
    assert clean.is_boilerplate("Medicinal product no longer authorised", web=False)
    assert clean.is_boilerplate("30 Churchill Place ● Canary Wharf ● London E14 5EU ● United Kingdom", web=False)
    assert not clean.is_boilerplate("This medicine was studied in 300 patients.", web=False)


@pytest.mark.parametrize("code", CODES)
def test_a_document_with_the_languages_headings_is_parsed_as_that_language(code):
    name = name_for(code)
    lang = get(code)
    body = {key: lang.cues[key][0] for key in HEADING_KEYS}
    text = f"EMA/123456/2024\n{name} (examplimab)\n\n" + "\n\n".join(
        f"{exact(lang.headings[key])[0].replace('{X}', name)}\n{name} {body[key]} examplimab (sentence {i})."
        for i, key in enumerate(HEADING_KEYS))
    doc = parse([text], "text")
    assert (doc.language, doc.medicine, doc.substance) == (code, name, "examplimab")
    assert [s.key for s in doc.sections] == list(HEADING_KEYS)


BROKEN = {
    "unknown section": ('code = "xx"\nname = "X"\nnative = "x"\n[headings]\nwhat_is = ["What is {X}?"]\n[extras]\na = 1\n', "extras"),
    "heading without the name": ('code = "xx"\nname = "X"\nnative = "x"\n[headings]\nhow_used = ["How is it used?"]\n', "headings.how_used"),
    "unknown heading key": ('code = "xx"\nname = "X"\nnative = "x"\n[headings]\nwhat_for = ["What for {X}?"]\n', "headings.what_for"),
    "unknown placeholder": ('code = "xx"\nname = "X"\nnative = "x"\n[headings]\nwhat_is = ["What is {Y} {X}?"]\n', "headings.what_is"),
    "broken regex": ('code = "xx"\nname = "X"\nnative = "x"\n[headings]\nwhat_is = ["What is {X}?"]\n'
                     '[boilerplate]\nlines = ["(unclosed"]\n', "boilerplate.lines"),
    "substance without {S}": ('code = "xx"\nname = "X"\nnative = "x"\n[headings]\nwhat_is = ["What is {X}?"]\n'
                              '[substance]\npatterns = ["{X} contains"]\n', "substance.patterns"),
    "missing name": ('code = "xx"\nnative = "x"\n[headings]\nwhat_is = ["What is {X}?"]\n', "name"),
    "not toml": ('code = "xx\n', "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_loader_rejects_a_broken_file_naming_file_and_entry(case, tmp_path):
    text, entry = BROKEN[case]
    path = tmp_path / "xx.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LanguageFileError) as err:
        load_file(path)
    assert "xx.toml" in str(err.value) and entry in str(err.value)


def test_a_good_file_loads_and_keeps_its_entries(tmp_path):
    path = tmp_path / "xx.toml"
    path.write_text('code = "xx"\nname = "Example"\nnative = "ex"\n[headings]\nwhat_is = ["What is {X}?", "Is {X}{*}?"]\n'
                    '[boilerplate]\npage_words = ["Leaf"]\nlines = ["Updated .*"]\n', encoding="utf-8")
    lang = load_file(path)
    assert (lang.code, lang.headings["what_is"], lang.page_words, lang.boilerplate) == (
        "xx", ("What is {X}?", "Is {X}{*}?"), ("Leaf",), ("Updated .*",))
    assert parse_language(path.read_text(encoding="utf-8"), "xx.toml") == lang
