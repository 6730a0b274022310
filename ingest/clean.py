"""Line-level boilerplate rules for EMA documents: what to drop, and what only looks like it.

Each rule matches a whole line, so dropping never cuts into a sentence.
"""

from __future__ import annotations

import re
from functools import lru_cache

from . import languages

OVERVIEW_REF_RE = re.compile(r"\bEMA/\d{3,6}/\d{4}\b")
PRODUCT_RE = re.compile(r"\bEMEA/H/C/\d{6}\b")
URL_LINE_RE = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$", re.IGNORECASE)

# The EMA address block printed on the first page of every overview PDF.
_ADDRESS = (
    r"Official address\b.*",
    r"Address for visits and deliveries\b.*",
    r"Send us a question\b.*",
    r"An agency of the European Union\s*",
    r"©\s*European Medicines Agency,?\s*\d{4}.*",
    r"Reproduction is authorised provided the source is acknowledged\.?\s*",
)
# "Sida 2/3", "Page 2 of 3", "Σελίδα 2/3", "2/3. oldal" … a page counter, with the page words of every
# language file and the separators EMA's translations use between the two numbers.
_PAGE_SEPARATORS = ("/", "of", "av", "af", "von", "de", "di", "du", "z", "ze", "od", "от", "из", "από", "iš", "no", "van", "sur", "fuq")


@lru_cache(maxsize=1)
def _page_pattern() -> str:
    words = {w.strip().rstrip(".") for lang in languages.languages().values() for w in lang.page_words}
    word = "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\.?"
    sep = "(?:" + "|".join(re.escape(x) for x in _PAGE_SEPARATORS) + ")"
    return rf"(?:{word}\s*\d+\s*{sep}\s*\d+|\d+\s*{sep}\s*\d+\.?\s*{word})"


# Navigation and chrome of the EMA web page as docling renders it.
_WEB = (
    r"\[RSS\]\(.*\)",
    r"#*\s*Page contents",
    r"Expand section",
    r"Collapse section",
    r"\[?Back to top\]?(?:\(.*\))?",
    r"#*\s*Share this page",
    r"(?:\*\*)?This page was last updated on(?:\*\*)?.*",
    r"<!--\s*image\s*-->",
    r"icon \w+",
    r"This medicine is authorised for use in the European Union",
    r"#*\s*(?:Authorised|Withdrawn|Refused|Suspended|Medicine|Human|Veterinary)",
    r"-\s*(?:Application under evaluation|CHMP opinion|European Commission decision)",
    r"-\s*\[[^\]]+\]\(#[^)]*\)",  # in-page table of contents
)
# The per-language document download lists of the web page.
_DOWNLOADS = (
    r".{1,120}\s:\s*EPAR\s*-\s*.+",
    r"Reference Number:\s*\S+",
    r".{1,40}\([A-Z]{2}\)\s*\([\d.,]+\s*[KMG]?B\s*-\s*[A-Z]+\)",
    r"(?:\*\*)?First published:(?:\*\*)?.*",
    r"\[?View\]?(?:\(.*\))?",
    r"\[?Other languages \(\d+\)\]?(?:\(.*\))?",
    r"\d{2}/\d{2}/\d{4}",
    r"Adopted",
    r"CHMP summary of (?:positive|negative) opinion for .+",
    r".+-H-C-\d{6}-\d{4}\s*:\s*EPAR.*",
)



@lru_cache(maxsize=1)
def _drop_any() -> re.Pattern[str]:
    """The address block and each language file's boilerplate lines ("This summary was last updated …")."""
    lines = [p for lang in languages.languages().values() for p in lang.boilerplate]
    return re.compile(r"^\s*(?:" + "|".join(_ADDRESS + tuple(lines)) + r")\s*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _page_marker() -> re.Pattern[str]:
    # The counter alone, or after the reference number: "EMA/169873/2023 Sida 2/2".
    return re.compile(rf"^\s*(?:EMA/\d{{3,6}}/\d{{4}}\s+)?{_page_pattern()}\s*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _one_line_footer() -> re.Pattern[str]:
    return re.compile(rf"^(.+?\))\s+(EMA/\d{{3,6}}/\d{{4}})\s+{_page_pattern()}\s*$", re.IGNORECASE)

_DROP_WEB = re.compile(r"^\s*(?:" + "|".join(_WEB + _DOWNLOADS) + r")\s*$", re.IGNORECASE)
# "Nucala : EPAR - Medicine overview (PDF/157.41 KB)" and its dates: the page's download list, in any text format.
_DATES = r"(?:\s*First published:\s*\d{2}/\d{2}/\d{4})?(?:\s*Last updated:\s*\d{2}/\d{2}/\d{4})?(?:\s*EMA/\d{3,6}/\d{4})?"
_DOWNLOAD_ENTRY = re.compile(r"^(?:.{1,120}\s:\s*EPAR\s*-\s*.{1,120}\((?:PDF|DOCX?|XLSX?)/[\d.,]+\s*[KMG]?B\)" + _DATES
                             + r"|First published:\s*\d{2}/\d{2}/\d{4}(?:\s+Last updated:\s*\d{2}/\d{2}/\d{4})?)\s*$", re.IGNORECASE)
_BARE_REF = re.compile(r"^\s*(?:EMA/(?:[A-Z]+/)?\d{3,6}/\d{4}|EMEA/H/C/\d{6})\s*$")
_TITLE = re.compile(r"^\s*[^\s()][^()]{0,60}\s\([^()]{2,80}\)\s*$")  # "Lumykras (sotorasib)"


def is_boilerplate(line: str, web: bool) -> bool:
    """Address block, page counters and link-annotation URLs; web-page chrome only when `web`."""
    # Stripped first: a leading `\s*` before `.+` backtracks quadratically over a long run of spaces.
    line = line.strip()
    if _drop_any().match(line) or (URL_LINE_RE.match(line) and "://" in line):
        return True
    return bool(_DOWNLOAD_ENTRY.match(line)) or (web and bool(_DROP_WEB.match(line)))


def is_page_marker(line: str) -> bool:
    return bool(_page_marker().match(line))


def is_bare_reference(line: str) -> bool:
    return bool(_BARE_REF.match(line))


def is_footer_title(line: str, medicine: str | None) -> bool:
    """'Lumykras (sotorasib)': the running title that page footers repeat."""
    if not _TITLE.match(line):
        return False
    return medicine is None or line.strip().lower().startswith(medicine.lower())


def strip_footers(lines: list[str], medicine: str | None) -> list[str]:
    """Remove page footers: a page counter with the title and reference lines printed around it.

    In PDF text a footer "Opzelura (ruxolitinib) EMA/169873/2023 Sida 2/2" arrives either on one
    line or spread over up to three; only lines next to a page counter are treated as footer.
    """
    drop: set[int] = set()
    for i, line in enumerate(lines):
        if is_page_marker(line) or _footer_on_one_line(line, medicine):
            drop.add(i)
            j = i - 1
            while j >= 0 and i - j <= 3:
                prev = lines[j]
                if not prev.strip():
                    j -= 1
                    continue
                if is_bare_reference(prev) or is_footer_title(prev, medicine):
                    drop.add(j)
                    j -= 1
                    continue
                break
    return [line for i, line in enumerate(lines) if i not in drop]


def _footer_on_one_line(line: str, medicine: str | None) -> bool:
    if "ema/" not in line.lower():
        return False
    m = _one_line_footer().match(line.strip())
    return bool(m) and is_footer_title(m.group(1), medicine)


def strip_markdown(line: str) -> str:
    """Markdown to plain text for one line: links keep their label, emphasis marks go."""
    # No brackets inside a label or a target: otherwise every "[" of a long run scans to the line's end.
    line = re.sub(r"!\[[^\[\]]*\]\([^()]*\)", "", line)
    line = re.sub(r"\[([^\[\]]+)\]\([^()]*\)", r"\1", line)
    line = line.replace("**", "").replace("__", "")
    line = re.sub(r"^#{1,6}\s+", "", line)
    return line.rstrip()


@lru_cache(maxsize=1)
def _intro_patterns() -> tuple[re.Pattern[str], ...]:
    out = []
    for lang in languages.languages().values():
        for p in lang.intro:
            parts = re.split(r"(\{X\}|\{\*\})", p)
            body = "".join(r"[^\W\d_][\w’'\-]*(?:\s[A-Z][\w’'\-]*)?" if x == "{X}" else r"[^.]{0,60}?" if x == "{*}"
                           else re.escape(x).replace(r"\ ", r"\s+").replace("’", "['’]") for x in parts)
            out.append(re.compile(body, re.IGNORECASE))
    return tuple(out)


def is_intro_paragraph(text: str) -> bool:
    """The standard opening of an EPAR summary ("This is a summary of the European public assessment report …")."""
    head = " ".join(text.split())[:400]
    return any(rx.match(head) for rx in _intro_patterns())
