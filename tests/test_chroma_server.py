"""Server mode: a real `chroma run` on a free loopback port, configured through CHROMA_HOST/CHROMA_PORT,
gives the same store and the same answers as the embedded store."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path

import pytest

from .conftest import SEEDS
from .corpus_factory import run_ingest

QUESTIONS = (
    "How often is Conexxence given?",
    "What is the recommended dose of Lumykras?",
    "Vilka är de vanligaste biverkningarna av Opzelura?",
    "What is Conexxence used for?",
    "Varför är Lumykras godkänt i EU?",
)


def _chroma_cli() -> str:
    found = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(found).exists():
        pytest.skip("the chroma command is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    port = _free_port()
    log = open(tmp_path / "chroma.log", "wb")
    proc = subprocess.Popen([_chroma_cli(), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, (tmp_path / "chroma.log").read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the Chroma server did not start within 60 s"
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def _answer_key(answer) -> tuple:
    return answer.refused, answer.answer, [asdict(c) for c in answer.citations]


def test_server_mode_ingests_and_answers_like_the_embedded_store(chroma_server, service, make_settings, monkeypatch):
    port = chroma_server
    out = run_ingest(make_settings(), SEEDS, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(port))
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert f"store 127.0.0.1:{port}: 35 sections" in " ".join(out.stdout.split())

    from rag.service import RagService
    from rag.settings import Settings

    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    base = make_settings()
    settings = Settings(_env_file=None, store_dir=base.store_dir, model_cache_dir=base.model_cache_dir,
                        feedback_db=base.feedback_db, llm_base_url=None)
    assert settings.server_mode and settings.chroma_port == port
    remote = RagService(settings)
    assert remote.store.client.get_settings().chroma_api_impl.endswith("FastAPI")  # really over HTTP
    assert not base.store_dir.exists()  # and nothing written to the embedded folder

    def table(store):
        got = store.collection.get(include=["documents", "metadatas"])
        return {i: (d, sorted(m.items())) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}

    assert table(remote.store) == table(service.store)
    answered = 0
    for question in QUESTIONS:
        mine, theirs = remote.answer(question), service.answer(question)
        assert _answer_key(mine) == _answer_key(theirs), question
        answered += not mine.refused
    assert answered >= 4
    assert "6 months" in remote.answer(QUESTIONS[0]).answer


def test_an_unreachable_server_is_a_clear_error(make_settings):
    from rag.store import SectionStore, StoreError

    settings = make_settings(chroma_host="127.0.0.1", chroma_port=_free_port())
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        SectionStore(settings)
    out = run_ingest(settings, SEEDS, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(settings.chroma_port), timeout=120)
    assert out.returncode == 3 and "cannot reach the Chroma server" in out.stderr and "Traceback" not in out.stderr
