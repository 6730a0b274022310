"""Medicine detection, section intent and fused ranking."""

from __future__ import annotations

import pytest

from rag.catalogue import Catalogue
from rag.intent import section_prior
from rag.language import question_language
from rag.medicines import MedicineResolver

CATALOGUE = Catalogue([
    {"medicine": "Conexxence", "substance": "denosumab", "ref": "EMA/201153/2025", "language": "en", "source": "c.md"},
    {"medicine": "Lumykras", "substance": "sotorasib", "ref": "EMA/685702/2021", "language": "sv", "source": "l.txt"},
    {"medicine": "Opzelura", "substance": "ruxolitinib", "ref": "EMA/169873/2023", "language": "sv", "source": "o.txt"},
], vocabulary={"prolia", "vitiligo"})


@pytest.mark.parametrize("text,names", [
    ("How often is Conexxence given?", ["Conexxence"]),
    ("Vilka är Conexxences biverkningar?", ["Conexxence"]),  # Swedish genitive
    ("how is lumykras taken", ["Lumykras"]),
    ("What is Opzelra used for?", ["Opzelura"]),  # typo
    ("What does sotorasib do?", ["Lumykras"]),  # active substance
    ("Compare Opzelura and Lumykras", ["Opzelura", "Lumykras"]),
    ("Which medicine is used for vitiligo?", []),
])
def test_medicine_detection(text, names):
    assert [m.name for m in CATALOGUE.find(text)] == names


@pytest.mark.parametrize("text,names", [
    ("How often is Konexxense given?", ["Conexxence"]),  # written as it sounds: more than difflib's 0.8 allows
    ("Hur tas lumicras?", ["Lumykras"]),
    ("Vad används Opselura till?", ["Opzelura"]),
    ("Is sotorasyb a tablet?", ["Lumykras"]),  # the substance too
    ("Is Lumikrys a tablet?", []),  # sounds otherwise
])
def test_a_name_spelt_as_it_sounds_is_the_medicine(text, names):
    assert [m.name for m in CATALOGUE.find(text)] == names


def test_a_sound_two_medicines_share_names_neither():
    syntel = {"medicine": "Syntel", "substance": "betamab", "language": "en", "source": "s.md"}
    zyntell = {"medicine": "Zyntell", "substance": "alfamab", "language": "en", "source": "z.md"}
    question = "What is Cinntel used for?"  # sounds like both, two edits or more from either
    assert [m.name for m in Catalogue([syntel]).find(question)] == ["Syntel"]
    assert [m.name for m in Catalogue([zyntell]).find(question)] == ["Zyntell"]
    assert Catalogue([syntel, zyntell]).find(question) == []


@pytest.mark.parametrize("text,unknown", [
    ("What is the maximum daily dose of ibuprofen?", ["ibuprofen"]),
    ("Is Keytruda better than Lumykras?", ["Keytruda"]),
    ("Tell me about Nurofen", ["Nurofen"]),  # a brand, known to the drug lexicon
    ("Does Conexxence interact with omeprazole?", ["omeprazole"]),
    ("What is the dose of zyntegrumab?", ["zyntegrumab"]),  # unknown to the lexicon, but named like an antibody
    ("How often is Conexxence given?", []),
    ("Was ist Conexxence und wofür wird es angewendet?", []),  # capitalised German nouns are no medicines
    ("Welche Nebenwirkungen hat Conexxence?", []),
    ("Vilka biverkningar har Lumykras?", []),
])
def test_medicines_not_in_the_corpus_are_noticed(text, unknown):
    assert MedicineResolver(CATALOGUE).resolve(text).unknown == unknown


def test_a_brand_with_a_substance_the_corpus_holds_is_tied_to_it():
    found = MedicineResolver(CATALOGUE).resolve("How is Xgeva given?")
    assert found.unknown == ["Xgeva"] and not found.medicines
    assert [(name, m.name) for name, m in found.same_substance] == [("Xgeva", "Conexxence")]


@pytest.mark.parametrize("question,key", [
    ("What is the recommended dose of Lumykras?", "how_used"),
    ("How often is Conexxence given?", "how_used"),
    ("Hur ofta ges Conexxence?", "how_used"),
    ("What are the side effects of Opzelura?", "risks"),
    ("Vilka biverkningar har Lumykras?", "risks"),
    ("How does Lumykras work?", "how_works"),
    ("What did the studies show?", "benefits"),
    ("What is Opzelura used for?", "what_is"),
    ("Why was Lumykras approved?", "why_authorised"),
    ("What information is still awaited about Lumykras?", "missing_info"),
    ("Who is the marketing authorisation holder?", "authorisation_details"),
    ("What is the ATC code of Conexxence?", "product_details"),
    ("Ab welchem Alter kann Conexxence gegeben werden?", "what_is"),  # the age a medicine is for
    ("À partir de quel âge Opzelura peut-il être utilisé ?", "what_is"),
    ("Fra hvilken alder kan Lumykras bruges?", "what_is"),
    ("Vilken aktiv substans finns i Lumykras?", "what_is"),  # the shape's substance cues count as intent
    ("Hvilket aktivt stof er der i Opzelura?", "what_is"),
    ("När godkändes Opzelura?", "other_info"),
    ("Was ist Conexxence?", "what_is"),  # an opener that names no section decides only alone
    ("Wat is de meest voorkomende bijwerking van Opzelura?", "risks"),
    ("Was ist die empfohlene Dosis von Lumykras?", "how_used"),
    ("Qu’est-ce que Opzelura ?", "what_is"),
    ("Who starts and supervises treatment with Lumykras?", "how_used"),  # "treatment" is no "treat"
    ("What is Opzelura used to treat?", "what_is"),
    ("Hur länge ska behandlingen med Lumykras pågå?", "how_used"),  # "behandlingen" is no "behandla"
])
def test_section_intent(question, key):
    prior = section_prior(question)
    assert prior[key] == 1.0


def test_no_cue_means_no_prior():
    assert section_prior("Tell me about Conexxence") == {}
    assert "other_info" not in section_prior("När ska behandlingen med Conexxence starta?")  # "when" is no section
    # "why" asks for a reason in any section, "breast" may be a cancer: neither names a section alone
    assert "why_authorised" not in section_prior("Why should the pulse be checked when starting Conexxence?")
    assert "why_authorised" not in section_prior("Hvorfor skal pulsen tjekkes, når man starter på Conexxence?")
    assert "risks" not in section_prior("What kind of breast cancer is Lumykras for?")
    assert section_prior("Can Opzelura be used when breast-feeding?") == {"risks": 1.0}


def test_cues_match_word_starts_and_marked_cues_whole_words_only():
    assert "how_works" in section_prior("How does it act?")  # "act=": the word itself
    assert "how_works" not in section_prior("What is the active ingredient?")  # not "active"
    assert "how_used" in section_prior("Is it administered by a nurse?")  # "administ": any ending
    assert "how_used" not in section_prior("Is it readministration?")  # not inside a word


@pytest.mark.parametrize("q,lang", [("How often is Conexxence given?", "en"), ("Hur ofta ges Conexxence?", "sv"),
                                    ("vilken dos av Lumykras rekommenderas?", "sv"), ("Which medicine treats vitiligo?", "en"),
                                    ("Was ist Conexxence?", "de"), ("Welche Nebenwirkungen hat Conexxence?", "de"),
                                    ("Quels sont les effets secondaires de Lumykras ?", "fr"),
                                    ("Hvor ofte gives Conexxence?", "da"), ("Co to jest Opzelura?", "pl")])
def test_question_language(q, lang):
    assert question_language(q, CATALOGUE.names_pattern) == lang


def _top(service, question, medicines=None, **weights):
    old = service.ranking
    service.ranking = old.model_copy(update=weights)
    try:
        ranked = service.retrieve(question, medicines=medicines, language=question_language(question),
                                  prior=section_prior(question))
    finally:
        service.ranking = old
    return ranked[0].meta


def test_fusion_uses_intent_where_dense_alone_picks_the_wrong_section(service):
    question = "How does Conexxence work?"
    dense_only = _top(service, question, ["Conexxence"], dense=1.0, bm25=0.0, intent=0.0, language=0.0)
    fused = _top(service, question, ["Conexxence"])
    assert dense_only["section"] != "how_works"
    assert (fused["section"], fused["language"]) == ("how_works", "sv")  # the only how_works is Swedish


def test_fusion_prefers_the_question_language_when_both_exist(service):
    assert _top(service, "How often is Conexxence given?", ["Conexxence"])["language"] == "en"
    assert _top(service, "Hur ofta ges Conexxence?", ["Conexxence"])["language"] == "sv"


def test_medicine_filter_keeps_other_medicines_out(service):
    ranked = service.retrieve("What are the most common side effects?", medicines=["Opzelura"], language="en",
                              prior=section_prior("side effects"))
    assert ranked and {r.meta["medicine"] for r in ranked} == {"Opzelura"}


def test_catalogue_comes_from_the_store(service):
    meds = {m["name"]: m for m in service.medicines()}
    assert set(meds) == {"Conexxence", "Lumykras", "Opzelura"}
    assert meds["Conexxence"]["refs"] == ["EMA/201153/2025"]
    assert meds["Lumykras"]["active_substance"] == "sotorasib"
