"""The OpenAI-compatible API (/v1) against the running app, driven by the official `openai` package."""

from __future__ import annotations

import httpx
import openai
import pytest

from .live_app import serve

KEY = "s3cret-key"
ALLOWED = "https://intranet.example.org"
CONEXXENCE = "How often is Conexxence given?"


@pytest.fixture(scope="module")
def base_url(seeded_settings, service, tmp_path_factory):
    from ui.app import create_app

    settings = seeded_settings.model_copy(update={
        "api_key": KEY, "cors_origins": [ALLOWED], "feedback_db": tmp_path_factory.mktemp("v1") / "feedback.sqlite3"})
    with serve(create_app(settings, service)) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=KEY, max_retries=0, timeout=120)


def ask(client, *messages: dict, model: str = "ema-overviews", **extra):
    return client.chat.completions.create(model=model, messages=list(messages), **extra)


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def test_models_are_listed_with_a_variant_per_medicine(client):
    ids = [m.id for m in client.models.list()]
    assert ids[0] == "ema-overviews"
    assert {"ema-overviews:Conexxence", "ema-overviews:Lumykras", "ema-overviews:Opzelura"} <= set(ids)
    assert client.models.retrieve("ema-overviews:Conexxence").id == "ema-overviews:Conexxence"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_plain_question_is_answered_with_marks_sources_and_citations(client):
    from rag.tokens import count_tokens

    r = ask(client, user(CONEXXENCE))
    choice = r.choices[0]
    text = choice.message.content
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert "6 months" in text and "[1]" in text
    # clients that ignore extra fields still see the sources, as text
    sources = text.split("\n\nSources:\n", 1)[1]
    assert sources == ("- [1] Conexxence, “How is Conexxence used?”: EMA/201153/2025; EMEA/H/C/006268; English; "
                       "conexxence_en.md")
    assert r.citations[0]["ref"] == "EMA/201153/2025"
    assert r.citations[0]["medicine"] == "Conexxence" and r.citations[0]["section"] == "how_used"
    assert r.citations[0]["quote"] in text
    assert r.refused is False
    assert r.model == "ema-overviews" and r.object == "chat.completion" and r.id.startswith("chatcmpl-")
    assert r.usage.prompt_tokens == count_tokens(CONEXXENCE)
    assert r.usage.completion_tokens == count_tokens(text)
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_follow_up_takes_the_medicine_from_earlier_messages(client):
    first = ask(client, user("What is the recommended dose of Lumykras?"))
    assert "960 mg" in first.choices[0].message.content
    history = [{"role": "system", "content": "You are a helpful assistant."}, user("What is the recommended dose of Lumykras?"),
               {"role": "assistant", "content": first.choices[0].message.content}]
    r = ask(client, *history, user("And how does it work?"))
    assert r.refused is False
    assert (r.citations[0]["medicine"], r.citations[0]["section"]) == ("Lumykras", "how_works")
    assert "sotorasib" in r.choices[0].message.content
    alone = ask(client, user("And how does it work?"))
    assert not alone.citations or alone.citations[0]["medicine"] != "Lumykras"


def test_content_parts_and_unused_options_are_accepted(client):
    r = ask(client, {"role": "user", "content": [{"type": "text", "text": CONEXXENCE}]},
            temperature=0.2, max_tokens=300, top_p=1, user="someone", n=1)
    assert r.citations[0]["ref"] == "EMA/201153/2025"


def test_refusal_is_an_ordinary_reply(client):
    r = ask(client, user("What is the maximum daily dose of ibuprofen?"))
    text = r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"
    assert r.refused is True and r.citations == []
    assert "do not cover ibuprofen" in text and "Conexxence" in text
    assert "Sources:" not in text


def test_stream_reassembles_into_the_same_reply(client):
    plain = ask(client, user(CONEXXENCE))
    chunks = list(ask(client, user(CONEXXENCE), stream=True, stream_options={"include_usage": True}))
    with_choices = [c for c in chunks if c.choices]
    text = "".join(c.choices[0].delta.content or "" for c in with_choices)
    assert text == plain.choices[0].message.content
    assert sum(1 for c in with_choices if c.choices[0].delta.content) > 10  # words arrive as separate chunks
    assert with_choices[0].choices[0].delta.role == "assistant"
    last = with_choices[-1]
    assert last.choices[0].finish_reason == "stop"
    assert [c.choices[0].finish_reason for c in with_choices[:-1]] == [None] * (len(with_choices) - 1)
    assert last.citations == plain.citations and last.citations[0]["ref"] == "EMA/201153/2025"
    assert len({c.id for c in chunks}) == 1 and chunks[0].object == "chat.completion.chunk"
    assert chunks[-1].choices == [] and chunks[-1].usage == plain.usage


def test_stream_of_a_refusal(client):
    chunks = list(ask(client, user("What is the maximum daily dose of ibuprofen?"), stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "do not cover ibuprofen" in text
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].citations == [] and chunks[-1].refused


def test_medicine_model_answers_from_that_medicine_only(client):
    r = ask(client, user("What is it used for?"), model="ema-overviews:opzelura")
    assert r.citations and {c["medicine"] for c in r.citations} == {"Opzelura"}
    with pytest.raises(openai.NotFoundError, match="GET /v1/models"):
        ask(client, user(CONEXXENCE), model="ema-overviews:Aspirin")
    with pytest.raises(openai.NotFoundError):
        ask(client, user(CONEXXENCE), model="gpt-4o-mini")


def test_the_last_message_must_be_the_users_question(client):
    with pytest.raises(openai.UnprocessableEntityError) as error:
        ask(client, user(CONEXXENCE), {"role": "assistant", "content": "It is given every 6 months."})
    assert error.value.body["detail"] == 'The last message must be the user\'s question (role "user").'
    assert error.value.body["errors"][0]["field"] == "messages.1"
    with pytest.raises(openai.UnprocessableEntityError, match="question is empty"):
        ask(client, user("   "))


def test_same_key_rule_as_the_json_api(base_url):
    wrong = openai.OpenAI(base_url=f"{base_url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    body = {"model": "ema-overviews", "messages": [user(CONEXXENCE)]}
    assert httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=60).status_code == 401
    # X-API-Key, as for /api/*, works too
    r = httpx.post(f"{base_url}/v1/chat/completions", json=body, headers={"X-API-Key": KEY}, timeout=60)
    assert r.status_code == 200 and r.json()["citations"][0]["ref"] == "EMA/201153/2025"
    # a page on an allowed origin needs no key, and gets the CORS header; others do not
    page = httpx.get(f"{base_url}/v1/models", headers={"Origin": ALLOWED}, timeout=30)
    assert page.status_code == 200 and page.headers["access-control-allow-origin"] == ALLOWED
    other = httpx.get(f"{base_url}/v1/models", headers={"Origin": "https://elsewhere.example.com"}, timeout=30)
    assert other.status_code == 401 and "access-control-allow-origin" not in other.headers


def test_latency_script_times_both_endpoints(base_url):
    from eval.api_latency import ENDPOINTS, run

    result = run(base_url, n=3, headers={"X-API-Key": KEY})
    assert result["questions"] == 3
    assert all(result[name]["p50_ms"] > 0 for name in ENDPOINTS)
    assert result["v1_chat_stream_first_piece"]["p50_ms"] <= result["v1_chat_stream"]["p50_ms"]
