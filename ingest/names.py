"""Who a document is about: medicine name, active substance and EMA page address, from any layout.

Headings, titles and substance sentences are read in headings.py from the language files; these
are the layout-independent clues.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import PurePath
from typing import Callable

from .languages import languages

EMA_PAGE = "https://www.ema.europa.eu/en/medicines/human/EPAR/{slug}"
_PAGE_RX = re.compile(r"(?:https?://)?www\.ema\.europa\.eu/en/medicines/human/EPAR/([a-z0-9][a-z0-9-]{0,80})", re.IGNORECASE)
# A title line "Lumykras (sotorasib)": the name, then the substance in brackets.
_NAME_SUBSTANCE = re.compile(r"^\s*(?P<name>[^\W\d_][\w’'\-]*(?: [\w’'\-]+){0,3})\s+\((?P<sub>[^()]{2,80}(?:\([^()]*\)[^()]*)?)\)\s*$")


def name_and_substance_line(line: str) -> tuple[str, str] | None:
    m = _NAME_SUBSTANCE.match(line.strip().lstrip("#").strip())
    if not m or len(m.group("name")) > 60:
        return None
    return m.group("name").strip(), m.group("sub").strip()


# The title block of an EPAR summary or web page: the name on a line of its own, the substance on the next
# ("Stelara" / "Ustekinumab", "Truvada" / "emtricitabine / tenofovir disoproxil"), or both on one line
# ("Revolade - eltrombopag").
_SUBSTANCE_LINE = re.compile(r"[^\W\d_][\w ,/()’'+\-]{2,79}")
_NAME_DASH_SUBSTANCE = re.compile(r"(?P<name>[^\W\d_][\w’'\-]*(?: [\w’'\-]+){0,3})\s+[-–]\s+(?P<sub>[a-z][\w ,/()’'+\-]{2,79})")


def title_block_substance(lines: list[str], medicine: str, inn_suffixes: tuple[str, ...],
                          is_title: Callable[[str], bool] = lambda _: False) -> str | None:
    """The line under the medicine's name in the title block, when it reads as a substance: written in
    lower case, a word of it ending as international non-proprietary names do (-mab, -nib …), or under a
    name that stands under the document's title ("EPAR summary for the public" / "Revlimid" / "Lenalidomid")."""
    texts = [t.strip().lstrip("#").strip() for t in lines]
    texts = [t for t in texts if t]
    for i, t in enumerate(texts[:-1]):
        m = _NAME_DASH_SUBSTANCE.fullmatch(t)
        if m and m.group("name").lower() == medicine.lower():
            return m.group("sub").strip()
        if t.lower() != medicine.lower():
            continue
        nxt = texts[i + 1]
        words = nxt.split()
        if (not _SUBSTANCE_LINE.fullmatch(nxt) or len(words) > 8 or nxt.lower() == medicine.lower()
                or nxt.endswith((".", ":"))):
            continue
        if (nxt[0].islower() or any(w.lower().strip("(),").endswith(inn_suffixes) for w in words)
                or (i > 0 and is_title(texts[i - 1]))):
            return nxt
    return None


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


def is_proper_name(word: str, text: str) -> bool:
    """Capitalised and never written in lower case: a name ("Enhertu"), not a sentence opener ("The", "It")."""
    first = word.split()[0] if word.split() else ""
    return first[:1].isupper() and not re.search(rf"(?<!\w){re.escape(first.lower())}(?!\w)", text)


# "This is a summary of the European public assessment report (EPAR) for Nexavar", in any language:
# "(EPAR) für Revlimid", "(EPAR) relativo a Esbriet".
_EPAR_FOR = re.compile(r"\(EPAR\)(?:\s+[^\W\d_A-Z][\w']*){1,2}\s+(?P<name>[^\W\d_a-z][\w’'\-]*)")


def epar_intro_name(text: str) -> str | None:
    """The medicine an EPAR summary's opening sentence names."""
    m = _EPAR_FOR.search(text)
    return m.group("name") if m else None


def first_subject(text: str) -> str | None:
    """The first word of the first sentence: web page text opens with "X is a medicine used …"."""
    for para in re.split(r"\n\s*\n|\n", text):
        words = re.findall(r"[^\W\d_][\w’'\-]*", para)
        if len(words) >= 6:
            return words[0]
    return None


def most_named(candidates: list[str], text: str) -> str | None:
    """The proper name among the candidates that the text names most often (at least twice)."""
    counts = Counter({c: len(re.findall(rf"(?<!\w){re.escape(c)}(?!\w)", text)) for c in candidates
                      if c and is_proper_name(c, text)})
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
