"""Checks that decide, before and after retrieval, whether a question can be answered at all."""

from __future__ import annotations

import bisect
import re
import unicodedata

from .intent import CUES
from .retriever import tokens

_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:instruction|rule|prompt|guideline|above|previous)"
    r"|\b(?:ignorera|glöm|strunta i)\b.{0,40}\b(?:instruktion|regler|tidigare)"
    r"|\bsystem prompt\b|\bjailbreak\b|\bpretend (?:to be|you are)\b|\bdu är nu\b|\byou are now\b",
    re.IGNORECASE | re.DOTALL,
)

# Words that carry no topic of their own in a question about a medicine.
_GENERIC = set(
    tokens(
        "use using used uses take taking taken takes get medicine medicines drug drugs treatment patient patients "
        "tell know please explain information about summary summaries overview ema eu say says said "
        "läkemedel läkemedlet behandling patient patienter berätta information sammanfattning "
        "recommend recommended rekommenderas rekommenderad much many long often"
    )
)
_CUE_TOKENS = {t for cues in CUES.values() for cue in cues for t in tokens(cue.rstrip("="))}


def clean_question(text: str) -> str:
    """Printable text only: control characters go, HTML tags are read as the words they hold."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def retrieval_text(question: str) -> str:
    return re.sub(r"<[^>]*>", " ", question)


def is_injection(question: str) -> bool:
    return bool(_INJECTION.search(question))


def has_words(question: str) -> bool:
    return bool(re.search(r"[^\W\d_]{2,}", question))


class Vocabulary:
    """Word stems of the whole corpus, for asking: does the corpus talk about this at all?"""

    def __init__(self, texts: list[str]) -> None:
        self._stems = sorted({t for text in texts for t in tokens(text) if len(t) >= 3})

    def knows(self, stem: str) -> bool:
        i = bisect.bisect_left(self._stems, stem[:4])
        while i < len(self._stems) and self._stems[i].startswith(stem[:4]):
            s = self._stems[i]
            if s.startswith(stem) or stem.startswith(s):
                return True
            i += 1
        return False

    def off_topic(self, question: str, medicine_terms: set[str]) -> list[str]:
        """Topic words of the question, when none of them occurs anywhere in the corpus."""
        topic = [t for t in tokens(question)
                 if t not in _GENERIC and t not in _CUE_TOKENS and t not in medicine_terms and not t.isdigit() and len(t) >= 3]
        if not topic:
            return []
        unknown = [t for t in topic if not self.knows(t)]
        return unknown if len(unknown) == len(topic) else []
