"""The answer chain in llama-index terms, and what the quote must hold: over the four seeds, real store and model."""

from __future__ import annotations

import pytest
from llama_index.core.schema import NodeWithScore, QueryBundle

from rag.catalogue import Catalogue
from rag.postprocess import LanguagePreference, MedicineFilter, SectionIntent, TopK
from rag.retriever import ScoredSection, SectionRetriever


def test_the_retriever_is_a_llama_index_retriever_of_scored_nodes(service):
    service.corpus.refresh()
    retriever = SectionRetriever(service.corpus, service.embedder, service.ranking, ["Lumykras"])
    nodes = retriever.retrieve("Vilken dos av Lumykras rekommenderas?")  # llama-index's own entry point
    assert nodes and all(isinstance(n, NodeWithScore) and isinstance(n, ScoredSection) for n in nodes)
    assert {n.node.metadata["medicine"] for n in nodes} == {"Lumykras"}
    assert [n.score for n in nodes] == sorted((n.score for n in nodes), reverse=True)


def test_postprocessors_add_section_and_language_and_keep_other_medicines_out(service):
    service.corpus.refresh()
    bundle = QueryBundle("How often is Conexxence given?")
    nodes = SectionRetriever(service.corpus, service.embedder, service.ranking).retrieve(bundle)
    assert {n.node.metadata["medicine"] for n in nodes} > {"Conexxence"}  # no medicine filter: all of them
    kept = MedicineFilter(medicines=["Conexxence"]).postprocess_nodes(nodes, query_bundle=bundle)
    assert kept and {n.node.metadata["medicine"] for n in kept} == {"Conexxence"}
    before = {n.node.node_id: n.score for n in kept}
    kept = SectionIntent(prior={"how_used": 1.0}, weight=2.0).postprocess_nodes(kept, query_bundle=bundle)
    kept = LanguagePreference(language="en", weight=0.5).postprocess_nodes(kept, query_bundle=bundle)
    for n in kept:
        bonus = 2.0 * (n.node.metadata["section"] == "how_used") + 0.5 * (n.node.metadata["language"] == "en")
        assert n.score == pytest.approx(before[n.node.node_id] + bonus)
    top = TopK(k=1).postprocess_nodes(kept, query_bundle=bundle)
    assert [(t.node.metadata["section"], t.node.metadata["language"]) for t in top] == [("how_used", "en")]


def test_ranking_weights_come_from_the_settings(make_settings, monkeypatch):
    monkeypatch.setenv("RANKING__INTENT", "0.5")
    monkeypatch.setenv("RANKING__SECTION_DENSE", "0.9")
    ranking = make_settings().ranking
    assert (ranking.intent, ranking.section_dense) == (0.5, 0.9)


@pytest.mark.parametrize("question,must_hold", [
    ("Wie oft wird Conexxence gegeben?", ("var sjätte månad", "every 6 months")),  # frequency, German question
    ("Hoe vaak wordt Conexxence gegeven?", ("var sjätte månad", "every 6 months")),  # Dutch: question phrases only
    ("Quelle est la substance active d'Opzelura ?", ("ruxolitinib",)),  # substance; elided article split off
    ("Welchen Wirkstoff enthält Lumykras?", ("sotorasib",)),
    ("How far apart are Conexxence injections given?", ("6 months", "sjätte månad")),  # question form, no topic
])
def test_the_quote_holds_what_the_question_asks_for(service, question, must_hold):
    a = service.answer(question)
    assert not a.refused, a.answer
    assert any(m in a.citations[0].quote for m in must_hold), a.citations[0].quote


def test_a_medicine_asked_about_by_its_substance_is_answered_with_its_use_not_its_substance(service):
    a = service.answer("What is sotorasib used for?")
    assert not a.refused and a.citations[0].medicine == "Lumykras"
    assert "lungcancer" in a.citations[0].quote and "aktiva substansen" not in a.citations[0].quote


@pytest.mark.parametrize("question", [
    "Should Lumykras be taken with food?",
    "Kann ich mein Auto fahren, wenn ich Lumykras nehme?",
    "How should Opzelura cream be stored?",
    "Puis-je donner Opzelura à mon chien ?",
])
def test_leaflet_topics_the_overview_does_not_write_about_are_refused_with_a_pointer(service, question):
    a = service.answer(question)
    assert a.refused and a.reason == "leaflet_only" and a.citations == []


LEAFLET_TOPIC = """EMA/111111/2024
Storavir (storavirin)

What is Storavir and what is it used for?
Storavir is a medicine used to treat shingles in adults.

How is Storavir used?
Storavir is available as tablets. The recommended dose is one tablet twice a day with food. The tablets must be
stored in a refrigerator at 2 to 8 degrees.
"""


_SERVICES: dict[tuple[str, str], object] = {}


def _service_over(make_settings, tmp_path, name: str, text: str):
    """A service over a store holding one document, ingested as a user would; once per document and session
    (the tests only ask)."""
    return _service_over_files(make_settings, tmp_path, {name: text})


def _service_over_files(make_settings, tmp_path, files: dict[str, str]):
    from ingest.pipeline import ingest
    from rag.service import RagService

    key = tuple(sorted(files.items()))
    if key not in _SERVICES:
        docs = tmp_path / "docs"
        docs.mkdir()
        for name, text in files.items():
            (docs / name).write_text(text, encoding="utf-8")
        settings = make_settings()
        assert ingest([docs], settings).exit_code == 0
        _SERVICES[key] = RagService(settings)
    return _SERVICES[key]


def test_a_leaflet_topic_the_overview_does_write_about_is_answered(make_settings, tmp_path):
    service = _service_over(make_settings, tmp_path, "storavir_en.txt", LEAFLET_TOPIC)
    a = service.answer("Should Storavir be taken with food?")
    assert not a.refused and "with food" in a.citations[0].quote
    german = service.answer("Soll Storavir mit dem Essen eingenommen werden?")  # other language, same topic
    assert not german.refused and "with food" in german.citations[0].quote


OLD_LAYOUT = """EMA/222222/2012
EMEA/H/C/002222
EPAR summary for the public
Formavir
formavirumab

What is Formavir?
Formavir is a concentrate that is made up into a solution for infusion (drip) into a vein. It contains the
active substance formavirumab.

What is Formavir used for?
Formavir is used to treat:

• chronic plaque dermatitis in adults;
• severe eczema in children from 6 years of age.

The medicine can only be obtained with a prescription.
"""


def test_a_used_for_question_is_answered_with_what_the_medicine_treats(make_settings, tmp_path):
    """The older EPAR summaries hold "What is X?" and "What is X used for?" in one section: the quote
    is the sentence that says what it treats, in any question language, and a list item holds its lead-in."""
    service = _service_over(make_settings, tmp_path, "formavir_en.txt", OLD_LAYOUT)
    for question in ("What is Formavir used for?", "Wofür wird Formavir angewendet?", "À quoi sert Formavir ?",
                     "A cosa serve Formavir?", "Vad används Formavir för?"):
        a = service.answer(question)
        assert not a.refused, (question, a.answer)
        quote = a.citations[0].quote
        assert "used to treat" in quote or "dermatitis" in quote or "eczema" in quote, (question, quote)
        assert "concentrate" not in quote, (question, quote)
    age = service.answer("From what age can Formavir be used for eczema?")
    assert not age.refused and "6 years" in age.citations[-1].quote, age.answer
    assert age.citations[0].quote.startswith("Formavir is used to treat:")  # the item is quoted with its lead-in


def test_names_of_several_words_and_one_substance_of_a_combination_find_their_medicine():
    catalogue = Catalogue([
        {"medicine": "Luxturna", "substance": "voretigene neparvovec", "language": "en", "source": "l.txt"},
        {"medicine": "Truvada", "substance": "emtricitabine / tenofovir disoproxil", "language": "en", "source": "t.txt"},
        {"medicine": "Prolia", "substance": "denosumab", "language": "en", "source": "p.txt"},
        {"medicine": "Conexxence", "substance": "denosumab", "language": "en", "source": "c.txt"},
    ])
    assert [m.name for m in catalogue.find("What is voretigene neparvovec used for?")] == ["Luxturna"]
    assert [m.name for m in catalogue.find("What is emtricitabine used for?")] == ["Truvada"]
    assert [m.name for m in catalogue.find("Quel est le dosage de l'Prolia ?")] == ["Prolia"]
    assert catalogue.as_named("What is emtricitabine used for?") == "What is Truvada used for?"
    assert catalogue.as_named("How often is conexence given?") == "How often is Conexxence given?"
    assert catalogue.as_named("What is denosumab used for?") == "What is denosumab used for?"  # two medicines have it
    assert catalogue.as_named("What is voretigene neparvovec used for?") == "What is Luxturna used for?"


SET_PHRASES = """Pravomab (pravomabin)
EMA/333333/2024

What is Pravomab and what is it used for?
Pravomab is a medicine used to treat chronic gout in adults.

How is Pravomab used?
Pravomab can only be obtained with a prescription and treatment should be started by a doctor experienced in
the treatment of gout. Pravomab is given as an infusion into a vein every 4 weeks. If Pravomab is taken with
allopurinol, the dose of allopurinol may need to be lowered to avoid kidney stones. For more information about
using Pravomab, see the package leaflet or contact your doctor or pharmacist.
"""


def test_the_overviews_set_phrases_answer_only_a_question_about_them(make_settings, tmp_path):
    """Every overview says it is prescription-only and where to read more: true, but not how the medicine is
    given. Asked about the prescription itself, that sentence is the answer."""
    service = _service_over(make_settings, tmp_path, "pravomab_en.txt", SET_PHRASES)
    for question in ("How is Pravomab given?", "Wie wird Pravomab angewendet?", "Hvordan gives Pravomab?"):
        a = service.answer(question)
        assert not a.refused and "infusion into a vein" in a.citations[0].quote, (question, a.answer)
        assert "prescription" not in a.citations[0].quote, (question, a.citations[0].quote)
    asked = service.answer("Does Pravomab need a prescription?")
    assert not asked.refused and "prescription" in asked.citations[0].quote, asked.answer


def test_a_why_question_that_names_a_dose_is_answered_with_the_reason(make_settings, tmp_path):
    """"Why may the dose … be lowered?" wants a reason: a sentence with a number is not required of it."""
    service = _service_over(make_settings, tmp_path, "pravomab_en.txt", SET_PHRASES)
    for question in ("Why may the dose of allopurinol need to be lowered with Pravomab?",
                     "Warum muss die Dosis von Allopurinol mit Pravomab eventuell gesenkt werden?"):
        a = service.answer(question)
        assert not a.refused and "kidney stones" in a.citations[0].quote, (question, a.answer)


SUBSTANCE_ELSEWHERE = """Subsmab (subsmabin)
EMA/444444/2024

What is Subsmab and what is it used for?
Subsmab is a medicine used to treat chronic gout in adults whose disease is not controlled by other medicines.

How is Subsmab used?
Subsmab is given as an infusion into a vein every 4 weeks. Some patients may benefit from a first dose of 2 infusions,
given 1 week apart.

How does Subsmab work?
The active substance in Subsmab, subsmabin, is a monoclonal antibody that blocks an enzyme making uric acid.

What benefits of Subsmab have been shown in studies?
In a main study involving 412 patients with chronic gout, uric acid fell below the target in 64% of patients
given Subsmab compared with 9% of patients given placebo.
"""


def test_how_many_asks_for_a_count_not_for_the_dose(make_settings, tmp_path):
    """"How many" is a question form every section can answer: the words around it say which section."""
    service = _service_over(make_settings, tmp_path, "subsmab_en.txt", SUBSTANCE_ELSEWHERE)
    a = service.answer("How many patients took part in the first main study of Subsmab?")
    assert not a.refused and "412" in a.citations[0].quote and a.citations[0].section == "benefits", a.answer


def test_a_question_for_the_active_substance_is_answered_where_the_overview_names_it(make_settings, tmp_path):
    """Asked for the active substance in any language, the answer quotes the sentence that names it, here
    not in the section that says what the medicine is for, but in the next one that does."""
    service = _service_over(make_settings, tmp_path, "subsmab_en.txt", SUBSTANCE_ELSEWHERE)
    for question in ("What is the active substance of Subsmab?", "Welchen Wirkstoff enthält Subsmab?",
                     "Vilken aktiv substans finns i Subsmab?", "Hvilket aktivt stof er der i Subsmab?",
                     "Quelles sont les substances actives de Subsmab ?"):
        a = service.answer(question)
        assert not a.refused, (question, a.answer)
        assert "subsmabin" in a.citations[0].quote, (question, a.citations[0].quote)


ASTHMA_AND_HIV = {
    "breathmab_en.txt": """Breathmab (breathumab)
EMA/555551/2024

What is Breathmab and what is it used for?
Breathmab is a medicine used to treat severe asthma in adults whose disease is not controlled by inhalers.

How is Breathmab used?
Breathmab is given as an injection under the skin every 4 weeks.
""",
    "virostat_en.txt": """Virostat (virostatin)
EMA/555552/2024

What is Virostat and what is it used for?
Virostat is an antiviral medicine used to treat adults infected with human immunodeficiency virus 1 (HIV-1).

How is Virostat used?
Virostat is taken as one tablet once a day.
""",
}


def test_a_condition_asked_in_another_language_finds_the_medicines_that_treat_it(make_settings, tmp_path):
    """The overviews are in English; the question names the condition as its own language writes it
    ("astma"), or by an abbreviation ("hiv"). A condition no overview names is still refused."""
    service = _service_over_files(make_settings, tmp_path, ASTHMA_AND_HIV)
    for question, medicine in (("Hvilket lægemiddel bruges mod astma?", "Breathmab"),
                               ("Welk geneesmiddel wordt gebruikt tegen astma?", "Breathmab"),
                               ("Hvilke lægemidler bruges mod hiv?", "Virostat"),
                               ("Quel médicament est utilisé contre l'asthme sévère ?", "Breathmab")):
        a = service.answer(question)
        assert not a.refused, (question, a.answer)
        assert [c.medicine for c in a.citations] == [medicine], (question, a.answer)
    for question in ("Hvilket lægemiddel bruges mod gigt?", "Which medicine treats the eye?"):
        assert service.answer(question).refused, question


LONG_SENTENCES = """Longwirk (longwirkumab)
EMA/666666/2024

What is Longwirk and what is it used for?
Longwirk is a medicine used to treat wet age-related macular degeneration, a disease of the central part of the retina.

How does Longwirk work?
The active substance in Longwirk, longwirkumab, is a monoclonal antibody (a type of protein) that has been designed to recognise and attach to two proteins, vascular endothelial growth factor A and angiopoietin-2, which are found in the eye.
By blocking these two proteins, longwirkumab reduces the growth of abnormal blood vessels and the leakage of fluid and the swelling in the back of the eye, improving the sight.
"""


def test_an_answer_stays_short_in_any_language_of_its_wording(make_settings, tmp_path):
    """The wording around the quote is longer in German than in English; the quote is shortened so that
    the whole answer stays within 600 characters, and still answers."""
    from rag.extractive import MAX_ANSWER_CHARS

    service = _service_over(make_settings, tmp_path, "longwirk_en.txt", LONG_SENTENCES)
    for question in ("Wie wirkt Longwirk?", "How does Longwirk work?", "Hvordan virker Longwirk?"):
        a = service.answer(question)
        assert not a.refused and "angiopoietin-2" in a.citations[0].quote, (question, a.answer)
        assert len(a.answer) <= MAX_ANSWER_CHARS, (question, len(a.answer), a.answer)


KIDNEY = """Renamab (renamabin)
EMA/777777/2024

What is Renamab and what is it used for?
Renamab is a medicine used to treat type 2 diabetes in adults.

How is Renamab used?
Renamab is taken at a dose of 100 mg once a day.
If Renamab is taken with insulin, the dose of insulin may need to be lowered to reduce the risk of hypoglycaemia.
In patients with moderately or severely reduced kidney function the dose of Renamab should be reduced.
"""


def test_a_question_in_another_language_quotes_the_sentence_its_words_translate_to(make_settings, tmp_path):
    """The overview is English; the question's "Nierenfunktion" or "nyrefunktion" is the sentence on kidney
    function, not the section's first dose sentence."""
    service = _service_over(make_settings, tmp_path, "renamab_en.txt", KIDNEY)
    for question in ("Muss die Dosis von Renamab bei eingeschränkter Nierenfunktion angepasst werden?",
                     "Skal dosis af Renamab nedsættes ved nedsat nyrefunktion?",
                     "Moet de dosis van Renamab worden aangepast bij een verminderde nierfunctie?"):
        a = service.answer(question)
        assert not a.refused and "kidney function" in a.citations[0].quote, (question, a.answer)


def test_a_question_whether_a_medicine_is_used_for_a_condition_is_answered_from_what_it_treats(make_settings, tmp_path):
    """German puts the verb last: "Wird X bei … angewendet?" asks what X treats, not how it is given."""
    service = _service_over(make_settings, tmp_path, "renamab_en.txt", KIDNEY)
    for question in ("Wird Renamab bei Typ-2-Diabetes angewendet?", "Is Renamab used for type 2 diabetes?"):
        a = service.answer(question)
        assert not a.refused and "diabetes" in a.citations[0].quote, (question, a.answer)
        assert a.citations[0].section == "what_is", (question, a.citations[0].section)


COMBINATION = """Duovirex
EMA/888888/2024

What is Duovirex and what is it used for?
Duovirex is an antiviral medicine used to treat adults with chronic hepatitis Z.
Duovirex contains the active substances alfavirtide and betavirtide.

How does Duovirex work?
Betavirtide blocks an enzyme the virus needs to multiply, while alfavirtide targets a protein of its shell.
"""


def test_each_substance_of_a_combination_names_its_medicine(make_settings, tmp_path):
    """An overview that lists two active substances: a question naming either one is about the medicine."""
    service = _service_over(make_settings, tmp_path, "duovirex_en.txt", COMBINATION)
    assert [m["active_substance"] for m in service.medicines()] == ["alfavirtide and betavirtide"]
    for question in ("What is betavirtide used for?", "Which enzyme does betavirtide block?", "Wofür wird Alfavirtide angewendet?"):
        a = service.answer(question)
        assert not a.refused and a.citations[0].medicine == "Duovirex", (question, a.answer)


def test_a_medicine_named_in_a_compound_word_is_that_medicine(make_settings, tmp_path):
    """Danish, German, Swedish and Dutch join words: "Renamab-tabletten" names Renamab."""
    service = _service_over(make_settings, tmp_path, "renamab_en.txt", KIDNEY)
    for question in ("Hvor ofte tages Renamab-tabletten?", "Wie oft wird die Renamab-Tablette eingenommen?"):
        a = service.answer(question)
        assert not a.refused and a.citations[0].medicine == "Renamab" and "once a day" in a.citations[0].quote, (question, a.answer)


PLAIN_PAGE_WITH_TABLE = """Gripavir
gripavirumab
Table of contents
Overview
Gripavir is an antiviral medicine used to treat or prevent influenza (flu).
- to treat flu, it can be used in adults and children (including full-term newborns) who have the symptoms of flu;
- to prevent flu, it can be used in adults and children over 1 year of age who have been in contact with someone who has flu.
Gripavir cannot replace flu vaccination.
The medicine contains the active substance gripavirumab.
Authorisation details
Product details | |
---|---|
Name |
Gripavir
|
Agency product number |
EMEA/H/C/009999
|
Publication details | |
---|---|
Marketing-authorisation holder |
Examplepharma Registration GmbH
|
Date of issue of marketing authorisation valid throughout the European Union |
20/06/2002
|
Product information
13/03/2023 Gripavir - EMEA/H/C/009999 - N/0162
"""


def test_a_plain_page_keeps_its_details_table_and_its_list(make_settings, tmp_path):
    """A current EMA page saved as text: the list under "used to treat or prevent influenza." stays in what_is,
    the flattened details table is the authorisation details ("Label: value" per row), and a question on a
    section the page lacks is answered from where the model reads it, not refused for a cue word."""
    service = _service_over(make_settings, tmp_path, "gripavir_en.txt", PLAIN_PAGE_WITH_TABLE)
    holder = service.answer("Which company holds the marketing authorisation for Gripavir?")
    assert not holder.refused and "Examplepharma Registration GmbH" in holder.answer, holder.answer
    assert holder.citations[0].section == "authorisation_details"
    assert "Marketing-authorisation holder: Examplepharma Registration GmbH" in holder.citations[0].quote
    newborns = service.answer("Can newborn babies be given Gripavir?")  # "given" cues how_used, which the page lacks
    assert not newborns.refused and "newborns" in newborns.answer, newborns.answer
    assert newborns.citations[0].section == "what_is"
    dose = service.answer("What is the recommended dose of Gripavir?")
    assert dose.refused and dose.reason == "no_section", dose.answer
    days = service.answer("For how many days should Gripavir be taken?")  # the page states no duration
    assert days.refused, days.answer


@pytest.mark.parametrize("question", [
    "Is it OK to have a few beers when I take Storavir?",
    "Posso prendere Storavir se sono incinta?",
    "Darf ich Storavir in der Schwangerschaft nehmen?",
    "Do I need to stay out of the sun while I'm on Storavir?",
])
def test_a_leaflet_topic_in_any_language_is_refused_when_the_overview_is_silent(make_settings, tmp_path, question):
    service = _service_over(make_settings, tmp_path, "storavir_en.txt", LEAFLET_TOPIC)
    a = service.answer(question)
    assert a.refused and a.reason == "leaflet_only", a.answer


ANTIBODY = """Exmab (exmabumab)
EMA/444444/2024

What is Exmab and what is it used for?
Exmab is a cancer medicine used to treat adults with advanced skin cancer.

How does Exmab work?
The active substance in Exmab, exmabumab, is a monoclonal antibody. A monoclonal antibody is an antibody (a type
of protein) that has been designed to recognise and attach to a specific structure (called an antigen) that is
found in certain cells in the body. Exmabumab has been designed to attach to and block a receptor called EXR-7,
which switches off immune cells. By blocking EXR-7, Exmab helps the immune system to kill cancer cells.
"""


@pytest.mark.parametrize("question", ["How does Exmab work?", "Wie wirkt Exmab?", "Hvordan virker exmabumab?"])
def test_how_a_medicine_works_is_what_it_blocks_not_what_an_antibody_is(make_settings, tmp_path, question):
    """The answer to "how does it work?" says what the medicine acts on; "is a monoclonal antibody" and the
    definition every antibody overview repeats are no answer."""
    service = _service_over(make_settings, tmp_path, "exmab_en.txt", ANTIBODY)
    a = service.answer(question)
    assert not a.refused and "EXR-7" in a.citations[0].quote, a.answer


@pytest.mark.parametrize("question", ["How is Formavir given?", "Wie wird Formavir verabreicht?", "Hur ges Formavir?"])
def test_how_a_medicine_is_given_is_its_form_wherever_the_overview_states_it(make_settings, tmp_path, question):
    """"How is X given?" is answered by the form (an infusion, tablets …): an older summary states it under
    "What is X?"."""
    service = _service_over(make_settings, tmp_path, "formavir_en.txt", OLD_LAYOUT)
    a = service.answer(question)
    assert not a.refused and "infusion (drip) into a vein" in a.citations[0].quote, a.answer


def test_a_question_naming_an_age_asks_no_form():
    from rag.guard import answer_shape

    assert answer_shape("How is Darzalex given?").kind == "route"
    for question in ("From what age can Opzelura be given?", "What kind of approval was Lumykras given?",
                     "Från vilken ålder kan Shingrix ges?"):
        shape = answer_shape(question)
        assert shape is None or shape.kind != "route", question


def test_a_condition_many_overviews_name_is_answered_within_the_length_limit(make_settings, tmp_path):
    """Each medicine's sentence is cut after the clause naming the condition when the whole sentences would
    make the answer too long; each cut quote is still the overview's own text, marked as cut."""
    from ingest.pipeline import ingest
    from rag.service import RagService

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("Alphamab", "Betamab", "Gammamab"):
        (docs / f"{name.lower()}_en.txt").write_text(
            f"{name} ({name.lower()}in)\nEMA/55555{len(name)}/2024\n\nWhat is {name} and what is it used for?\n"
            f"{name} is a cancer medicine used to treat adults with melanoma (a type of skin cancer affecting cells "
            "called melanocytes) that has spread to other parts of the body or cannot be removed by surgery, when "
            "other treatments have not worked well enough or could not be used.\n", encoding="utf-8")
    for name, condition in (("Deltavir", "shingles"), ("Epsilomab", "asthma"), ("Zetagliptin", "type 2 diabetes"),
                            ("Etamab", "psoriasis")):  # a condition is what some overviews name, not most
        (docs / f"{name.lower()}_en.txt").write_text(
            f"{name} ({name.lower()}in)\nEMA/66666{len(name)}/2024\n\nWhat is {name} and what is it used for?\n"
            f"{name} is a medicine used to treat adults with {condition}.\n", encoding="utf-8")
    settings = make_settings()
    assert ingest([docs], settings).exit_code == 0
    a = RagService(settings).answer("Which medicines treat melanoma?")
    assert not a.refused and len(a.answer) <= 600, a.answer
    assert {c.medicine for c in a.citations} == {"Alphamab", "Betamab", "Gammamab"}
    for c in a.citations:
        assert c.quote.endswith("adults with melanoma") and c.quote in c.context, c.quote


INJECTED = """Injectamab (injectamabin)
EMA/777777/2024

What is Injectamab and what is it used for?
Injectamab is a medicine used to treat adults with severe asthma.

How is Injectamab used?
Injectamab can only be obtained with a prescription. It is available as a solution for injection in pre-filled
pens. The recommended dose is 100 mg given as an injection under the skin every 4 weeks. Patients or their carers
may inject Injectamab once they have been trained. It is injected into the thigh or the abdomen.
"""


@pytest.mark.parametrize("question", ["Where is Injectamab injected?", "Wo wird Injectamab injiziert?"])
def test_where_a_medicine_is_injected_is_the_body_site(make_settings, tmp_path, question):
    service = _service_over(make_settings, tmp_path, "injectamab_en.txt", INJECTED)
    a = service.answer(question)
    assert not a.refused and "thigh" in a.citations[0].quote, a.answer


LONG_LIST = """Manymab (manymabin)
EMA/888888/2024

What is Manymab and what is it used for?
Manymab is a medicine used to treat the following diseases:
• active rheumatoid arthritis (a disease causing inflammation of the joints), in adults whose disease has not responded well enough to other treatments, usually together with methotrexate;
• psoriatic arthritis (red, scaly patches on the skin with inflammation of the joints), in adults whose disease has not responded well enough to other treatments;
• ankylosing spondylitis (a disease causing inflammation and pain in the joints of the spine), in adults whose disease has not responded well enough to other treatments;
• ulcerative colitis (a disease causing inflammation and ulcers in the lining of the gut), in adults whose disease has not responded well enough to other treatments.
"""


def test_a_long_list_is_answered_with_every_item_cut_to_its_first_clause(make_settings, tmp_path):
    """When the first sentences of all items do not fit in one answer, each item is quoted up to its first
    clause, marked as cut, so the last condition is named too."""
    service = _service_over(make_settings, tmp_path, "manymab_en.txt", LONG_LIST)
    a = service.answer("What is Manymab used for?")
    assert not a.refused and len(a.answer) <= 600, a.answer
    assert all(c in a.answer for c in ("rheumatoid arthritis", "psoriatic arthritis", "ankylosing spondylitis",
                                        "ulcerative colitis")), a.answer
    assert "” …" in a.answer and all(c.quote in c.context for c in a.citations)


COGNATES = {
    "myelomab_en.txt": """Myelomab (myelomabumab)
EMA/777001/2024

What is Myelomab and what is it used for?
Myelomab is a cancer medicine used to treat adults with multiple myeloma, a cancer of the bone marrow.

How is Myelomab used?
Myelomab is given as an infusion into a vein once a week.
""",
    "leukinib_en.txt": """Leukinib (leukinib)
EMA/777002/2024

What is Leukinib and what is it used for?
Leukinib is a cancer medicine used to treat adults with chronic myeloid leukaemia, a cancer of the white blood cells.

How is Leukinib used?
Leukinib is taken as one tablet once a day.
""",
    "leucimab_es.txt": """Leucimab (leucimabumab)
EMA/777003/2024

¿Qué es Leucimab y para qué se utiliza?
Leucimab es un medicamento contra el cáncer que se utiliza para tratar a adultos con leucemia mieloide crónica.

¿Cómo se usa Leucimab?
Leucimab se administra en forma de comprimidos una vez al día.
""",
}


def test_a_condition_written_as_its_cognate_in_another_language_finds_the_medicines(make_settings, tmp_path):
    """"multipelt myelom" is multiple myeloma, "leukaemia" the Spanish "leucemia"; "cellule" alone, with a
    lung cancer no overview names, is no condition and finds no medicine by its white blood cells."""
    service = _service_over_files(make_settings, tmp_path, COGNATES)
    a = service.answer("Vilka läkemedel finns mot multipelt myelom?")
    assert not a.refused and [c.medicine for c in a.citations] == ["Myelomab"], a.answer
    b = service.answer("Which medicines are used for chronic myeloid leukaemia?")
    assert not b.refused and sorted(c.medicine for c in b.citations) == ["Leucimab", "Leukinib"], b.answer
    c = service.answer("Quali farmaci si usano per il tumore del polmone non a piccole cellule?")
    assert c.refused and not c.citations, c.answer


STRENGTHS_ONLY = """Capsumab (capsumabinib)
EMA/777004/2024

What is Capsumab and what is it used for?
Capsumab is a cancer medicine used to treat adults with kidney cancer. It is available as capsules (12.5 mg, 25 mg and 50 mg).

How is Capsumab used?
Capsumab can only be obtained with a prescription. It is taken by mouth.
"""


def test_an_amount_per_day_is_not_answered_with_the_capsule_strengths(make_settings, tmp_path):
    """"How many mg a day?" wants an amount and how often together; the strengths the capsules come in are
    no daily dose. Asked for the strength, they answer."""
    service = _service_over(make_settings, tmp_path, "capsumab_en.txt", STRENGTHS_ONLY)
    for question in ("Hoeveel mg Capsumab moet ik per dag slikken?", "How many mg of Capsumab should I take a day?"):
        a = service.answer(question)
        assert a.refused and not a.citations, (question, a.answer)
    b = service.answer("What strength are Capsumab capsules?")
    assert not b.refused and "12.5 mg" in b.citations[0].quote


STUDIED_ONLY = """Resultamab (resultinib)
EMA/777005/2015

What is Resultamab?
Resultamab is a medicine that contains the active substance resultinib. It is available as brown tablets (250 mg).

What is Resultamab used for?
Resultamab is used to treat adults with lung cancer.

How is Resultamab used?
The recommended dose is one tablet once a day.

How has Resultamab been studied?
The effects of Resultamab were first tested in experimental models before being studied in humans.
"""


def test_the_strength_is_answered_from_where_the_form_is_and_results_only_with_an_outcome(make_settings, tmp_path):
    """An older summary states the tablets' strength under "What is X?", not with the dose; and that a medicine
    was "first tested in experimental models" is no result of any study."""
    service = _service_over(make_settings, tmp_path, "resultamab_en.txt", STUDIED_ONLY)
    a = service.answer("Vilken styrka har Resultamab-tabletterna?")
    assert not a.refused and "250 mg" in a.citations[0].quote, a.answer
    pill = service.answer("Is Resultamab a pill?")  # yes or no, answered by the sentence that states the form
    assert not pill.refused and "tablets" in pill.citations[0].quote, pill.answer
    for question in ("Quali risultati ha dato lo studio principale su Resultamab?",
                     "What results did the main study of Resultamab give?"):
        b = service.answer(question)
        assert b.refused and not b.citations, (question, b.answer)


COMBINED = """Combimab (combimabumab)
EMA/777006/2020

What is Combimab and what is it used for?
Combimab is a cancer medicine used to treat adults with the following cancers:
• metastatic breast cancer, in combination with paclitaxel;
• advanced kidney cancer, on its own.

How is Combimab used?
Combimab is given as an infusion into a vein every three weeks.
"""


def test_what_a_medicine_is_combined_with_is_answered_by_the_item_that_says_so(make_settings, tmp_path):
    """"What is it combined with?" and "is it used alone?" want the sentence that names the combination, in
    the list of what it treats; a section that names none does not answer."""
    service = _service_over(make_settings, tmp_path, "combimab_en.txt", COMBINED)
    a = service.answer("Avec quel médicament Combimab est-il associé dans le cancer du sein ?")
    assert not a.refused and any("paclitaxel" in c.quote for c in a.citations), a.answer
    b = service.answer("Is Combimab used together with other medicines for kidney cancer?")
    assert not b.refused and any("on its own" in c.quote for c in b.citations), b.answer
    c = service.answer("How often is Combimab given together with paclitaxel?")  # a frequency, asked with a combination
    assert not c.refused and "every three weeks" in c.citations[0].quote, c.answer
