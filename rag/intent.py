"""Which EMA sections a question is probably about.

Cue words are data, per language and section key, in phrases/*.toml. Cues match word starts, so
"biverkning" also matches "biverkningarna"; a cue ending in "=" matches the whole word only. The result is a
prior for ranking, not a filter: a question with no cue leaves every section equally likely.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .wording import languages_with_phrases, phrases

def cues() -> dict[str, tuple[str, ...]]:
    """Section key -> cue words of every language that has a phrase file (see phrases/*.toml)."""
    return _cues()


@lru_cache(maxsize=1)
def _cues() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for code in languages_with_phrases():
        for key, words in phrases(code).intent.items():
            out.setdefault(key, []).extend(words)
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=1)
def _cue_patterns() -> tuple[tuple[str, tuple[tuple[re.Pattern[str], float], ...]], ...]:
    """Per section key, each cue compiled once, with its weight: phrases say more than single words."""
    out = []
    for key, words in cues().items():
        # "word=" matches that whole word only; other cues match word starts.
        patterns = tuple((re.compile(r"(?<![\w])" + re.escape(cue.rstrip("=")) + (r"(?![\w])" if cue.endswith("=") else "")),
                          1.0 + 0.5 * cue.count(" ")) for cue in words)
        out.append((key, patterns))
    return tuple(out)


def section_prior(question: str, fallback: bool = True) -> dict[str, float]:
    """Section key -> weight in [0, 1]; the best-cued key gets 1."""
    q = " " + re.sub(r"\s+", " ", question.lower()) + " "
    scores: dict[str, float] = {}
    for key, patterns in _cue_patterns():
        hits = sum(weight for rx, weight in patterns if rx.search(q))
        if hits:
            scores[key] = hits
    if not scores:
        if fallback and re.match(r"\s*(?:what is|what's|vad är)\b", q):
            return {"what_is": 1.0}
        return {}
    top = max(scores.values())
    return {k: v / top for k, v in scores.items()}
