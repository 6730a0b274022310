"""The question path reads small files written at ingest, never every section."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .corpus_factory import seeded_store

QUESTION = "How often is Conexxence given?"


@pytest.fixture
def seeded(make_settings):
    settings = make_settings()
    seeded_store(settings)  # `python -m ingest` in its own process
    return settings


def _no_full_scans(service, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the question path read every section")

    monkeypatch.setattr(service.store, "pages", refuse)
    monkeypatch.setattr(service.store, "entries", refuse)
    original = service.store.sections

    def sections(ids=None, where=None, embeddings=False):
        if ids is None:
            refuse()
        return original(ids=ids, where=where, embeddings=embeddings)

    monkeypatch.setattr(service.store, "sections", sections)


def _count_embedded(service, monkeypatch) -> list[str]:
    seen: list[str] = []
    real = service.embedder.model.embed

    def embed(texts, batch_size):
        seen.extend(texts)
        return real(texts, batch_size)

    monkeypatch.setattr(service.embedder.model, "embed", embed)
    return seen


def test_ingest_writes_the_side_index_and_a_new_process_answers_from_it(seeded, monkeypatch):
    from rag import sidecar
    from rag.service import RagService

    state = sidecar.read_state(seeded)
    assert state["state"] == "ready" and state["sections"] == 35
    folder = sidecar.index_dir(seeded) / state["build"]
    assert {p.name for p in folder.iterdir()} >= {"ids.json", "medicines.json", "medicine_rows.npy", "words.txt", "bm25",
                                                  "lookup_terms.json", "lookup_keys.npy"}
    meds = {m["name"]: m for m in json.loads((folder / "medicines.json").read_text())}
    assert set(meds) == {"Conexxence", "Lumykras", "Opzelura"}
    assert "missing_info" in meds["Lumykras"]["sections"] and "missing_info" not in meds["Conexxence"]["sections"]

    service = RagService(seeded)
    _no_full_scans(service, monkeypatch)
    embedded = _count_embedded(service, monkeypatch)
    answer = service.answer(QUESTION)
    assert not answer.refused and "6 months" in answer.answer
    # The first time a section is quoted, the sentences that could answer are embedded: for "how
    # often", those that state a frequency (one of the section's five); after that only questions are.
    assert embedded[0] == "query: " + QUESTION
    assert len(embedded) == 2 and "once every 6 months" in embedded[1]
    embedded.clear()
    assert service.answer(QUESTION).answer == answer.answer and embedded == ["query: " + QUESTION]
    refusal = service.answer("What information is still awaited about Conexxence?")
    assert refusal.refused and refusal.reason == "no_section"  # from the catalogue table
    assert service.answer("What is the maximum daily dose of ibuprofen?").refused


def test_with_sentence_vectors_at_ingest_a_first_answer_embeds_only_the_question(make_settings, seeded, tmp_path, monkeypatch):
    from ingest.pipeline import ingest
    from rag.embedder import get_embedder
    from rag.service import RagService
    from rag.sentences import sentence_texts, spans, unpack
    from rag.store import SectionStore

    from .conftest import SEEDS

    settings = make_settings(sentence_vectors="ingest", store_dir=tmp_path / "with-sentence-vectors")
    assert ingest([SEEDS], settings).exit_code == 0
    node = SectionStore(settings).sections(ids=["conexxence_en.md#how_used"])[0]
    sents = spans(node.text)
    stored = unpack(node.metadata, sents)
    fresh = get_embedder(settings).passages(sentence_texts(node.text, "Conexxence", sents))
    assert stored.shape == fresh.shape and np.sum(stored * fresh, axis=1).min() > 0.999
    assert unpack(node.metadata, sents[1:]) is None  # other sentence boundaries: recomputed, not misused

    service = RagService(settings)
    embedded = _count_embedded(service, monkeypatch)
    answer = service.answer(QUESTION)
    assert embedded == ["query: " + QUESTION]
    assert "6 months" in answer.answer
    assert answer.answer == RagService(seeded).answer(QUESTION).answer  # as when they are computed at the first answer


def test_an_interrupted_write_is_detected_and_the_next_reader_rebuilds_once(seeded, monkeypatch):
    from rag import sidecar
    from rag.service import RagService
    from rag.store import SectionStore, make_node

    store = SectionStore(seeded)
    old = store.sections(ids=["lumykras_sv.txt#how_used"], embeddings=True)[0]
    meta = {k: v for k, v in old.metadata.items() if k != "doc_id"}
    meta.update(medicine="Novamed", source="novamed_sv.txt")
    # What an ingest killed after its upsert leaves: the store has a section the build does not.
    store.upsert([make_node("novamed_sv.txt#how_used", "novamed_sv.txt", old.text, meta, old.embedding)])
    before = sidecar.read_state(seeded)
    assert before["state"] == "writing"

    with sidecar.writer_lock(seeded):  # while a writer holds the lock, readers keep the last build
        service = RagService(seeded)
        assert "Novamed" not in {m["name"] for m in service.medicines()}
    service.corpus.refresh(force=True)  # the writer is gone: the state says "writing", so rebuild
    assert "Novamed" in {m["name"] for m in service.medicines()}
    after = sidecar.read_state(seeded)
    assert after["state"] == "ready" and after["build"] != before["build"] and after["sections"] == 36
    builds = sorted(p.name for p in sidecar.index_dir(seeded).iterdir() if p.name != "state.json")
    assert after["build"] in builds and not [b for b in builds if b.startswith(".")]  # no half-written build

    fresh = RagService(seeded)  # a later process trusts the new build as it is
    _no_full_scans(fresh, monkeypatch)
    assert not fresh.answer("Hur används Novamed?").refused


def test_an_unchanged_reingest_keeps_the_build(seeded):
    from ingest.pipeline import ingest
    from rag import sidecar

    from .conftest import SEEDS

    before = sidecar.read_state(seeded)
    report = ingest([SEEDS], seeded)
    assert {f.status for f in report.files if f.doc} == {"unchanged"}
    assert sidecar.read_state(seeded) == before


def test_names_are_taken_out_of_a_question_as_the_alternation_of_every_name_would():
    import random
    import re

    from rag.catalogue import NameMatcher

    rng = random.Random(7)
    names = {"Conexxence", "denosumab", "Lumykras", "sotorasib", "Opzelura", "ruxolitinib", "Co", "Insulin aspart",
             "Insulin", "Zyn", "Zyntegloa"} | {f"Medname{i:04d}" for i in range(1, 3000)} | {f"substance{i:04d}" for i in range(1, 3000)}
    regex = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")\w*",
                       re.IGNORECASE)
    matcher = NameMatcher(names)
    words = ["How", "often", "is", "Conexxence's", "given?", "insulin", "ASPART", "Lumykras-t", "xConexxence", "co",
             "Co-Diovan", "Zyntegloas", "medname0042", "MEDNAME2999,", "substance0001.", "_Opzelura", "(Opzelura)",
             "Hur", "verkar", "ruxolitinibkräm", "Wie", "ist", "Medname30000", "Zy", "über", "straße", "Ωmega"]
    questions = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(2000)]
    questions += ["Insulin aspart or insulin?", "Zyn zyn-zyn", "", "  Conexxence", "What is Medname0007 used for?"]
    for q in questions:
        assert matcher.sub(" ", q) == regex.sub(" ", q), q


def test_the_typo_lookup_finds_every_term_one_edit_away_and_is_read_from_the_build(seeded):
    import difflib
    import math
    import random

    from rag import sidecar
    from rag.catalogue import Catalogue, Medicine, _one_deletion, build_lookup, sounds_like

    rng = random.Random(3)
    meds = [Medicine(f"Medname{i:04d}", f"substance{i:04d}") for i in range(1, 2500)]
    meds += [Medicine("Conexxence", "denosumab"), Medicine("Prolia", "denosumab"), Medicine("Lumykras", "sotorasib"),
             Medicine("Truvada", "emtricitabine / tenofovir disoproxil"), Medicine("Insulin aspart Sanofi", "insulin aspart")]
    lookup = build_lookup(meds)
    forms = {t: _one_deletion(t) for t in lookup.terms}
    words = []
    for term in rng.sample(lookup.terms, 120):  # 600 words: the reference below scans every term per word
        i, ch = rng.randrange(len(term)), rng.choice("abcdefghijklmnopqrstuvwxyzåäöü")
        words += [term, term[:i] + term[i + 1:], term[:i] + ch + term[i:], term[:i] + ch + term[i + 1:], term + "xy"]
    words += ["lumicras", "emtricitabin", "tenofovir", "often", "given", "dosering", "ẞtraße", "\ud800x"]
    for w in words:
        assert lookup.near(w) == {t for t, f in forms.items() if f & _one_deletion(w)}, w

    # Matching a word: one edit away first, else the closest term of its first letter and a length
    # a 0.8 similarity allows, as difflib would pick it from all of them, else the one medicine
    # whose name or substance sounds the same.
    facts = [{"name": m.name, "substance": m.substance} for m in meds]
    catalogue = Catalogue.from_facts(facts)
    sound_of = dict(zip(lookup.terms, sounds_like(lookup.terms)))
    words += ["medicine", "mednam", "medname00001x", "madname0001", "subst", "lumikrass", "truvadda", "insulinaspart"]
    for w in words:
        w = w.lower()
        near = {t for t, f in forms.items() if f & _one_deletion(w)} or {
            t for t in lookup.terms if t[:1] == w[:1] and math.ceil(len(w) * 2 / 3) <= len(t) <= len(w) * 3 // 2}
        close = difflib.get_close_matches(w, sorted(near), n=1, cutoff=0.8) if len(w) >= 5 else []
        expected = catalogue._terms[w] if w in catalogue._terms else (catalogue._terms[close[0]] if close else None)
        if expected is None and len(w) >= 5:
            sound = sounds_like([w])[0]
            alike = {catalogue._terms[t].name for t in lookup.terms if len(t) >= 5 and sound_of[t] == sound}
            expected = catalogue._terms[alike.pop().lower()] if len(alike) == 1 else None
        if w not in catalogue._terms and (w.endswith("s") and w[:-1] in catalogue._terms):
            expected = catalogue._terms[w[:-1]]
        assert catalogue._resolve(w) is expected, w

    # What ingest wrote beside the store is what the catalogue would build from the same rows.
    state = sidecar.read_state(seeded)
    index = sidecar.load(seeded, state)
    built = Catalogue.from_facts(index.medicines).lookup
    assert index.lookup.terms == built.terms and "denosumab" in index.lookup.terms
    for k in ("medicine", "keys", "key_terms"):
        assert np.array_equal(getattr(index.lookup, k), getattr(built, k))
    catalogue = Catalogue.from_facts(index.medicines, index.words, index.lookup)
    assert catalogue.lookup is index.lookup
    assert [m.name for m in catalogue.find("Is lumycras a tablet?")] == ["Lumykras"]
    assert [m.name for m in catalogue.find("opzelura's cream, conexence")] == ["Opzelura", "Conexxence"]
    # A lookup that does not fit the rows (another build's) is not used.
    assert Catalogue.from_facts(index.medicines[:1], None, index.lookup).lookup is not index.lookup
