"""Rank stored sections for a question: dense (e5 via Chroma) + BM25 + section intent + language.

Generic top-k over chunks picks the "what is X" section too often, so the ranking uses what
the documents share: every overview answers the same questions under the same headings.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
from . import glossary, lexical, sidecar
from .catalogue import Catalogue
from .lexical import tokens  # noqa: F401  (where callers used to find it)
from .store import Node


@dataclass(frozen=True)
class Weights:
    dense: float = 1.0  # per 0.03 of cosine below the best section
    bm25: float = 0.6
    intent: float = 2.0
    language: float = 0.2
    dense_scale: float = 0.03


@dataclass
class Ranked:
    node: Node
    score: float
    dense: float
    bm25: float
    intent: float
    same_language: bool

    @property
    def meta(self) -> dict:
        return self.node.metadata

    def to_dict(self) -> dict:
        m = self.meta
        return {
            "id": self.node.node_id, "medicine": m.get("medicine"), "section": m.get("section"),
            "section_title": m.get("section_title"), "language": m.get("language"),
            "ref": m.get("ref") or None, "source": m.get("source"), "score": round(float(self.score), 4),
            "dense": round(float(self.dense), 4), "bm25": round(float(self.bm25), 4), "intent": round(self.intent, 3),
        }


class Retriever:
    def __init__(self, store, embedder, weights: Weights | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.weights = weights or Weights()
        self._lock = threading.Lock()
        self.index = sidecar.Index(version=None)
        self.catalogue = Catalogue([])
        self._state: dict | None = None
        self._loaded = False
        self._checked = 0.0
        self.recheck_s = 2.0

    @property
    def _version(self) -> str | None:
        return self.index.version

    # what the store holds, from the files ingest writes beside it --------------------------
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
            self.catalogue = Catalogue.from_facts(index.medicines, index.words)
            self.index = index

    def bm25_scores(self, question: str, language: str | None = None) -> np.ndarray:
        """BM25 of every section for the question's words, tokenised in the question's language, and for
        the glossary's equivalents of its terms, tokenised in every language the store holds."""
        index = self.index
        q = lexical.tokens(question, language)
        extra = " ".join(glossary.equivalents(question))
        if extra:
            seen = set(q)
            for lang in index.languages or [language]:
                for t in lexical.tokens(extra, lang):
                    if t not in seen:
                        seen.add(t)
                        q.append(t)
        bm25 = index.bm25 if q else None
        if bm25 is None:
            return np.zeros(len(index))
        known = [t for t in q if t in bm25.vocab_dict]
        if not known:
            return np.zeros(len(index))
        return np.asarray(bm25.get_scores(known), dtype=float)

    # ranking --------------------------------------------------------------------------------
    def retrieve(
        self,
        question: str,
        *,
        medicines: list[str] | None,
        language: str,
        prior: dict[str, float],
        query_embedding: list[float] | None = None,
        top_k: int = 5,
    ) -> list[Ranked]:
        if not self._loaded:
            self.refresh()
        index = self.index
        if not len(index):
            return []
        w = self.weights
        embedding = query_embedding or self.embedder.get_query_embedding(question)
        n_dense = min(len(index), 200)
        hits = self.store.query(embedding, n_dense, medicines)
        dense = {h.node.node_id: h.score for h in hits}
        nodes = {h.node.node_id: h.node for h in hits}
        bm = self.bm25_scores(question, language)
        if medicines:
            bm = np.where(index.rows_of(medicines), bm, 0.0)

        candidates = set(dense)
        top = np.argpartition(-bm, min(50, len(bm) - 1))[:50] if len(bm) > 50 else np.arange(len(bm))
        for i in top:
            if bm[i] > 0:
                candidates.add(index.ids[i])
        # Sections added since the index was built wait for the next build (as BM25 does).
        candidates = {c for c in candidates if index.row(c) is not None}
        if not candidates:
            return []
        missing = [c for c in candidates if c not in dense]
        if missing:
            q = np.asarray(embedding)
            for node in self.store.sections(ids=missing, embeddings=True):
                dense[node.node_id] = float(np.dot(q, np.asarray(node.embedding)))
                nodes[node.node_id] = node
            # A section an ingest removed since the last build is no candidate any more.
            candidates = {c for c in candidates if c in dense}
        if not candidates:
            return []

        best_dense = max(dense[c] for c in candidates)
        cand_bm = [bm[index.row(c)] for c in candidates]
        best_bm = max(cand_bm) if cand_bm and max(cand_bm) > 0 else 1.0
        ranked = []
        for c in candidates:
            node = nodes[c]
            meta = node.metadata
            d = dense[c]
            b = bm[index.row(c)] / best_bm
            it = prior.get(meta.get("section", ""), 0.0)
            same = meta.get("language") == language
            score = w.dense * (d - best_dense) / w.dense_scale + w.bm25 * b + w.intent * it + w.language * same
            ranked.append(Ranked(node, score, d, b, it, same))
        ranked.sort(key=lambda r: -r.score)
        return ranked[:top_k]
