"""Shared fixtures: real files, a real on-disk Chroma store, the real embedding model."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "data" / "summaries"
SEED_FILES = ("conexxence_en.md", "conexxence_sv.txt", "lumykras_sv.txt", "opzelura_sv.txt")


@pytest.fixture(scope="session", autouse=True)
def _offline_env():
    from rag.offline import prepare_environment

    prepare_environment()


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    """The converted model is cached per machine, as for users; conversion happens once."""
    from rag.settings import Settings

    return Path(os.environ.get("MODEL_CACHE_DIR") or Settings().model_cache_dir)


@pytest.fixture
def make_settings(tmp_path, model_cache_dir):
    from rag.settings import Settings

    def make(**overrides):
        values = dict(store_dir=tmp_path / "store", model_cache_dir=model_cache_dir,
                      feedback_db=tmp_path / "feedback.sqlite3", llm_base_url=None, chroma_host=None)
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    """A private copy of the seed corpus that a test may change."""
    dst = tmp_path / "corpus"
    dst.mkdir()
    for name in SEED_FILES:
        shutil.copy(SEEDS / name, dst / name)
    return dst


@pytest.fixture(scope="session")
def seeded_settings(tmp_path_factory, model_cache_dir):
    """Settings for a store holding the four seeds, ingested once per test session."""
    from ingest.pipeline import ingest
    from rag.settings import Settings

    base = tmp_path_factory.mktemp("seeded")
    settings = Settings(_env_file=None, store_dir=base / "store", model_cache_dir=model_cache_dir,
                        feedback_db=base / "feedback.sqlite3", llm_base_url=None, chroma_host=None)
    report = ingest([SEEDS], settings)
    assert report.exit_code == 0, [(f.name, f.reason) for f in report.skipped]
    return settings


@pytest.fixture(scope="session")
def service(seeded_settings):
    from rag.service import RagService

    return RagService(seeded_settings)
