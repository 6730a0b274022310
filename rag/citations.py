"""Citations built only from retrieved sections, and checks that keep them honest."""

from __future__ import annotations

import re

from .retriever import Ranked
from .schema import Citation


def citation_for(number: int, ranked: Ranked, start: int, end: int) -> Citation:
    m = ranked.meta
    return Citation(
        number=number,
        medicine=m.get("medicine", ""),
        ref=m.get("ref") or None,
        product_number=m.get("product_number") or None,
        section=m.get("section", ""),
        section_title=m.get("section_title", ""),
        language=m.get("language", ""),
        source=m.get("source", ""),
        page=int(m["page"]) if m.get("page") else None,
        quote=ranked.node.text[start:end],
        ref_inferred=bool(m.get("ref_inferred")),
        section_id=ranked.node.node_id,
    )


_MARK = re.compile(r"\[(\d{1,3})\]")


def cited_numbers(text: str) -> list[int]:
    return [int(n) for n in _MARK.findall(text)]


def remove_invalid_marks(text: str, valid: set[int]) -> tuple[str, list[int]]:
    """Drop [n] marks that point at no retrieved source; return the cleaned text and what was dropped."""
    dropped: list[int] = []

    def repl(m: re.Match) -> str:
        n = int(m.group(2))
        if n in valid:
            return m.group(0)
        dropped.append(n)
        return ""

    return re.sub(r"(\s?)\[(\d{1,3})\]", repl, text), dropped


_REF = re.compile(r"\bEMA/(?:[A-Z]+/)?\d{3,6}/\d{4}\b|\bEMEA/H/C/\d{6}\b")


def strip_unknown_references(text: str, known: set[str]) -> str:
    """Never print a reference number the corpus does not hold."""
    return _REF.sub(lambda m: m.group(0) if m.group(0) in known else "[reference removed]", text)
