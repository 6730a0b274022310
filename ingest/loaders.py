"""Read a file into text pages, deciding the format from its content, not only its name.

Anything that cannot be read raises `Skip` with a reason a user can act on.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".pdf"}
# A whole overview is some 20,000 characters; a line this long is a generated or minified file.
MAX_LINE_CHARS = 100_000


class Skip(Exception):
    """The file cannot be ingested; the message says why."""


@dataclass
class LoadedFile:
    pages: list[str]  # one entry per PDF page; text files are one page
    format: str  # "pdf" | "markdown" | "text"
    raw: bytes
    notes: list[str] = field(default_factory=list)


def load(path: Path, max_bytes: int) -> LoadedFile:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Skip(f"cannot read file: {exc.strerror or exc}") from None
    if size > max_bytes:
        raise Skip(
            f"file is {size / 1048576:.1f} MB, over the limit of {max_bytes / 1048576:.0f} MB "
            "(MAX_FILE_MB)"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise Skip(f"cannot read file: {exc.strerror or exc}") from None
    if not raw.strip():
        raise Skip("empty file")
    if raw.lstrip()[:5] == b"%PDF-":
        return LoadedFile(_pdf_pages(raw), "pdf", raw)
    if path.suffix.lower() == ".pdf":
        raise Skip("named .pdf but is not a PDF (no %PDF header)")
    text, notes = _decode(raw)
    if not text.strip():  # a byte-order mark and white space
        raise Skip("empty file")
    longest = max(map(len, text.splitlines()), default=0)
    if longest > MAX_LINE_CHARS:
        raise Skip(f"has a line of {longest:,} characters, which no overview has (generated or minified file?)")
    fmt = "markdown" if _looks_like_markdown(text) else "text"
    return LoadedFile([text], fmt, raw, notes)


def _decode(raw: bytes) -> tuple[str, list[str]]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), ["read as UTF-16"]
        except UnicodeDecodeError:
            raise Skip("starts with a UTF-16 byte-order mark but is not valid UTF-16 (damaged?)") from None
    utf16 = _utf16_without_bom(raw)
    if utf16:
        try:
            return raw.decode(utf16), ["read as UTF-16 (no byte-order mark)"]
        except UnicodeDecodeError:
            pass
    if _looks_binary(raw):
        raise Skip("binary file, not text or PDF")
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        raise Skip("text is neither UTF-8 nor Windows-1252; save it as UTF-8") from None
    visible = [c for c in text[:20000] if not c.isspace()]
    if sum(ord(c) > 127 for c in visible) > 0.3 * len(visible):
        # Western text is mostly ASCII; this is another encoding (e.g. Shift-JIS) that cp1252 happens to accept.
        raise Skip("text is neither UTF-8 nor Windows-1252 (another encoding?); save it as UTF-8")
    return text, ["not UTF-8: read as Windows-1252"]


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 of Latin-script text has a zero in every other byte; which half says the byte order."""
    head = raw[:8192]
    half = len(head) // 2
    if len(raw) % 2 or half < 2:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 0.3 * half and even <= 0.02 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd <= 0.02 * half:
        return "utf-16-be"
    return None


def _looks_binary(raw: bytes) -> bool:
    head = raw[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return control > len(head) * 0.05


def _looks_like_markdown(text: str) -> bool:
    head = text[:20000]
    if head.startswith("---\n") and "\n---" in head[4:]:
        return True
    return bool(re.search(r"^#{1,6} \S", head, re.MULTILINE)) or bool(
        re.search(r"\[[^\[\]]+\]\([^()]+\)", head)
    )


def _pdf_pages(raw: bytes) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            # Many EMA PDFs carry only an owner password; an empty user password opens them.
            try:
                ok = reader.decrypt("")
            except Exception:  # pypdf raises several types for unsupported encryption
                ok = 0
            if not ok:
                raise Skip("encrypted PDF: it needs a password; save an unprotected copy")
        pages = [(page.extract_text() or "") for page in reader.pages]
    except Skip:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise Skip(f"damaged or truncated PDF ({type(exc).__name__}: {str(exc)[:80]})") from None
    except Exception as exc:  # pypdf surfaces many parser errors; none may stop a batch
        raise Skip(f"unreadable PDF ({type(exc).__name__}: {str(exc)[:80]})") from None
    if not any(p.strip() for p in pages):
        raise Skip("PDF has no text layer (scanned?); only text PDFs can be read")
    return pages
