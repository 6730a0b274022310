"""EMA overview section headings in every EU language, read from the language files (ingest/languages/).

Patterns are written the way the documents print them, with `{X}` where the medicine name
stands. To support another wording, add it to that language's file; nothing else changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from . import languages

# The order every overview follows; also the order sections are listed in.
SECTION_KEYS = (
    "what_is",
    "how_used",
    "how_works",
    "benefits",
    "risks",
    "why_authorised",
    "missing_info",
    "safe_use",
    "other_info",
    "product_details",
    "authorisation_details",
    "assessment_history",
    "product_information",
)
UNKNOWN_KEY = "unknown"

# English canonical headings: prefixed to section text before embedding, and shown to users.
ENGLISH_TITLES = {
    "what_is": "What is {X} and what is it used for?",
    "how_used": "How is {X} used?",
    "how_works": "How does {X} work?",
    "benefits": "What benefits of {X} have been shown in studies?",
    "risks": "What are the risks associated with {X}?",
    "why_authorised": "Why is {X} authorised in the EU?",
    "missing_info": "What information is still awaited about {X}?",
    "safe_use": "What measures are being taken to ensure the safe and effective use of {X}?",
    "other_info": "Other information about {X}",
    "product_details": "Product details",
    "authorisation_details": "Authorisation details",
    "assessment_history": "Assessment history",
    "product_information": "Product information",
    UNKNOWN_KEY: "{X}",
}

WILDCARD = "{*}"
# What a medicine name, or an unverified stretch of a heading, may contain: no sentence punctuation.
_NAME = r"[^?;;.:!\n]"
_ANY = r"[^?;;.!\n]{0,60}?"
# A substance sentence ends at punctuation or at "and" in any EU language.
_CONJ = r"(?:and|och|og|und|et|y|e|en|ja|és|un|ir|i|a|și|şi|και|и|agus|u|kaj|ta)"


@dataclass(frozen=True)
class HeadingMatch:
    language: str
    key: str
    name: str | None  # the medicine name as the heading spells it, if the pattern has one


def heading_rows() -> tuple[tuple[str, str, str], ...]:
    """(language, canonical key, pattern) for every heading and web-page label of every language."""
    rows: list[tuple[str, str, str]] = []
    for code, lang in languages.languages().items():
        for key, patterns in lang.headings.items():
            rows += [(code, key, p) for p in patterns]
        for key, labels in lang.web_labels.items():
            rows += [(code, key, p) for p in labels]
    return tuple(rows)


def __getattr__(name: str):
    # HEADINGS stays importable as a table, but is read from the language files only when asked for.
    if name == "HEADINGS":
        return heading_rows()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _literal(text: str) -> str:
    """A literal stretch of a pattern as a regex tolerant of typographic and PDF-extraction variants."""
    out: list[str] = []
    for ch in re.sub(r"\s+", " ", text):
        if ch == " ":
            out.append(r"\s+")
        elif ch in "'’":
            out.append(r"(?:['’]\s?|\s)")
        elif ch in "?;;":
            out.append(r"\s?[?;;]")
        elif ch == "¿":
            out.append("¿?")
        elif ch in "-–":
            out.append("[-–]")
        elif ch in "șş":
            out.append("[șş]")
        elif ch in "țţ":
            out.append("[țţ]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _medicine_rx(medicine: str) -> str:
    # The given name, followed by at most a short inflected ending ("Zyntegloa", "Lumykras-t").
    name = r"\s+".join(re.escape(w) for w in medicine.split())
    return rf"(?P<name>{name})(?:[-’']?[^\W\d_]{{0,3}})"


def _to_regex(pattern: str, medicine: str | None = None) -> re.Pattern[str]:
    parts = re.split(r"(\{X\}|\{\*\}|\{S\})", pattern)
    body: list[str] = []
    named = False
    for part in parts:
        if part == "{X}":
            if named:
                body.append("(?P=name)")
            else:
                body.append(_medicine_rx(medicine) if medicine else rf"(?P<name>{_NAME}{{1,80}}?)")
                named = True
        elif part == WILDCARD:
            body.append(_ANY)
        elif part:
            body.append(_literal(part))
    return re.compile(rf"^\s*{''.join(body)}\s*$", re.IGNORECASE)


def _literal_length(pattern: str) -> int:
    """The characters a pattern spells out, its name, substance and wildcard marks left out."""
    return len(re.sub(r"\{X\}|\{\*\}|\{S\+?\}", "", pattern))


def _first_letter(text: str) -> str:
    m = re.search(r"[^\W\d_]|\{", text)
    return m.group(0).lower() if m and m.group(0) != "{" else ""


@lru_cache(maxsize=1)
def _by_first_letter() -> dict[str, tuple[tuple[str, str, re.Pattern[str]], ...]]:
    """The exact patterns a line can match, by the line's first letter; patterns opening with the name go everywhere.

    Longest literal first, so "What is the risk associated with {X}?" wins over "What is {X}?".

    Hundreds of patterns over every line of a long PDF would otherwise dominate parsing time.
    """
    rows = sorted((r for r in heading_rows() if WILDCARD not in r[2]), key=lambda row: -_literal_length(row[2]))
    letters: dict[str, list[tuple[int, str, str, re.Pattern[str]]]] = {}
    anywhere: list[tuple[int, str, str, re.Pattern[str]]] = []
    for order, (lang, key, p) in enumerate(rows):
        row = (order, lang, key, _to_regex(p))
        first = _first_letter(p)
        (letters.setdefault(first, []) if first else anywhere).append(row)
    out = {k: tuple((lang, key, rx) for _, lang, key, rx in sorted(v + anywhere)) for k, v in letters.items()}
    out[""] = tuple((lang, key, rx) for _, lang, key, rx in anywhere)
    return out


# Patterns with unverified words hold the known medicine's name, which differs per document.
# Rather than compiling them per medicine, each is compiled once with a stand-in character where
# the name goes, and is matched against the line with the name's occurrences replaced by it.
_STAND_IN = "\ue000"  # a private-use character, never in a real heading


@lru_cache(maxsize=1)
def _compiled_wildcards() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    rows = sorted((r for r in heading_rows() if WILDCARD in r[2]), key=lambda row: -_literal_length(row[2]))
    assert all(p.count("{X}") == 1 for _, _, p in rows), "a pattern with {*} names the medicine once"
    return tuple((lang, key, _to_regex(p, _STAND_IN)) for lang, key, p in rows)


@lru_cache(maxsize=256)
def _name_rx(medicine: str) -> re.Pattern[str]:
    return re.compile(r"\s+".join(re.escape(w) for w in medicine.split()), re.IGNORECASE)


def _with_stand_in(text: str, medicine: str) -> tuple[str, list[str]]:
    """The line with each occurrence of the name replaced by the stand-in, and the occurrences as written."""
    found: list[str] = []

    def stand_in(m: re.Match[str]) -> str:
        found.append(m.group(0))
        return _STAND_IN

    return _name_rx(medicine).sub(stand_in, text.replace(_STAND_IN, "")), found


def match_heading(line: str, medicine: str | None = None) -> HeadingMatch | None:
    """The heading a line is, if it is one. Markdown '#' marks and bold are ignored.

    Exact patterns are tried first. Patterns with unverified words (`{*}`) are tried only when
    the medicine name is known, and then only with that name in them.
    """
    text = re.sub(r"^#{1,6}\s*", "", line.strip()).replace("**", "").strip()
    if not text or len(text) > 160:
        return None
    medicine = medicine.strip() if medicine else None
    found: HeadingMatch | None = None
    table = _by_first_letter()
    for lang, key, rx in table.get(_first_letter(text), table[""]):
        m = rx.match(text)
        if m:
            found = HeadingMatch(lang, key, _base_name(m.groupdict().get("name"), medicine))
            break
    if medicine and (found is None or (found.name and found.name.lower() != medicine.lower())):
        # An exact pattern that read some other words as the name yields to one that holds the known name.
        marked, names = _with_stand_in(text, medicine)
        if names:
            for lang, key, rx in _compiled_wildcards():
                m = rx.match(marked)
                if m:
                    return HeadingMatch(lang, key, names[marked.count(_STAND_IN, 0, m.start("name"))])
    return found


def _base_name(name: str | None, medicine: str | None) -> str | None:
    """The captured name, without an inflected ending when it is the known medicine's."""
    if not name:
        return None
    name = name.strip()
    if medicine and name.lower().startswith(medicine.lower()):
        rest = name[len(medicine):]
        if re.fullmatch(r"[-’']?[^\W\d_]{0,3}", rest):
            return name[: len(medicine)]
    return name


@lru_cache(maxsize=1)
def _title_patterns() -> tuple[re.Pattern[str], ...]:
    rows = [p for lang in languages.languages().values() for p in lang.titles if "{X}" in p]
    return tuple(_to_regex(p) for p in sorted(set(rows), key=lambda p: -_literal_length(p)))


def title_medicine(line: str) -> str | None:
    """The medicine a document title line names ("Overview of Lumykras and why …"), in any language."""
    text = re.sub(r"^#{1,6}\s*", "", line.strip()).replace("**", "").strip()
    if not text or len(text) > 240:
        return None
    for rx in _title_patterns():
        m = rx.match(text)
        if m and m.group("name").strip():
            return m.group("name").strip()
    return None


def is_title_line(line: str) -> bool:
    """A title line of any language, with or without a medicine name ("EPAR summary for the public")."""
    text = line.strip()
    if title_medicine(text):
        return True
    return re.sub(r"\s+", " ", text).lower() in _plain_titles()


@lru_cache(maxsize=1)
def _plain_titles() -> frozenset[str]:
    return frozenset(p.lower() for lang in languages.languages().values() for p in lang.titles if "{X}" not in p)


@lru_cache(maxsize=64)
def _substance_patterns(medicine: str | None) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(key word, regex) per substance sentence; the regex runs only around the key word's occurrences."""
    out = []
    patterns = {p for lang in languages.languages().values() for p in lang.substance}
    one = r"\w[\w\-]{0,60}(?:\s+[\w\-]{1,60}){0,3}?"
    for p in sorted(patterns, key=lambda p: (-_literal_length(p), p)):  # the same order in every process
        listed = "{S+}" in p
        head, tail = p.replace("{S+}", "{S}").split("{S}")
        rx = _search_body(head, medicine)
        if tail.strip():
            rx += r"(?P<s>[^.;:()\n]{2,120}?)" if listed else r"(?P<s>[^.,;:()\n]{2,60}?)"
            rx += _literal(tail)
        elif listed:  # "ledipasvir and sofosbuvir", "bictegravir, emtricitabine and tenofovir alafenamide"
            rx += rf"(?P<s>{one}(?:\s*,\s*{one}){{0,4}}(?:,?\s+{_CONJ}\s+{one})?)(?=\s*(?:[.;:()]|$))"
        else:
            rx += _literal(tail) + rf"(?P<s>{one})(?=\s*(?:[.,;:()]|$)|\s+{_CONJ}\b)"
        words = re.findall(r"[^\W\d_]+", re.sub(r"\{X\}|\{S\+?\}", " ", p))
        out.append((max(words, key=len).lower(), re.compile(rx, re.IGNORECASE)))
    return tuple(out)


def _search_body(head: str, medicine: str | None) -> str:
    body = []
    for part in re.split(r"(\{X\})", head):
        if part == "{X}":
            # Bounded and starting at a word's start: searching a long unbroken run stays linear.
            body.append(_medicine_rx(medicine) if medicine else r"(?<![\w\-])(?P<name>[^\W\d_][\w\-]{0,60})")
        elif part:
            body.append(_literal(part))
    return "".join(body)


_WINDOW = 300  # characters searched on either side of a key word ("substance", "Wirkstoff" …)


def _first_substance_sentence(text: str, medicine: str | None) -> re.Match[str] | None:
    """The first substance sentence of the text, in any language, searched around its key word only."""
    lowered = text.lower()
    best: re.Match[str] | None = None
    for word, rx in _substance_patterns(medicine.strip() if medicine else None):
        at = lowered.find(word)
        while at != -1 and (best is None or at - _WINDOW < best.start()):
            m = rx.search(text, max(0, at - _WINDOW), at + _WINDOW)
            if m:
                if best is None or m.start() < best.start():
                    best = m
                break
            at = lowered.find(word, at + _WINDOW)
    return best


def substance_in(text: str, medicine: str | None) -> str | None:
    """The active substance named by the first substance sentence of the text, in any language."""
    m = _first_substance_sentence(text, medicine)
    return re.sub(r"\s+", " ", m.group("s")).strip().rstrip(".,") if m else None


def named_in_substance_sentence(text: str) -> str | None:
    """The medicine that the first substance sentence names ("Aimovig contains the active substance …")."""
    m = _first_substance_sentence(text, None)
    return m.group("name") if m and "name" in m.groupdict() else None


def english_title(key: str, medicine: str) -> str:
    return ENGLISH_TITLES.get(key, "{X}").replace("{X}", medicine)
