"""Who a document is about: medicine name, active substance and EMA page address, from any layout.

Title and substance sentences come from the language files; the order of the sources below is
how much each can be trusted.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import PurePath

from .languages import languages

EMA_PAGE = "https://www.ema.europa.eu/en/medicines/human/EPAR/{slug}"
_PAGE_RX = re.compile(r"(?:https?://)?www\.ema\.europa\.eu/en/medicines/human/EPAR/([a-z0-9][a-z0-9-]{0,80})", re.IGNORECASE)
_NAME = r"(?P<name>[^\W\d_][\w’'\-]*(?:[ \-][A-Z0-9][\w’'\-]*){0,3})"
_SUBSTANCE = r"(?P<sub>[^\W\d_][\w\-]*(?: [\w\-]+){0,3}?)"
# A title line "Lumykras (sotorasib)": the name, then the substance in brackets.
_NAME_SUBSTANCE = re.compile(r"^\s*(?P<name>[^\W\d_][\w’'\-]*(?: [\w’'\-]+){0,3})\s+\((?P<sub>[^()]{2,80}(?:\([^()]*\)[^()]*)?)\)\s*$")
# Substances named in two words: "insulin glargine", "factor VIII" …; otherwise the first word is the substance.
_TWO_WORD_HEADS = {"insulin", "interferon", "peginterferon", "factor", "human", "human-", "botulinum", "hepatitis"}


def _compile(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\{X\}|\{S\}|\{\*\})", pattern)
    out = []
    for p in parts:
        if p == "{X}":
            out.append(_NAME if "(?P<name>" not in "".join(out) else r"(?P=name)")
        elif p == "{S}":
            out.append(_SUBSTANCE)
        elif p == "{*}":
            out.append(r"[^.?!\n]{0,60}?")
        else:
            out.append(re.escape(p).replace(r"\ ", r"\s+").replace("’", "['’]"))
    return re.compile("".join(out), re.IGNORECASE)


@lru_cache(maxsize=1)
def _titles() -> tuple[re.Pattern[str], ...]:
    pats = {p for lang in languages().values() for p in lang.titles}
    return tuple(re.compile(r"^\s*" + _compile(p).pattern + r"\s*$", re.IGNORECASE) for p in sorted(pats, key=len, reverse=True))


@lru_cache(maxsize=1)
def _substance_sentences() -> tuple[re.Pattern[str], ...]:
    pats = {p for lang in languages().values() for p in lang.substance if "{S}" in p}
    return tuple(_compile(p) for p in sorted(pats, key=len, reverse=True))


def title_match(line: str) -> re.Match[str] | None:
    """The line is a document title ("An overview of X and why it is authorised in the EU" …)."""
    text = line.strip().lstrip("#").strip()
    if not text or len(text) > 200:
        return None
    for rx in _titles():
        m = rx.match(text)
        if m:
            return m
    return None


def name_and_substance_line(line: str) -> tuple[str, str] | None:
    m = _NAME_SUBSTANCE.match(line.strip().lstrip("#").strip())
    if not m or len(m.group("name")) > 60:
        return None
    return m.group("name").strip(), m.group("sub").strip()


def substance_sentence(text: str, medicine: str | None = None) -> tuple[str, str] | None:
    """(medicine, substance) from the first "X contains the active substance Y" sentence, any language."""
    best: tuple[int, str, str] | None = None
    for rx in _substance_sentences():
        for m in rx.finditer(text[:30000]):
            name = (m.groupdict().get("name") or medicine or "").strip()
            if medicine and name and name.lower() != medicine.lower():
                continue
            sub = _substance_words(text, m.end("sub"), m.group("sub"))
            if name and sub and (best is None or m.start() < best[0]):
                best = (m.start(), name, sub)
            break
    return (best[1], best[2]) if best else None


def _substance_words(text: str, end: int, lazy: str) -> str:
    words = lazy.split()
    if len(words) == 1 and words[0].lower() in _TWO_WORD_HEADS:
        nxt = re.match(r"\s+([\w-]+)", text[end:])
        if nxt:
            words.append(nxt.group(1))
    return " ".join(words).strip(" .,;")


def first_line_name(lines: list[str]) -> str | None:
    """Web page text starts with the medicine's name on a line of its own ("Hemlibra", "emicizumab", "About")."""
    for line in lines[:5]:
        t = line.strip().lstrip("#").strip()
        if not t:
            continue
        if re.fullmatch(r"[A-Z][\w’'\-]*(?: [A-Z0-9][\w’'\-]*){0,2}", t) and len(t) <= 40:
            return t
        return None
    return None


def most_named(candidates: list[str], text: str) -> str | None:
    """The candidate the text names most often (a document names its medicine in almost every paragraph)."""
    counts = Counter({c: len(re.findall(rf"(?<!\w){re.escape(c)}(?!\w)", text, re.IGNORECASE)) for c in candidates if c})
    if not counts:
        return None
    name, n = counts.most_common(1)[0]
    return name if n >= 2 else None


def from_file_name(name: str | None) -> str | None:
    """'hemlibra_en.txt' -> 'Hemlibra': the last resort, and marked as such where it is used."""
    if not name:
        return None
    stem = PurePath(name).stem
    stem = re.sub(r"[_-](?:%s)$" % "|".join(languages()), "", stem, flags=re.IGNORECASE)
    words = [w for w in re.split(r"[_\s]+", stem) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or None


def slug(medicine: str) -> str:
    text = unicodedata.normalize("NFKD", medicine).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def ema_page(full_text: str, medicine: str | None) -> tuple[str | None, str]:
    """The medicine's EMA page: read from the document when it names it, else derived from the name."""
    found = [m.group(1).lower() for m in _PAGE_RX.finditer(full_text)]
    want = slug(medicine) if medicine else ""
    for s in found:
        if not want or s == want:
            return EMA_PAGE.format(slug=s), "document"
    if want:
        return EMA_PAGE.format(slug=want), "derived"
    return None, ""
