"""Sentence spans of a section, as (start, end) offsets into its stored text, so quotes are exact."""

from __future__ import annotations

import re

# A sentence ends at . ! or ? followed by space and something that starts a new one, or at a
# paragraph break. Abbreviations common in the overviews do not end sentences.
_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖÜÉ0-9•\-–(\"”'])|\n\s*\n|\n(?=[•\-–] )")
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|approx|ca|t\.ex|bl\.a|s\.k|dvs|etc|no|nr|vs|Dr|mg)\.|\b[A-Z]\.)$")


def spans(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        if _ABBREV.search(text[start : m.start()]):
            continue
        _add(out, text, start, m.start())
        start = m.end()
    _add(out, text, start, len(text))
    return out


def _add(out: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append((start, end))


def sentence_texts(text: str, medicine: str, sents: list[tuple[int, int]]) -> list[str]:
    """What is embedded for each sentence: the medicine's name in front, as for sections."""
    return [f"{medicine}: {text[a:b]}" for a, b in sents]


# Sentence vectors travel in the section's own metadata (float16, base64), written in the same
# upsert as the section: never out of step with its text, and read with it at no extra cost.
SPANS_KEY, VECTORS_KEY = "sentence_spans", "sentence_vectors"


def pack(sents: list[tuple[int, int]], vectors) -> dict[str, str]:
    import base64
    import json

    import numpy as np

    data = np.asarray(vectors, dtype=np.float16)
    return {SPANS_KEY: json.dumps([list(s) for s in sents]), VECTORS_KEY: base64.b64encode(data.tobytes()).decode("ascii")}


def unpack(meta: dict, sents: list[tuple[int, int]]):
    """The stored vectors if they were computed for exactly these sentences, else None."""
    import base64
    import json

    import numpy as np

    try:
        stored = [tuple(s) for s in json.loads(meta[SPANS_KEY])]
        if stored != list(sents):
            return None
        data = np.frombuffer(base64.b64decode(meta[VECTORS_KEY]), dtype=np.float16)
        return data.reshape(len(stored), -1).astype(np.float32)
    except (KeyError, TypeError, ValueError):
        return None
