"""The pipeline a user builds from the llama-index starter docs, as the point of comparison.

SimpleDirectoryReader -> default SentenceSplitter -> in-memory VectorStoreIndex (same embedder as
ours) -> top-3 retrieval; the answer is the retrieved sentence closest to the question, cited by
file. It never refuses, knows no reference numbers or sections, and ignores the chat history.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rag.schema import Answer, Citation

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def medicine_from_filename(name: str) -> str:
    """"lumykras_sv.txt" -> "Lumykras": all the baseline knows about what a file is about."""
    return re.split(r"[_\-. ]", Path(name).stem, maxsplit=1)[0].capitalize()


def sentences(text: str) -> list[str]:
    return [" ".join(s.split()) for s in _SENTENCE_END.split(text) if len(s.split()) >= 3]


class Baseline:
    def __init__(self, corpus_dirs: list[Path], settings, top_k: int = 3) -> None:
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        from rag.embedder import as_llama_index, get_embedder

        self.embedder = get_embedder(settings)
        docs = []
        for path in corpus_dirs:
            where = {"input_files": [str(path)]} if Path(path).is_file() else {"input_dir": str(path)}
            reader = SimpleDirectoryReader(**where, required_exts=[".txt", ".md", ".pdf"],
                                           exclude=["SOURCES.md"], recursive=True)
            docs.extend(reader.load_data())
        nodes = SentenceSplitter().get_nodes_from_documents(docs)
        self.index = VectorStoreIndex(nodes, embed_model=as_llama_index(self.embedder))
        self.retriever = self.index.as_retriever(similarity_top_k=top_k)
        self._sentence_vectors: dict[str, tuple[list[str], np.ndarray]] = {}

    def _sentences(self, node) -> tuple[list[str], np.ndarray]:
        if node.node_id not in self._sentence_vectors:
            sents = sentences(node.get_content()) or [node.get_content().strip()]
            vecs = np.asarray(self.embedder.get_text_embedding_batch(sents))
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            self._sentence_vectors[node.node_id] = (sents, vecs)
        return self._sentence_vectors[node.node_id]

    def answer(self, question: str, history: list[dict] | None = None) -> Answer:
        from llama_index.core.schema import QueryBundle

        q = np.asarray(self.embedder.get_query_embedding(question))
        hits = self.retriever.retrieve(QueryBundle(question, embedding=q.tolist()))
        q /= np.linalg.norm(q)
        best = (-2.0, "", None)
        for hit in hits:
            sents, vecs = self._sentences(hit.node)
            i = int(np.argmax(vecs @ q))
            score = float(vecs[i] @ q)
            if score > best[0]:
                best = (score, sents[i], hit.node)
        retrieved = [self._entry(h.node, h.score) for h in hits]
        _, text, node = best
        if node is None:
            return Answer(question, "", False, [], "baseline", retrieved)
        file_name = node.metadata.get("file_name", "")
        citation = Citation(
            number=1, medicine=medicine_from_filename(file_name), ref=None, product_number=None,
            section=None, section_title="", language="", source=file_name, page=None, quote=text,
            section_id=node.node_id,
        )
        return Answer(question, text, False, [citation], "baseline", retrieved)

    @staticmethod
    def _entry(node, score) -> dict:
        file_name = node.metadata.get("file_name", "")
        return {"id": node.node_id, "medicine": medicine_from_filename(file_name), "section": None,
                "language": None, "ref": None, "source": file_name, "score": round(float(score or 0.0), 4)}
