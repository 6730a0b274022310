"""Language identification: py3langid's model cut to the 24 EU languages, cached once."""

from __future__ import annotations

import json

from .conftest import ROOT


def test_the_cached_identifier_decides_as_py3langid_restricted_to_the_eu_languages():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from rag.language import EU_LANGUAGES, _identifier

    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    reference.set_languages(list(EU_LANGUAGES))
    ours = _identifier()
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "qa_corpus.jsonl").open(encoding="utf-8")]
    assert len({reference.classify(q)[0] for q in questions}) >= 8
    for q in questions:
        (a, pa), (b, pb) = reference.classify(q), ours.classify(q)
        assert a == b and abs(pa - pb) < 1e-5, q


def test_a_cache_that_cannot_be_written_still_identifies(tmp_path, monkeypatch):
    from rag.language import _eu_model, identifier_of

    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("MODEL_CACHE_DIR", str(blocked))
    ident = identifier_of(_eu_model())
    assert ident.classify("Hur ofta ges Conexxence och vad används det för?")[0] == "sv"
    assert blocked.read_text() == "a file where the cache folder would be"
