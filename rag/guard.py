"""Checks that decide, before and after retrieval, whether a question can be answered at all."""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from . import glossary
from .intent import cues
from .lexical import cognate, same_cognate, tokens, without_accents
from .wording import any_language_rx, asks_for, languages_with_phrases, leaflet_topics_rx, phrases, written_rx


@lru_cache(maxsize=64)
def _generic(language: str | None) -> frozenset[str]:
    """Stems of question filler ("use", "medicine", "tell", "läkemedel"): words that carry no topic of their own
    in a question about a medicine. The lists are data (phrases/<code>.toml, `filler`); every language's words
    count, tokenised as this language's, since questions mix languages."""
    words = " ".join(w for code in languages_with_phrases() for w in phrases(code).filler)
    return frozenset(tokens(words, language))


@lru_cache(maxsize=64)
def cue_tokens(language: str | None = None) -> frozenset[str]:
    """Stems of the section cues and of the question forms that ask for a frequency, duration, number or date
    ("how far apart", "what percentage"): how a question asks, not what about."""
    forms = [c for code in languages_with_phrases() for kind in ("frequency", "per_time", "duration", "mechanism", "result", "combination", "site", "route", "strength", "number", "date")
             for c in phrases(code).shape.get(kind, ())]
    return frozenset(t for cue in [c for words in cues().values() for c in words] + forms
                     for t in tokens(cue.rstrip("=$").lstrip("^").replace("*", " "), language))


def clean_question(text: str) -> str:
    """Printable text only: control characters go, HTML tags are read as the words they hold."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def retrieval_text(question: str) -> str:
    return re.sub(r"<[^>]*>", " ", question)


# SQL and script fragments: no question about a medicine contains them, and retrieval would
# otherwise quote whatever section happens to be nearest to the words "table" or "select".
_CODE = re.compile(
    r"\b(?:drop|truncate|alter)\s+(?:table|database)\b|\bdelete\s+from\b|\binsert\s+into\b"
    r"|\bunion\s+(?:all\s+)?select\b|;\s*--|'\s*or\s*'?\w+'?\s*=\s*'?\w+|<\s*/?\s*script\b|\bjavascript:",
    re.IGNORECASE,
)


def is_injection(question: str) -> bool:
    rx = any_language_rx("injection")
    return bool((rx and rx.search(question)) or _CODE.search(question))


def has_words(question: str) -> bool:
    return bool(re.search(r"[^\W\d_]{2,}", question))


def topic_tokens(question: str, language: str | None = None, inflected: bool = False) -> list[str]:
    """Word stems of a question in `language` that carry its topic: no filler, no section cue, no number.

    With `inflected`, a stem that is a filler or cue stem plus up to two letters goes too, for the
    endings a stemmer leaves ("treatments" when only "treat" is listed).
    """
    generic, cue = _generic(language), cue_tokens(language)
    return [t for t in tokens(question, language) if not t.isdigit() and len(t) >= 3 and t not in generic
            and t not in cue and not (inflected and _is_filler(t, language))]


def _is_filler(stem: str, language: str | None = None) -> bool:
    return any(stem.startswith(c) and len(stem) - len(c) <= 2 for c in _fillers_4(language))


@lru_cache(maxsize=64)
def _fillers_4(language: str | None) -> tuple[str, ...]:
    return tuple(t for t in _generic(language) | cue_tokens(language) if len(t) >= 4)


class Vocabulary:
    """Word stems of the whole corpus, for asking: does the corpus talk about this at all, and in how
    many medicines' overviews? A word most overviews use ("company", "data") names no condition."""

    def __init__(self, spread: dict[str, int], medicine_count: int) -> None:
        self._stems = sorted(spread)
        self._spread = spread  # stem -> how many medicines' overviews use it
        self._by_cognate: list[tuple[str, str]] | None = None  # (cognate form, stem), sorted, built when first asked
        self.medicine_count = medicine_count

    @classmethod
    def from_tokens(cls, counts: dict[str, int], medicine_count: int) -> "Vocabulary":
        """From the corpus's BM25 tokens saved at ingest (token -> number of medicines using it), each
        section tokenised in its own language (see rag.sidecar)."""
        return cls({t: n for t, n in counts.items() if len(t) >= 3}, medicine_count)

    @classmethod
    def from_words(cls, words: dict[str, int], medicine_count: int, language: str | None = None) -> "Vocabulary":
        """From a word list (word -> number of medicines using it), tokenised as `language`."""
        spread: dict[str, int] = {}
        for word, n in words.items():
            for t in tokens(word, language):
                if len(t) >= 3:
                    spread[t] = max(spread.get(t, 0), n)
        return cls(spread, medicine_count)

    @classmethod
    def from_texts(cls, texts_by_medicine: dict[str, list[str]], language: str | None = None) -> "Vocabulary":
        users: dict[str, set[str]] = {}
        for medicine, texts in texts_by_medicine.items():
            for text in texts:
                for t in set(tokens(text, language)):
                    users.setdefault(t, set()).add(medicine)
        return cls.from_tokens({t: len(m) for t, m in users.items()}, len(texts_by_medicine))

    def _related(self, stem: str):
        i = bisect.bisect_left(self._stems, stem[:4])
        while i < len(self._stems) and self._stems[i].startswith(stem[:4]):
            s = self._stems[i]
            if s.startswith(stem) or stem.startswith(s):
                yield s
            i += 1

    def knows(self, stem: str) -> bool:
        return bool(glossary.concepts(stem)) or next(self._related(stem), None) is not None

    def known_form(self, stem: str) -> str | None:
        """The word as the corpus writes it, for a question in another language: the stem itself, without
        accents ("scléros" for "sclerosis"), or the corpus stem of 5 letters or more one edit away ("astma"
        for "asthma", the most used if several are); None when the corpus never uses it."""
        if self.knows(stem):
            return stem
        plain = without_accents(stem)
        if plain != stem and self.knows(plain):
            return plain
        if len(plain) < 5:
            return None
        i = bisect.bisect_left(self._stems, plain[0])
        near = []
        while i < len(self._stems) and self._stems[i][0] == plain[0]:
            s = self._stems[i]
            if len(s) >= 5 and abs(len(s) - len(plain)) <= 1 and _one_edit(plain, s):
                near.append(s)
            i += 1
        if not near:  # "leucemia" for "leukaemia", "mieloid" for "myeloid": the cognate another language spells
            near = self._cognates(stem)
        return max(near, key=lambda s: self._spread[s]) if near else None

    def _cognates(self, stem: str) -> list[str]:
        if self._by_cognate is None:
            self._by_cognate = sorted((cognate(s), s) for s in self._stems if len(s) >= 6)
        key = cognate(stem)
        if len(key) < 6:
            return []
        i = bisect.bisect_left(self._by_cognate, (key[:6], ""))
        found = []
        while i < len(self._by_cognate) and self._by_cognate[i][0].startswith(key[:6]):
            if same_cognate(stem, self._by_cognate[i][1]):
                found.append(self._by_cognate[i][1])
            i += 1
        return found

    def spread(self, stem: str) -> int:
        """How many medicines' overviews use the word (at least)."""
        return max((self._spread[s] for s in self._related(stem)), default=0)

    def is_specific(self, stem: str) -> bool:
        """Used by some overviews but not by most: a condition, a target, a class."""
        n = self.spread(stem)
        return 0 < n <= max(1, self.medicine_count // 2)

    def off_topic(self, question: str, medicine_terms: set[str], has_intent: bool,
                  language: str | None = None) -> list[str]:
        """Topic words of the question that the corpus never uses, when they dominate the question.

        With a recognised section intent, only a question made (almost) entirely of unknown topic
        words is off topic; English words are often missing from Swedish documents, so one or two
        unknown words alone do not decide.
        """
        topic = [t for t in topic_tokens(question, language) if t not in medicine_terms]
        unknown = [t for t in topic if not self.knows(t)]
        if not unknown:
            return []
        mostly = len(unknown) >= 3 and len(unknown) >= 0.75 * len(topic)
        if len(unknown) == len(topic) or mostly or (not has_intent and len(unknown) >= 2):
            return unknown
        return []


def _one_edit(a: str, b: str) -> bool:
    """a and b differ by one inserted, deleted or replaced letter."""
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k in range(len(a)) if a[k] != b[k]), len(a))
    return a[i + (len(a) == len(b)):] == b[i + 1:] and a != b


def leaflet_topics(text: str) -> set[str]:
    """Topics the text names that package leaflets cover and overviews seldom do: storage, alcohol, food, pets…"""
    return {topic for topic, rx in leaflet_topics_rx().items() if rx.search(text)}


def out_of_scope(question: str) -> bool:
    """Prices, reimbursement, stock, where to buy: what the overviews never say. "Can I buy X without a
    prescription?" asks whether it needs one, which they do say; "What does it cost without one?" does not."""
    price, buying = any_language_rx("out_of_scope"), any_language_rx("buying")
    if price and price.search(question):
        return True
    return bool(buying and buying.search(question)) and glossary.row_of("prescription") not in glossary.concepts(question)


NUMBER = re.compile(r"\d")
STRENGTH = re.compile(r"\d\s*(?:mg|µg|mcg|micrograms?|mikrogram\w*|mg/ml|ml|g|units|IU|IE)(?!\w)", re.IGNORECASE)
DATE = re.compile(r"\b(?:19|20)\d{2}\b|\b\d{1,2}/\d{1,2}/\d{4}\b")


# A unit the question asks in, and how the overviews write it (English and Swedish).
_UNITS = (
    (r"\b(?:milligrams?|mg)\b", r"\d\s*mg\b"),
    (r"\b(?:grams?|gram)\b", r"\d\s*(?:g|grams?|gram)\b"),
    (r"\b(?:millilitres?|milliliters?|ml)\b", r"\d\s*ml\b"),
    (r"\b(?:percent|per cent|percentage|procent|%)", r"\d\s*(?:%|procent|per cent|percent)"),
    (r"\b(?:months?|månad\w*)\b", r"(?:month|månad)"),
    (r"\b(?:weeks?|veck\w*)\b", r"(?:week|veck)"),
    (r"\b(?:hours?|timm\w*)\b", r"(?:hour|timm)"),
)


@dataclass(frozen=True)
class Shape:
    """What a quote must hold to answer the question: a pattern for any language, or per language of the
    overview as its phrase file writes it (`written`); an overview language with no such pattern is not held to it."""

    kind: str
    pattern: re.Pattern[str] | None = None
    written: str = ""  # kind looked up in the overview language's [written] table, with `pattern` as fallback
    first_only: bool = False  # only the best sentence must hold it; its neighbours may join the quote
    also: str = ""  # a [written] kind the sentence must hold as well, where its language's file can tell

    def can_tell(self, language: str) -> bool:
        """Whether a sentence in this language can be checked for it (else every sentence passes)."""
        return self.pattern is not None or (bool(self.written) and written_rx(language, self.written) is not None)

    def matches(self, sentence: str, language: str) -> bool:
        if self.also:
            rx = written_rx(language, self.also)
            if rx is not None and not rx.search(sentence):
                return False
        rx = written_rx(language, self.written) if self.written else None
        if rx is not None and rx.search(sentence):
            return True
        if self.pattern is not None:
            return bool(self.pattern.search(sentence))
        return rx is None  # this language's file cannot tell: the quote is not held to it


@lru_cache(maxsize=1)
def _form_rows() -> frozenset[int]:
    """The glossary rows of a medicine's forms: tablets, capsules, cream, injection, infusion."""
    return frozenset(r for t in ("tablet", "capsule", "cream", "injection", "infusion") if (r := glossary.row_of(t)) is not None)


def answer_shape(question: str, substances: list[str] | None = None) -> Shape | None:
    """What a quote must contain to answer a "when", "how often", "how many", active-substance, unit or
    "used for" question. A "why" question wants a reason, even when it names a dose or a date; a question
    to answer yes or no wants no number, frequency or unit."""
    if asks_for(question, "reason"):
        return None
    topics = leaflet_topics(question)
    if topics:  # "with food?": a question the overview answers only where it writes about that topic
        rx = leaflet_topics_rx()
        return Shape("topic", re.compile("|".join(rx[t].pattern for t in sorted(topics)), re.IGNORECASE), first_only=True)
    if asks_for(question, "date"):
        return Shape("date", DATE)
    if substances and asks_for(question, "substance"):
        words = [re.escape(w) for s in substances for w in re.split(r"\s*(?:/|,| and | und | och | og | et )\s*", s) if len(w) > 2]
        if words:
            return Shape("substance", re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE))
    # "What is it combined with?", "Can it be used with insulin?"; not "How often is it given with X?".
    if asks_for(question, "combination") and not any(asks_for(question, k) for k in ("frequency", "duration", "number")):
        return Shape("combination", written="combination", first_only=True)
    if asks_for(question, "yes_no"):
        # "Is Byetta a pill?", "Abilify existe-t-il en piqûre ?": answered by the sentence that states the form.
        if glossary.concepts(question) & _form_rows():
            return Shape("route", written="route", first_only=True)
        return None
    if asks_for(question, "frequency"):
        return Shape("frequency", written="frequency")
    if asks_for(question, "duration"):  # "how long", "wie lange": for 5 weeks, until the disease worsens
        return Shape("duration", written="duration")
    if asks_for(question, "mechanism"):  # "how does X work?": what it blocks or binds, not what it is
        return Shape("mechanism", written="mechanism", first_only=True)
    if asks_for(question, "result"):  # "What results did the study give?": an outcome, a number, a comparison
        return Shape("result", written="result")
    if asks_for(question, "site"):  # "where is X injected?": the thigh, the abdomen, into the eye
        return Shape("site", written="site", first_only=True)
    if asks_for(question, "strength"):  # "What strength are the tablets?": 250 mg, 100 micrograms, 40 mg/ml
        return Shape("strength", STRENGTH)
    # "How many mg a day?": the amount and how often it is taken, in one sentence.
    per_time = "frequency" if asks_for(question, "per_time") else ""
    for asked, written in _UNITS:
        if re.search(asked, question, re.IGNORECASE):
            return Shape("unit", re.compile(written, re.IGNORECASE), also=per_time)
    if asks_for(question, "number"):
        return Shape("number", NUMBER, written="number", also=per_time)
    if asks_for(question, "route"):  # "How is X given?": an infusion, tablets, under the skin
        return Shape("route", written="route", first_only=True)
    if asks_for(question, "indication"):  # "What is X used for?": the sentence that says what it treats
        return Shape("indication", written="indication")
    return None
