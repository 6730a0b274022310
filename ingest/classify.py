"""Canonical section keys for paragraphs that stand under no recognisable heading.

Two signals: the language file's cue phrases, and the multilingual embedder's similarity to a
short description of each section. Every overview answers its questions in the same order, so
the keys of consecutive paragraphs never go back (a best path through that order); a paragraph
that fits no key keeps OTHER_KEY. Weights are tuned on the eval corpus's dev split only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

from .languages import get as get_language

OTHER_KEY = "other"
ORDER = ("what_is", "how_used", "how_works", "benefits", "risks", "why_authorised", "missing_info", "safe_use", "other_info")

# What each section holds, for the embedder; e5 matches these across languages.
DESCRIPTIONS = {
    "what_is": "What the medicine is and what it is used for: the disease or condition it treats or prevents, "
               "which patients, and the active substance it contains.",
    "how_used": "How the medicine is used: prescription, who starts treatment, the form (tablets, injection, "
                "infusion, cream), the dose, how often and how long it is given.",
    "how_works": "How the medicine works: its mechanism of action, the receptor, enzyme or protein the active "
                 "substance binds to or blocks in the body.",
    "benefits": "The benefits shown in studies: clinical trials, number of patients, results compared with "
                "placebo or another medicine.",
    "risks": "The risks and side effects: the most common side effects, how often they occur, serious side "
             "effects, and who must not use the medicine.",
    "why_authorised": "Why the medicine is authorised in the EU: the agency decided that its benefits are "
                      "greater than its risks.",
    "missing_info": "Information still awaited: the company will provide further data from ongoing studies "
                    "because the authorisation is conditional.",
    "safe_use": "Measures to ensure safe and effective use: recommendations and precautions in the product "
                "information, risk management, monitoring of side effects.",
    "other_info": "Other information: the marketing authorisation valid throughout the European Union was "
                  "granted on a date; more information on the agency's website.",
}


@dataclass(frozen=True)
class ClassifyWeights:
    # Swept on the dev split (python -m eval.corpus_report --classify --split dev): 0.920 of paragraphs right.
    cue: float = 0.5  # per cue phrase found, relative to the paragraph's other cues
    dense: float = 1.0  # per `dense_scale` of cosine below the best description
    dense_scale: float = 0.02
    floor: float = 0.45  # below this best score a paragraph is OTHER_KEY


Embed = Callable[[list[str]], list[list[float]]]


@lru_cache(maxsize=64)
def _cue_patterns(language: str) -> dict[str, tuple[re.Pattern[str], ...]]:
    codes = [language, "en"] if language != "en" else ["en"]
    out: dict[str, list[re.Pattern[str]]] = {}
    for code in codes:
        lang = get_language(code)
        if lang is None:
            continue
        for key, cues in lang.cues.items():
            for cue in cues:
                out.setdefault(key, []).append(re.compile(r"(?<!\w)" + re.escape(cue.lower()).replace(r"\ ", r"\s+")))
    return {k: tuple(v) for k, v in out.items()}


def cue_scores(paragraph: str, language: str) -> dict[str, float]:
    text = paragraph.lower()
    hits = {k: float(sum(1 for rx in pats if rx.search(text))) for k, pats in _cue_patterns(language).items()}
    total = sum(hits.values())
    return {k: v / total for k, v in hits.items() if v} if total else {}


class SectionClassifier:
    def __init__(self, embed: Embed | None = None, weights: ClassifyWeights | None = None) -> None:
        self.embed = embed
        self.weights = weights or ClassifyWeights()
        self._descriptions: list[list[float]] | None = None

    def scores(self, paragraphs: Sequence[str], language: str) -> list[dict[str, float]]:
        w = self.weights
        out = [{k: w.cue * v for k, v in cue_scores(p, language).items()} for p in paragraphs]
        if self.embed is not None and paragraphs:
            import numpy as np

            if self._descriptions is None:
                self._descriptions = self.embed([DESCRIPTIONS[k] for k in ORDER])
            d = np.asarray(self._descriptions)
            p = np.asarray(self.embed(list(paragraphs)))
            sims = p @ d.T
            for row, sim in zip(out, sims):
                best = float(sim.max())
                for k, s in zip(ORDER, sim):
                    row[k] = row.get(k, 0.0) + w.dense * max(0.0, 1.0 - (best - float(s)) / w.dense_scale) / 2
        return out

    def assign(self, paragraphs: Sequence[str], language: str, allowed: Sequence[str] = ORDER) -> list[str]:
        """One key per paragraph, in overview order, OTHER_KEY where nothing fits."""
        rows = self.scores(paragraphs, language)
        keys = [k for k in ORDER if k in allowed]
        fits = [i for i, r in enumerate(rows) if keys and max((r.get(k, 0.0) for k in keys), default=0.0) >= self.weights.floor]
        path = _ordered_best([rows[i] for i in fits], keys)
        result = [OTHER_KEY] * len(paragraphs)
        for i, key in zip(fits, path):
            result[i] = key
        return result


def _ordered_best(rows: list[dict[str, float]], keys: list[str]) -> list[str]:
    """Keys for rows, never going back in `keys` order, with the largest total score (Viterbi)."""
    if not rows or not keys:
        return []
    n, m = len(rows), len(keys)
    best = [[0.0] * m for _ in range(n)]
    back = [[0] * m for _ in range(n)]
    for j in range(m):
        best[0][j] = rows[0].get(keys[j], 0.0)
    for i in range(1, n):
        run, arg = float("-inf"), 0
        for j in range(m):
            if best[i - 1][j] > run:
                run, arg = best[i - 1][j], j
            best[i][j] = run + rows[i].get(keys[j], 0.0)
            back[i][j] = arg
    j = max(range(m), key=lambda k: best[n - 1][k])
    path = [j]
    for i in range(n - 1, 0, -1):
        j = back[i][j]
        path.append(j)
    return [keys[j] for j in reversed(path)]
