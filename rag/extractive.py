"""The offline answer: quote the 1–3 sentences of the best section that answer the question."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np

from . import glossary
from .lexical import tokens
from .retriever import Ranked
from .sentences import sentence_texts, spans, unpack

MAX_QUOTE_CHARS = 420


@dataclass(frozen=True)
class SentenceWeights:
    """Added to a sentence's cosine with the question; tuned on eval/qa.jsonl."""

    overlap: float = 0.02  # shared words and glossary concepts
    pointer: float = 0.05  # penalty: "see the package leaflet" lines
    position: float = 0.002  # penalty per sentence from the section start
    extend: float = 0.05  # a neighbour this close to the best joins the quote
    max_sentences: int = 2


@dataclass
class Quote:
    ranked: Ranked
    start: int
    end: int
    score: float  # cosine of the best sentence with the question

    @property
    def text(self) -> str:
        return self.ranked.node.text[self.start : self.end]


class SentenceEmbeddings:
    """Sentence vectors per section: stored at ingest, computed here only for older stores."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    def get(self, ranked: Ranked, sents: list[tuple[int, int]]) -> np.ndarray:
        node = ranked.node
        key = (node.node_id, str(node.metadata.get("fingerprint", "")))
        with self._lock:
            cached = self._cache.get(key)
        if cached is None or len(cached) != len(sents):
            cached = unpack(node.metadata, sents)  # computed at ingest
            if cached is not None:
                with self._lock:
                    self._cache[key] = cached
        if cached is None or len(cached) != len(sents):
            medicine = node.metadata.get("medicine", "")
            cached = self.embedder.passages(sentence_texts(node.text, medicine, sents))
            with self._lock:
                if len(self._cache) > 20000:
                    self._cache.clear()
                self._cache[key] = cached
        return cached


def choose(
    question: str,
    query_embedding: list[float],
    ranked: list[Ranked],
    sentence_vectors: SentenceEmbeddings,
    must_match: re.Pattern[str] | None = None,
    weights: SentenceWeights = SentenceWeights(),
) -> Quote | None:
    """The best contiguous run of up to three sentences from the top-ranked section."""
    if not ranked:
        return None
    top = ranked[0]
    text = top.node.text
    sents = spans(text)
    if not sents:
        return None
    q = np.asarray(query_embedding)
    vecs = sentence_vectors.get(top, sents)
    cos = vecs @ q
    # Question and sentences are tokenised alike, as the section's language, so that words they share match.
    language = str(top.meta.get("language") or "") or None
    q_tokens = set(tokens(question, language))
    q_concepts = glossary.concepts(question)
    scores = []
    for i, (a, b) in enumerate(sents):
        sent = text[a:b]
        overlap = len(q_tokens & set(tokens(sent, language))) / max(len(q_tokens), 1)
        if q_concepts:
            overlap += len(q_concepts & glossary.concepts(sent)) / len(q_concepts)
        boilerplate = _is_pointer(sent)
        w = weights
        score = cos[i] + w.overlap * overlap - w.pointer * boilerplate - w.position * i
        if must_match is not None and not must_match.search(sent):
            score -= 10.0
        scores.append(score)
    best = int(np.argmax(scores))
    if scores[best] < -5:
        return None
    start, end = sents[best]
    # Extend to a neighbour that scores nearly as well, keeping the quote short and contiguous.
    for _ in range(weights.max_sentences - 1):
        i_prev = _index_of_start(sents, start) - 1
        i_next = _index_of_end(sents, end) + 1
        options = [i for i in (i_prev, i_next) if 0 <= i < len(sents)]
        options = [i for i in options
                   if _lead_in(text, start, end, sents[i])
                   or (scores[i] >= scores[best] - weights.extend and not _paragraph_between(text, start, end, sents[i]))]
        if not options:
            break
        pick = max(options, key=lambda i: scores[i])
        new_start, new_end = min(start, sents[pick][0]), max(end, sents[pick][1])
        if new_end - new_start > MAX_QUOTE_CHARS:
            break
        start, end = new_start, new_end
    return Quote(top, start, end, float(cos[best]))


def _lead_in(text: str, start: int, end: int, other: tuple[int, int]) -> bool:
    """A quote ending in ':' introduces what follows ("used to treat the following conditions:")."""
    return text[start:end].rstrip().endswith(":") and other[0] >= end


def _paragraph_between(text: str, start: int, end: int, other: tuple[int, int]) -> bool:
    gap = text[end : other[0]] if other[0] >= end else text[other[1] : start]
    return "\n" in gap


def _index_of_end(sents, end):
    return next(i for i, (_, b) in enumerate(sents) if b == end)


def _index_of_start(sents, start):
    return next(i for i, (a, _) in enumerate(sents) if a == start)


_POINTER = re.compile(r"bipacksedel|package leaflet|läkare eller apotekspersonal|doctor or pharmacist", re.IGNORECASE)


def _is_pointer(sentence: str) -> bool:
    """The overviews' own "see the package leaflet" lines: true, but never the answer itself."""
    return bool(_POINTER.search(sentence)) and len(sentence) < 200
