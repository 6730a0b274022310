"""The fair baseline: what a competent llama-index user builds in an afternoon on our parser.

Each corpus file is parsed by the product's own parser (`ingest`), and each section becomes a
llama-index `TextNode` carrying its medicine, section key and title, language, EMA reference,
product number, source file, page and EMA page address; the medicine and the section title are
part of the text that is embedded and indexed for BM25, the rest only travels with the node.
Retrieval is hybrid: a `QueryFusionRetriever` (one query, no LLM, reciprocal-rank fusion) over
the `VectorStoreIndex` (same embedder as ours) and llama-index's `BM25Retriever`, top-{top_k}.
A `SimilarityPostprocessor` on the dense cosine of each fused hit with the question keeps those
at or above {cutoff}; when none is left the baseline refuses. Otherwise the answer is the
sentence of the kept sections closest to the question, cited with the medicine, section and
reference of its section. It ignores the chat history, as such a pipeline does.

Top-k {top_k} and the cut-off {cutoff} were chosen on the dev split of eval/qa_corpus.jsonl only (330
questions), never looking at test, by `python -m eval.baseline --sweep` (output in
docs/baseline-sweep.md): both fusion modes (reciprocal rank, relative score) x top-k 2, 3, 5, 8 x
cut-offs 0.800 to 0.900 in steps of 0.005. Kept: the most dev questions passed (answerable: the
expected facts and first citation; unanswerable: refused; an unsafe answer never passes), ties to
fewer unsafe answers, then the smaller top-k and cut-off, then reciprocal rank. Reciprocal rank,
top-2, 0.845 passed 132 of 330 (relative score tied); cut-offs 0.005 either side passed 126 and 131.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rag.schema import Answer, Citation

TOP_K = 2
CUTOFF = 0.845
FUSION = "reciprocal_rerank"
REFUSAL = "The medicine overviews do not answer this question."

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
# Travel with the node, cited from, but neither embedded nor indexed for BM25.
_NOT_INDEXED = ("section", "language", "ref", "product_number", "source", "page", "part", "url")

__doc__ = __doc__.format(top_k=TOP_K, cutoff=CUTOFF)


def sentences(text: str) -> list[str]:
    return [" ".join(s.split()) for s in _SENTENCE_END.split(text) if len(s.split()) >= 3]


def section_nodes(corpus: list[Path], settings, embedder) -> list:
    """Every section of every readable overview under `corpus`, as a TextNode with its metadata."""
    from llama_index.core.schema import TextNode

    from ingest.classify import SectionClassifier
    from ingest.pipeline import _drop_duplicates, _infer_references, _parse_all, collect_files, section_id

    files, _ = collect_files(list(corpus))
    results = _parse_all(files, settings, embedder.count_tokens, SectionClassifier(embedder.get_text_embedding_batch))
    _drop_duplicates(results, {})
    _infer_references(results, {})
    nodes = []
    for r in results:
        if r.status == "skipped" or r.doc is None:
            continue
        d = r.doc
        for s in d.sections:
            metadata = {
                "medicine": d.medicine or "", "section_title": s.title, "section": s.key, "language": d.language,
                "ref": d.ref or "", "product_number": d.product_number or "", "source": r.name,
                "page": s.page or 0, "part": s.part, "url": d.url or "",
            }
            nodes.append(TextNode(id_=section_id(r.name, s.key, s.part), text=s.text, metadata=metadata,
                                  excluded_embed_metadata_keys=list(_NOT_INDEXED),
                                  excluded_llm_metadata_keys=list(_NOT_INDEXED)))
    return nodes


class Baseline:
    def __init__(self, corpus_dirs: list[Path], settings, top_k: int = TOP_K, cutoff: float = CUTOFF,
                 fusion: str = FUSION) -> None:
        from llama_index.core import VectorStoreIndex
        from llama_index.retrievers.bm25 import BM25Retriever

        from rag.embedder import as_llama_index, get_embedder

        self.embedder = get_embedder(settings)
        self.nodes = section_nodes(corpus_dirs, settings, self.embedder)
        if not self.nodes:
            raise RuntimeError(f"the baseline found no sections in {', '.join(map(str, corpus_dirs))}")
        self.index = VectorStoreIndex(self.nodes, embed_model=as_llama_index(self.embedder))
        self.bm25 = BM25Retriever.from_defaults(nodes=self.nodes, similarity_top_k=max(top_k, 8))
        self._sentence_vectors: dict[str, tuple[list[str], np.ndarray]] = {}
        self.configure(top_k, cutoff, fusion)

    def configure(self, top_k: int, cutoff: float, fusion: str = FUSION) -> None:
        """Set top-k, the dense cut-off and the fusion mode (the index is kept: the sweep tries many on one build)."""
        from llama_index.core.llms import MockLLM
        from llama_index.core.postprocessor import SimilarityPostprocessor
        from llama_index.core.retrievers import QueryFusionRetriever

        self.top_k, self.cutoff, self.fusion = top_k, cutoff, fusion
        self.bm25.similarity_top_k = min(top_k, len(self.nodes))
        # num_queries=1 generates no query, and an explicit MockLLM keeps llama-index from
        # resolving its default (OpenAI) LLM: nothing here needs one.
        self.retriever = QueryFusionRetriever(
            [self.index.as_retriever(similarity_top_k=top_k), self.bm25], llm=MockLLM(),
            mode=fusion, similarity_top_k=top_k, num_queries=1, use_async=False,
        )
        self.postprocessor = SimilarityPostprocessor(similarity_cutoff=cutoff)

    def _sentences(self, node) -> tuple[list[str], np.ndarray]:
        if node.node_id not in self._sentence_vectors:
            sents = sentences(node.get_content()) or [node.get_content().strip()]
            vecs = np.asarray(self.embedder.get_text_embedding_batch(sents))
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            self._sentence_vectors[node.node_id] = (sents, vecs)
        return self._sentence_vectors[node.node_id]

    def _dense(self, node_id: str, q: np.ndarray) -> float:
        v = np.asarray(self.index.vector_store.get(node_id))
        return float(v @ q / (np.linalg.norm(v) or 1.0))

    def query_vector(self, question: str) -> np.ndarray:
        q = np.asarray(self.embedder.get_query_embedding(question))
        return q / np.linalg.norm(q)

    def answer(self, question: str, history: list[dict] | None = None, q: np.ndarray | None = None) -> Answer:
        from llama_index.core.schema import NodeWithScore, QueryBundle

        q = self.query_vector(question) if q is None else q
        hits = self.retriever.retrieve(QueryBundle(question, embedding=q.tolist()))
        retrieved = [self._entry(h.node, h.score) for h in hits]
        dense = [NodeWithScore(node=h.node, score=self._dense(h.node.node_id, q)) for h in hits]
        kept = self.postprocessor.postprocess_nodes(dense)
        if not kept:
            return Answer(question, REFUSAL, True, [], "baseline", retrieved, reason="below similarity cut-off")
        best = (-2.0, "", None)
        for hit in kept:
            sents, vecs = self._sentences(hit.node)
            i = int(np.argmax(vecs @ q))
            score = float(vecs[i] @ q)
            if score > best[0]:
                best = (score, sents[i], hit.node)
        _, text, node = best
        meta = node.metadata
        citation = Citation(
            number=1, medicine=meta["medicine"], ref=meta["ref"] or None, product_number=meta["product_number"] or None,
            section=meta["section"], section_title=meta["section_title"], language=meta["language"],
            source=meta["source"], page=meta["page"] or None, quote=text, section_id=node.node_id,
            url=meta["url"] or None, context=node.get_content(),
        )
        return Answer(question, text, False, [citation], "baseline", retrieved, medicines=[meta["medicine"]])

    @staticmethod
    def _entry(node, score) -> dict:
        meta = node.metadata
        return {"id": node.node_id, "medicine": meta.get("medicine"), "section": meta.get("section"),
                "language": meta.get("language"), "ref": meta.get("ref") or None, "source": meta.get("source"),
                "score": round(float(score or 0.0), 4)}


def sweep(items, baseline: Baseline, fusions, top_ks, cutoffs) -> list[dict]:
    """Every (fusion, top-k, cut-off) on the given questions: passed, unsafe, answer/citation/refusal accuracy."""
    from .metrics import aggregate, is_failure, score_item

    vectors = {i.question: baseline.query_vector(i.question) for i in items}
    out = []
    for f in fusions:
        for k in top_ks:
            for c in cutoffs:
                baseline.configure(k, c, f)
                rows = [score_item(i, baseline.answer(i.question, i.history, vectors[i.question]), 0.0) for i in items]
                m = aggregate(rows)
                out.append({"fusion": f, "top_k": k, "cutoff": c, "passed": sum(not is_failure(r) for r in rows),
                            **{key: m[key] for key in ("unsafe_answers", "answer_accuracy", "citation_accuracy",
                                                       "refusal_accuracy", "false_refusal_rate", "n")}})
    return out


FUSIONS = ("reciprocal_rerank", "relative_score")
TOP_KS = (2, 3, 5, 8)
CUTOFFS = tuple(round(0.80 + 0.005 * i, 3) for i in range(21))


def best(rows: list[dict]) -> dict:
    """Most questions passed; ties to fewer unsafe answers, then the smaller top-k and cut-off."""
    return max(rows, key=lambda r: (r["passed"], -r["unsafe_answers"], -r["top_k"], -r["cutoff"], r["fusion"] == FUSION))


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    from rag.offline import prepare_environment

    from .runner import EVAL_CORPUS, EVAL_QA, eval_settings, load_qa

    p = argparse.ArgumentParser(prog="python -m eval.baseline", description="Tune the baseline's top-k and cut-off.")
    p.add_argument("--sweep", action="store_true", required=True, help="try every top-k and cut-off")
    p.add_argument("--qa", type=Path, default=EVAL_QA)
    p.add_argument("--corpus", type=Path, nargs="+", default=EVAL_CORPUS)
    p.add_argument("--split", default="dev", choices=("dev",), help="tuned on dev only; test is never looked at")
    args = p.parse_args(argv)
    prepare_environment()
    items = [i for i in load_qa(args.qa) if i.split == args.split]
    with tempfile.TemporaryDirectory(prefix="ema-sweep-") as tmp:
        base = Baseline(args.corpus, eval_settings(Path(tmp) / "store"))
        rows = sweep(items, base, FUSIONS, TOP_KS, CUTOFFS)
    print("| fusion | top-k | cut-off | passed | unsafe | answer acc. | citation acc. | refusal acc. | false refusals |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['fusion']} | {r['top_k']} | {r['cutoff']:.3f} | {r['passed']} | {r['unsafe_answers']} | {r['answer_accuracy']:.3f} "
              f"| {r['citation_accuracy']:.3f} | {r['refusal_accuracy']:.3f} | {r['false_refusal_rate']:.3f} |")
    b = best(rows)
    print(f"best on {args.split} ({b['n']} questions): {b['fusion']}, top-k {b['top_k']}, cut-off {b['cutoff']:.3f}, "
          f"{b['passed']} passed")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
