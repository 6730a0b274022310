"""What the first question would otherwise wait for, loaded when the app starts (not at import):
the drug dictionary (a few seconds, about 370 MB), the language identifier, the side index, the
BM25 index and Chroma's vector index, the answer's patterns and the embedding model's first run."""

from __future__ import annotations

import logging
import time

from rag.service import RagService

log = logging.getLogger(__name__)


def warm(service: RagService) -> float:
    """Load everything a first question needs; returns the seconds it took. Never raises: a store
    that cannot be read now is reported by /api/health, and the first question tries again."""
    start = time.perf_counter()
    try:
        if service.settings.drug_lexicon:
            from rag.medicines import warm_lexicon

            warm_lexicon()
        from rag.language import detect

        detect("How is this medicine used?")
        medicines = service.medicines()
        if medicines:
            service.rehearse(f"How is {medicines[0]['name']} used?")  # offline: no LLM endpoint is called
    except Exception as exc:
        log.warning("start-up warm-up stopped early: %s", exc)
    took = time.perf_counter() - start
    log.info("ready to answer (warm-up %.1f s)", took)
    return took
