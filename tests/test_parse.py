"""Parsing the seed documents into EMA sections, as the real loader and parser see them."""

from __future__ import annotations

import re

import pytest

from ingest.headings import match_heading
from ingest.loaders import load
from ingest.parse import parse

from .conftest import SEEDS

ALL_KEYS = {"what_is", "how_used", "how_works", "benefits", "risks", "why_authorised", "safe_use", "other_info"}
EXPECTED = {
    "lumykras_sv.txt": ("Lumykras", "sotorasib", "sv", "EMA/685702/2021", "EMEA/H/C/005522", ALL_KEYS | {"missing_info"}),
    "opzelura_sv.txt": ("Opzelura", "ruxolitinib", "sv", "EMA/169873/2023", "EMEA/H/C/005843", ALL_KEYS),
    "conexxence_sv.txt": ("Conexxence", "denosumab", "sv", None, None, ALL_KEYS),
    # The EPAR web page has no "How does Conexxence work?" section, but adds the page's own.
    "conexxence_en.md": ("Conexxence", "denosumab", "en", "EMA/201153/2025", "EMEA/H/C/006268",
                         (ALL_KEYS - {"how_works"}) | {"product_details", "authorisation_details", "product_information"}),
}

BOILERPLATE = (
    "Domenico Scarlattilaan", "Official address", "Send us a question", "Address for visits",
    "An agency of the European Union", "Reproduction is authorised", "Sida 2/", "Sida 3/",
    "First published", "Other languages", "български", "(BG)", "KB - PDF", "Reference Number",
    "Expand section", "Page contents", "Back to top", "http://", "https://", "[View]",
)


def parsed(name: str):
    loaded = load(SEEDS / name, 50 * 1024 * 1024)
    return parse(loaded.pages, loaded.format)


def all_text(doc) -> str:
    return re.sub(r"\s+", " ", " ".join(s.text for s in doc.sections))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_metadata_and_section_keys(name):
    medicine, substance, language, ref, product, keys = EXPECTED[name]
    doc = parsed(name)
    assert (doc.medicine, doc.substance, doc.language) == (medicine, substance, language)
    assert (doc.ref, doc.product_number) == (ref, product)
    assert {s.key for s in doc.sections} == keys
    assert all(s.text.strip() for s in doc.sections)


def test_epar_page_lists_the_overview_number_not_other_documents():
    doc = parsed("conexxence_en.md")
    assert doc.epar_overview_ref == "EMA/201153/2025"
    assert "EMA/210370/2025" not in all_text(doc)  # the assessment report's number is a list entry


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_boilerplate_survives(name):
    text = all_text(parsed(name))
    for junk in BOILERPLATE:
        assert junk not in text, junk
    # A page footer is the title, the reference and a page counter; none of it is answer text.
    assert not re.search(r"\((?:sotorasib|ruxolitinib)\)\s*EMA/", text)
    assert not re.search(r"\bView\b", text)


def _overview_sentences(raw: str, web: bool) -> list[str]:
    """Sentences of the overview as the file holds them, found without the parser's rules."""
    if web:
        body = raw.split("## Overview", 1)[1].split("## Product information", 1)[0]
        body = body.split("Conexxence : EPAR - Medicine overview", 1)[0]
        body = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", body)
        lines = [ln for ln in body.splitlines() if not ln.startswith("#") and ln.strip() not in ("Expand section", "Collapse section")]
    else:
        lines = [ln for ln in raw.splitlines()
                 if not re.search(r"Official address|Address for visits|Send us a question|An agency of|©|Sida \d|^https?://|^\s*EMA/|^\s*EMEA/|^\s*\w+ \(\w+\)\s*$", ln)
                 and not re.search(r"\?\s*$|^\s*Sammanfattning av|^\s*Mer information om \w+\s*$", ln)]
    flat = re.sub(r"\s+", " ", " ".join(lines))
    sentences = re.split(r"(?<=[.;])\s+(?=[A-Z•ÅÄÖ])", flat)
    return [s.strip() for s in sentences if len(s.split()) >= 5 and s.rstrip().endswith((".", ";"))]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_overview_sentence_survives(name):
    raw = (SEEDS / name).read_text(encoding="utf-8")
    text = all_text(parsed(name))
    sentences = _overview_sentences(raw, name.endswith(".md"))
    assert len(sentences) >= 15
    missing = [s for s in sentences if s.lstrip("• ") not in text]
    assert not missing, missing[:3]


def test_web_page_details_sections_hold_the_facts():
    doc = parsed("conexxence_en.md")
    by_key = {s.key: s.text for s in doc.sections}
    assert "M05BX04" in by_key["product_details"]
    assert "Drugs for treatment of bone diseases" in by_key["product_details"]
    assert "Fresenius Kabi Deutschland GmbH" in by_key["authorisation_details"]
    assert "18/07/2025" in by_key["authorisation_details"]
    assert by_key["other_info"].startswith("Conexxence received a marketing authorisation")


def test_older_epar_summary_layout_splits_what_is_in_two():
    text = (
        "EMA/123456/2010\nEMEA/H/C/000999\n\nEPAR summary for the public\n\nOldmed\nexamplimab\n\n"
        "What is Oldmed?\nOldmed is a medicine that contains the active substance examplimab.\n\n"
        "What is Oldmed used for?\nOldmed is used to treat adults with example disease.\n\n"
        "How is Oldmed used?\nOldmed is given as an infusion every 2 weeks.\n\n"
        "How does Oldmed work?\nIt blocks an example receptor.\n\n"
        "How has Oldmed been studied?\nOne study in 300 patients compared it with placebo.\n\n"
        "What is the risk associated with Oldmed?\nThe most common side effect is headache.\n\n"
        "Why has Oldmed been approved?\nThe benefits were found to outweigh the risks.\n\n"
        "Other information about Oldmed\nThe European Commission granted a marketing authorisation in 2010.\n"
    )
    doc = parse([text], "text")
    keys = [(s.key, s.part) for s in doc.sections]
    assert keys[:2] == [("what_is", 0), ("what_is", 1)]
    assert {k for k, _ in keys} == {"what_is", "how_used", "how_works", "benefits", "risks", "why_authorised", "other_info"}
    assert (doc.medicine, doc.substance, doc.ref, doc.language) == ("Oldmed", "examplimab", "EMA/123456/2010", "en")


def test_text_without_headings_or_cues_is_kept_as_other():
    doc = parse(["Some notes about a medicine.\n\nNothing here follows the EMA layout."], "text", file_name="notes.txt")
    assert [s.key for s in doc.sections] == ["other"]
    assert "Some notes about a medicine." in doc.sections[0].text and "EMA layout." in doc.sections[0].text
    assert any("no EMA section headings" in n for n in doc.notes)
    assert (doc.medicine, doc.medicine_source) == ("Notes", "file name")


def test_long_section_is_split_at_paragraphs_and_keeps_its_key():
    paras = [f"Paragraph {i} says that Longmed is given once a day with water and food. " * 6 for i in range(12)]
    text = "Longmed (longinib)\nWhat is Longmed and what is it used for?\nLongmed treats things.\nHow is Longmed used?\n" + "\n\n".join(paras)
    doc = parse([text], "text", max_tokens=200, count_tokens=lambda t: len(t.split()))
    parts = [s for s in doc.sections if s.key == "how_used"]
    assert len(parts) > 1
    assert all(len(p.text.split()) <= 200 for p in parts)
    assert len({p.part for p in parts}) == len(parts)
    joined = " ".join(p.text for p in parts)
    assert all(para.strip() in joined for para in paras)


@pytest.mark.parametrize("line,key", [
    ("Hur används Lumykras?", "how_used"),
    ("## How is Conexxence used?", "how_used"),
    ("What measures are being taken to ensure the safe and effective use of Opzelura?", "safe_use"),
    ("Vilken information om Lumykras saknas för närvarande?", "missing_info"),
    ("Welche Risiken sind mit Examplimab verbunden?", "risks"),
])
def test_heading_table_matches(line, key):
    assert match_heading(line).key == key


def test_sentence_that_mentions_a_heading_is_not_a_heading():
    assert match_heading("Mer information om Lumykras finns på EMA:s webbplats:") is None
    assert match_heading("Mer information om biosimilarer finns här.") is None


PLAIN_WEB_OVERVIEW = """Listamab
listamabin
Table of contents
Overview
Listamab is used to treat:
- severe asthma in patients aged 6 years and above, given with other medicines when previous treatments do not work well enough;
- nasal polyps in adults, when a corticosteroid given into the nose does not control the disease;
- a blood disorder that causes side effects in the heart and lungs, when the disease keeps coming back.
Listamab contains the active substance listamabin.
Listamab : EPAR - Medicine overview (PDF/157.41 KB)
First published: 03/12/2015
Last updated: 13/12/2021
EMA/466140/2019
Listamab : EPAR - Risk-management-plan summary (PDF/516.32 KB)
First published: 03/12/2015 Last updated: 13/10/2022
International non-proprietary name (INN) or common name |
"""


def test_a_plain_page_overview_keeps_its_list_with_its_lead_in_and_drops_the_download_list(make_settings):
    """A web page saved as plain text has no marked headings: its sections come from their content (the
    model's classifier, as ingest uses it). The conditions listed under "X is used to treat:" stay in what_is
    however much an item sounds like dosing or side effects; the download list and table labels are no
    section's text."""
    from ingest.classify import SectionClassifier
    from rag.embedder import get_embedder

    classifier = SectionClassifier(get_embedder(make_settings()).get_text_embedding_batch)
    doc = parse([PLAIN_WEB_OVERVIEW], "text", file_name="listamab_en.txt", classifier=classifier)
    by_key = {s.key: s.text for s in doc.sections}
    what_is = by_key["what_is"]
    assert "Listamab is used to treat:" in what_is and "nasal polyps" in what_is and "blood disorder" in what_is
    assert "active substance listamabin" in what_is
    assert not {"how_used", "risks"} & set(by_key), by_key
    text = "\n".join(by_key.values())
    assert "PDF/157.41 KB" not in text and "First published" not in text
    assert doc.ref == "EMA/466140/2019"


def test_a_details_label_with_its_fields_on_one_line_is_that_section(make_settings):
    """"Authorisation details: Agency product number …; Marketing-authorisation holder …" on one line is the
    page's authorisation details; the overview text above it is still read by its content."""
    from ingest.classify import SectionClassifier
    from rag.embedder import get_embedder

    text = PLAIN_WEB_OVERVIEW.replace(
        "International non-proprietary name (INN) or common name |\n",
        "Authorisation details: Agency product number EMEA/H/C/009999; Active substance listamabin; "
        "Marketing-authorisation holder Example Pharma B.V.; Date of issue of marketing authorisation valid "
        "throughout the European Union 15/09/2022.\n")
    classifier = SectionClassifier(get_embedder(make_settings()).get_text_embedding_batch)
    doc = parse([text], "text", file_name="listamab_en.txt", classifier=classifier)
    by_key = {s.key: s.text for s in doc.sections}
    assert "Marketing-authorisation holder Example Pharma B.V." in by_key["authorisation_details"]
    assert "nasal polyps" in by_key["what_is"] and "active substance listamabin" in by_key["what_is"]
    assert doc.product_number == "EMEA/H/C/009999"


def test_a_plain_page_says_what_a_hybrid_or_biosimilar_medicine_is_in_what_is(make_settings):
    """"X is a hybrid medicine … The reference medicine for X is Y (45 mg tablets)" tells what X is, though
    it names a strength: it is no dosing text."""
    from ingest.classify import SectionClassifier
    from rag.embedder import get_embedder

    text = ("Hybridex\n\nhybridone\n\nOverview\n\n"
            "Hybridex is a medicine used to treat loss of sight in adults with an inherited eye disease. "
            "Hybridex contains the active substance hybridone.\n\n"
            "Hybridex is a ‘hybrid medicine’. This means that it is similar to a ‘reference medicine’ containing the "
            "same active substance, but Hybridex contains hybridone at a different strength. The reference medicine "
            "for Hybridex is Oldex (45 mg tablets).\n\n"
            "Hybridex can only be obtained with a prescription. The recommended dose is two 150 mg tablets three "
            "times a day with food.\n")
    classifier = SectionClassifier(get_embedder(make_settings()).get_text_embedding_batch)
    by_key = {s.key: s.text for s in parse([text], "text", file_name="hybridex_en.txt", classifier=classifier).sections}
    assert "The reference medicine for Hybridex is Oldex" in by_key["what_is"], by_key
    assert "recommended dose" in by_key["how_used"]


@pytest.mark.parametrize("block, substance", [
    ("EPAR summary for the public\n\nOldmed\n\nExamplimab\n\nThis is a summary of the EPAR for Oldmed.", "Examplimab"),
    ("EPAR summary for the public\nOldmed\nemtricitabine / tenofovir disoproxil\nThis is a summary of the EPAR.",
     "emtricitabine / tenofovir disoproxil"),
    ("Oldmed - eltrombopag\nLast updated 12.02.2020\nInformation about Oldmed", "eltrombopag"),
    ("Zusammenfassung des EPAR für die Öffentlichkeit\n\nOldmed\n\nLenalidomid\n\nDies ist eine Zusammenfassung.",
     "Lenalidomid"),  # no INN ending as German writes it, but the name stands under the title
])
def test_the_substance_is_read_from_the_title_block_when_no_sentence_names_it(block, substance):
    """Older summaries and mirrored pages put the substance under the name ("Stelara" / "Ustekinumab"),
    and an excerpt may end before any "contains the active substance" sentence."""
    text = f"{block}\n\nWhat is Oldmed used for?\nOldmed is used to treat adults with example disease.\n"
    assert parse([text], "text").substance == substance


def test_a_line_under_the_name_that_is_no_substance_is_not_taken_for_one():
    text = ("Oldmed\nMain information\nTrade name: Oldmed\n\nWhat is Oldmed used for?\n"
            "Oldmed is used to treat adults with example disease.\n")
    assert parse([text], "text").substance is None


def test_an_epar_summary_names_its_medicine_in_its_opening_sentence():
    """A page that starts "This is a summary of the … (EPAR) for Oldmed" is about Oldmed, not "This"."""
    text = ("Overview\n\nThis is a summary of the European public assessment report (EPAR) for Oldmed. It explains "
            "how the Committee assessed the medicine.\n\nOldmed is a cancer medicine that contains the active "
            "substance oldmedinib. It is available as tablets (200 mg).\n\nThis medicine is used to treat kidney "
            "cancer in adults.\n\nOldmed is given as two tablets twice a day.\n")
    assert parse([text], "text", file_name="page.txt").medicine == "Oldmed"


def test_a_details_group_printed_one_label_or_value_per_line_is_the_authorisation_details():
    text = ("Oldmed\n\nOverview\n\nOldmed is a medicine used to treat adults with example disease.\n\n"
            "Authorisation details\n\nProduct details\nName\nOldmed\nAgency product number\nEMEA/H/C/000618\n"
            "Publication details\nMarketing-authorisation holder\nExample Registration GmbH\n"
            "Date of issue of marketing authorisation valid throughout the European Union\n18/09/2005\n\n"
            "Product information\n\n09/08/2018 Oldmed - EMEA/H/C/000618 - N/0060\n")
    by_key = {s.key: s.text for s in parse([text], "text", file_name="oldmed_en.txt").sections}
    details = by_key["authorisation_details"]
    assert "Marketing-authorisation holder: Example Registration GmbH" in details
    assert "valid throughout the European Union: 18/09/2005" in details and "N/0060" not in details


def test_a_heading_that_writes_a_word_before_the_name_does_not_rename_the_medicine():
    """Polish summaries ask "Co to jest Xenical?" and then "Jak stosować preparat Xenical?": the medicine is
    Xenical, the name that ends the other headings' names."""
    text = ("XENICAL\n\nStreszczenie EPAR dla ogółu społeczeństwa\n\nCo to jest Oldmed?\n\nOLDMED jest lekiem "
            "zawierającym substancję czynną oldmedistat. Preparat występuje w postaci kapsułek (120 mg).\n\n"
            "W jakim celu stosuje się preparat Oldmed?\n\nOldmed stosuje się łącznie z dietą w leczeniu pacjentów "
            "z otyłością.\n\nJak stosować preparat Oldmed?\n\nOldmed przyjmuje się trzy razy na dobę.\n")
    doc = parse([text], "text", file_name="oldmed_pl.txt")
    assert (doc.medicine, doc.substance) == ("Oldmed", "oldmedistat")
    assert [s.key for s in doc.sections if s.key != "other"] == ["what_is", "what_is", "how_used"]


def test_an_epar_summary_printed_without_blank_lines_keeps_a_section_per_paragraph(make_settings):
    """A page that dropped an old summary's headings and blank lines: every line a paragraph, each its own
    section, so the dose is no longer lost in one block of 'other' text."""
    from ingest.classify import SectionClassifier
    from rag.embedder import get_embedder

    classifier = SectionClassifier(get_embedder(make_settings()).get_text_embedding_batch)
    text = ("Oldmed\nAuthorised\n"
            "This is a summary of the European public assessment report (EPAR) for Oldmed. It explains how the "
            "Committee for Medicinal Products for Human Use (CHMP) assessed the medicine.\n"
            "Oldmed is a medicine that contains the active substance oldmedinib. It is available as tablets (100 mg).\n"
            "Oldmed is an anticancer medicine. It is used to treat adults with chronic myeloid leukaemia.\n"
            "Oldmed treatment should be started by a doctor who has experience in the treatment of cancer. The "
            "dose is 400 mg once a day, taken by mouth with a meal and a large glass of water.\n"
            "The active substance in Oldmed, oldmedinib, is a protein-tyrosine kinase inhibitor. This means that it "
            "blocks some specific enzymes known as tyrosine kinases.\n"
            "Oldmed has been examined in two main studies involving 1,200 adults, which measured how long the "
            "patients lived without their cancer getting worse.\n")
    by_key = {s.key: s.text for s in parse([text], "text", file_name="oldmed_en.txt", classifier=classifier).sections}
    assert "400 mg once a day" in by_key["how_used"]
    assert "blocks some specific enzymes" in by_key["how_works"]
    assert "chronic myeloid leukaemia" in by_key["what_is"] and "400 mg" not in by_key["what_is"]


def test_a_blank_line_inside_a_sentence_does_not_cut_it():
    """A page break printed as a blank line in the middle of a sentence ("… oder das" / "Gesäß injiziert.")."""
    text = ("Was ist Oldmed?\n\nOldmed ist eine Injektionslösung, die den Wirkstoff Oldmedetemir enthält.\n\n"
            "Wie wird Oldmed angewendet?\n\nOldmed wird unter die Haut in die Bauchwand, den Oberschenkel, den Oberarm oder das\n\n"
            "Gesäß injiziert. Oldmed wird einmal täglich gegeben.\n")
    by_key = {s.key: s.text for s in parse([text], "text", file_name="oldmed_de.txt").sections}
    assert "den Oberarm oder das Gesäß injiziert." in by_key["how_used"]
