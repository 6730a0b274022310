"""The HTTP API in-process: answers, limits, CORS, API key, feedback and the OpenAPI schema."""

from __future__ import annotations

import dataclasses
import sqlite3
from functools import partial

import anyio.from_thread
import httpx
import pytest

from rag import schema

ALLOWED = "https://intranet.example.org"
REFUSED = "https://elsewhere.example.com"
KEY = "s3cret-key"


class Client:
    """httpx against the app in-process, driven from sync tests through one event loop."""

    def __init__(self, app, portal) -> None:
        self.app, self.portal = app, portal
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        return self.portal.call(partial(self.http.request, method, url, **kwargs))

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)

    def options(self, url, **kwargs):
        return self.request("OPTIONS", url, **kwargs)


@pytest.fixture(scope="module")
def portal():
    with anyio.from_thread.start_blocking_portal() as portal:
        yield portal


@pytest.fixture(scope="module")
def make_client(seeded_settings, service, tmp_path_factory, portal):
    from ui.app import create_app

    def make(settings=None, svc=None, **overrides) -> Client:
        values = {"feedback_db": tmp_path_factory.mktemp("fb") / "feedback.sqlite3", "trusted_hosts": ["testserver"]} | overrides
        return Client(create_app((settings or seeded_settings).model_copy(update=values), svc or service), portal)

    return make


@pytest.fixture(scope="module")
def client(make_client) -> Client:
    return make_client(cors_origins=[ALLOWED])


def ask(client: Client, question: str, **extra):
    return client.post("/api/ask", json={"question": question, **extra})


def test_ask_quotes_the_overview_with_its_reference(client):
    r = ask(client, "How often is Conexxence given?")
    assert r.status_code == 200
    body = r.json()
    assert not body["refused"]
    assert "6 months" in body["answer"]
    assert body["citations"][0]["ref"] == "EMA/201153/2025"
    assert body["citations"][0]["medicine"] == "Conexxence"
    assert body["mode"] == "extractive"


def test_follow_up_uses_the_history(client):
    first = ask(client, "What is the recommended dose of Lumykras?").json()
    history = [{"role": "user", "content": first["question"]}, {"role": "assistant", "content": first["answer"]}]
    r = ask(client, "How is it taken?", history=history)
    assert r.status_code == 200
    assert r.json()["medicines"] == ["Lumykras"]


def test_question_outside_the_documents_is_refused(client):
    body = ask(client, "What is the maximum daily dose of ibuprofen?").json()
    assert body["refused"] and body["citations"] == []
    assert "ibuprofen" in body["answer"]


def test_medicine_filter_is_checked(client):
    assert ask(client, "How is it used?", medicine="lumykras").json()["medicines"] == ["Lumykras"]
    r = ask(client, "How is it used?", medicine="Aspirin")
    assert r.status_code == 422 and "/api/medicines" in r.json()["detail"]


def test_medicines_lists_the_corpus_with_reference_numbers(client):
    r = client.get("/api/medicines")
    assert r.status_code == 200
    meds = {m["name"]: m for m in r.json()}
    assert set(meds) == {"Conexxence", "Lumykras", "Opzelura"}
    assert all(m["refs"] for m in meds.values())
    assert "EMA/201153/2025" in meds["Conexxence"]["refs"]
    assert meds["Conexxence"]["languages"] == ["en", "sv"]


def test_health_reports_store_documents_and_mode(client):
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["store_reachable"]
    assert body["documents"] == 4 and body["medicines"] == 3 and body["sections"] > 10
    assert body["mode"] == "extractive"


def test_health_of_an_empty_store_says_so(make_client, make_settings):
    from rag.service import RagService

    settings = make_settings()
    r = make_client(settings, RagService(settings)).get("/api/health")
    assert r.status_code == 503
    assert r.json()["status"] == "empty" and "python -m ingest" in r.json()["message"]


@pytest.mark.parametrize("payload, words", [
    ('{"question": ""}', "empty"),
    ('{"question": "   \\n "}', "empty"),
    ('{"question": "' + "a" * 2001 + '"}', "2001 characters"),
    ('{"question": "How often', "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ("", "missing"),
    ('{"history": []}', "question is required"),
    ('{"question": 5}', "valid string"),
    ('{"question": "Hi", "history": [{"role": "system", "content": "x"}]}', "history.0.role"),
])
def test_bad_requests_get_a_readable_422(client, payload, words):
    r = client.post("/api/ask", content=payload, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    body = r.json()
    assert words in body["detail"]
    assert body["errors"] and all(e["message"] for e in body["errors"])
    assert "Traceback" not in r.text and 'File "' not in r.text


def test_question_at_the_limit_is_accepted(client):
    r = ask(client, "How often is Conexxence given? " + "x" * (2000 - 31))
    assert r.status_code == 200


def test_cors_allows_listed_origins_only(client):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = client.options("/api/ask", headers={"Origin": ALLOWED, **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == ALLOWED
    no = client.options("/api/ask", headers={"Origin": REFUSED, **preflight})
    assert no.status_code == 400
    assert "access-control-allow-origin" not in no.headers

    # A browser-based OpenAI client on a listed origin sends its key in Authorization.
    bearer = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}
    ok = client.options("/v1/chat/completions", headers={"Origin": ALLOWED, **bearer})
    assert ok.status_code == 200 and "authorization" in ok.headers["access-control-allow-headers"].lower()

    r = client.get("/api/medicines", headers={"Origin": ALLOWED})
    assert r.headers["access-control-allow-origin"] == ALLOWED
    r = client.get("/api/medicines", headers={"Origin": REFUSED})
    assert "access-control-allow-origin" not in r.headers


def test_api_key_guards_server_to_server_calls(make_client):
    c = make_client(api_key=KEY, cors_origins=[ALLOWED])
    question = {"question": "How often is Conexxence given?"}
    assert c.post("/api/ask", json=question).status_code == 401
    r = c.post("/api/ask", json=question, headers={"X-API-Key": "wrong"})
    assert r.status_code == 401 and "X-API-Key" in r.json()["detail"]
    assert c.get("/api/health", headers={"X-API-Key": KEY}).status_code == 200
    assert c.post("/api/ask", json=question, headers={"X-API-Key": KEY}).status_code == 200
    # browsers: the widget on this app's own origin or on a listed origin sends no key
    assert c.post("/api/ask", json=question, headers={"Origin": "http://testserver"}).status_code == 200
    assert c.post("/api/ask", json=question, headers={"Origin": ALLOWED}).status_code == 200
    assert c.post("/api/ask", json=question, headers={"Origin": REFUSED}).status_code == 401
    # the pages themselves are not part of the API
    assert c.get("/widget.js").status_code == 200 and c.get("/embed").status_code == 200


def test_own_origin_needs_a_named_trusted_host(make_client):
    question = {"question": "How often is Conexxence given?"}
    forged = {"Host": "evil.example", "Origin": "https://evil.example"}
    c = make_client(api_key=KEY, trusted_hosts=["testserver", "*.intranet.example.org"])
    assert c.post("/api/ask", json=question, headers=forged).status_code == 400
    own = {"Host": "chat.intranet.example.org", "Origin": "https://chat.intranet.example.org"}
    assert c.post("/api/ask", json=question, headers=own).status_code == 200
    # with "*" every Host is let in, so a Host proves nothing: the page needs CORS_ORIGINS or the key
    c = make_client(api_key=KEY, trusted_hosts=["*"])
    assert c.post("/api/ask", json=question, headers=forged).status_code == 401
    assert c.post("/api/ask", json=question, headers={"Origin": "http://testserver"}).status_code == 401


def test_without_api_key_setting_the_api_is_open(client):
    assert client.get("/api/medicines").status_code == 200
    assert client.get("/api/medicines", headers={"X-API-Key": "anything"}).status_code == 200


def test_feedback_is_stored(make_client):
    c = make_client()
    answer = ask(c, "How often is Conexxence given?").json()
    r = c.post("/api/feedback", json={"question": answer["question"], "answer": answer["answer"],
                                      "citations": answer["citations"], "vote": "up"})
    assert r.status_code == 201
    db = c.app.state.feedback.path
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT vote, question, answer, citations, source FROM feedback WHERE id = ?",
                           (r.json()["id"],)).fetchone()
    assert row[0] == "up" and row[1] == "How often is Conexxence given?" and "6 months" in row[2]
    assert "EMA/201153/2025" in row[3] and row[4] == "api"
    assert c.post("/api/feedback", json={"question": "q", "answer": "a", "vote": "maybe"}).status_code == 422


def test_openapi_schema_matches_the_answer(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/medicines", "/api/health", "/api/feedback"} <= set(spec["paths"])
    schemas = spec["components"]["schemas"]
    assert set(schemas["Answer"]["properties"]) == {f.name for f in dataclasses.fields(schema.Answer)}
    assert set(schemas["Citation"]["properties"]) == {f.name for f in dataclasses.fields(schema.Citation)}
    ask_responses = spec["paths"]["/api/ask"]["post"]["responses"]
    assert ask_responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/Problem")
    assert "X-API-Key" in str(spec["components"]["securitySchemes"])


def test_widget_script_and_demo_page(client):
    js = client.get("/widget.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "innerHTML" not in js.text and "X-API-Key" not in js.text
    assert "document.currentScript" in js.text
    page = client.get("/embed")
    assert page.status_code == 200 and '<script src="/widget.js"' in page.text


def test_chat_renders_text_inertly():
    from ui import render

    hostile = '<img src=x onerror="document.title=\'pwned\'"> <script>alert(1)</script> [x](javascript:alert(1))'
    html = render.message(hostile, [{"number": 1, "medicine": "<b>M</b>", "section_title": "<i>t</i>",
                                     "ref": "EMA/1/2020", "language": "en", "source": "a.md", "page": 2,
                                     "quote": hostile, "ref_inferred": True}])
    assert "<img" not in html and "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "](" not in html
    assert "(inferred)" in html and "a.md, p. 2" in html
