"""Which EMA sections a question is probably about.

Cue words are data, per language and section key, in phrases/*.toml. Cues match word starts, so
"biverkning" also matches "biverkningarna"; a cue ending in "=" matches the whole word only. The result is a
prior for ranking, not a filter: a question with no cue leaves every section equally likely.
"""

from __future__ import annotations

import re
import threading
import tomllib
from functools import lru_cache
from importlib import resources

import numpy as np

from .wording import languages_with_phrases, opens_as_what_is, phrases

def cues() -> dict[str, tuple[str, ...]]:
    """Section key -> cue words of every language that has a phrase file (see phrases/*.toml)."""
    return _cues()


@lru_cache(maxsize=1)
def _cues() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for code in languages_with_phrases():
        table = phrases(code)
        for key, words in table.intent.items():
            out.setdefault(key, []).extend(words)
        # Overviews name the active substance where they say what the medicine is.
        out.setdefault("what_is", []).extend(w for w in table.shape.get("substance", ()) if w not in out["what_is"])
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=1)
def _cue_table() -> tuple[tuple[str, str, bool, float], ...]:
    """(key, cue, whole word, weight) per cue. "word=" matches that whole word only; other cues match
    word starts; phrases say more than single words. Plain string search: compiling hundreds of
    patterns cost every process 0.3 s."""
    return tuple((key, cue.rstrip("="), cue.endswith("="), 1.0 + 0.5 * cue.count(" "))
                 for key, words in cues().items() for cue in words)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what \w matches


def _has(text: str, cue: str, whole: bool) -> bool:
    start = text.find(cue)
    while start != -1:
        end = start + len(cue)
        if (start == 0 or not _is_word(text[start - 1])) and (not whole or end == len(text) or not _is_word(text[end])):
            return True
        start = text.find(cue, start + 1)
    return False


def section_prior(question: str, fallback: bool = True) -> dict[str, float]:
    """Section key -> weight in [0, 1]; the best-cued key gets 1."""
    q = " " + re.sub(r"\s+", " ", question.lower()) + " "
    scores: dict[str, float] = {}
    for key, cue, whole, weight in _cue_table():
        if _has(q, cue, whole):
            scores[key] = scores.get(key, 0.0) + weight
    if not scores:
        if fallback and opens_as_what_is(question):
            return {"what_is": 1.0}
        return {}
    top = max(scores.values())
    return {k: v / top for k, v in scores.items()}


class IntentModel:
    """Section intent from the model, for any language: e5 similarity of the question to the prototype
    questions of each section (prototypes.toml). Keys within `width` of the best get a share of 1."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self._keys: list[str] = []
        self._vectors = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._vectors is None:
                data = tomllib.loads(resources.files(__package__).joinpath("prototypes.toml").read_text(encoding="utf-8"))
                keys, vectors = [], []
                for key, questions in data.items():
                    for q in questions:
                        keys.append(key)
                        vectors.append(self.embedder.get_query_embedding(q))
                self._keys, self._vectors = keys, np.asarray(vectors, dtype=np.float32)
        return self._keys, self._vectors

    def prior(self, embedding: list[float], width: float) -> dict[str, float]:
        keys, vectors = self._load()
        sims = vectors @ np.asarray(embedding, dtype=np.float32)
        best: dict[str, float] = {}
        for key, s in zip(keys, sims):
            best[key] = max(best.get(key, -1.0), float(s))
        top = max(best.values())
        return {k: 1.0 - (top - s) / width for k, s in best.items() if top - s < width}


def combine(cue: dict[str, float], model: dict[str, float], cue_weight: float, model_weight: float) -> dict[str, float]:
    """Cue and model priors as one, the strongest key at 1."""
    keys = set(cue) | set(model)
    mixed = {k: cue_weight * cue.get(k, 0.0) + model_weight * model.get(k, 0.0) for k in keys}
    top = max(mixed.values(), default=0.0)
    return {k: v / top for k, v in mixed.items() if v > 0} if top > 0 else {}
