"""Which medicine a question is about, in any language: never another medicine's facts.

On the seed store: Conexxence (denosumab, English and Swedish), Lumykras (sotorasib) and Opzelura
(ruxolitinib), both Swedish.
"""

from __future__ import annotations

import pytest

LUMYKRAS_TURN = [
    {"role": "user", "content": "What is Lumykras used for?"},
    {"role": "assistant", "content": "According to the EMA overview of Lumykras: “Lumykras är ett cancerläkemedel …” [1]"},
]


def cited(answer) -> set[str]:
    return {c.medicine for c in answer.citations}


@pytest.mark.parametrize("question,name", [
    ("What is the dose of naproxen?", "naproxen"),
    ("What is the maximum daily dose of ibuprofen?", "ibuprofen"),
    ("Tell me about Nurofen", "Nurofen"),
    ("Wie wird Keytruda angewendet?", "Keytruda"),
])
def test_a_medicine_the_corpus_lacks_is_refused_by_name(service, question, name):
    a = service.answer(question)
    assert a.refused and a.reason == "unknown_medicine" and not a.citations
    assert name in a.answer


def test_the_same_substance_is_named_but_never_quoted_as_the_medicine_asked(service):
    a = service.answer("How is Xgeva given?")
    assert a.refused and not a.citations
    assert "Xgeva" in a.answer and "Conexxence" in a.answer and "denosumab" in a.answer


def test_a_condition_question_after_another_medicine_is_answered_from_the_condition(service):
    a = service.answer("Which medicine treats vitiligo?", history=LUMYKRAS_TURN)
    assert not a.refused
    assert cited(a) == {"Opzelura"}
    assert "vitiligo" in a.answer.lower()


def test_a_condition_no_overview_names_is_refused(service):
    a = service.answer("Which medicine treats migraine?")
    assert a.refused and not a.citations


def test_a_condition_question_in_swedish(service):
    a = service.answer("Finns det något läkemedel mot benskörhet?")
    assert not a.refused and cited(a) == {"Conexxence"}


def test_the_medicine_filter_is_a_default_not_a_gag(service):
    a = service.answer("What is Lumykras used for?", medicine="Opzelura")
    assert not a.refused and cited(a) == {"Lumykras"}
    assert "Lumykras" in a.answer.split("\n")[0] and "Opzelura" in a.answer.split("\n")[0]
    b = service.answer("What are the most common side effects?", medicine="Opzelura")
    assert not b.refused and cited(b) == {"Opzelura"}


@pytest.mark.parametrize("question,history,medicine,section", [
    ("and how is it taken?", LUMYKRAS_TURN, "Lumykras", "how_used"),
    ("hur verkar det?", LUMYKRAS_TURN, "Lumykras", "how_works"),
])
def test_real_follow_ups_use_the_conversation(service, question, history, medicine, section):
    a = service.answer(question, history=history)
    assert not a.refused, a.answer
    assert cited(a) == {medicine} and a.citations[0].section == section


def test_a_question_naming_nothing_without_a_conversation_asks_which_medicine(service):
    a = service.answer("What are the most common side effects?")
    assert a.refused and a.reason == "no_medicine" and not a.citations


@pytest.mark.parametrize("question,lang,intro,section", [
    ("Was ist Conexxence?", "de", "Laut der EMA-Übersicht zu Conexxence", "what_is"),
    ("Welche Nebenwirkungen hat Conexxence?", "de", "Laut der EMA-Übersicht zu Conexxence", "risks"),
    ("Hvor ofte gives Conexxence?", "da", "Ifølge EMA's oversigt over Conexxence", "how_used"),
    ("Quels sont les effets secondaires de Lumykras ?", "fr", "Selon l’aperçu de l’EMA sur Lumykras", "risks"),
])
def test_other_eu_languages_are_answered_in_their_language(service, question, lang, intro, section):
    a = service.answer(question)
    assert not a.refused, a.answer
    assert a.language == lang and a.answer.startswith(intro)
    assert a.citations[0].section == section


def test_a_language_without_phrases_is_answered_in_english(service):
    a = service.answer("Jakie są działania niepożądane leku Opzelura?")
    assert a.language == "pl"
    assert a.refused or a.answer.startswith("According to the EMA overview of Opzelura")


def test_a_question_the_dictionary_cannot_match_does_not_load_it():
    """The term list lets through every question the dictionary itself would match, and only those."""
    from drug_named_entity_recognition import find_drugs

    from rag import medicines

    questions = ("What is the maximum daily dose of ibuprofen?", "Is Nurofen the same as Xgeva?",
                 "How often is Conexxence given?", "Hur ofta ges Conexxence?", "vitamin D and calcium with Prolia",
                 "What is insulin glargine used for?", "Wie wird Keytruda angewendet?", "Vad används Lumykras för?",
                 "Which medicine is used for vitiligo?", "acetylsalicylic acid or paracetamol?")
    for q in questions:
        words = medicines._WORD.findall(q)
        matched = bool(find_drugs(words, is_ignore_case=True))
        assert medicines._may_match(words) == matched, q


def test_a_substance_that_several_medicines_contain_names_them_all():
    """"What is emtricitabine used for?" is about every overview whose medicine contains it (Truvada and
    Biktarvy), not a medicine the corpus lacks."""
    from rag.catalogue import Catalogue
    from rag.medicines import MedicineResolver

    catalogue = Catalogue([
        {"medicine": "Truvada", "substance": "emtricitabine / tenofovir disoproxil", "source": "truvada_en.txt"},
        {"medicine": "Biktarvy", "substance": "bictegravir / emtricitabine / tenofovir alafenamide", "source": "biktarvy_en.txt"},
        {"medicine": "Conexxence", "substance": "denosumab", "source": "conexxence_en.md"},
    ])
    found = MedicineResolver(catalogue).resolve("What is emtricitabine used for?")
    assert sorted(m.name for m in found.medicines) == ["Biktarvy", "Truvada"] and not found.unknown
    assert [m.name for m in MedicineResolver(catalogue).resolve("Is bictegravir taken daily?").medicines] == ["Biktarvy"]


def test_a_substance_its_overview_writes_otherwise_names_the_medicine_through_the_lexicon():
    """The lexicon knows Levemir as a brand of insulin detemir, so "detemir" is Levemir even where the
    overview writes "Insulindetemir"; a brand of a corpus substance (Alli, orlistat) stays a medicine the
    corpus lacks, and another brand of a substance the corpus lacks (Tresiba) too."""
    from rag.catalogue import Catalogue
    from rag.medicines import MedicineResolver

    catalogue = Catalogue([
        {"medicine": "Levemir", "substance": "Insulindetemir", "source": "levemir_de.txt"},
        {"medicine": "Xenical", "substance": "orlistat", "source": "xenical_pl.txt"},
    ])
    resolver = MedicineResolver(catalogue)
    found = resolver.resolve("Czy insulinę detemir można kupić bez recepty?")
    assert [m.name for m in found.medicines] == ["Levemir"] and not found.unknown
    alli = resolver.resolve("Was ist Alli?")
    assert not alli.medicines and alli.unknown == ["Alli"] and [m.name for _, m in alli.same_substance] == ["Xenical"]
    tresiba = resolver.resolve("How is Tresiba given?")
    assert not tresiba.medicines and tresiba.unknown == ["Tresiba"]
