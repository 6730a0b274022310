"""The offline answer: quote the 1–3 sentences of the best section that answer the question."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np

from typing import TYPE_CHECKING, Iterator

from . import glossary
from .citations import citation_for
from .context import AnswerContext
from .lexical import stems, stopwords, tokens, words
from .retriever import ScoredSection
from .schema import Answer
from .sentences import sentence_texts, spans, unpack
from .settings import Ranking
from .wording import language_name, say, written_rx

if TYPE_CHECKING:
    from .guard import Shape

MAX_QUOTE_CHARS = 420
MAX_ANSWER_CHARS = 600  # the whole answer, its wording in the question's language included
# What the answer must hold that any section may state: the active substance, the form and its strength
# (older summaries state them under "What is X?"), a leaflet topic the overview writes about (pregnancy, food).
ANY_SECTION_SHAPES = ("substance", "route", "strength", "topic")


class ExtractiveAnswerer:
    """The offline answer: the best 1–2 sentences of the top section, quoted exactly and cited."""

    mode = "extractive"

    def __init__(self, embedder, ranking: Ranking, sentence_vectors: "SentenceEmbeddings | None" = None) -> None:
        self.embedder = embedder
        self.ranking = ranking
        self.sentence_vectors = sentence_vectors or SentenceEmbeddings(embedder)

    def stream(self, ctx: AnswerContext, history: list[dict] | None = None) -> Iterator[str | Answer]:
        result = self.answer(ctx)
        yield from re.findall(r"\S+\s*", result.answer)
        yield result

    def answer(self, ctx: AnswerContext) -> Answer:
        r = self.ranking
        if ctx.too_weak(r.section_dense):
            return ctx.refusal("weak_section", self.mode)
        top = ctx.ranked[0].meta if ctx.ranked else {}
        frame = self._frame(ctx, str(top.get("medicine", "")), str(top.get("language", "")), [""])
        quote = choose(ctx.text, ctx.embedding, ctx.ranked, self.sentence_vectors,
                       must_match=ctx.shape, ranking=r, subject=ctx.subject,
                       max_chars=min(MAX_QUOTE_CHARS, MAX_ANSWER_CHARS - len(frame)), question_language=ctx.lang)
        if quote is None or quote.score < r.sentence_dense:
            return ctx.refusal("weak_sentence", self.mode)
        citations = [citation_for(n, quote.ranked, a, b) for n, (a, b) in enumerate(quote.parts, 1)]
        first = citations[0]
        cut = quote.cut or (False,) * len(citations)
        text = self._frame(ctx, first.medicine, first.language, [c.quote for c in citations], cut)
        return Answer(ctx.question, text, False, citations, self.mode, ctx.retrieved, ctx.lang, ctx.medicines)

    @staticmethod
    def _frame(ctx: AnswerContext, medicine: str, language: str, parts: list[str], cut: tuple[bool, ...] = ()) -> str:
        """The answer's wording around its quotes; a list's lead-in and items are quoted apart, each cited,
        and "…" marks a quote that stops before its sentence does."""
        intro = say(ctx.lang, "intro", medicine=medicine)
        if language != ctx.lang:
            intro += say(ctx.lang, "in_language", language=language_name(language, ctx.lang))
        cut = cut or (False,) * len(parts)
        quoted = " ".join(f"“{p}”{' …' if c else ''} [{n}]" for n, (p, c) in enumerate(zip(parts, cut), 1))
        text = f"{intro}: {quoted}\n\n{say(ctx.lang, 'pointer')}"
        return f"{ctx.note}\n\n{text}" if ctx.note else text


@dataclass
class Quote:
    ranked: ScoredSection
    start: int
    end: int
    score: float  # cosine of the best sentence with the question
    rank: float = 0.0  # the sentence's score with every bonus and penalty, to compare quotes
    more: tuple[tuple[int, int], ...] = ()  # further spans after the first: a list's items after its lead-in
    cut: tuple[bool, ...] = ()  # per span: it stops before its sentence does (a list item's first clause)

    @property
    def parts(self) -> list[tuple[int, int]]:
        return [(self.start, self.end), *self.more]


class SentenceEmbeddings:
    """Sentence vectors per section: stored at ingest (SENTENCE_VECTORS=ingest), or computed here the
    first time a section is quoted, only for the sentences that could be the answer, and kept."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    def get(self, ranked: ScoredSection, sents: list[tuple[int, int]], needed: list[bool] | None = None) -> np.ndarray:
        """One row per sentence; a row not `needed` and not computed before is NaN."""
        node = ranked.node
        key = (node.node_id, str(node.metadata.get("fingerprint", "")))
        with self._lock:
            cached = self._cache.get(key)
        if cached is None or len(cached) != len(sents):
            cached = unpack(node.metadata, sents)  # computed at ingest
            if cached is not None:
                with self._lock:
                    self._cache[key] = cached
                return cached
        missing = [i for i in range(len(sents)) if (needed is None or needed[i])
                   and (cached is None or len(cached) != len(sents) or np.isnan(cached[i, 0]))]
        if not missing:
            return cached
        medicine = node.metadata.get("medicine", "")
        computed = self.embedder.passages(sentence_texts(node.text, medicine, [sents[i] for i in missing]))
        out = (cached.copy() if cached is not None and len(cached) == len(sents)
               else np.full((len(sents), computed.shape[1]), np.nan, np.float32))
        out[missing] = computed
        with self._lock:
            if len(self._cache) > 20000:
                self._cache.clear()
            self._cache[key] = out
        return out


def choose(
    question: str,
    query_embedding: list[float],
    ranked: list[ScoredSection],
    sentence_vectors: SentenceEmbeddings,
    must_match: "Shape | None" = None,
    ranking: Ranking | None = None,
    subject: tuple[str, ...] = (),
    max_chars: int = MAX_QUOTE_CHARS,
    question_language: str = "",
) -> Quote | None:
    """The best contiguous run of up to `max_sentences` sentences of the top-ranked section.

    A long section is stored in parts (and an old EPAR summary answers "What is X?" and "What is X used
    for?" under one key): every retrieved part of the top section is searched, and the best sentence wins.
    A question for a fact any section may state (ANY_SECTION_SHAPES) that the top section does not hold is
    answered from the next section that does.
    `subject` holds the medicines' names and substances: naming them is no evidence.
    """
    groups: dict[tuple, list[ScoredSection]] = {}  # parts of one section of one document, best first
    for r in ranked:
        groups.setdefault((r.meta.get("source"), r.meta.get("section")), []).append(r)
    for n, parts in enumerate(groups.values()):
        if n and not must_match.can_tell(str(parts[0].meta.get("language") or "")):
            continue  # another section may state it only where its language shows whether it does
        quotes = [_quote(question, query_embedding, section, sentence_vectors, must_match, ranking or Ranking(), subject,
                         max_chars, question_language) for section in parts]
        best = max((q for q in quotes if q is not None), key=lambda q: q.rank, default=None)
        # Only the facts of ANY_SECTION_SHAPES may come from another section: else the top section answers or none.
        if best is not None or must_match is None or must_match.kind not in ANY_SECTION_SHAPES:
            return best
    return None


def _quote(question, query_embedding, top: ScoredSection, sentence_vectors, must_match, w: Ranking, subject,
           max_chars: int = MAX_QUOTE_CHARS, question_language: str = "") -> Quote | None:
    text = top.node.text
    sents = spans(text)
    if not sents:
        return None
    # Question and sentences are tokenised alike, as the section's language, so that words they share match.
    language = str(top.meta.get("language") or "") or None
    # A fragment, or a sentence without what the question asks for (a number, a frequency), never
    # answers: it is not embedded or scored.
    holds = [must_match is None or must_match.matches(text[a:b], language or "") for a, b in sents]
    # The items of a list hold what its lead-in says ("X is used to treat:" then one line per condition).
    for i in range(1, len(sents)):
        if not holds[i] and _LIST_ITEM.match(text[slice(*sents[i])]):
            lead = next((j for j in range(i - 1, -1, -1) if not _LIST_ITEM.match(text[slice(*sents[j])])), None)
            holds[i] = lead is not None and holds[lead] and text[slice(*sents[lead])].rstrip().endswith(":")
    possible = [h and not _is_fragment(text[a:b]) for h, (a, b) in zip(holds, sents)]
    if not any(possible):
        return None
    q = np.asarray(query_embedding)
    # A shape that only the best sentence must hold lets any neighbour join: each needs its vector.
    first_only = must_match is not None and must_match.first_only
    joinable = [not _is_fragment(text[a:b]) for a, b in sents] if first_only else possible
    vecs = sentence_vectors.get(top, sents, joinable)
    cos = np.nan_to_num(vecs @ q, nan=0.0)
    q_tokens = _question_tokens(question, question_language, language) - set(tokens(" ".join(subject), language))
    sent_tokens = [set(tokens(text[a:b], language)) for a, b in sents]
    q_concepts = glossary.concepts(question)
    # "X contains the active substance Y": how every overview opens; the answer only when that is asked.
    identity = None if must_match is not None and must_match.kind == "substance" else written_rx(language or "", "identity")
    scores, neighbour = [], []
    for i, (a, b) in enumerate(sents):
        sent = text[a:b]
        overlap = len(q_tokens & sent_tokens[i]) / max(len(q_tokens), 1)
        if q_concepts:
            overlap += len(q_concepts & glossary.concepts(sent)) / len(q_concepts)
        boilerplate = _boilerplate_share(sent, language, q_tokens, q_concepts)
        score = cos[i] + w.sentence_overlap * overlap - w.sentence_boilerplate * boilerplate - w.sentence_position * i
        neighbour.append(score if joinable[i] else score - 10.0)
        if not possible[i]:
            score -= 10.0
        elif identity is not None and identity.search(sent):
            score -= w.sentence_identity
        scores.append(score)
    best = int(np.argmax(scores))
    if scores[best] < -5:
        return None
    start, end = sents[best]
    # Extend to a neighbour that scores nearly as well, keeping the quote short and contiguous.
    for _ in range(w.max_sentences - 1):
        i_prev = _index_of_start(sents, start) - 1
        i_next = _index_of_end(sents, end) + 1
        options = [i for i in (i_prev, i_next) if 0 <= i < len(sents) and not _is_fragment(text[slice(*sents[i])])]
        options = [i for i in options
                   if _lead_in(text, start, end, sents[i])
                   or (neighbour[i] >= scores[best] - w.sentence_extend and not _paragraph_between(text, start, end, sents[i]))]
        if not options:
            break
        pick = max(options, key=lambda i: neighbour[i])
        new_start, new_end = min(start, sents[pick][0]), max(end, sents[pick][1])
        if new_end - new_start > max_chars:
            break
        start, end = new_start, new_end
    # "What is X used for?" wants the whole list unless one item stands out; other questions, the item.
    margin = w.sentence_extend if must_match is not None and must_match.kind == "indication" else 0.0
    listed = _list_quote(text, sents, best, start, end, max_chars, scores, margin)
    if listed:
        (a, b, cut), rest = listed[0], listed[1:]
        return Quote(top, a, b, float(cos[best]), float(scores[best]), tuple((x, y) for x, y, _ in rest),
                     tuple(c for _, _, c in listed))
    return Quote(top, start, end, float(cos[best]), float(scores[best]))


_PART_COST = 8  # the characters that quoting one more span adds: closing and opening marks and its [n]


def _list_quote(text: str, sents: list[tuple[int, int]], best: int, start: int, end: int,
                max_chars: int, scores: list[float], margin: float) -> list[tuple[int, int]] | None:
    """A list answers as its lead-in and its items ("X is used to treat:" / "- condition A" / "- condition B"):
    when the best sentence is the lead-in, or an item that scores no better than another by `margin`, the
    lead-in and the first sentence of every item that fits; when one item stands out, the lead-in and that
    item up to the best sentence. Spans that touch are one.
    None when the quote is no list's, or the chosen contiguous quote already holds what would be quoted."""
    lists = _lists(text, sents)
    found = next(((lead, items) for lead, items in lists
                  if best == lead or any(i <= best < j for i, j in items)), None)
    if found is None:
        return None
    lead, items = found
    others = [max(scores[i:j]) for i, j in items if not i <= best < j]
    whole = best == lead or bool(others and scores[best] - max(others) < margin)
    if whole:
        wanted = [lead] + [i for i, _ in items]
    else:
        head = next(i for i, j in items if i <= best < j)
        wanted = [lead] + list(range(head, best + 1))
    spans = _pack(text, [(*sents[k], False) for k in wanted], max_chars)
    covered = [k for k in wanted if any(a <= sents[k][0] and sents[k][1] <= b for a, b, _ in spans)]
    if whole and len(covered) < len(wanted):
        # Every item does not fit: each item up to the end of its first clause ("• rheumatoid arthritis"),
        # looked for after the bullet and a first word.
        heads = [(*sents[lead], False)] + [(a, clause_end(text, a + 8, b), True) for a, b in (sents[i] for i, _ in items)]
        clauses = _pack(text, [(a, e, cut and e < sents[k][1]) for k, (a, e, cut) in zip(wanted, heads)], max_chars)
        if len(clauses) > len(spans):
            return clauses
    if len(covered) < 2 or (not whole and best not in covered):
        return None
    if all(start <= sents[k][0] and sents[k][1] <= end for k in covered):
        return None  # the contiguous quote holds it all already
    return spans


def _pack(text: str, pieces: list[tuple[int, int, bool]], max_chars: int) -> list[tuple[int, int, bool]]:
    """The pieces in order while they fit in max_chars; pieces that touch become one span."""
    spans: list[tuple[int, int, bool]] = []
    used = 0
    for a, b, cut in pieces:
        if spans and not spans[-1][2] and text[spans[-1][1]:a].strip() == "":
            grown = used + (a - spans[-1][1]) + (b - a)
            if grown > max_chars:
                break
            spans[-1], used = (spans[-1][0], b, cut), grown
            continue
        cost = (b - a) + (_PART_COST if spans else 0) + (2 if cut else 0)
        if used + cost > max_chars:
            break
        spans.append((a, b, cut))
        used += cost
    return spans


def clause_end(text: str, start: int, b: int) -> int:
    """Where the clause running on at `start` ends, before " (", ",", ";", ":" or "–"; b when it runs to b."""
    m = re.search(r"\s\(|[,;:–]", text[start:b])
    return start + m.start() if m else b


def _lists(text: str, sents: list[tuple[int, int]]) -> list[tuple[int, list[tuple[int, int]]]]:
    """The section's lists: (the lead-in sentence, [(first, past-last) sentence of each item]). The lead-in
    ends in ':' or ends the line above the first item; an item starts with a bullet or dash and runs on over
    the sentences of its own line."""
    out = []
    i = 0
    while i < len(sents):
        lead = text[slice(*sents[i])]
        if not (i + 1 < len(sents) and _LIST_ITEM.match(text[slice(*sents[i + 1])]) and not _LIST_ITEM.match(lead)
                and (lead.rstrip().endswith(":") or "\n" in text[sents[i][1]:sents[i + 1][0]])):
            i += 1
            continue
        lead, items, k = i, [], i + 1
        while k < len(sents) and _LIST_ITEM.match(text[slice(*sents[k])]):
            j = k + 1
            while j < len(sents) and not _LIST_ITEM.match(text[slice(*sents[j])]) and "\n" not in text[sents[j - 1][1]:sents[j][0]]:
                j += 1
            items.append((k, j))
            k = j
        out.append((lead, items))
        i = k
    return out


def _question_tokens(question: str, question_language: str, language: str | None) -> set[str]:
    """The question's words as the section's language stems them, without the stopwords of either language
    ("mot" in "Används Remicade mot psoriasis?" asked of an English overview)."""
    if not question_language or question_language == language:
        return set(tokens(question, language))
    stop = stopwords(language)
    return set(stems([w for w in words(question, question_language) if w not in stop], language))


def _is_fragment(sentence: str) -> bool:
    """A few words cut off mid-sentence (an excerpt's end, a stray heading): no answer on its own."""
    s = sentence.strip()
    return len(s) < 25 and not re.search(r"[.!?:;)]$", s)


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


_LIST_ITEM = re.compile(r"\s*[•\-–*]\s")


def _boilerplate_share(sentence: str, language: str | None, q_tokens: set[str], q_concepts: set[int]) -> float:
    """The share of a sentence made of the set phrases every overview repeats ("can only be obtained with
    a prescription", "see the package leaflet"), as the language file writes them; 0 when the question
    asks about what they say (shares a word or a glossary concept with them)."""
    rx = written_rx(language or "", "boilerplate")
    if rx is None:
        return 0.0
    covered = 0
    for m in rx.finditer(sentence):
        phrase = m.group(0)
        if q_tokens & set(tokens(phrase, language)) or q_concepts & glossary.concepts(phrase):
            return 0.0
        covered += len(phrase)
    return min(covered / max(len(sentence), 1), 1.0)
