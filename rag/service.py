"""The one answer service: question (+ chat so far) in, short cited answer or honest refusal out."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Iterator

from . import guard
from .citations import citation_for
from .extractive import SentenceEmbeddings, choose
from .intent import question_language, section_prior
from .retriever import Ranked, Retriever, Weights
from .schema import Answer
from .settings import Settings
from .wording import language_name, say

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thresholds:
    """Evidence below these is too weak to quote; calibrated on eval/qa.jsonl (see README)."""

    section_dense: float = 0.77
    sentence_dense: float = 0.77


class RagService:
    def __init__(self, settings: Settings, *, weights: Weights | None = None, thresholds: Thresholds | None = None) -> None:
        from .embedder import get_embedder
        from .store import SectionStore

        self.settings = settings
        self.embedder = get_embedder(settings)
        self.store = SectionStore(settings)
        self.retriever = Retriever(self.store, self.embedder, weights)
        self.thresholds = thresholds or Thresholds()
        self.sentence_vectors = SentenceEmbeddings(self.embedder)
        self._vocab: tuple[tuple | None, guard.Vocabulary | None] = (None, None)
        self._llm = None
        if settings.llm_base_url:
            from .llm import LlmAnswerer

            self._llm = LlmAnswerer(settings)

    @property
    def mode(self) -> str:
        return "llm" if self._llm else "extractive"

    def medicines(self) -> list[dict]:
        self.retriever.refresh()
        return [m.to_dict() for m in self.retriever.catalogue.medicines]

    # the service ---------------------------------------------------------------------------
    def answer(self, question: str, history: list[dict] | None = None, medicine: str | None = None) -> Answer:
        final = None
        for item in self.stream(question, history, medicine):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, history: list[dict] | None = None, medicine: str | None = None) -> Iterator[str | Answer]:
        """Text pieces as they are ready, then the final Answer."""
        answer = self._prepare(question, history or [], medicine)
        if isinstance(answer, Answer):
            yield answer.answer
            yield answer
            return
        ctx = answer
        if self._llm:
            yield from self._llm.stream(ctx, self, history)
            return
        result = self._extractive(ctx)
        for piece in re.findall(r"\S+\s*", result.answer):
            yield piece
        yield result

    # steps ---------------------------------------------------------------------------------
    def _prepare(self, question: str, history: list[dict], medicine: str | None):
        q = guard.clean_question(question)
        lang = question_language(guard.retrieval_text(q)) if q else "en"
        limit = self.settings.max_question_chars
        if not q or not guard.has_words(guard.retrieval_text(q)):
            return self._refusal(question, lang, say(lang, "empty"), "empty")
        if len(q) > limit:
            return self._refusal(question, lang, say(lang, "too_long", n=len(q), limit=limit), "too_long")
        self.retriever.refresh()
        catalogue = self.retriever.catalogue
        covered = say(lang, "covered", medicines=_list_names(catalogue.names))
        if not catalogue.medicines:
            return self._refusal(question, lang, say(lang, "empty_store"), "empty_store")
        if guard.is_injection(q):
            return self._refusal(question, lang, f"{say(lang, 'injection')} {covered}", "injection")

        text = guard.retrieval_text(q)
        if guard.out_of_scope(text):
            return self._refusal(question, lang, f"{say(lang, 'out_of_scope')} {covered}", "out_of_scope")
        named = catalogue.find(text)
        unknown = catalogue.unknown_medicines(text)
        if unknown:
            msg = f"{say(lang, 'unknown_medicine', names=', '.join(unknown))} {covered}"
            return self._refusal(question, lang, msg, "unknown_medicine")
        meds = [m.name for m in named]
        if medicine:
            meds = [medicine]
        elif not meds:
            meds = self._from_history(history)
        if not catalogue.terms:  # once per catalogue: it covers every medicine
            catalogue.terms = {t for m in catalogue.medicines for t in guard.tokens(f"{m.name} {m.substance or ''}")}
        terms = catalogue.terms
        prior = section_prior(text)
        off = self._vocabulary().off_topic(text, terms, has_intent=bool(section_prior(text, fallback=False)))
        if off:
            return self._refusal(question, lang, f"{say(lang, 'not_covered')} {covered}", "off_topic", meds)

        missing = self._missing_section(meds, prior)
        if missing:
            return self._refusal(question, lang, f"{say(lang, 'no_section', medicine=', '.join(meds))} {covered}", "no_section", meds)
        embedding = self.embedder.get_query_embedding(text)
        ranked = self.retriever.retrieve(text, medicines=meds or None, language=lang, prior=prior, query_embedding=embedding)
        return _Context(question, text, lang, meds, prior, embedding, ranked, covered)

    def _extractive(self, ctx: "_Context") -> Answer:
        t = self.thresholds
        retrieved = [r.to_dict() for r in ctx.ranked]
        if not ctx.ranked or ctx.ranked[0].dense < t.section_dense:
            return self._refusal(ctx.question, ctx.lang, f"{say(ctx.lang, 'not_covered')} {ctx.covered}", "weak_section", ctx.medicines, retrieved)
        quote = choose(ctx.text, ctx.embedding, ctx.ranked, self.sentence_vectors, must_match=guard.answer_shape(ctx.text))
        if quote is None or quote.score < t.sentence_dense:
            return self._refusal(ctx.question, ctx.lang, f"{say(ctx.lang, 'not_covered')} {ctx.covered}", "weak_sentence", ctx.medicines, retrieved)
        top = quote.ranked
        citation = citation_for(1, top, quote.start, quote.end)
        intro = say(ctx.lang, "intro", medicine=citation.medicine)
        if citation.language != ctx.lang:
            intro += say(ctx.lang, "in_language", language=language_name(citation.language, ctx.lang))
        text = f"{intro}: “{quote.text}” [1]\n\n{say(ctx.lang, 'pointer')}"
        return Answer(ctx.question, text, False, [citation], "extractive", retrieved, ctx.lang, ctx.medicines)

    def _refusal(self, question, lang, message, reason, medicines=None, retrieved=None) -> Answer:
        return Answer(question, message, True, [], self.mode, retrieved or [], lang, medicines or [], reason)

    def _missing_section(self, meds: list[str], prior: dict[str, float]) -> bool:
        """The question is plainly about a section that no overview of the named medicine has."""
        top = [k for k, v in prior.items() if v >= 1.0]
        if not meds or len(top) != 1:
            return False
        wanted = {m.lower() for m in meds}
        have = {s for m in self.retriever.catalogue.medicines if m.name.lower() in wanted for s in m.sections}
        return bool(have) and top[0] not in have

    def _from_history(self, history: list[dict]) -> list[str]:
        """The medicine the conversation is about: the latest one named, user turns first."""
        catalogue = self.retriever.catalogue
        for role in ("user", "assistant"):
            for turn in reversed(history[-10:]):
                if turn.get("role") == role:
                    found = catalogue.find(guard.retrieval_text(str(turn.get("content", ""))))
                    if found:
                        return [found[0].name]
        return []

    def _vocabulary(self) -> guard.Vocabulary:
        version = self.retriever._version
        if self._vocab[0] != version or self._vocab[1] is None:
            self._vocab = (version, guard.Vocabulary.from_words(self.retriever.index.words))
        return self._vocab[1]


def _list_names(names: list[str], limit: int = 12) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" … (+{len(names) - limit})"


@dataclass
class _Context:
    question: str
    text: str
    lang: str
    medicines: list[str]
    prior: dict
    embedding: list[float]
    ranked: list[Ranked]
    covered: str


_default: RagService | None = None
_default_lock = threading.Lock()


def get_service(settings: Settings | None = None) -> RagService:
    """The process-wide service (one model instance shared by every caller)."""
    global _default
    with _default_lock:
        if _default is None or (settings is not None and settings is not _default.settings):
            _default = RagService(settings or Settings())
        return _default


def answer(question: str, history: list[dict] | None = None) -> Answer:
    return get_service().answer(question, history)
