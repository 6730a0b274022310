"""Turn the text of one EMA document into metadata and sections keyed by canonical heading."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from rag.catalogue import INN_SUFFIXES
from rag.language import detect

from . import clean, languages, names
from .classify import ORDER, OTHER_KEY, SectionClassifier
from .headings import (HeadingMatch, english_title, is_title_line, match_heading, named_in_substance_sentence, substance_in,
                       title_medicine)

TokenCounter = Callable[[str], int]


@dataclass
class Section:
    key: str
    title: str  # the heading as the document writes it
    text: str  # original text, paragraphs separated by blank lines
    page: int | None = None
    part: int = 0  # >0 when a long section was split
    inferred: bool = False  # key read from the content: the document printed no heading here


@dataclass
class ParsedDocument:
    medicine: str | None
    substance: str | None
    language: str
    ref: str | None
    product_number: str | None
    sections: list[Section]
    epar_overview_ref: str | None = None  # the overview number an EPAR web page lists
    notes: list[str] = field(default_factory=list)
    medicine_source: str = ""  # heading | title | text | file name
    url: str | None = None  # the medicine's EMA page
    url_source: str = ""  # document | derived


@dataclass
class _Line:
    text: str
    page: int | None


def parse(
    pages: list[str],
    fmt: str,
    *,
    max_tokens: int = 440,
    count_tokens: TokenCounter | None = None,
    classifier: SectionClassifier | None = None,
    file_name: str | None = None,
) -> ParsedDocument:
    count_tokens = count_tokens or _estimate_tokens
    classifier = classifier or SectionClassifier()
    web = fmt == "markdown"
    raw_text = "\n".join(pages)
    lines = _lines(pages, fmt)
    full = "\n".join(line.text for line in lines)

    epar_ref = _epar_overview_ref(full)
    product = _product_number(full)
    ref = epar_ref if web else (_first_overview_ref(full) or epar_ref)

    headings = _find_headings(lines)
    medicine, medicine_source = _medicine_name(headings, lines, web, full, file_name)
    body = [ln for ln in lines if not clean.is_boilerplate(ln.text, web)]
    body = _strip_footers(body, medicine)
    headings = _find_headings(body, medicine)
    language = _language(headings, "\n".join(ln.text for ln in body))

    notes: list[str] = []
    if medicine_source == "file name":
        notes.append(f"no medicine name in the text: named {medicine!r} after the file")
    first = min(headings) if headings else len(body)
    pdf = fmt == "pdf"
    # Above an overview's first section heading only sentences count; above a page's details fields, any text.
    strict = bool(headings) and headings[first][0].key in ORDER
    preamble = _content_paragraphs(body[:first], medicine, web, strict=strict, pdf=pdf)
    sections: list[Section] = []
    if preamble:
        first_key = headings[first][0].key if headings else None
        allowed = _keys_before(first_key)
        sections = _classified(preamble, classifier, language, medicine, allowed)
        if not strict:
            notes.append("no EMA section headings found: sections assigned from their content")
    if headings:
        sections += _split_sections(body, headings, web, pdf)
    sections = _merge_repeated(sections)

    substance = _substance(lines, medicine, full)
    url, url_source = names.ema_page(raw_text, medicine)
    sections = _unique_parts([part for s in sections for part in _split_long(s, max_tokens, count_tokens)])
    return ParsedDocument(medicine, substance, language, ref, product, sections, epar_ref, notes,
                          medicine_source, url, url_source)


def _lines(pages: list[str], fmt: str) -> list[_Line]:
    out: list[_Line] = []
    for number, page in enumerate(pages, start=1):
        text = page.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
        if number == 1 and fmt == "markdown":
            text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.DOTALL)
        for raw in text.split("\n"):
            line = clean.strip_markdown(raw) if fmt == "markdown" else raw.rstrip()
            is_heading_mark = fmt == "markdown" and raw.lstrip().startswith("#")
            page = number if fmt == "pdf" else None
            inline = None if is_heading_mark else _details_inline().match(line)
            if inline:  # "Authorisation details: Agency product number …": a page's field group on one line
                out += [_Line("# " + inline.group(1), page), _Line(inline.group(2), page)]
                continue
            out.append(_Line(("#" * _level(raw) + " " + line) if is_heading_mark else line, page))
    return _plain_detail_tables(out) if fmt == "text" else out


_TABLE_RULE = re.compile(r"^[\s|:-]*-[\s|:-]*$")  # "---|---|"


def _plain_detail_tables(lines: list[_Line]) -> list[_Line]:
    """A web page saved as text prints its details as a flattened table: "Authorisation details", then rows
    "Marketing-authorisation holder |" / "Roche Registration GmbH" / "|". There the page's field-group labels
    are headings, and each row becomes one "Label: value" paragraph."""
    out: list[_Line] = []
    tables = 0
    i = 0
    while i < len(lines):
        t = lines[i].text.strip()
        m = match_heading(t) if t and "|" not in t and not t.startswith("#") else None
        if m is None or m.name is not None or m.key not in _DETAIL_KEYS | {"product_information"}:
            out.append(lines[i])
            i += 1
            continue
        page = lines[i].page
        if not _table_follows(lines, i):
            fields = _field_lines(lines, i + 1)
            if fields is not None:  # "Marketing-authorisation holder" / "Roche Registration GmbH", one per line
                tables += 1
                out.append(_Line("# " + t, page))
                out += [ln for record in fields[0] for ln in (_Line(record, page), _Line("", page))]
                i = fields[1]
                continue
            out.append(_Line("# " + t, page) if tables else lines[i])  # the page's next field group
            i += 1
            continue
        tables += 1
        out.append(_Line("# " + t, page))
        i += 1
        label: str | None = None
        value: list[str] = []
        while i < len(lines):
            row = lines[i].text.strip()
            if not row or _TABLE_RULE.match(row) or re.fullmatch(r"[^|]+\|\s*\|\s*", row):  # a rule, a group's own row
                i += 1
                continue
            if "|" not in row and label is None:
                break  # the table has ended
            cells = [c.strip() for c in row.split("|")]
            if label is None:
                label, value = cells[0], [c for c in cells[1:] if c]
            else:
                value += [c for c in cells if c]
            if row.endswith("|") and (value or row == "|"):
                out += [_Line(_record(label, value, " "), page), _Line("", page)]
                label, value = None, []
            i += 1
        if label is not None:
            out += [_Line(_record(label, value, " "), page), _Line("", page)]
    return out


def _record(label: str, values: list[str], sep: str) -> str:
    """One field as a paragraph: "Marketing-authorisation holder: Roche Registration GmbH"."""
    return f"{label}: {sep.join(values)}" if values else f"{label}:"


@lru_cache(maxsize=1)
def _field_labels() -> frozenset[str]:
    more = ("Name", "Agency product number", "Date of issue of marketing authorisation valid throughout the European Union",
            "Contact address", "Marketing-authorisation holder")
    return frozenset(re.sub(r"[\s-]+", " ", x).lower() for x in _LABELS + more)


def _is_field_label(text: str) -> bool:
    return re.sub(r"[\s-]+", " ", text.strip()).lower() in _field_labels()


def _field_lines(lines: list[_Line], i: int) -> tuple[list[str], int] | None:
    """A field group printed one label or value per line under its heading: ("Label: value" records,
    the index after the group), or None when no known label follows within a few lines."""
    ahead = [ln.text.strip() for ln in lines[i : i + 6] if ln.text.strip()][:3]
    if not any(_is_field_label(t) for t in ahead):
        return None
    records: list[str] = []
    label: str | None = None
    value: list[str] = []
    while i < len(lines):
        t = lines[i].text.strip()
        if not t:
            i += 1
            continue
        m = match_heading(t) if "|" not in t else None
        if _is_field_label(t):
            if label is not None:
                records.append(_record(label, value, "; "))
            label, value = t, []
        elif (m is not None and m.name is None and m.key in _DETAIL_KEYS) or t.lower() in ("product details", "publication details"):
            pass  # a sub-group's own label
        elif label is not None and len(t) <= 120 and not t.endswith((".", "?", "!")) and m is None:
            value.append(_BULLET.sub("", t).strip())
        else:
            break
        i += 1
    if label is not None:
        records.append(_record(label, value, "; "))
    return records, i


def _table_follows(lines: list[_Line], i: int) -> bool:
    following = [ln.text for ln in lines[i + 1 : i + 6] if ln.text.strip()][:3]
    return any("|" in t for t in following)


@lru_cache(maxsize=1)
def _details_inline() -> re.Pattern[str]:
    """A web page's details label followed by its fields on the same line, in any language file."""
    labels = [label for lang in languages.languages().values()
              for key in ("authorisation_details", "product_details") for label in lang.web_labels.get(key, ())]
    alternatives = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    return re.compile(rf"^\s*({alternatives}):\s+(\S.{{20,}})$", re.IGNORECASE)


def _level(raw: str) -> int:
    return len(raw.lstrip()) - len(raw.lstrip().lstrip("#"))


def _find_headings(lines: list[_Line], medicine: str | None = None) -> dict[int, tuple[HeadingMatch, int]]:
    """Index of heading line -> (match, how many lines it spans). Wrapped headings span two."""
    found: dict[int, tuple[HeadingMatch, int]] = {}
    i = 0
    while i < len(lines):
        text = _unbracket(lines[i].text)
        m = match_heading(text, medicine)
        span = 1
        if m is None and i + 1 < len(lines) and text.strip() and not text.rstrip().endswith((".", ":")):
            m = match_heading(text.strip() + " " + _unbracket(lines[i + 1].text).strip(), medicine)
            span = 2
        if m is not None and not _is_web_only(m, text):
            found[i] = (m, span)
            i += span
        else:
            i += 1
    return _consistent(found)


def _unbracket(text: str) -> str:
    """Scraped page text sometimes prints headings as "[How is X used?]"."""
    t = text.strip()
    return t[1:-1] if t.startswith("[") and t.endswith("]") and "](" not in t else text


def _is_web_only(m: HeadingMatch, text: str) -> bool:
    # "Overview", "Product details" … are headings only where the page marks them as such.
    return m.name is None and not text.lstrip().startswith("#")


def _consistent(found: dict[int, tuple[HeadingMatch, int]]) -> dict[int, tuple[HeadingMatch, int]]:
    """Keep headings that name the document's main medicine (or none), dropping stray questions."""
    counts = Counter(m.name.lower() for m, _ in found.values() if m.name)
    if not counts:
        return found
    main, count = counts.most_common(1)[0]
    if count < 2:
        return found
    return {i: (m, s) for i, (m, s) in found.items() if not m.name or _same_name(m.name, main)}


def _same_name(a: str, b: str) -> bool:
    a, b = a.lower().strip(), b.lower().strip()
    return a == b or a.rstrip("s") == b.rstrip("s") or a.startswith(b + " ") or b.startswith(a + " ")


def _medicine_name(headings, lines: list[_Line], web: bool, full: str, file_name: str | None) -> tuple[str | None, str]:
    """The medicine and where its name was read, most trusted source first."""
    named = Counter(m.name for m, _ in headings.values() if m.name)
    if named:
        # "Co to jest Xenical?" beside "Jak stosować preparat Xenical?": a name that ends another one is the
        # medicine's, and the longer name only the heading's words around it.
        support = {n: sum(c for m, c in named.items() if m == n or m.endswith(" " + n)) for n in named}
        return max(named, key=lambda n: (support[n], -len(n))), "heading"
    texts = [ln.text for ln in lines]
    for t in texts[:60]:
        title = title_medicine(t)
        if title:
            return title, "title"
        if web and t.startswith("# "):
            return t[2:].strip(), "title"
        pair = names.name_and_substance_line(t)
        if pair and names.most_named([pair[0]], full):
            return pair[0], "title"
    candidates = [named_in_substance_sentence(full), names.epar_intro_name(full), names.first_line_name(texts),
                  names.first_subject(full)]
    found = names.most_named([c for c in candidates if c and not match_heading("# " + c)], full)
    if found:
        return found, "text"
    fallback = names.from_file_name(file_name)
    return (fallback, "file name") if fallback else (None, "")


def _substance(lines: list[_Line], medicine: str | None, full: str) -> str | None:
    if medicine:
        for ln in lines[:60]:
            pair = names.name_and_substance_line(ln.text)
            if pair and _same_name(pair[0], medicine):
                return pair[1]
        block = names.title_block_substance([ln.text for ln in lines[:60]], medicine, INN_SUFFIXES, is_title_line)
        if block and not is_title_line(block) and not match_heading("# " + block):
            return block
    # The EPAR web page's "Active substance" field, then "X contains the active substance Y" in any language.
    m = re.search(r"Active substance\s+([a-z][\w -]{2,60}?)(?:\s+International|\s*;|\s*$)", full, re.MULTILINE | re.IGNORECASE)
    if m:
        return m.group(1).strip().rstrip(".,").lower()
    return substance_in(full, medicine) or (substance_in(full, None) if medicine else None)


def _first_overview_ref(full: str) -> str | None:
    m = clean.OVERVIEW_REF_RE.search(full)
    return m.group(0) if m else None


def _epar_overview_ref(full: str) -> str | None:
    """The overview's number as the EPAR page's download list gives it."""
    m = re.search(r"EPAR\s*-\s*(?:Medicine overview|summary for the public)[^\n]{0,200}?(?:Reference Number:\s*)?(EMA/\d{3,6}/\d{4})",
                  full, re.IGNORECASE)
    if m:
        return m.group(1)
    m = re.search(r"EPAR\s*-\s*(?:Medicine overview|summary for the public)[\s\S]{0,200}?Reference Number:\s*(EMA/\d{3,6}/\d{4})", full, re.IGNORECASE)
    return m.group(1) if m else None


def _product_number(full: str) -> str | None:
    m = clean.PRODUCT_RE.search(full)
    return m.group(0) if m else None


def _strip_footers(lines: list[_Line], medicine: str | None) -> list[_Line]:
    kept_texts = clean.strip_footers([ln.text for ln in lines], medicine)
    # strip_footers only removes lines; walk both lists to keep page numbers aligned.
    out: list[_Line] = []
    j = 0
    for ln in lines:
        if j < len(kept_texts) and ln.text == kept_texts[j]:
            out.append(ln)
            j += 1
    return out


_SUBHEAD = "\x00"  # marks a web sub-heading line inside a section until paragraphs are built
_NEWS = re.compile(r"^#+\s*News on\b", re.IGNORECASE)


def _split_sections(lines: list[_Line], headings: dict[int, tuple[HeadingMatch, int]], web: bool,
                    pdf: bool = False) -> list[Section]:
    sections: list[Section] = []
    current: tuple[HeadingMatch, str, int | None] | None = None
    buf: list[str] = []
    skipping = False

    def flush() -> None:
        if current is not None:
            lines_ = _label_records(buf) if web and current[0].key in _DETAIL_KEYS else buf
            text = _paragraphs(lines_, web, pdf)
            if _has_words(text) and not all(line.startswith(_SUBHEAD) or not line.strip() for line in buf):
                m, title, page = current
                sections.append(Section(m.key, title, text, page))

    i = 0
    while i < len(lines):
        if i in headings:
            flush()
            m, span = headings[i]
            title = " ".join(lines[k].text.strip().lstrip("#").strip() for k in range(i, i + span))
            current, buf, skipping = (m, title, lines[i].page), [], False
            i += span
            continue
        text = lines[i].text
        if web and _NEWS.match(text):
            skipping = True  # news links are not part of the overview
        elif current is not None and not skipping:
            is_sub = web and text.lstrip().startswith("#")
            buf.append(_SUBHEAD + text.lstrip("#").strip() if is_sub else text)
        i += 1
    flush()
    return _merge_repeated(sections)


def _merge_repeated(sections: list[Section]) -> list[Section]:
    """Keep distinct parts for repeated keys (older layouts split what_is into two headings)."""
    seen: Counter[str] = Counter()
    for s in sections:
        s.part = seen[s.key]
        seen[s.key] += 1
    return sections


_DETAIL_KEYS = {"product_details", "authorisation_details"}
# Field labels of the EPAR web page's detail tables, which docling flattens into runs of text.
_LABELS = (
    "Name of medicine", "Active substance", "International non-proprietary name (INN) or common name",
    "Therapeutic area (MeSH)", "Anatomical therapeutic chemical (ATC) code", "Pharmacotherapeutic group",
    "Therapeutic indication", "EMA product number", "Marketing authorisation holder", "Opinion adopted",
    "Opinion status", "Marketing authorisation issued", "Revision", "Biosimilar", "Generic", "Orphan",
    "Additional monitoring", "Conditional approval", "Exceptional circumstances", "Accelerated assessment",
)
_LABEL_RX = re.compile("(" + "|".join(re.escape(x) for x in sorted(_LABELS, key=len, reverse=True)) + r")(?=\s|$)")


def _label_records(lines: list[str]) -> list[str]:
    """'Label value' runs and label-only lines become one 'Label: value' paragraph per field."""
    segments: list[str] = []
    for raw in lines:
        line = raw.replace(_SUBHEAD, "").strip()
        if not line:
            continue
        cuts = [m.start() for m in _LABEL_RX.finditer(line)] if _LABEL_RX.match(line) else []
        if not cuts:
            segments.append(line)
            continue
        cuts.append(len(line))
        segments.extend(line[a:b].strip() for a, b in zip(cuts, cuts[1:]))
    out: list[str] = []
    record: str | None = None
    for seg in segments:
        m = _LABEL_RX.match(seg)
        if m and m.end() <= len(seg):
            if record is not None:
                out += [record, ""]
            label, value = seg[: m.end()], seg[m.end():].strip()
            record = f"{label}: {value}" if value else f"{label}:"
        elif record is not None and (record.endswith(":") or (not seg.endswith(".") and len(seg) < 80)):
            item = seg.lstrip("-• ").strip()
            record = f"{record} {item}" if record.endswith(":") else f"{record}{'; ' if seg.startswith('-') else ', '}{item}"
        else:
            if record is not None:
                out += [record, ""]
                record = None
            out += [seg, ""]
    if record is not None:
        out.append(record)
    return out


_HYPHENATED = re.compile(r"[^\W\d_A-Z]{2}-$")
_TABLE_ROW = re.compile(r"^\s*\||\|\s*$")
_BULLET = re.compile(r"^\s*(?:[•●▪◦\-–*]|\d+[.)])\s+")


_SENTENCE_ENDS = (".", ":", "?", "!", ";", "”", '"')


def _paragraphs(lines: list[str], web: bool, pdf: bool = False, line_paragraphs: bool = False) -> str:
    """Re-flow wrapped PDF lines into paragraphs; paragraphs are separated by a blank line. With
    `line_paragraphs`, text whose every line but the last ends a sentence has a paragraph per line."""
    lengths = sorted(len(s.rstrip()) for s in lines if s.strip())
    if not lengths:
        return ""
    full_width = lengths[int(len(lengths) * 0.9) - 1 if len(lengths) > 1 else 0]
    filled = [s.replace(_SUBHEAD, "").strip() for s in lines if s.strip()] if line_paragraphs else []
    unwrapped = len(filled) > 1 and all(s.endswith(_SENTENCE_ENDS) for s in filled[:-1])
    paras: list[str] = []
    cur: list[str] = []
    pending_blank = False
    for raw in lines:
        line = raw.replace(_SUBHEAD, "").strip()
        if not line:
            pending_blank = bool(cur)
            continue
        continues = bool(cur) and line[:1].islower() and not _BULLET.match(line)
        if cur and not continues:
            prev = cur[-1]
            ends = prev.endswith(_SENTENCE_ENDS)
            short = len(prev) < 0.8 * full_width
            # A blank line inside a sentence (a page break: "… oder das" / "Gesäß injiziert.") breaks nothing.
            last = prev.split()[-1].rstrip(",")
            broken = (pending_blank and not ends and ":" not in prev and not line.startswith("[") and len(prev.split()) >= 8
                      and last.isalpha() and last.islower())
            if web or (pending_blank and not broken) or _BULLET.match(line) or (ends and (short or unwrapped)):
                paras.append(" ".join(cur))
                cur = []
        if pdf and cur and _HYPHENATED.search(cur[-1]) and line[:1].islower():
            cur[-1] = cur[-1][:-1] + line  # "treat-" + "ment": a word the PDF broke across lines
        else:
            cur.append(line)
        pending_blank = False
    if cur:
        paras.append(" ".join(cur))
    return "\n\n".join(re.sub(r"[ \t]+", " ", p).strip() for p in paras if p.strip())


def _split_long(section: Section, max_tokens: int, count: TokenCounter) -> list[Section]:
    if count(section.text) <= max_tokens:
        return [section]
    parts: list[str] = []
    cur: list[str] = []
    for para in _pieces(section.text.split("\n\n"), max_tokens, count):
        if cur and count("\n\n".join(cur + [para])) > max_tokens:
            parts.append("\n\n".join(cur))
            cur = []
        cur.append(para)
    if cur:
        parts.append("\n\n".join(cur))
    base = section.part * 1000
    return [Section(section.key, section.title, text, section.page, base + n) for n, text in enumerate(parts)]


def _has_words(text: str) -> bool:
    """Markup, punctuation and numbers alone are nothing to answer from."""
    return bool(re.search(r"[^\W\d_]{2,}", text))


def _unique_parts(sections: list[Section]) -> list[Section]:
    """(key, part) becomes the stored id, so it must be unique within a document.

    A repeated heading numbers its sections 0, 1, … and a split section numbers its pieces
    part*1000 + n; when the first occurrence is split, its piece 1 meets the second occurrence.
    """
    used: set[tuple[str, int]] = set()
    for s in sections:
        while (s.key, s.part) in used:
            s.part += 1000
        used.add((s.key, s.part))
    return sections


def _pieces(paras: list[str], max_tokens: int, count: TokenCounter) -> list[str]:
    """Paragraphs, with any single paragraph over the limit cut at sentence ends."""
    out: list[str] = []
    for para in paras:
        if count(para) <= max_tokens:
            out.append(para)
            continue
        cur = ""
        for sentence in re.split(r"(?<=[.!?])\s+", para):
            if count(sentence) > max_tokens:  # a "sentence" with no full stop at all
                if cur:
                    out.append(cur)
                    cur = ""
                out.extend(_halves(sentence, max_tokens, count))
                continue
            if cur and count(cur + " " + sentence) > max_tokens:
                out.append(cur)
                cur = sentence
            else:
                cur = (cur + " " + sentence).strip()
        if cur:
            out.append(cur)
    return out


def _halves(text: str, max_tokens: int, count: TokenCounter) -> list[str]:
    """Cut text in halves, at a space near the middle where there is one, until every piece fits."""
    if len(text) < 2 or count(text) <= max_tokens:
        return [text] if text.strip() else []
    mid = len(text) // 2
    space = text.rfind(" ", 0, mid)
    cut = space if space > len(text) // 4 else mid
    return _halves(text[:cut].strip(), max_tokens, count) + _halves(text[cut:].strip(), max_tokens, count)


def _estimate_tokens(text: str) -> int:
    return int(len(re.findall(r"\w+|[^\w\s]", text)) * 1.5)


def _language(headings: dict[int, tuple[HeadingMatch, int]], body: str) -> str:
    """The language of the text, by a model of all 24 EU languages; headings decide when text is scarce."""
    code, prob = detect(body)
    votes = Counter(m.language for m, _ in headings.values() if m.name)
    if votes and (prob < 0.9 or len(body) < 400):
        return votes.most_common(1)[0][0]
    return code if prob > 0 else "unknown"


def _keys_before(first_key: str | None) -> tuple[str, ...]:
    """Text above the first heading can only hold the sections that come before it; above a page's
    details fields ("Authorisation details"), which follow the overview, any section."""
    if first_key is None or first_key not in ORDER:
        return ORDER
    return ORDER[: ORDER.index(first_key)]


def _content_paragraphs(lines: list[_Line], medicine: str | None, web: bool, strict: bool,
                        pdf: bool = False) -> list[tuple[str, int | None]]:
    """Paragraphs (with their page), without title lines and the name; `strict` keeps only sentences."""
    kept: list[_Line] = []
    for ln in lines:
        t = ln.text.strip().lstrip("#").strip()
        if (is_title_line(t) or names.name_and_substance_line(t) or clean.is_bare_reference(t)
                or (medicine and t.lower() == medicine.lower()) or _is_label(t)):
            kept.append(_Line("", ln.page))
            continue
        kept.append(ln)
    out: list[tuple[str, int | None]] = []
    # Paragraph breaks are blank lines; each kept line's page goes with the paragraph it starts. An old EPAR
    # summary answers each of its questions in a paragraph: printed without headings or blank lines (a page
    # that dropped them), each unwrapped line is one. A newer overview's untitled opening is one section.
    summary = any(clean.is_intro_paragraph(ln.text) for ln in kept)
    block: list[_Line] = []
    for ln in kept + [_Line("", None)]:
        if ln.text.strip():
            block.append(ln)
            continue
        if block:
            text = _paragraphs([b.text for b in block], web, pdf, line_paragraphs=summary)
            for para in text.split("\n\n"):
                if _is_running_text(para, strict) and not clean.is_intro_paragraph(para):
                    out.append((para, block[0].page))
            block = []
    return out


def _is_label(line: str) -> bool:
    """"About", "emicizumab", "Authorised": a word or two on a line of their own, no sentence."""
    return 0 < len(line.split()) <= 2 and not re.search(r"[.!?;:]\s*$", line) and not _BULLET.match(line)


def _is_running_text(para: str, strict: bool) -> bool:
    """A sentence, not a label ("About", "emicizumab"); without headings, label-and-value lines count too."""
    words = len(re.findall(r"[^\W\d_]{2,}", para))
    sentence = bool(re.search(r"[.!?;:)]\s*$", para))
    return words >= 3 and (sentence or (not strict and words >= 4))


def _classified(paragraphs: list[tuple[str, int | None]], classifier: SectionClassifier, language: str,
                medicine: str | None, allowed: tuple[str, ...]) -> list[Section]:
    """Sections built from paragraphs by their content; neighbours with the same key are merged."""
    if len(allowed) == 1:  # above "How is X used?" stands the overview's untitled first section
        keys = [allowed[0]] * len(paragraphs)
    elif allowed:
        # A list belongs with its lead-in ("X is used to treat:" then one item per condition, or "X is used to
        # treat or prevent flu." then "- to treat flu, …"): classified as one.
        groups: list[list[int]] = []
        for i, (para, _) in enumerate(paragraphs):
            if groups and _BULLET.match(para) and not _TABLE_ROW.search(paragraphs[groups[-1][0]][0]):
                groups[-1].append(i)  # a group is a lead-in and the items after it, nothing else
            else:
                groups.append([i])
        # A row of a table ("Agency product number |") is no prose of any section.
        prose = [g for g in groups if not _TABLE_ROW.search(paragraphs[g[0]][0])]
        prose_keys = classifier.assign(["\n".join(paragraphs[i][0] for i in g) for g in prose], language, allowed)
        key_of = {i: key for g, key in zip(prose, prose_keys) for i in g}
        keys = [key_of.get(i, OTHER_KEY) for i in range(len(paragraphs))]
        # Sections follow one order: prose that fits nothing between two paragraphs of one section is that
        # section's ("X is also used in patients with …" between two paragraphs of what_is).
        for i in range(1, len(keys) - 1):
            if keys[i] == OTHER_KEY and i in key_of and keys[i - 1] == keys[i + 1] != OTHER_KEY:
                keys[i] = keys[i - 1]
    else:
        keys = [OTHER_KEY] * len(paragraphs)
    sections: list[Section] = []
    for (para, page), key in zip(paragraphs, keys):
        if sections and sections[-1].key == key:
            sections[-1].text += "\n\n" + para
            continue
        title = english_title(key, medicine or "the medicine") if key != OTHER_KEY else "Other text"
        sections.append(Section(key, title, para, page, inferred=True))
    return sections
