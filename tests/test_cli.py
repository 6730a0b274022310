"""`python -m rag "question"`: the answer and its citations on stdout, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT
from .corpus_factory import ingest_env, seeded_store


def _rag(settings, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag", "--store", str(settings.store_dir), *args], cwd=ROOT, env=ingest_env(settings),
                          capture_output=True, text=True, timeout=300, **kwargs)


def test_the_cli_answers_with_its_citations(make_settings):
    settings = make_settings()
    seeded_store(settings)
    out = _rag(settings, "How often is Conexxence given?")
    assert out.returncode == 0, out.stderr
    assert "6 months" in out.stdout
    assert "[1] Conexxence" in out.stdout and "EMA/" in out.stdout and "https://www.ema.europa.eu/" in out.stdout
    assert "Traceback" not in out.stderr

    data = json.loads(_rag(settings, "--json", "Which medicine treats vitiligo?").stdout)
    assert {c["medicine"] for c in data["citations"]} == {"Opzelura"}


def test_a_reader_that_stops_early_is_no_error(make_settings):
    settings = make_settings()
    seeded_store(settings)
    cmd = f"{sys.executable} -m rag --store {settings.store_dir} --json 'How often is Conexxence given?' | head -1"
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=ROOT, env=ingest_env(settings),
                         capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "{"
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
