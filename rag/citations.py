"""Citations built only from retrieved sections, and checks that keep them honest."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .schema import Citation

if TYPE_CHECKING:
    from .retriever import ScoredSection

EMA_SITE = "www.ema.europa.eu"
EPAR_PAGE = f"https://{EMA_SITE}/en/medicines/human/EPAR/"
_SAFE_URL = re.compile(r"https://www\.ema\.europa\.eu/[A-Za-z0-9/_.~%-]*")


def highlight(context: str, quote: str) -> list[list[tuple[str, bool]]]:
    """The section's paragraphs as (text, is_quoted) pieces: the quoted sentences marked where they stand."""
    start = context.find(quote) if quote else -1
    end = start + len(quote) if start >= 0 else -1
    spans, pos = [], 0
    for gap in re.finditer(r"\n\s*\n", context):
        spans.append((pos, gap.start()))
        pos = gap.end()
    spans.append((pos, len(context)))
    paragraphs = []
    for a, b in spans:
        text = context[a:b]
        a, b = a + len(text) - len(text.lstrip()), b - len(text) + len(text.rstrip())
        if a >= b:
            continue
        cuts = sorted({a, b} | {x for x in (start, end) if a < x < b})
        paragraphs.append([(context[x:y], start <= x and y <= end) for x, y in zip(cuts, cuts[1:])])
    return paragraphs


def is_ema_url(url: str) -> bool:
    """An https link into www.ema.europa.eu made of plain path characters (nothing that could break out)."""
    return bool(_SAFE_URL.fullmatch(url)) and urlsplit(url).netloc == EMA_SITE


def ema_page(meta: dict) -> str | None:
    """The medicine's EPAR page on the EMA website; nothing else is ever linked.

    An ingested `url` is used only when it is an https link to www.ema.europa.eu made of plain path
    characters; otherwise the address is built from the medicine name as EMA builds it ("Conexxence" ->
    .../EPAR/conexxence): lower case, spaces to hyphens, accents and other punctuation dropped.
    """
    url = str(meta.get("url") or "").strip()
    if is_ema_url(url):
        return url
    name = unicodedata.normalize("NFKD", str(meta.get("medicine") or "")).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9-]", "", re.sub(r"\s+", "-", name.strip().lower()))
    slug = re.sub(r"-{2,}", "-", slug).strip("-")
    return EPAR_PAGE + slug if slug else None


def pdf_page(meta: dict) -> int | None:
    """Text and Markdown sources are one page, so only a PDF's page number helps find the text."""
    if not str(meta.get("source", "")).lower().endswith(".pdf") or not meta.get("page"):
        return None
    return int(meta["page"])


def citation_for(number: int, ranked: "ScoredSection", start: int, end: int) -> Citation:
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
        page=pdf_page(m),
        quote=ranked.node.text[start:end],
        ref_inferred=bool(m.get("ref_inferred")),
        section_id=ranked.node.node_id,
        url=ema_page(m),
        context=ranked.node.text,
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
