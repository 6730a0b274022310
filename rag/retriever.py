"""Rank stored sections for a question: dense (e5 via Chroma) + BM25 + section intent + language.

Generic top-k over chunks picks the "what is X" section too often, so the ranking uses what
the documents share: every overview answers the same questions under the same headings.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

import numpy as np
from llama_index.core.schema import TextNode

from . import glossary
from .catalogue import Catalogue
from .store import data_version


@dataclass(frozen=True)
class Weights:
    dense: float = 1.0  # per 0.03 of cosine below the best section
    bm25: float = 0.6
    intent: float = 2.0
    language: float = 0.2
    dense_scale: float = 0.03


@dataclass
class Ranked:
    node: TextNode
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


_STOPWORDS = set(
    """a an the of and or to in on at for with by from is are was were be been it its this that these those
    what which who whom how when why does do did can could should would may might will shall i you we they he she
    me my your our their there here about into than then also not no yes if as so such any all some more most
    och att det som en ett är för med av på till den de om har inte kan ska vid hur vad vilka vilken vilket när
    varför eller från sig så men under efter ut än också finns hos mot något någon några""".split()
)


def tokens(text: str) -> list[str]:
    """Lowercase words without stopwords, cut to 7 letters: a crude stem that serves both languages."""
    words = re.findall(r"\w+", text.lower())
    return [w[:7] for w in words if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]


class Retriever:
    def __init__(self, store, embedder, weights: Weights | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.weights = weights or Weights()
        self._lock = threading.Lock()
        self._version: int | None = None
        self.nodes: list[TextNode] = []
        self.catalogue = Catalogue([])
        self._bm25 = None
        self._checked = 0.0
        self.recheck_s = 2.0

    # index of all sections, rebuilt when the store changes ---------------------------------
    def refresh(self, force: bool = False) -> None:
        """Re-read the store when it changed; checked at most every `recheck_s` seconds."""
        now = time.monotonic()
        if not force and self._version is not None and now - self._checked < self.recheck_s:
            return
        self._checked = now
        entries = self.store.entries()
        version = data_version(entries)
        with self._lock:
            if not force and version == self._version:
                return
            nodes = self.store.sections()
            vocab = {w for n in nodes for w in re.findall(r"\w+", n.text.lower())}
            self.catalogue = Catalogue([n.metadata for n in nodes], vocab)
            self.nodes = nodes
            self._index = {n.node_id: i for i, n in enumerate(nodes)}
            self._bm25 = self._build_bm25(nodes) if nodes else None
            self._version = version

    @staticmethod
    def _build_bm25(nodes: list[TextNode]):
        import bm25s

        corpus = [tokens(f"{n.metadata.get('medicine', '')} {n.metadata.get('section_title', '')} {n.text}") for n in nodes]
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        return bm25

    def bm25_scores(self, question: str) -> np.ndarray:
        q = tokens(glossary.expand(question))
        if self._bm25 is None or not q:
            return np.zeros(len(self.nodes))
        known = [t for t in q if t in self._bm25.vocab_dict]
        if not known:
            return np.zeros(len(self.nodes))
        return np.asarray(self._bm25.get_scores(known), dtype=float)

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
        if self._version is None:
            self.refresh()
        if not self.nodes:
            return []
        w = self.weights
        embedding = query_embedding or self.embedder.get_query_embedding(question)
        n_dense = min(len(self.nodes), 200)
        dense = {h.node.node_id: h.score for h in self.store.query(embedding, n_dense, medicines)}
        bm = self.bm25_scores(question)
        allowed = {m.lower() for m in medicines} if medicines else None

        candidates = set(dense)
        for i in np.argsort(-bm)[:50]:
            node = self.nodes[i]
            if bm[i] > 0 and (allowed is None or str(node.metadata.get("medicine", "")).lower() in allowed):
                candidates.add(node.node_id)
        if not candidates:
            return []
        missing = [c for c in candidates if c not in dense]
        if missing:
            q = np.asarray(embedding)
            for c, v in self._embeddings(missing).items():
                dense[c] = float(np.dot(q, v))
            # A section an ingest removed since the last refresh is no candidate any more.
            candidates = {c for c in candidates if c in dense}
        if not candidates:
            return []

        best_dense = max(dense[c] for c in candidates)
        cand_bm = [bm[self._index[c]] for c in candidates if c in self._index]
        best_bm = max(cand_bm) if cand_bm and max(cand_bm) > 0 else 1.0
        ranked = []
        for c in candidates:
            if c not in self._index:
                continue
            node = self.nodes[self._index[c]]
            meta = node.metadata
            d = dense[c]
            b = bm[self._index[c]] / best_bm
            it = prior.get(meta.get("section", ""), 0.0)
            same = meta.get("language") == language
            score = w.dense * (d - best_dense) / w.dense_scale + w.bm25 * b + w.intent * it + w.language * same
            ranked.append(Ranked(node, score, d, b, it, same))
        ranked.sort(key=lambda r: -r.score)
        return ranked[:top_k]

    def _embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the ids that are still in the store."""
        got = self.store.collection.get(ids=ids, include=["embeddings"])
        return {i: np.asarray(v) for i, v in zip(got["ids"], got["embeddings"])}
