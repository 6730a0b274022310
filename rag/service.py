"""The one answer service: question (+ chat so far) in, short cited answer or honest refusal out."""

from __future__ import annotations

import logging
import re
import threading
from typing import Iterator

import numpy as np
from llama_index.core.schema import NodeWithScore, QueryBundle

from . import glossary, guard
from .answerer import Answerer
from .citations import citation_for
from .context import AnswerContext, refusal
from .corpus import Corpus
from .extractive import ANY_SECTION_SHAPES, MAX_ANSWER_CHARS, ExtractiveAnswerer, clause_end
from .intent import IntentModel, combine, section_prior
from .language import question_language
from .lexical import same_cognate
from .medicines import MedicineResolver
from .postprocess import LanguagePreference, MedicineFilter, SectionIntent, TopK
from .retriever import ScoredSection, SectionRetriever
from .schema import Answer, SectionText
from .sentences import spans
from .settings import Settings
from .wording import asks_for_medicines, reads_as_follow_up, say

log = logging.getLogger(__name__)


class RagService:
    """Question in -> understood (language, medicine, section) -> retrieved -> postprocessed -> answered."""

    def __init__(self, settings: Settings) -> None:
        from .embedder import get_embedder
        from .store import SectionStore

        self.settings = settings
        self.ranking = settings.ranking
        self.embedder = get_embedder(settings)
        self.store = SectionStore(settings)
        self.store.warm_in_background()
        self.corpus = Corpus(self.store)
        self._vocab: tuple[str | None, guard.Vocabulary | None] = (None, None)
        self._medicine_resolver: MedicineResolver | None = None
        self.intent_model = IntentModel(self.embedder)
        self.extractive = ExtractiveAnswerer(self.embedder, self.ranking)
        self.answerer: Answerer = self.extractive
        if settings.llm_base_url:
            from .llm import LlmAnswerer

            self.answerer = LlmAnswerer(settings, fallback=self.extractive)

    @property
    def mode(self) -> str:
        return self.answerer.mode

    def retrieve(self, question: str, *, medicines: list[str] | None, language: str, prior: dict[str, float],
                 query_embedding: list[float] | None = None, top_k: int | None = None) -> list[ScoredSection]:
        """The chain's retrieval: hybrid candidates, then medicine, section and language postprocessors."""
        r = self.ranking
        bundle = QueryBundle(question, embedding=query_embedding or self.embedder.get_query_embedding(question))
        nodes: list[NodeWithScore] = SectionRetriever(self.corpus, self.embedder, r, medicines, language).retrieve(bundle)
        for step in (MedicineFilter(medicines=medicines or []), SectionIntent(prior=prior, weight=r.intent),
                     LanguagePreference(language=language, weight=r.language), TopK(k=top_k or r.top_k)):
            nodes = step.postprocess_nodes(nodes, query_bundle=bundle)
        return nodes  # type: ignore[return-value]

    def medicines(self) -> list[dict]:
        self.corpus.refresh()
        return [m.to_dict() for m in self.corpus.catalogue.medicines]

    def find_medicine(self, name: str) -> str | None:
        """The catalogue's spelling of a medicine named in any case, or None when no overview covers it."""
        wanted = name.strip().lower()
        return next((m["name"] for m in self.medicines() if m["name"].lower() == wanted), None)

    def section(self, medicine: str, section: str, language: str | None = None) -> list[SectionText]:
        """The stored text of one section of a medicine's overviews, one entry per document (e.g. language).

        `medicine` must be a catalogue name (see find_medicine); `section` a canonical key such as how_used.
        """
        clauses = [{"medicine": medicine}, {"section": section}] + ([{"language": language}] if language else [])
        self.corpus.refresh()
        nodes = self.store.sections(where={"$and": clauses})
        by_source: dict[str, list] = {}
        for node in sorted(nodes, key=lambda n: int(n.metadata.get("part") or 0)):
            by_source.setdefault(str(node.metadata.get("source", "")), []).append(node)
        found = []
        for source, parts in sorted(by_source.items()):
            m = parts[0].metadata
            found.append(SectionText(
                medicine=m.get("medicine", ""), section=m.get("section", ""), section_title=m.get("section_title", ""),
                language=m.get("language", ""), ref=m.get("ref") or None, product_number=m.get("product_number") or None,
                source=source, page=int(m["page"]) if m.get("page") else None,
                text="\n\n".join(n.text for n in parts), ref_inferred=bool(m.get("ref_inferred")),
                section_ids=[n.node_id for n in parts]))
        return found

    def sections_of(self, medicine: str) -> dict[str, list[str]]:
        """Canonical section keys a medicine's overviews have, with the languages each is in."""
        self.corpus.refresh()
        keys: dict[str, set[str]] = {}
        for meta in self.store.entries(where={"medicine": medicine}).values():
            keys.setdefault(str(meta.get("section", "")), set()).add(str(meta.get("language", "")))
        return {k: sorted(v) for k, v in sorted(keys.items())}

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
        yield from self.answerer.stream(answer, history or [])

    def rehearse(self, question: str) -> Answer:
        """The question answered offline whatever the settings: every step of a first question runs
        once (indexes, patterns, model), and no LLM endpoint is called. For the start-up warm-up."""
        prepared = self._prepare(question, [], None)
        return prepared if isinstance(prepared, Answer) else self.extractive.answer(prepared)

    # steps ---------------------------------------------------------------------------------
    def _prepare(self, question: str, history: list[dict], medicine: str | None):
        q = guard.clean_question(question)
        text = guard.retrieval_text(q)
        limit = self.settings.max_question_chars
        if not q or not guard.has_words(text):
            return self._refusal(question, "en", say("en", "empty"), "empty")
        self.corpus.refresh()
        catalogue = self.corpus.catalogue
        names = catalogue.names_pattern
        lang = question_language(text[:limit], names, default="") or self._history_language(history, names)
        if len(q) > limit:
            return self._refusal(question, lang, say(lang, "too_long", n=len(q), limit=limit), "too_long")
        covered = say(lang, "covered", medicines=_list_names(catalogue.names))
        if not catalogue.medicines:
            return self._refusal(question, lang, say(lang, "empty_store"), "empty_store")
        if guard.is_injection(q):
            return self._refusal(question, lang, f"{say(lang, 'injection')} {covered}", "injection")
        if guard.out_of_scope(text):
            return self._refusal(question, lang, f"{say(lang, 'out_of_scope')} {covered}", "out_of_scope")

        found = self._resolver().resolve(text)
        asks_which = asks_for_medicines(text, lang)
        known_words = self._vocabulary()
        if found.unknown:
            # A medicine the overviews only mention ("vitamin D" beside Conexxence, "Which medicine is a biosimilar
            # of Prolia?") is context or a topic; one they never mention is a medicine they do not cover.
            mentioned = all(known_words.knows(t) for u in found.unknown for t in guard.tokens(u, lang))
            if not mentioned or not (found.medicines or asks_which):
                return self._unknown_refusal(question, lang, found, covered)
        meds = [m.name for m in found.medicines]
        named_text = catalogue.as_named(text)  # a misspelt name or a substance written as the overviews write it
        note = ""
        if medicine and meds and medicine.lower() not in {m.lower() for m in meds}:
            note = say(lang, "other_medicine", asked=", ".join(meds), selected=medicine)
        prior = section_prior(text)
        if not meds:
            topic = self._topic(named_text, catalogue, lang)
            follow_up = bool(history) and (reads_as_follow_up(text, lang) or not asks_which)
            if asks_which and not follow_up:
                if topic:
                    return self._conditions(question, text, lang, topic, prior, covered)
                return self._refusal(question, lang, f"{say(lang, 'no_condition')} {covered}", "no_condition")
            if follow_up:
                meds = self._from_history(history)
            if not meds and medicine:
                meds = [medicine]
            if not meds and topic:
                return self._conditions(question, text, lang, topic, prior, covered)
            if not meds:
                return self._refusal(question, lang, f"{say(lang, 'which_medicine')} {covered}", "no_medicine")
            implied = ", ".join(meds)
        else:
            implied = ""

        leaflet = guard.leaflet_topics(named_text)
        if leaflet and not self._overviews_write_about(meds, leaflet):
            return self._refusal(question, lang, f"{say(lang, 'leaflet_only', medicine=', '.join(meds))} {covered}",
                                 "leaflet_only", meds)
        terms = _medicine_terms(catalogue, lang)
        if self._has_documents_in(lang, meds):
            off = known_words.off_topic(named_text, terms, has_intent=bool(section_prior(text, fallback=False)),
                                        language=lang)
            if off:
                return self._refusal(question, lang, f"{say(lang, 'not_covered')} {covered}", "off_topic", meds)
        embedding = self._embed_question(named_text, implied)
        wanted = {m.lower() for m in meds}
        named = [m for m in catalogue.medicines if m.name.lower() in wanted]
        shape = guard.answer_shape(text, [m.substance for m in named if m.substance])
        lacking = self._lacking_section(named, prior)
        if lacking and not _any_section_answers(shape, named):
            model = self.intent_model.prior(embedding, self.ranking.intent_width)
            if model.get(lacking, 0.0) >= 1.0:
                return self._refusal(question, lang, f"{say(lang, 'no_section', medicine=', '.join(meds))} {covered}",
                                     "no_section", meds)
            # The cue words point at a section these overviews lack, the model's prototype questions elsewhere
            # ("Can X be given to newborns?" cues how_used by "given", but asks who X is for): the model ranks.
            prior = model
        ranked = self.retrieve(text, medicines=meds, language=lang, prior=self._intent(prior, embedding),
                               query_embedding=embedding)
        subject = tuple(w for m in named for w in (m.name, m.substance) if w)
        return AnswerContext(question, text, lang, meds, prior, embedding, ranked, covered, note, shape, subject)

    def _intent(self, cue_prior: dict[str, float], embedding: list[float]) -> dict[str, float]:
        """Section intent for ranking: the phrase files' cues and the prototype questions' model signal."""
        r = self.ranking
        if not r.intent_model:
            return cue_prior
        model = self.intent_model.prior(embedding, r.intent_width)
        return combine(cue_prior, model, r.intent_cue, r.intent_model)

    def _embed_question(self, text: str, implied: str) -> list[float]:
        """A question that leans on a medicine it does not name ("and how is it taken?") is embedded
        half as written and half with the medicine named, so the vector has its subject and keeps its intent."""
        plain = np.asarray(self.embedder.get_query_embedding(text))
        if not implied:
            return plain.tolist()
        named = np.asarray(self.embedder.get_query_embedding(f"{implied}: {text}"))
        mean = plain + named
        return (mean / np.linalg.norm(mean)).tolist()

    def _unknown_refusal(self, question: str, lang: str, found, covered: str) -> Answer:
        msg = say(lang, "unknown_medicine", names=", ".join(found.unknown))
        for _, twin in found.same_substance:
            msg += " " + say(lang, "same_substance", medicine=twin.name, substance=twin.substance)
        return self._refusal(question, lang, f"{msg} {covered}", "unknown_medicine")

    def _topic(self, text: str, catalogue, lang: str) -> list[str]:
        """Word stems of a question naming no medicine that the corpus uses, as the corpus writes them: the
        condition or class asked about."""
        terms = _medicine_terms(catalogue, lang)
        words = self._vocabulary()
        content = [words.known_form(t) for t in guard.topic_tokens(text, lang, inflected=True) if t not in terms]
        if not all(content):
            return []  # part of what is asked is a word no overview uses: the corpus cannot vouch for the answer
        specific = [t for t in content if words.is_specific(t)]
        if len(specific) == 1:
            # "tumore del polmone non a piccole cellule": "cellule" alone would name any cell; the common words
            # with a glossary meaning (cancer, lung) stay, to be matched by that meaning. Common words alone
            # ("the heart") name no condition.
            specific += [t for t in content if t not in specific and glossary.concepts(t)]
        return specific

    def _conditions(self, question: str, text: str, lang: str, topic: list[str], prior: dict, covered: str) -> Answer:
        """Every medicine whose overview names the condition or class asked about, each cited; none: refuse."""
        embedding = self.embedder.get_query_embedding(text)
        prior = prior or {"what_is": 1.0}
        ranked = self.retrieve(text, medicines=None, language=lang, prior=prior, query_embedding=embedding,
                               top_k=self.ranking.condition_top_k)
        retrieved = [r.to_dict() for r in ranked]
        picked: dict[str, tuple[object, int, int]] = {}
        # All the words of the condition but one, and always the words fewest overviews use ("sclérose" in
        # "sclérose en plaques", which an English overview calls "multiple sclerosis"); of equals, every one.
        vocabulary = self._vocabulary()
        broad = {t for t in topic if not vocabulary.is_specific(t)}  # kept for their glossary meaning
        spread = {t: vocabulary.medicine_count if t in broad else vocabulary.spread(t) for t in topic}
        rarest = {t for t in topic if spread[t] == min(spread.values())}
        need = max(len(rarest), len(topic) - 1)
        for r in ranked:
            name = str(r.meta.get("medicine", ""))
            if name.lower() in picked or len(picked) >= self.settings.max_condition_medicines:
                continue
            span = _sentence_naming(r.node.text, topic, need, lang, rarest, broad)
            if span:
                picked[name.lower()] = (r, *span)
        if not picked:
            return self._refusal(question, lang, f"{say(lang, 'no_condition')} {covered}", "no_condition", [], retrieved)
        def written(spans: list[tuple[object, int, int, bool]]) -> tuple[str, list]:
            citations, lines = [], []
            for n, (r, a, b, cut) in enumerate(spans, start=1):
                c = citation_for(n, r, a, b)
                citations.append(c)
                lines.append(f"- {c.medicine}: “{c.quote}”{' …' if cut else ''} [{n}]")
            return f"{say(lang, 'condition_intro')}:\n" + "\n".join(lines) + f"\n\n{say(lang, 'pointer')}", citations

        whole = [(r, a, b, False) for r, a, b in picked.values()]
        text_out, citations = written(whole)
        if len(text_out) > MAX_ANSWER_CHARS:  # each sentence up to the clause that names the condition
            text_out, citations = written([(r, a, _naming_clause_end(r.node.text, a, b, topic), True) for r, a, b, _ in whole])
        meds = [c.medicine for c in citations]
        return Answer(question, text_out, False, citations, "extractive", retrieved, lang, meds)

    def _history_language(self, history: list[dict], names) -> str:
        for turn in reversed(history[-10:]):
            if turn.get("role") == "user":
                return question_language(guard.retrieval_text(str(turn.get("content", ""))), names)
        return "en"

    def _has_documents_in(self, lang: str, meds: list[str] | None = None) -> bool:
        """Some overview (of these medicines, when given) is written in the question's language, so its words
        can tell whether the corpus talks about what is asked."""
        wanted = {m.lower() for m in meds or []}
        return any(lang in m.languages for m in self.corpus.catalogue.medicines if not wanted or m.name.lower() in wanted)

    def _resolver(self) -> MedicineResolver:
        catalogue = self.corpus.catalogue
        if self._medicine_resolver is None or self._medicine_resolver.catalogue is not catalogue:
            self._medicine_resolver = MedicineResolver(catalogue, use_lexicon=self.settings.drug_lexicon)
        return self._medicine_resolver

    def _refusal(self, question, lang, message, reason, medicines=None, retrieved=None) -> Answer:
        return refusal(question, lang, message, reason, self.mode, medicines, retrieved)

    def _overviews_write_about(self, meds: list[str], topics: set[str]) -> bool:
        """Some overview of these medicines writes about every one of the topics (so it may answer after all)."""
        names = [m.name for m in self.corpus.catalogue.medicines if m.name.lower() in {x.lower() for x in meds}]
        if not names:
            return False
        where = {"medicine": names[0]} if len(names) == 1 else {"medicine": {"$in": names}}
        written = set().union(*(guard.leaflet_topics(n.text) for n in self.store.sections(where=where)))
        return topics <= written

    @staticmethod
    def _lacking_section(named: list, prior: dict[str, float]) -> str | None:
        """The one section the question's cue words point at, when no overview of the named medicines has it."""
        top = [k for k, v in prior.items() if v >= 1.0]
        have = {s for m in named for s in m.sections}
        return top[0] if len(top) == 1 and have and top[0] not in have else None

    def _from_history(self, history: list[dict]) -> list[str]:
        """The medicine the conversation is about: the latest one named, user turns first."""
        catalogue = self.corpus.catalogue
        for role in ("user", "assistant"):
            for turn in reversed(history[-10:]):
                if turn.get("role") == role:
                    found = catalogue.find(guard.retrieval_text(str(turn.get("content", ""))))
                    if found:
                        return [found[0].name]
        return []

    def _vocabulary(self) -> guard.Vocabulary:
        version = self.corpus.version
        if self._vocab[0] != version or self._vocab[1] is None:
            index = self.corpus.index
            self._vocab = (version, guard.Vocabulary.from_tokens(index.tokens, len(index.medicines)))
        return self._vocab[1]


def _medicine_terms(catalogue, lang: str) -> set[str]:
    """Word stems of every name and substance as a question in `lang` has them, once per catalogue and language."""
    if lang not in catalogue.terms:
        # One text of every name: tokens are per word, so the same set as name by name, in one call.
        catalogue.terms[lang] = set(guard.tokens("\n".join(f"{m.name} {m.substance or ''}" for m in catalogue.medicines), lang))
    return catalogue.terms[lang]


def _sentence_naming(text: str, topic: list[str], need: int, lang: str,
                     required: set[str] = frozenset(), broad: set[str] = frozenset()) -> tuple[int, int] | None:
    """The first sentence of a section that holds at least `need` of the topic stems (of a question in `lang`),
    every `required` one among them; a `broad` stem is held by its glossary meaning too."""
    meanings = {t: glossary.concepts(t) if t in broad else set() for t in topic}
    for a, b in spans(text):
        words = set(guard.tokens(text[a:b], lang))
        # A short word names a condition only as an abbreviation the overview writes in capitals ("HIV").
        short = {w.lower() for w in re.findall(r"\b[A-Z][A-Z0-9]{1,3}\b", text[a:b])}
        # A word is held as written or as its cognate in another language; a broad one by its glossary
        # meaning too ("polmone": "lung", "Lungenkrebs").
        said = glossary.concepts(text[a:b], compounds=True) if any(meanings.values()) else set()
        held = {t for t in topic if t in short or (meanings[t] and meanings[t] <= said)
                or any(len(w) >= 4 and (w.startswith(t) or t.startswith(w) or same_cognate(t, w)) for w in words)}
        if len(held) >= need and required <= held:
            return a, b
    return None


def _any_section_answers(shape, named: list) -> bool:
    """The question asks for what any section may state (the form, the substance), and every overview of the
    medicines is in a language whose sentences show whether they state it."""
    if shape is None or shape.kind not in ANY_SECTION_SHAPES:
        return False
    languages = {lang for m in named for lang in m.languages}
    return bool(languages) and all(shape.can_tell(lang) for lang in languages)


def _naming_clause_end(text: str, a: int, b: int, topic: list[str]) -> int:
    """Where the clause of text[a:b] that names a topic word ends ("… adults with melanoma" before " (a type
    of skin cancer) that has spread …"); b when no word or no later break is found."""
    sentence = text[a:b].lower()
    at = min((m.end() for t in topic for m in [re.search(rf"(?<!\w){re.escape(t)}\w*", sentence)] if m), default=None)
    return b if at is None else clause_end(text, a + at, b)


def _list_names(names: list[str], limit: int = 12) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" … (+{len(names) - limit})"


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
