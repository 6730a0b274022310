"""The app loads at start what a first question would otherwise wait for."""

from __future__ import annotations

import sys

import httpx


def test_warm_up_loads_the_dictionary_and_the_indexes(seeded_settings):
    from rag.service import RagService
    from ui.warm import warm

    service = RagService(seeded_settings)
    warm(service)
    assert "drug_named_entity_recognition" in sys.modules
    assert service.corpus.index._bm25 is not None  # memory-mapped BM25 opened
    assert not service.answer("How often is Conexxence given?").refused


def test_warm_up_never_stops_the_app_from_starting(seeded_settings, monkeypatch):
    from rag.service import RagService
    from ui.warm import warm

    service = RagService(seeded_settings)

    def broken():
        raise RuntimeError("store gone")

    monkeypatch.setattr(service, "medicines", broken)
    assert warm(service) >= 0


def test_the_app_warms_up_before_it_serves(seeded_settings, service, tmp_path, monkeypatch):
    import ui.app

    from .live_app import serve

    calls = []
    monkeypatch.setattr(ui.app, "warm", lambda svc: calls.append(svc) or 0.0)
    app = ui.app.create_app(seeded_settings.model_copy(update={"feedback_db": tmp_path / "fb.sqlite3"}), service)
    with serve(app) as url:
        assert calls == [service]  # done during start-up, before the first request
        assert httpx.get(url + "/api/live").status_code == 200
