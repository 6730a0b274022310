"""Hybrid retrieval of stored sections as llama-index nodes: dense (e5 via Chroma) fused with BM25.

The retriever returns candidates of the asked medicines scored by dense similarity and BM25; the
postprocessors (rag/postprocess.py) add what every EMA overview shares: the section the question
asks for and the question's language. Generic top-k over chunks picks "what is X" too often.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

if TYPE_CHECKING:
    from .corpus import Corpus
    from .settings import Ranking


class ScoredSection(NodeWithScore):
    """A retrieved section with the parts of its score, so answers and the eval can show why it ranked."""

    dense: float = 0.0  # cosine with the question
    bm25: float = 0.0  # relative to the best candidate
    intent: float = 0.0  # how strongly the question asks for this section
    same_language: bool = False

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


class SectionRetriever(BaseRetriever):
    """Candidates of the asked medicines (all when none): the dense top plus the BM25 top, each scored
    `dense * (cosine - best) / dense_scale + bm25 * relative BM25`; BM25 reads the question as `language`."""

    def __init__(self, corpus: "Corpus", embedder, ranking: "Ranking", medicines: list[str] | None = None,
                 language: str | None = None) -> None:
        super().__init__()
        self.corpus = corpus
        self.language = language
        self.embedder = embedder
        self.ranking = ranking
        self.medicines = medicines or None

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        corpus, r = self.corpus, self.ranking
        corpus.ensure_loaded()
        index = corpus.index
        if not len(index):
            return []
        question = query_bundle.query_str
        embedding = query_bundle.embedding or self.embedder.get_query_embedding(question)
        hits = corpus.store.query(embedding, min(len(index), r.dense_candidates), self.medicines)
        dense = {h.node.node_id: h.score for h in hits}
        nodes = {h.node.node_id: h.node for h in hits}
        bm = corpus.bm25_scores(question, self.language, self.ranking.bm25_equivalents)
        if self.medicines:
            bm = np.where(index.rows_of(self.medicines), bm, 0.0)

        candidates = set(dense)
        k = r.bm25_candidates
        top = np.argpartition(-bm, min(k, len(bm) - 1))[:k] if len(bm) > k else np.arange(len(bm))
        candidates.update(index.ids[i] for i in top if bm[i] > 0)
        # Sections added since the index was built wait for the next build (as BM25 does).
        candidates = {c for c in candidates if index.row(c) is not None}
        missing = [c for c in candidates if c not in dense]
        if missing:
            q = np.asarray(embedding)
            for node in corpus.store.sections(ids=missing, embeddings=True):
                dense[node.node_id] = float(np.dot(q, np.asarray(node.embedding)))
                nodes[node.node_id] = node
            # A section an ingest removed since the last build is no candidate any more.
            candidates = {c for c in candidates if c in dense}
        if not candidates:
            return []

        best_dense = max(dense[c] for c in candidates)
        best_bm = max(bm[index.row(c)] for c in candidates)
        best_bm = best_bm if best_bm > 0 else 1.0
        out: list[NodeWithScore] = []
        for c in candidates:
            node, d, b = nodes[c], dense[c], bm[index.row(c)] / best_bm
            score = r.dense * (d - best_dense) / r.dense_scale + r.bm25 * b
            text_node = TextNode(id_=node.node_id, text=node.text, metadata=node.metadata)
            out.append(ScoredSection(node=text_node, score=score, dense=d, bm25=b))
        out.sort(key=lambda n: -n.score)
        return out
