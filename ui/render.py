"""Chat messages as Markdown + HTML in which every user- or document-derived character is inert text.

The Gradio Chatbot renders Markdown and then sanitises the HTML. On top of that, all text from questions,
answers and documents goes through `text()`, which turns HTML and Markdown syntax characters into character
references: they display as themselves but can start neither a tag nor a link, list or heading. Ordinary
punctuation is left as it is, because Gradio also reads the raw message out as the screen-reader label.
"""

from __future__ import annotations

import html
import re
from typing import Any, Iterable

from rag.citations import highlight, is_ema_url
from rag.wording import language_name

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Markdown syntax that can appear anywhere in a line; [n] citation marks are left alone (see below).
_INLINE = {c: f"&#{ord(c)};" for c in "\\`*_[]|~$"}
_MARK = re.compile(r"\[(\d{1,3})\](?![(\[:])")  # "[1]", never a link: no link target follows
_LINE_START = re.compile(r"^(?:[#=+-]|\d+(?=[.)]))")  # headings, setext rules, list items
_AUTOLINK = re.compile(r"://|www\.|@", re.IGNORECASE)


def _escape_line(line: str) -> str:
    marks = {m.start() for m in _MARK.finditer(line)} | {m.end() - 1 for m in _MARK.finditer(line)}
    out = []
    for i, c in enumerate(line):
        if c in _HTML:
            out.append(_HTML[c])
        elif c in _INLINE and i not in marks:
            out.append(_INLINE[c])
        else:
            out.append(c)
    escaped = "".join(out)
    escaped = _AUTOLINK.sub(lambda m: m.group(0).replace(":", "&#58;").replace(".", "&#46;").replace("@", "&#64;"),
                            escaped)
    return _LINE_START.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group(0)), escaped)


def text(value: str) -> str:
    """Plain text for a Markdown message: paragraphs kept, everything else displayed literally."""
    lines = [line.strip() for line in str(value).replace("\r\n", "\n").split("\n")]
    return "\n".join(_escape_line(line) for line in lines).strip()


def inline(value: Any) -> str:
    """Text inside an HTML element of a message; kept to one line so the HTML block is not split."""
    return text(re.sub(r"\s+", " ", str(value)))


def piece(value: Any) -> str:
    """Like inline(), but keeps the spaces at either end (pieces of one sentence sit side by side)."""
    return _escape_line(re.sub(r"\s+", " ", str(value)))


def citation_meta(c: dict) -> list[str]:
    ref = c.get("ref") or "no EMA reference"
    if c.get("ref") and c.get("ref_inferred"):
        ref += " (inferred)"
    meta = [ref]
    if c.get("product_number"):
        meta.append(c["product_number"])
    meta.append(language_name(c.get("language") or "", "en"))
    source = c.get("source") or ""
    if source:
        meta.append(f"{source}, p. {c['page']}" if c.get("page") else source)
    return meta


def ema_link(c: dict) -> str:
    url = str(c.get("url") or "")
    if not is_ema_url(url):  # only ever a link into the EMA website
        return ""
    label = f"EMA page of {c.get('medicine') or 'the medicine'}"
    return (f'<a class="cite-link" href="{html.escape(url, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer">{inline(label)}</a>')


def section_text(c: dict) -> str:
    """The whole section, the quoted sentences marked; just the quote when the section is not known."""
    context, quote = str(c.get("context") or ""), str(c.get("quote") or "")
    paragraphs = highlight(context, quote) if context else [[(quote, True)]]
    body = "".join(
        "<p>" + "".join(f"<mark>{piece(t)}</mark>" if quoted else piece(t) for t, quoted in para) + "</p>"
        for para in paragraphs)
    return f'<blockquote class="cite-context">{body}</blockquote>'


def card(c: dict) -> str:
    inferred = ' title="Reference number taken from another language version of the same overview"' \
        if c.get("ref_inferred") else ""
    meta = " · ".join(inline(m) for m in citation_meta(c))
    link = ema_link(c)
    return (
        f'<details class="cite"><summary>'
        f'<span class="cite-n">{int(c.get("number") or 0)}</span> '
        f'<span class="cite-med">{inline(c.get("medicine") or "")}</span> '
        f'<span class="cite-sec">{inline(c.get("section_title") or c.get("section") or "")}</span> '
        f'<span class="cite-meta"{inferred}>{meta}</span>'
        f'<span class="cite-more">{link}<span class="cite-toggle"></span></span>'
        f'</summary>{section_text(c)}</details>'
    )


def cards(citations: Iterable[dict]) -> str:
    body = "".join(card(c) for c in citations)
    return f'<div class="cites">{body}</div>' if body else ""


def message(answer_text: str, citations: Iterable[dict] = ()) -> str:
    """An assistant message: the answer, then its citation cards."""
    parts = [text(answer_text)]
    block = cards(citations)
    if block:
        parts.append(block)
    return "\n\n".join(p for p in parts if p)

