"""The words EMA overviews use that mean the same across languages, read from glossary.toml.

Dense vectors bridge languages only roughly; these rows let lexical matching (BM25 and sentence
choice) see that "recommended dose" and "rekommenderade dosen" say the same thing. Each row lists
word starts that mean the same, per language; a term matches in any text, whatever its language.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def rows() -> tuple[tuple[str, ...], ...]:
    """Every row's terms, in the file's order and every language together."""
    data = tomllib.loads(resources.files(__package__).joinpath("glossary.toml").read_text(encoding="utf-8"))
    return tuple(tuple(dict.fromkeys(t.lower() for words in row.values() for t in words)) for row in data["row"])


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, int], re.Pattern[str]]:
    index: dict[str, int] = {}
    for i, row in enumerate(rows()):
        for term in row:
            index.setdefault(term, i)
    terms = sorted(index, key=len, reverse=True)
    return index, re.compile(r"(?<![\w])(" + "|".join(re.escape(t) for t in terms) + r")", re.IGNORECASE)


def concepts(text: str) -> set[int]:
    """Glossary rows a text mentions (by word start), in any listed language."""
    index, rx = _table()
    return {index[m.group(1).lower()] for m in rx.finditer(text)}


def equivalents(text: str) -> list[str]:
    """Every term of the glossary rows a text mentions, in every listed language (for BM25 queries)."""
    table = rows()
    return [term for i in sorted(concepts(text)) for term in table[i]]


def expand(text: str) -> str:
    """The text followed by every glossary equivalent of the terms it uses."""
    extra = equivalents(text)
    return text + (" " + " ".join(extra) if extra else "")
