"""The real app in its own process under 50 concurrent clients × 20 questions, loopback only."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from eval.load import run

from .conftest import ROOT
from .live_app import app_process


@pytest.fixture(scope="module")
def app_url(seeded_settings, tmp_path_factory):
    env = dict(os.environ, STORE_DIR=str(seeded_settings.store_dir), MODEL_CACHE_DIR=str(seeded_settings.model_cache_dir),
               FEEDBACK_DB=str(tmp_path_factory.mktemp("load") / "feedback.sqlite3"), LLM_BASE_URL="", CHROMA_HOST="")
    with app_process(env, ROOT) as app:
        yield app.url


def test_fifty_clients_twenty_questions_each_without_errors(app_url):
    result = asyncio.run(run(app_url, clients=50, questions=20, timeout_s=300))
    print(f"\nload: {result.requests} asks in {result.wall_s:.1f} s, p50 {result.ask_p50_ms} ms, "
          f"p95 {result.ask_p95_ms} ms, {result.throughput_rps} req/s; health p50 {result.health_p50_ms} ms, "
          f"max {result.health_max_ms} ms over {result.health_checks} checks")
    assert result.requests == 1000
    assert result.errors == 0, result.error_samples
    # /api/health kept answering while every answer slot was busy.
    assert result.health_checks >= 5 and result.health_errors == 0


def test_answers_under_load_are_the_same_answers(app_url):
    async def ask_many():
        async with httpx.AsyncClient(base_url=app_url, timeout=120) as http:
            rs = await asyncio.gather(*(http.post("/api/ask", json={"question": "How often is Conexxence given?"})
                                        for _ in range(20)))
            return [r.json() for r in rs]

    answers = asyncio.run(ask_many())
    assert len({a["answer"] for a in answers}) == 1
    assert all(a["citations"][0]["ref"] == "EMA/201153/2025" for a in answers)
