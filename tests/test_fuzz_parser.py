"""Fuzzing the loader and parser: random text, random bytes and damaged copies of the seeds.

Whatever comes in, a file ends either as sections or as a `Skip` with a reason; nothing else escapes.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ingest.classify import OTHER_KEY
from ingest.headings import HEADINGS, SECTION_KEYS, UNKNOWN_KEY
from ingest.loaders import Skip, load
from ingest.parse import parse

from .conftest import SEEDS, SEED_FILES

KNOWN_KEYS = set(SECTION_KEYS) | {UNKNOWN_KEY, OTHER_KEY}
MAX_TOKENS = 120  # small, so that splitting long sections is exercised often
MAX_BYTES = 2 * 1024 * 1024
SEED_BYTES = {name: (SEEDS / name).read_bytes() for name in SEED_FILES}
SUFFIXES = (".txt", ".md", ".pdf", ".text", ".markdown")

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def count_tokens(model_cache_dir):
    from rag.embedder import get_embedder
    from rag.settings import Settings

    return get_embedder(Settings(_env_file=None, model_cache_dir=model_cache_dir)).count_tokens


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="fuzz-") as d:
        yield Path(d)


def _pdf_seed() -> bytes:
    from .test_ingest import _pdf_bytes

    return _pdf_bytes("Fuzzmed")


PDF_SEED = _pdf_seed()


def check(data: bytes, suffix: str, workdir: Path, count_tokens) -> None:
    path = workdir / f"doc{suffix}"
    path.write_bytes(data)
    try:
        loaded = load(path, MAX_BYTES)
    except Skip as exc:
        assert str(exc).strip(), "a skip must say why"
        return
    assert loaded.format in ("pdf", "markdown", "text")
    assert loaded.pages and all(isinstance(p, str) for p in loaded.pages)
    doc = parse(loaded.pages, loaded.format, max_tokens=MAX_TOKENS, count_tokens=count_tokens)
    assert doc.language in ("en", "sv", "de", "fr", "unknown") or len(doc.language) == 2
    seen = set()
    for s in doc.sections:
        assert s.key in KNOWN_KEYS
        assert s.text.strip(), f"empty section {s.key}"
        assert isinstance(s.title, str)
        assert s.part >= 0
        assert s.page is None or 1 <= s.page <= len(loaded.pages)
        assert count_tokens(s.text) <= MAX_TOKENS, f"{s.key}.{s.part} is over the token limit"
        assert (s.key, s.part) not in seen, f"two sections would get the id {s.key}.{s.part}"
        seen.add((s.key, s.part))


# Lines that look like EMA documents, so that random documents reach deep into the parser.
_HEADING_LINES = [p.replace("{X}", n) for _, _, p in HEADINGS for n in ("Fuzzmed", "X", "fuzzmed fuzzmed")]
_LINE_PIECES = st.one_of(
    st.sampled_from(_HEADING_LINES),
    st.sampled_from(["", " ", "---", "# ", "## Overview", "> > >", "- item", "1. first", "**bold**",
                     "EMA/123456/2024", "EMEA/H/C/001234", "Fuzzmed (fuzzinib)", "Sida 2/3", "Page 1 of 2",
                     "[link](http://x)", "![img](a.png)", "Reference Number: EMA/1/2020", "News on Fuzzmed",
                     "Active substance fuzzinib", "Name of medicine Fuzzmed", "\x0c", "\t\t", "?", ".", ":"]),
    st.text(max_size=120),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300),
)
document_text = st.lists(_LINE_PIECES, max_size=60).map("\n".join)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1", "shift_jis"])


@FUZZ
@given(text=document_text, encoding=encodings, suffix=st.sampled_from(SUFFIXES))
def test_random_documents(text, encoding, suffix, workdir, count_tokens):
    check(text.encode(encoding, errors="replace"), suffix, workdir, count_tokens)


@FUZZ
@given(data=st.binary(max_size=4096), prefix=st.sampled_from([b"", b"%PDF-1.4\n", b"\xff\xfe", b"\xef\xbb\xbf", b"# "]),
       suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(data, prefix, suffix, workdir, count_tokens):
    check(prefix + data, suffix, workdir, count_tokens)


def _mutate(data: bytes, draw) -> bytes:
    kind = draw(st.sampled_from(["flip", "truncate", "shuffle", "duplicate_headings", "splice", "drop_lines"]))
    rnd = draw(st.randoms(use_true_random=False))
    if kind == "flip":
        buf = bytearray(data)
        for _ in range(draw(st.integers(1, 40))):
            buf[rnd.randrange(len(buf))] = rnd.randrange(256)
        return bytes(buf)
    if kind == "truncate":
        return data[: rnd.randrange(len(data) + 1)]
    lines = data.split(b"\n")
    if kind == "shuffle":
        rnd.shuffle(lines)
    elif kind == "duplicate_headings":
        out = []
        for line in lines:
            out.append(line)
            if line.rstrip().endswith(b"?") or line.startswith(b"#"):
                out.extend([line] * rnd.randrange(4))
        lines = out
    elif kind == "splice":
        other = rnd.choice(list(SEED_BYTES.values())).split(b"\n")
        cut = rnd.randrange(len(lines) + 1)
        lines = lines[:cut] + other[rnd.randrange(len(other)):]
    else:
        lines = [line for line in lines if rnd.random() > 0.3]
    return b"\n".join(lines)


@st.composite
def mutated_seed(draw):
    name = draw(st.sampled_from(sorted(SEED_BYTES) + ["fuzzmed.pdf"]))
    data = PDF_SEED if name.endswith(".pdf") else SEED_BYTES[name]
    for _ in range(draw(st.integers(1, 3))):
        data = _mutate(data, draw) or data[:1]
    return name, data


@FUZZ
@given(case=mutated_seed())
def test_mutated_seed_files(case, workdir, count_tokens):
    name, data = case
    check(data, Path(name).suffix, workdir, count_tokens)


LETTERS = "abcdefghijklmnopqrstuvwxyzåäöABC0123456789-"


@st.composite
def many_words(draw):
    # Long runs matter here, and hypothesis keeps drawn lists short, so the words come from a seeded generator.
    rnd = draw(st.randoms(use_true_random=False))
    return ["".join(rnd.choice(LETTERS) for _ in range(rnd.randint(1, 14))) for _ in range(draw(st.integers(0, 2500)))]


@FUZZ
@given(body=many_words(), stop_every=st.integers(1, 600), wrap_every=st.integers(5, 40),
       blank_every=st.integers(1, 300))
def test_long_sections_are_split_without_losing_words(body, stop_every, wrap_every, blank_every, count_tokens):
    text = ""
    for n, word in enumerate(body, start=1):
        text += word + ("." if n % stop_every == 0 else "")
        text += "\n\n" if n % blank_every == 0 else "\n" if n % wrap_every == 0 else " "
    doc = parse([f"Fuzzmed (fuzzinib)\nHur används Fuzzmed?\n{text}\n"], "text", max_tokens=MAX_TOKENS,
                count_tokens=count_tokens)
    got = [w.rstrip(".") for s in doc.sections if s.key == "how_used" for w in s.text.split()]
    if any(re.search(r"[^\W\d_]{2,}", w) for w in body):
        assert sorted(got) == sorted(body)
    else:  # nothing to answer from: no section at all
        assert got == []
    assert all(count_tokens(s.text) <= MAX_TOKENS for s in doc.sections)


@pytest.mark.parametrize("name", SEED_FILES)
def test_unmutated_seeds_pass_the_same_checks(name, workdir, count_tokens):
    check(SEED_BYTES[name], Path(name).suffix, workdir, count_tokens)


PATHOLOGICAL_LINES = {
    "spaces then a dash": " " * 90_000 + "-",
    "tabs then a bracket": "\t" * 90_000 + "(x)",
    "spaces then a footer-like tail": " " * 90_000 + "Fuzzmed (fuzzinib) EMA/123456/2024 Sida 2/3x",
    "nested quotes": "> " * 45_000 + "x",
    "open brackets": "[" * 90_000 + "](" * 3,
    "H-C runs": "-H-C-" * 18_000,
    "no spaces": "a" * 90_000,
}


@pytest.mark.parametrize("suffix", [".txt", ".md"])
@pytest.mark.parametrize("name", sorted(PATHOLOGICAL_LINES))
def test_long_pathological_lines_load_and_parse_in_linear_time(name, suffix, workdir, count_tokens):
    """A line four times as long takes about four times as long, never sixteen (measured side by side)."""
    import time

    def seconds(line: str) -> float:
        path = workdir / f"long{suffix}"
        path.write_text(f"# Hur används Fuzzmed?\n{line}\n{line}\n", encoding="utf-8")
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            loaded = load(path, MAX_BYTES)
            parse(loaded.pages, loaded.format, max_tokens=440, count_tokens=count_tokens)
            best = min(best, time.perf_counter() - start)
        return best

    line = PATHOLOGICAL_LINES[name]
    quarter, full = seconds(line[: len(line) // 4]), seconds(line)
    assert full < 8 * quarter + 0.5, f"{name}: {full:.2f} s against {quarter:.2f} s for a quarter of the line"
