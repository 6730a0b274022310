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
def _table() -> tuple[dict[str, int], re.Pattern[str], re.Pattern[str]]:
    index: dict[str, int] = {}
    for i, row in enumerate(rows()):
        for term in row:
            index.setdefault(term, i)
    terms = sorted(index, key=len, reverse=True)
    starts = re.compile(r"(?<![\w])(" + "|".join(re.escape(t) for t in terms) + r")", re.IGNORECASE)
    # Inside a compound ("Lungenkrebs", "nierkanker"), only one-word terms long enough not to occur by chance.
    inside = re.compile("(" + "|".join(re.escape(t) for t in terms if len(t) >= 5 and " " not in t) + ")", re.IGNORECASE)
    return index, starts, inside


def row_of(term: str) -> int | None:
    """The glossary row that lists this term ("prescription"), or None."""
    return _table()[0].get(term.lower())


def concepts(text: str, compounds: bool = False) -> set[int]:
    """Glossary rows a text mentions (by word start), in any listed language; with `compounds`, also those a
    word holds inside ("Lungenkrebs": lung and cancer)."""
    index, starts, inside = _table()
    found = {index[m.group(1).lower()] for m in starts.finditer(text)}
    if compounds:
        found |= {index[m.group(1).lower()] for m in inside.finditer(text)}
    return found


def equivalents(text: str) -> list[str]:
    """Every term of the glossary rows a text mentions, in every listed language (for BM25 queries)."""
    table = rows()
    return [term for i in sorted(concepts(text)) for term in table[i]]


def expand(text: str) -> str:
    """The text followed by every glossary equivalent of the terms it uses."""
    extra = equivalents(text)
    return text + (" " + " ".join(extra) if extra else "")
