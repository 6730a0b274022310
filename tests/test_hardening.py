"""The app in its own process against a hostile client: odd text, huge and broken bodies, forged hosts,
flooded feedback and uploads nobody asked for. Real sockets, loopback only."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT
from .live_app import app_process

KEY = "s3cret-key"
MB = 1024 * 1024
RATE_LIMIT = 30


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class App:
    def __init__(self, proc: subprocess.Popen, port: int, feedback_db: Path, upload_dir: Path) -> None:
        self.proc, self.port, self.feedback_db, self.upload_dir = proc, port, feedback_db, upload_dir
        self.url = f"http://127.0.0.1:{port}"
        self.own = {"Origin": self.url}  # what the app's own pages send

    def post(self, path: str, **kwargs) -> httpx.Response:
        return httpx.post(self.url + path, **{"timeout": 60, **kwargs})

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, **{"timeout": 60, **kwargs})


@pytest.fixture(scope="module")
def app(seeded_settings, tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    feedback_db, uploads = base / "feedback.sqlite3", base / "gradio-tmp"
    uploads.mkdir()
    env = dict(os.environ, STORE_DIR=str(seeded_settings.store_dir), MODEL_CACHE_DIR=str(seeded_settings.model_cache_dir),
               FEEDBACK_DB=str(feedback_db), LLM_BASE_URL="", CHROMA_HOST="", API_KEY=KEY, GRADIO_TEMP_DIR=str(uploads),
               FEEDBACK_RATE_LIMIT=f"{RATE_LIMIT}/minute", PYTHONPATH=str(ROOT))
    # cwd without a .env, so only the environment above configures the app
    with app_process(env, base, headers={"X-API-Key": KEY}) as running:
        yield App(running.proc, running.port, feedback_db, uploads)


def feedback_body(**overrides) -> dict:
    citation = {"number": 1, "medicine": "Conexxence", "ref": "EMA/201153/2025", "product_number": "EMEA/H/C/006268",
                "section": "how_used", "section_title": "How is Conexxence used?", "language": "en",
                "source": "conexxence_en.md", "page": None, "quote": "It is given once every 6 months."}
    return {"question": "How often is Conexxence given?", "answer": "Once every 6 months [1]",
            "citations": [citation], "vote": "up"} | overrides


# 1 ------------------------------------------------------------------------------------------------
def test_lone_surrogate_is_answered_not_a_server_error(app):
    raw = b'{"question": "Conexxence \\ud800 how often is it given?"}'
    r = app.post("/api/ask", content=raw, headers={"Content-Type": "application/json", **app.own})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "\ufffd" in body["question"]
    assert not body["refused"] and "6 months" in body["answer"]

    raw = json.dumps(feedback_body(question="Conexxence \ud800", answer="\udfff")).encode()
    r = app.post("/api/feedback", content=raw, headers={"Content-Type": "application/json", **app.own})
    assert r.status_code == 201, r.text
    with sqlite3.connect(app.feedback_db) as conn:
        question = conn.execute("SELECT question FROM feedback WHERE id = ?", (r.json()["id"],)).fetchone()[0]
    assert question == "Conexxence \ufffd"


# 2 ------------------------------------------------------------------------------------------------
def _chunks(total: int, size: int = MB):
    block = b"x" * size
    for _ in range(total // size):
        yield block


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_300_mb_body_is_refused_without_memory_growth(app, declared):
    before = rss_kb(app.proc.pid)
    headers = {"Content-Type": "application/json", **app.own}
    if declared:
        headers["Content-Length"] = str(300 * MB)
    t0 = time.monotonic()
    r = app.post("/api/ask", content=_chunks(300 * MB), headers=headers)
    elapsed = time.monotonic() - t0
    grown_mb = (rss_kb(app.proc.pid) - before) / 1024
    assert r.status_code == 413, r.text
    assert "MAX_BODY_BYTES" in r.json()["detail"]
    assert grown_mb < 8, f"the app grew by {grown_mb:.1f} MB"
    print(f"300 MB body ({'declared' if declared else 'chunked'}): 413 in {elapsed:.2f} s, RSS +{grown_mb:.1f} MB")
    # the app still answers
    assert app.post("/api/ask", json={"question": "How often is Conexxence given?"}, headers=app.own).status_code == 200


# 3 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field, value", [
    ("quote", "x" * 100_000),
    ("medicine", "M" * 10_000),
    ("section_title", "t" * 10_000),
    ("source", "s" * 10_000),
])
def test_feedback_fields_have_length_caps(app, field, value):
    body = feedback_body()
    body["citations"][0][field] = value
    size = app.feedback_db.stat().st_size if app.feedback_db.exists() else 0
    r = app.post("/api/feedback", json=body, headers=app.own)
    assert r.status_code == 422, r.text
    assert f"citations.0.{field}" in r.json()["detail"]
    assert (app.feedback_db.stat().st_size if app.feedback_db.exists() else 0) == size


# 4 ------------------------------------------------------------------------------------------------
def test_a_forged_host_is_not_the_apps_own_page(app):
    forged = {"Host": "evil.example", "Origin": "https://evil.example"}
    r = app.post("/api/ask", json={"question": "How often is Conexxence given?"}, headers=forged)
    assert r.status_code in (400, 403), r.text
    r = app.post("/api/feedback", json=feedback_body(), headers=forged)
    assert r.status_code in (400, 403), r.text
    # a rebinding page keeps the port in Host and Origin: still refused
    rebound = {"Host": f"evil.example:{app.port}", "Origin": f"http://evil.example:{app.port}"}
    assert app.post("/api/ask", json={"question": "Hi"}, headers=rebound).status_code in (400, 403)
    # the app's own page and the key still work
    assert app.post("/api/ask", json={"question": "How often is Conexxence given?"}, headers=app.own).status_code == 200
    assert app.post("/api/ask", json={"question": "Hi"}, headers={"X-API-Key": KEY}).status_code == 200
    assert app.post("/api/ask", json={"question": "Hi"}).status_code == 401


def test_liveness_needs_no_key_and_reveals_nothing(app):
    r = app.get("/api/live")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert app.get("/api/health").status_code == 401
    assert app.get("/api/health", headers={"X-API-Key": KEY}).json()["documents"] == 4


# 5 ------------------------------------------------------------------------------------------------
def test_gradio_upload_route_is_closed(app):
    before = sorted(p for p in app.upload_dir.rglob("*"))
    r = app.post("/gradio_api/upload", files={"files": ("big.bin", b"\0" * (5 * MB))})
    assert r.status_code in (404, 413), r.text  # over MAX_BODY_BYTES: refused before the route
    r = app.post("/gradio_api/upload", files={"files": ("small.bin", b"\0" * MB)})
    assert r.status_code in (403, 404, 405), r.text
    r = app.post("/gradio_api/upload?upload_id=abc", files={"files": ("a.txt", b"hello")}, headers=app.own)
    assert r.status_code in (403, 404, 405), r.text
    assert sorted(p for p in app.upload_dir.rglob("*") if p.is_file()) == [p for p in before if p.is_file()]
    # the chat itself still loads
    assert app.get("/").status_code == 200


# 6 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, words", [
    (b'{"question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested"),
    (b'{"question": "How often is Conexxence given? \xff\xfe"}', "UTF-8"),
    (b'{"question": 1' + b"0" * 5000 + b"}", "number"),
], ids=["nested", "invalid-utf8", "huge-number"])
@pytest.mark.parametrize("path", ["/api/ask", "/api/feedback"])
def test_malformed_bodies_get_a_readable_422(app, raw, words, path):
    r = app.post(path, content=raw, headers={"Content-Type": "application/json", **app.own})
    assert r.status_code == 422, r.text
    body = r.json()
    assert words in body["detail"] and body["errors"][0]["field"] == "body"
    assert "error parsing the body" not in r.text


# 3, the rate limit: last, because it spends this app's feedback budget --------------------------------
def test_feedback_is_rate_limited_per_client(app):
    codes = [app.post("/api/feedback", json=feedback_body(), headers=app.own).status_code
             for _ in range(RATE_LIMIT + 1)]
    assert codes[0] == 201 and codes[-1] == 429, codes
    assert codes.count(201) <= RATE_LIMIT
    r = app.post("/api/feedback", json=feedback_body(), headers=app.own)
    assert r.status_code == 429
    assert "feedback" in r.json()["detail"] and int(r.headers["Retry-After"]) > 0
    # asking is not limited by it
    assert app.post("/api/ask", json={"question": "How often is Conexxence given?"}, headers=app.own).status_code == 200
