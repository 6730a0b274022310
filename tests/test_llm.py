"""LLM mode against a local OpenAI-compatible endpoint: same code path as a user's real one."""

from __future__ import annotations

import pytest

from rag.service import RagService
from rag.store import SectionStore

from .openai_stub import StubOpenAI


@pytest.fixture
def stub():
    with StubOpenAI() as s:
        yield s


@pytest.fixture
def llm_service(seeded_settings, stub):
    settings = seeded_settings.model_copy(update={"llm_base_url": stub.base_url, "llm_model": "local-model",
                                                  "llm_api_key": "test-key", "llm_timeout_s": 10.0})
    return RagService(settings)


def test_llm_answer_is_cited_and_the_prompt_holds_numbered_sources(llm_service, stub, seeded_settings):
    stub.replies.append("Conexxence is given once every 6 months as an injection under the skin [1].")
    a = llm_service.answer("How often is Conexxence given?")
    assert a.mode == "llm" and not a.refused
    assert "once every 6 months" in a.answer and "[1]" in a.answer
    c = a.citations[0]
    assert (c.number, c.medicine, c.section, c.ref) == (1, "Conexxence", "how_used", "EMA/201153/2025")
    assert c.quote in SectionStore(seeded_settings).sections(ids=[c.section_id])[0].text
    assert "6 months" in c.quote
    request = stub.requests[-1]
    assert request["path"].endswith("/chat/completions") and request["auth"] == "Bearer test-key"
    assert request["body"]["model"] == "local-model" and request["body"]["stream"] is True
    prompt = request["body"]["messages"][-1]["content"]
    assert "[1] Conexxence" in prompt and "Question: How often is Conexxence given?" in prompt
    assert "NOT_IN_SOURCES" in request["body"]["messages"][0]["content"]


def test_citation_to_a_source_that_does_not_exist_is_removed(llm_service, stub):
    stub.replies.append("It is given every 6 months [1]. It is also sold in shops [9].")
    a = llm_service.answer("How often is Conexxence given?")
    assert not a.refused
    assert "[9]" not in a.answer and "[1]" in a.answer
    assert [c.number for c in a.citations] == [1]


def test_reply_without_a_valid_citation_becomes_a_refusal(llm_service, stub):
    stub.replies.append("It is given every 6 months [7].")
    a = llm_service.answer("How often is Conexxence given?")
    assert a.refused and a.citations == [] and a.reason == "llm_no_valid_citation"
    stub.replies.append("It is given every 6 months.")
    assert llm_service.answer("How often is Conexxence given?").refused


def test_model_saying_the_sources_do_not_answer_is_a_refusal(llm_service, stub):
    stub.replies.append("NOT_IN_SOURCES")
    a = llm_service.answer("What are the side effects of Conexxence?")
    assert a.refused and a.reason == "llm_not_found"


def test_reference_numbers_not_in_the_corpus_are_never_printed(llm_service, stub):
    stub.replies.append("See EMA/999999/2020 and EMA/201153/2025: once every 6 months [1].")
    a = llm_service.answer("How often is Conexxence given?")
    assert "EMA/999999/2020" not in a.answer and "EMA/201153/2025" in a.answer


def test_streaming_passes_model_text_through(llm_service, stub):
    stub.replies.append("Conexxence is given once every 6 months [1].")
    items = list(llm_service.stream("How often is Conexxence given?"))
    pieces = [i for i in items if isinstance(i, str)]
    assert len(pieces) >= 5 and "".join(pieces).startswith("Conexxence is given")
    assert not items[-1].refused


def test_guards_run_before_the_endpoint_is_called(llm_service, stub):
    a = llm_service.answer("What is the maximum daily dose of ibuprofen?")
    assert a.refused and stub.requests == []


def test_unreachable_endpoint_falls_back_to_the_extractive_answer(seeded_settings):
    settings = seeded_settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1", "llm_timeout_s": 2.0})
    a = RagService(settings).answer("How often is Conexxence given?")
    assert not a.refused and a.mode == "extractive" and "6 months" in a.answer


def test_the_start_up_warm_up_runs_a_whole_answer_without_calling_the_endpoint(llm_service, stub):
    from ui.warm import warm

    warm(llm_service)
    assert stub.requests == []
    # The answer's one-time work is done: the sentences of the rehearsed section are embedded already.
    assert llm_service.extractive.sentence_vectors._cache
