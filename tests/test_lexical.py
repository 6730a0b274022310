"""BM25 tokens per language: Snowball stems, stopwords from data files, a fallback for the rest."""

from __future__ import annotations

import threading
from importlib import resources

import numpy as np
import pytest

from rag import glossary, lexical


@pytest.mark.parametrize("language, forms", [
    ("sv", ["tabletter", "tablett", "tabletten"]),
    ("sv", ["biverkningar", "biverkning", "biverkningarna"]),
    ("de", ["Nebenwirkungen", "Nebenwirkung"]),
    ("de", ["Kindern", "Kinder"]),
    ("en", ["studies", "study"]),
    ("en", ["injections", "injection"]),
    ("fr", ["effets", "effet"]),
    ("da", ["bivirkninger", "bivirkning"]),
    ("es", ["comprimidos", "comprimido"]),
    ("it", ["compresse", "compressa"]),
    ("nl", ["bijwerkingen", "bijwerking"]),
])
def test_inflections_of_a_word_share_one_token(language, forms):
    stems = {tuple(lexical.tokens(f, language)) for f in forms}
    assert len(stems) == 1 and all(stems), (language, forms, stems)


def test_each_language_uses_its_own_stemmer():
    assert lexical.algorithm("sv") == "swedish" and lexical.algorithm("de") == "german"
    # The 7-letter cut kept "kinder" and "kindern" apart; the German stemmer does not.
    assert lexical.tokens("Kindern", "de") == lexical.tokens("Kinder", "de")
    assert lexical.tokens("Kindern") != lexical.tokens("Kinder")


def _file_words(code: str) -> set[str]:
    text = resources.files("rag").joinpath("stopwords", f"{code}.txt").read_text(encoding="utf-8")
    return {line.split("#", 1)[0].strip() for line in text.splitlines()} - {""}


def test_stopwords_are_read_from_the_language_files():
    from rag.language import EU_LANGUAGES

    assert set(lexical.languages()) == set(EU_LANGUAGES)
    for code in EU_LANGUAGES:
        words = _file_words(code)
        assert words and lexical.stopwords(code) == words, code
    assert "och" in lexical.stopwords("sv") and "und" in lexical.stopwords("de")
    assert lexical.tokens("och vad är dosen", "sv") == lexical.tokens("dosen", "sv")
    # A stopword of one language is a word in another.
    assert lexical.tokens("die", "de") == [] and lexical.tokens("die", "en") == ["die"]


def test_words_the_glossary_pairs_across_languages_are_no_stopwords():
    terms = {t for row in glossary.rows() for t in row if " " not in t}
    stopwords = set().union(*(lexical.stopwords(code) for code in ("en", "sv", "de", "fr", "da", "nl", "it", "es", "pl")))
    assert not terms & stopwords, sorted(terms & stopwords)


def test_language_codes_in_any_case_or_with_a_region():
    assert lexical.tokens("Tabletterna", "SV") == lexical.tokens("Tabletterna", "sv-SE") == lexical.tokens("tabletter", "sv")


def test_unknown_language_falls_back_to_the_prefix_rule():
    n = lexical.prefix_letters()
    assert lexical.tokens("Nebenwirkungen", None) == ["nebenwirkungen"[:n]]
    assert lexical.tokens("Nebenwirkungen", "xx") == lexical.tokens("Nebenwirkungen", "") == ["nebenwirkungen"[:n]]
    # With no language known, every language's stopwords go.
    assert lexical.tokens("the och und Nebenwirkungen", None) == ["nebenwirkungen"[:n]]


def test_a_language_without_stemmer_uses_the_prefix_rule_and_its_own_stopwords():
    assert lexical.algorithm("bg") is None
    n = lexical.prefix_letters()
    assert lexical.tokens("нежеланите реакции и дозата", "bg") == ["нежеланите"[:n], "реакции"[:n], "дозата"[:n]]


def test_digits_stay_and_single_letters_go():
    assert lexical.tokens("70 mg a day, 2 x", "en") == ["70", "mg", "day", "2"]


def test_decomposed_accents_read_as_composed():
    assert lexical.tokens("Übelkeit", "de") == lexical.tokens("U\u0308belkeit", "de")


def test_stemmers_serve_threads_at_once():
    text = "Die häufigsten Nebenwirkungen sind Kopfschmerzen und Übelkeit bei Kindern und Erwachsenen " * 20
    want = lexical.tokens(text, "de")
    got, errors = [], []

    def work():
        try:
            for _ in range(50):
                got.append(lexical.tokens(text, "de") == want)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(got) and len(got) == 200


# A real store, built by the real ingest --------------------------------------------------------
GERMAN = """EMA/123456/2024
Fictavir (fictavirin)

Was ist Fictavir und wofür wird es angewendet?
Fictavir ist ein Arzneimittel zur Behandlung der Gürtelrose bei Erwachsenen.

Wie wird Fictavir angewendet?
Fictavir ist als Tabletten erhältlich. Die empfohlene Dosis beträgt eine Tablette zweimal täglich.

Welche Risiken sind mit Fictavir verbunden?
Die häufigsten Nebenwirkungen von Fictavir sind Kopfschmerzen und Übelkeit. Bei Kindern wurde Fictavir nicht untersucht.
"""

ENGLISH = """EMA/654321/2024
Testomab (testomabum)

What is Testomab and what is it used for?
Testomab is a medicine used to treat plaque psoriasis in adults.

How is Testomab used?
Testomab is available as a solution for injection. The recommended dose is 150 mg every four weeks.

What are the risks associated with Testomab?
The most common side effects with Testomab are headache and tiredness.
"""


@pytest.fixture
def bilingual(make_settings, tmp_path):
    from ingest.pipeline import ingest
    from rag.service import RagService

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "fictavir_de.txt").write_text(GERMAN, encoding="utf-8")
    (docs / "testomab_en.txt").write_text(ENGLISH, encoding="utf-8")
    settings = make_settings()
    report = ingest([docs], settings)
    assert report.exit_code == 0, [(f.name, f.reason) for f in report.skipped]
    service = RagService(settings)
    service.corpus.refresh()
    return service


def _best(corpus, question: str, language: str) -> tuple[str, float]:
    scores = corpus.bm25_scores(question, language)
    best = int(np.argmax(scores))
    return corpus.index.ids[best], float(scores[best])


def test_a_german_question_finds_the_german_section_by_its_inflected_words(bilingual):
    corpus = bilingual.corpus
    assert corpus.index.languages == ["de", "en"]
    # The section says "Nebenwirkungen" and "Kindern"; the question "Nebenwirkung" and "Kinder".
    section, score = _best(corpus, "Welche Nebenwirkung hat das Mittel bei Kinder?", "de")
    assert section == "fictavir_de.txt#risks" and score > 0
    section, _ = _best(corpus, "Wie viele Tabletten?", "de")
    assert section == "fictavir_de.txt#how_used"
    ranked = bilingual.retrieve("Welche Nebenwirkungen hat Fictavir?", medicines=["Fictavir"], language="de",
                                 prior={"risks": 1.0})
    assert ranked[0].node.node_id == "fictavir_de.txt#risks" and ranked[0].bm25 > 0


def test_glossary_equivalents_reach_a_section_in_another_language(bilingual):
    corpus = bilingual.corpus
    # Swedish words alone share nothing with the English section but the name; "rekommenderade" and "dosen"
    # bring the glossary's "recommend" and "dose", tokenised as English.
    section, score = _best(corpus, "Vilken är den rekommenderade dosen av Testomab?", "sv")
    assert section == "testomab_en.txt#how_used" and score > 0
    rows = [i for i, s in enumerate(corpus.index.ids) if s.startswith("testomab_en.txt")]
    plain = corpus.bm25_scores("Vilken är den rekommenderade dosen?", "sv")
    assert max(plain[i] for i in rows) > 0


def test_the_word_table_holds_each_sections_own_tokens(bilingual):
    tokens = bilingual.corpus.index.tokens
    assert tokens[lexical.tokens("Nebenwirkungen", "de")[0]] == 1
    assert tokens[lexical.tokens("injection", "en")[0]] == 1
    words = bilingual._vocabulary()
    assert words.knows(lexical.tokens("Nebenwirkung", "de")[0]) and words.knows("psoriasi")
    assert not words.knows(lexical.tokens("Zahnschmerzen", "de")[0])


def test_an_index_of_other_tokenising_rules_is_rebuilt(bilingual, monkeypatch):
    from rag import sidecar

    settings = bilingual.settings
    state = sidecar.read_state(settings)
    assert state["lexical"] == lexical.signature()
    monkeypatch.setattr(lexical, "signature", lambda: "other-rules")
    assert sidecar.read_state(settings) is None  # as for an index of an older format
    index, state = sidecar.current(bilingual.store, None)
    assert state["lexical"] == "other-rules" and len(index) == len(bilingual.corpus.index)


@pytest.mark.parametrize("words", [
    ("kidney", "Nierenfunktion", "njurfunktion", "nyrefunktion", "nierfunctie", "insuffisance rénale"),
    ("side effects", "Nebenwirkungen", "biverkningar", "bivirkninger", "bijwerkingen", "effets indésirables"),
    ("reduce", "verlaagt", "senkt", "minskar", "réduit", "nedsætter"),
])
def test_the_glossary_pairs_the_words_of_every_language_file(words):
    rows = [glossary.concepts(w) for w in words]
    assert rows[0] and all(r & rows[0] for r in rows), list(zip(words, rows))


def test_the_glossary_leaves_words_that_only_look_alike_apart():
    # "receptor" is no prescription ("recept"), "multiple sclerosis" nothing multiplied, "kind" no child
    assert not glossary.concepts("receptor") & glossary.concepts("prescription")
    assert not glossary.concepts("multiple") & glossary.concepts("multiply")
    assert not glossary.concepts("what kind of") & glossary.concepts("children")
