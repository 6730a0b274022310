"""The fair baseline on the seed overviews: our parser's sections, hybrid retrieval, a dense cut-off."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, model_cache_dir):
    from eval.baseline import Baseline
    from rag.settings import Settings

    base = tmp_path_factory.mktemp("baseline")
    settings = Settings(_env_file=None, store_dir=base / "store", model_cache_dir=model_cache_dir,
                        feedback_db=base / "feedback.sqlite3", llm_base_url=None, chroma_host=None)
    return Baseline([SEEDS], settings)


@pytest.fixture
def defaults(baseline):
    from eval.baseline import CUTOFF, TOP_K

    yield baseline
    baseline.configure(TOP_K, CUTOFF)


def test_sections_become_nodes_with_the_parsers_metadata(baseline):
    nodes = {n.node_id: n for n in baseline.nodes}
    dose = nodes["lumykras_sv.txt#how_used"]
    assert dose.metadata["medicine"] == "Lumykras"
    assert dose.metadata["ref"] == "EMA/685702/2021"
    assert dose.metadata["language"] == "sv" and dose.metadata["section_title"].startswith("Hur används")
    assert {n.metadata["source"] for n in baseline.nodes} == {"conexxence_en.md", "conexxence_sv.txt",
                                                              "lumykras_sv.txt", "opzelura_sv.txt"}
    embedded = dose.get_content(metadata_mode="embed")
    assert "Lumykras" in embedded and "EMA/685702/2021" not in embedded


def test_an_answer_cites_medicine_section_and_reference_of_its_section(defaults):
    a = defaults.answer("What is the recommended dose of Lumykras?", [{"role": "user", "content": "Hello"}])

    assert not a.refused and a.answer
    c = a.citations[0]
    assert (c.medicine, c.section, c.ref) == ("Lumykras", "how_used", "EMA/685702/2021")
    assert c.section_title and c.source == "lumykras_sv.txt" and c.quote in " ".join(c.context.split())
    assert a.retrieved[0]["medicine"] and a.retrieved[0]["section"]


def test_it_refuses_below_its_cut_off_and_answers_from_what_passes_it(defaults):
    from llama_index.core.schema import QueryBundle

    question = "How is Opzelura used?"
    q = defaults.query_vector(question)
    hits = defaults.retriever.retrieve(QueryBundle(question, embedding=q.tolist()))
    assert len(hits) == defaults.top_k
    # the cut-off is on the dense cosine of each fused hit, not on its fusion score
    dense = {}
    for h in hits:
        v = np.asarray(defaults.index.vector_store.get(h.node.node_id))
        dense[h.node.node_id] = float(v @ q / np.linalg.norm(v))
    top_id, top = max(dense.items(), key=lambda kv: kv[1])

    defaults.configure(defaults.top_k, top + 0.001)
    refused = defaults.answer(question)
    assert refused.refused and not refused.citations and refused.reason

    defaults.configure(defaults.top_k, top - 0.001)
    answered = defaults.answer(question)
    assert not answered.refused and answered.citations[0].section_id == top_id


def test_a_question_the_overviews_cannot_answer_is_refused_at_the_tuned_cut_off(defaults):
    a = defaults.answer("What is the capital of Peru?")
    assert a.refused and not a.citations
