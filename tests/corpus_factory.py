"""Corpora for the reliability tests, derived from the seed overviews.

`synthetic_corpus` reuses eval.synth: document i is seed i mod 4 with the medicine, its substance and
its reference numbers renamed, so every document is distinct and names a medicine of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from eval.synth import generate
from ingest.loaders import Skip, load
from ingest.parse import parse
from ingest.pipeline import section_id

from .conftest import ROOT, SEEDS, SEED_FILES


def synthetic_corpus(dst: Path, n: int = 50) -> list[Path]:
    return [d.path for d in generate(dst, n, SEEDS)]


def expected_ids(files: list[Path], settings) -> dict[str, set[str]]:
    """Document name -> the section ids an ingest must store for it, from parsing the file directly."""
    from rag.embedder import get_embedder

    count_tokens = get_embedder(settings).count_tokens
    out: dict[str, set[str]] = {}
    for path in files:
        try:
            loaded = load(path, settings.max_file_bytes)
        except Skip:
            continue
        doc = parse(loaded.pages, loaded.format, max_tokens=settings.max_section_tokens, count_tokens=count_tokens)
        if doc.sections:
            out[path.name] = {section_id(path.name, s.key, s.part) for s in doc.sections}
    return out


def seed_ids(settings) -> set[str]:
    return set().union(*expected_ids([SEEDS / n for n in SEED_FILES], settings).values())


def ingest_cmd(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "ingest", *map(str, args)]


def ingest_env(settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ, MODEL_CACHE_DIR=str(settings.model_cache_dir))
    for name in ("CHROMA_HOST", "CHROMA_PORT", "STORE_DIR", "LLM_BASE_URL"):
        env.pop(name, None)
    env.update(extra)
    return env


def run_ingest(settings, *paths: Path, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    """`python -m ingest PATHS --store STORE` in a fresh process, as a user runs it."""
    return subprocess.run(ingest_cmd(*paths, "--store", settings.store_dir), cwd=ROOT, env=ingest_env(settings, **env),
                          capture_output=True, text=True, timeout=timeout)


def store_snapshot(settings) -> dict[str, dict]:
    """id -> metadata, read by a fresh process so no client cache in this one hides what is on disk."""
    import json

    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from rag.settings import Settings\n"
        "from rag.store import SectionStore\n"
        "s = Settings(_env_file=None, store_dir=Path(sys.argv[1]), model_cache_dir=Path(sys.argv[2]))\n"
        "store = SectionStore(s)\n"
        "got = store.collection.get(include=['metadatas'])\n"
        "print(json.dumps({'count': store.count(), 'ids': got['ids'], 'metas': got['metadatas']}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(settings.store_dir), str(settings.model_cache_dir)],
                         cwd=ROOT, env=ingest_env(settings), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["count"] == len(data["ids"]) == len(set(data["ids"])), "the store holds an id twice"
    return dict(zip(data["ids"], data["metas"]))


_SEEDED: dict[str, Path] = {}


def seeded_store(settings) -> None:
    """Put the four seeds, ingested once by `python -m ingest`, at settings.store_dir.

    The store is built once per test process and copied, so each test starts from a store that
    no client in this process has open.
    """
    import atexit
    import shutil
    import tempfile

    key = str(settings.model_cache_dir)
    if key not in _SEEDED:
        base = Path(tempfile.mkdtemp(prefix="seeded-store-"))
        atexit.register(shutil.rmtree, base, True)
        out = run_ingest(settings.model_copy(update={"store_dir": base / "store"}), SEEDS)
        assert out.returncode == 0, out.stdout + out.stderr
        _SEEDED[key] = base / "store"
    shutil.copytree(_SEEDED[key], settings.store_dir, ignore=shutil.ignore_patterns(".ingest.lock"))


def fresh_check(settings, question: str) -> dict:
    """Open the store in a new process, as an app starting now would, and ask one question.

    Returns the stored ids with their metadata, the count, and the answer with its citations.
    """
    import json

    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from rag.offline import prepare_environment\n"
        "prepare_environment()\n"
        "from rag.settings import Settings\n"
        "from rag.service import RagService\n"
        "s = Settings(_env_file=None, store_dir=Path(sys.argv[1]), model_cache_dir=Path(sys.argv[2]), llm_base_url=None)\n"
        "svc = RagService(s)\n"
        "got = svc.store.collection.get(include=['metadatas'])\n"
        "a = svc.answer(sys.argv[3])\n"
        "print(json.dumps({'count': svc.store.count(), 'ids': got['ids'], 'metas': got['metadatas'],\n"
        "                  'refused': a.refused, 'answer': a.answer, 'cited': [c.section_id for c in a.citations]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(settings.store_dir), str(settings.model_cache_dir), question],
                         cwd=ROOT, env=ingest_env(settings), capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["count"] == len(data["ids"]) == len(set(data["ids"])), "the store holds an id twice"
    data["metas"] = dict(zip(data["ids"], data["metas"]))
    return data
