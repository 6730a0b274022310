"""What the store holds, read from the files ingest writes beside it: side index, catalogue, BM25.

Reloaded only when the store's state file says it changed (an O(1) read, at most every `recheck_s`).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from . import glossary, lexical, sidecar
from .catalogue import Catalogue


class Corpus:
    def __init__(self, store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self.index = sidecar.Index(version=None)
        self.catalogue = Catalogue([])
        self._state: dict | None = None
        self._loaded = False
        self._checked = 0.0
        self.recheck_s = 2.0

    @property
    def version(self) -> str | None:
        return self.index.version

    def refresh(self, force: bool = False) -> None:
        """Reload when the store's state file says it changed; read at most every `recheck_s` seconds."""
        now = time.monotonic()
        if not force and self._loaded and now - self._checked < self.recheck_s:
            return
        self._checked = now
        state = sidecar.read_state(self.store.settings)
        if (not force and self._loaded and state == self._state and (state or {}).get("state") != "writing"
                and not self.store.settings.server_mode):
            return
        with self._lock:
            index, state = sidecar.current(self.store, state)
            self._state, self._loaded = state, True
            if index.version == self.index.version and not force:
                return
            self.store.reopen_if(index.version)
            self.catalogue = Catalogue.from_facts(index.medicines, index.words, index.lookup)
            self.index = index

    def ensure_loaded(self) -> None:
        if not self._loaded:
            self.refresh()

    def bm25_scores(self, question: str, language: str | None = None, equivalents: float = 0.5) -> np.ndarray:
        """BM25 of every section for the question's words, tokenised in the question's language, plus
        `equivalents` times the BM25 of the glossary's equivalents of its terms, tokenised in every language
        the store holds: a word the user wrote counts more than its translation."""
        index = self.index
        bm25 = index.bm25
        if bm25 is None:
            return np.zeros(len(index))
        q = lexical.tokens(question, language)
        extra: list[str] = []
        words = " ".join(glossary.equivalents(question))
        if words:
            seen = set(q)
            for lang in index.languages or [language]:
                for t in lexical.tokens(words, lang):
                    if t not in seen:
                        seen.add(t)
                        extra.append(t)
        scores = np.zeros(len(index))
        for tokens, weight in ((q, 1.0), (extra, equivalents)):
            known = [t for t in tokens if t in bm25.vocab_dict]
            if known:
                scores += weight * np.asarray(bm25.get_scores(known), dtype=float)
        return scores
