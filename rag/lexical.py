"""Words of a text as BM25 and the word checks see them: per language, stopwords out, Snowball stems.

What each language needs is data beside this module: its Snowball algorithm in `lexical.toml`
(run by PyStemmer), its stopwords in `stopwords/<code>.txt`. A language without a stemmer keeps the
first few letters of each word (`[prefix]` in lexical.toml); so does text whose language is not
known (`language=None`, or a code with no files), and that text loses the stopwords of every language.

Ingest tokenises each section in its own language and a question is tokenised in its own, so
inflections of one word meet ("tabletter" and "tablett", "Nebenwirkungen" and "Nebenwirkung").
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import tomllib
import unicodedata
from functools import lru_cache
from importlib import resources

_WORD = re.compile(r"\w+")
_local = threading.local()  # PyStemmer's stemmers are not thread-safe: one per thread and algorithm


@lru_cache(maxsize=1)
def _config() -> dict:
    return tomllib.loads(resources.files(__package__).joinpath("lexical.toml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _installed() -> frozenset[str]:
    try:
        import Stemmer
    except ImportError:  # without PyStemmer every language uses the prefix rule
        return frozenset()
    return frozenset(Stemmer.algorithms())


def _code(language: str | None) -> str | None:
    """"sv", "SV", "sv-SE" -> "sv"; None for anything that is not a language code."""
    m = re.match(r"([a-z]{2,3})(?:[-_]|$)", (language or "").strip().lower())
    return m.group(1) if m else None


def algorithm(language: str | None) -> str | None:
    """The Snowball algorithm that stems this language here, or None (the prefix rule)."""
    name = _config().get("stemmer", {}).get(_code(language) or "")
    return name if name in _installed() else None


def prefix_letters() -> int:
    return int(_config().get("prefix", {}).get("letters", 7))


@lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """Codes that have a stopword file."""
    folder = resources.files(__package__).joinpath("stopwords")
    return tuple(sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt")))


@lru_cache(maxsize=None)
def _stopword_file(code: str) -> frozenset[str]:
    path = resources.files(__package__).joinpath("stopwords", f"{code}.txt")
    if not path.is_file():
        return frozenset()
    words = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(unicodedata.normalize("NFC", w.lower()) for w in words if w)


@lru_cache(maxsize=64)
def stopwords(language: str | None) -> frozenset[str]:
    """The language's stopwords; for no known language, those of every language."""
    code = _code(language)
    if code in languages():
        return _stopword_file(code)
    return frozenset().union(*(_stopword_file(c) for c in languages()))


def _stemmer(name: str):
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    if name not in stemmers:
        import Stemmer

        stemmers[name] = Stemmer.Stemmer(name)
    return stemmers[name]


def without_accents(text: str) -> str:
    """The text with its letters' accents dropped ("scléros" → "scleros"); other scripts are kept."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


_COGNATE_STEPS = (("ä", "e"), ("æ", "e"), ("ö", "o"), ("ø", "o"), ("ü", "u"), ("ß", "ss"))
_COGNATE_SPELLING = (("ae", "e"), ("oe", "e"), ("ph", "f"), ("th", "t"), ("ch", "c"), ("k", "c"), ("y", "i"),
                     ("mf", "nf"))


@lru_cache(maxsize=65536)
def cognate(word: str) -> str:
    """A word as its cognates in other European languages spell it alike: "leukaemia", "Leukämie" and
    "leucemia" are all "leucemia"; "lymphoma" and "linfoma" "linfoma" (no accents, one letter of a pair)."""
    w = word.lower()
    for a, b in _COGNATE_STEPS:
        w = w.replace(a, b)
    w = without_accents(w)
    for a, b in _COGNATE_SPELLING:
        w = w.replace(a, b)
    return re.sub(r"(\w)\1+", r"\1", w)


def same_cognate(a: str, b: str, at_least: int = 6, rest: int = 3) -> bool:
    """The two word stems (of any languages) share a cognate start of `at_least` letters, and the shorter
    has at most `rest` letters after it ("mieloid" and "myeloisch", "multipl" and "multipelt")."""
    ca, cb = cognate(a), cognate(b)
    n = len(os.path.commonprefix([ca, cb]))
    return n >= at_least and min(len(ca), len(cb)) - n <= rest


def words(text: str, language: str | None = None) -> list[str]:
    """Lowercase words of a text without the language's stopwords and single letters (digits stay)."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    stop = stopwords(language)
    return [w for w in _WORD.findall(text.lower()) if w not in stop and (len(w) > 1 or w.isdigit())]


def stems(words_: list[str], language: str | None = None) -> list[str]:
    name = algorithm(language)
    if name is None:
        n = prefix_letters()
        return [w[:n] for w in words_]
    return _stemmer(name).stemWords(words_)


def tokens(text: str, language: str | None = None) -> list[str]:
    """The BM25 tokens of a text written in `language` (an ISO code such as "sv"; None: not known)."""
    return stems(words(text, language), language)


@lru_cache(maxsize=1)
def signature() -> str:
    """Changes whenever tokens() would: the algorithms installed, the prefix rule, every stopword file.

    Written beside a BM25 index, so an index built under other rules is rebuilt rather than misread.
    """
    h = hashlib.sha256()
    h.update(repr(sorted(_config().get("stemmer", {}).items())).encode())
    h.update(repr(sorted(n for n in _config().get("stemmer", {}).values() if n in _installed())).encode())
    h.update(str(prefix_letters()).encode())
    try:
        from importlib.metadata import version

        h.update(version("PyStemmer").encode())
    except Exception:  # noqa: BLE001 - a missing or unnamed install only changes the hash
        pass
    for code in languages():
        h.update(code.encode() + b"\0" + "\n".join(sorted(_stopword_file(code))).encode())
    return h.hexdigest()[:16]
