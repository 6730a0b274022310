"""What the corpus covers, read from the store's metadata, and which of it a question names."""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from dataclasses import dataclass, field

# Endings of international non-proprietary names: a word with one of these is very likely a
# medicine, so a question about one the corpus does not hold is refused rather than guessed at.
INN_SUFFIXES = (
    "mab", "nib", "tinib", "ciclib", "parib", "lisib", "rafenib", "sib", "fen", "profen", "prazole",
    "sartan", "pril", "olol", "statin", "azole", "cillin", "mycin", "cycline", "floxacin", "vir",
    "parin", "glutide", "gliflozin", "gliptin", "tide", "oxetine", "azepam", "triptan", "dronate",
    "setron", "lukast", "dipine", "semide", "thiazide", "caine", "amol", "kinra", "umab",
    "ximab", "zumab", "formin", "glinide", "profen", "coxib", "tropin", "relin", "platin", "taxel",
    "rubicin", "mustine", "trexate", "cortisone", "olone", "azepam", "zolam",
)


@dataclass
class Medicine:
    name: str
    substance: str | None = None
    refs: set[str] = field(default_factory=set)
    product_numbers: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    sections: set[str] = field(default_factory=set)  # canonical keys the medicine's overviews have

    def to_dict(self) -> dict:
        return {
            "name": self.name, "active_substance": self.substance, "refs": sorted(self.refs),
            "product_numbers": sorted(self.product_numbers), "languages": sorted(self.languages),
            "sources": sorted(self.sources),
        }


class Catalogue:
    def __init__(self, metadatas: list[dict], vocabulary: set[str] | None = None) -> None:
        meds: dict[str, Medicine] = {}
        for m in metadatas:
            name = str(m.get("medicine") or "").strip()
            if not name:
                continue
            med = meds.setdefault(name.lower(), Medicine(name))
            med.substance = med.substance or (m.get("substance") or None)
            if m.get("ref"):
                med.refs.add(m["ref"])
            if m.get("product_number"):
                med.product_numbers.add(m["product_number"])
            med.languages.add(m.get("language") or "")
            med.sources.add(m.get("source") or "")
            if m.get("section"):
                med.sections.add(m["section"])
        self._finish(meds, vocabulary)

    @classmethod
    def from_facts(cls, facts: list[dict], vocabulary: set[str] | None = None) -> "Catalogue":
        """From the per-medicine rows ingest writes (see rag.sidecar), not from every section."""
        cat = cls.__new__(cls)
        meds = {}
        for f in facts:
            meds[f["name"].lower()] = Medicine(
                f["name"], f.get("substance") or None, set(f.get("refs", ())), set(f.get("product_numbers", ())),
                set(f.get("languages", ())), set(f.get("sources", ())), set(f.get("sections", ())),
            )
        cat._finish(meds, vocabulary)
        return cat

    def _finish(self, meds: dict[str, Medicine], vocabulary: set[str] | None) -> None:
        self.medicines = sorted(meds.values(), key=lambda x: x.name.lower())
        self.vocabulary = vocabulary or set()
        self._terms: dict[str, Medicine] = {}
        parts = Counter(p for med in self.medicines for p in set(substance_parts(med.substance)))
        for med in self.medicines:
            self._terms[med.name.lower()] = med
            if med.substance:
                self._terms[med.substance.lower()] = med
            for part in substance_parts(med.substance):
                if parts[part] == 1 and len(part) >= 6:  # one active substance of a combination ("emtricitabine")
                    self._terms.setdefault(part, med)
        # Fuzzy matching looks only at plausible terms, so its cost does not grow with the corpus:
        # terms one deletion apart (most typos), else terms of the same first letter and a length
        # that a 0.8 similarity allows.
        deletions: dict[str, list[str]] = {}
        self._by_start: dict[tuple[str, int], list[str]] = {}
        for term in self._terms:
            for key in _one_deletion(term):
                found = deletions.get(key)
                if found is None:
                    deletions[key] = [term]
                elif term not in found:
                    found.append(term)
            self._by_start.setdefault((term[:1], len(term)), []).append(term)
        self._deletions = deletions
        several = sorted((t for t in self._terms if " " in t), key=len, reverse=True)
        self._phrases = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, several)) + r")(?!\w)", re.IGNORECASE) if several else None
        self._matched: dict[str, Medicine | None] = {}
        self.terms: dict[str, set[str]] = {}  # language -> word stems of every name and substance (filled by the caller)

    @property
    def names(self) -> list[str]:
        if not hasattr(self, "_names"):
            self._names = [m.name for m in self.medicines]
        return list(self._names)

    @property
    def names_pattern(self) -> "NameMatcher | None":
        """Every name and substance (with any ending), to take them out of a question; built once."""
        if not hasattr(self, "_names_rx"):
            names = {w for m in self.medicines for w in (m.name, m.substance or "") if w}
            self._names_rx = NameMatcher(names) if names else None
        return self._names_rx

    def find(self, text: str) -> list[Medicine]:
        """Medicines named in text: exact, Swedish/English genitive, or a small typo."""
        found: list[Medicine] = []
        for word in _words(text):
            med = self._match(word)
            if med and med not in found:
                found.append(med)
        if self._phrases is not None and self._phrases.search(text):  # names of several words
            for m in self._phrases.finditer(text):
                med = self._terms[m.group(0).lower()]
                if med not in found:
                    found.append(med)
        return found

    def as_named(self, text: str) -> str:
        """The text with a medicine named as its overview names it: a misspelt name or an active substance
        that only one medicine has ("What is erenumab used for?") becomes the medicine's name."""
        shared = {s for s, n in Counter((m.substance or "").lower() for m in self.medicines).items() if n > 1}
        lowered = text.lower()

        def named(match: re.Match) -> str:
            word = match.group(0)
            med = self._match(word)
            if (med is None or word.lower() in shared or word.lower().startswith(med.name.lower())
                    or med.name.lower() in lowered):  # named already: the substance is part of the question
                return word
            return med.name

        return _WORD_RX.sub(named, text)

    def _match(self, word: str) -> Medicine | None:
        w = word.lower()
        if w not in self._matched:
            if len(self._matched) > 10000:
                self._matched.clear()
            self._matched[w] = self._lookup(w)
        return self._matched[w]

    def _lookup(self, w: str) -> Medicine | None:
        for cand in (w, w[:-1] if w.endswith("s") else w, w[:-2] if w.endswith("'s") else w):
            if cand in self._terms:
                return self._terms[cand]
        if len(w) >= 5:
            near = {t for key in _one_deletion(w) for t in self._deletions.get(key, ())}
            if not near:
                lo, hi = math.ceil(len(w) * 2 / 3), len(w) * 3 // 2
                near = {t for n in range(lo, hi + 1) for t in self._by_start.get((w[:1], n), ())}
            close = difflib.get_close_matches(w, sorted(near), n=1, cutoff=0.8)
            if close:
                return self._terms[close[0]]
        return None


class NameMatcher:
    """Every medicine name and substance in a text, with any ending, as the regular expression
    `(?<!\\w)(?:NAME|…)\\w*` (longest name first, any case) would find them, in time that does not grow
    with the number of names: a compiled alternation of thousands of names takes a second to build
    and tries every name at every word."""

    _PREFIX = 3

    def __init__(self, names: set[str]) -> None:
        # first three letters -> (lengths, longest first; the names of that start by length)
        by_prefix: dict[str, dict[int, set[str]]] = {}
        self._short: list[str] = []
        for name in names:
            low = name.lower()
            if len(low) < self._PREFIX:
                self._short.append(low)
            else:
                by_prefix.setdefault(low[: self._PREFIX], {}).setdefault(len(low), set()).add(low)
        self._by_prefix = {k: (sorted(v, reverse=True), v) for k, v in by_prefix.items()}
        self._first = {n[0] for n in self._short} | {k[0] for k in self._by_prefix}

    def _at(self, low: str, p: int) -> int:
        """Length of the longest name at position p of the lowercased text, 0 if none."""
        found = self._by_prefix.get(low[p : p + self._PREFIX])
        if found:
            lengths, names = found
            for length in lengths:
                if low[p : p + length] in names[length]:
                    return length
        return max((len(n) for n in self._short if low.startswith(n, p)), default=0)

    def sub(self, repl: str, text: str) -> str:
        """The text with every name (and the rest of its word) replaced by `repl`."""
        low = text.lower()
        if len(low) != len(text):  # a character whose lower case is longer: the plain way
            return re.sub(r"(?<!\w)(?:" + "|".join(map(re.escape, self._all())) + r")\w*", repl, text,
                          flags=re.IGNORECASE)
        out, start, p, n = [], 0, 0, len(text)
        while p < n:
            if low[p] in self._first and (p == 0 or not _is_word(text[p - 1])):
                length = self._at(low, p)
                if length:
                    end = p + length
                    while end < n and _is_word(text[end]):
                        end += 1
                    out += [text[start:p], repl]
                    start = p = end
                    continue
            p += 1
        out.append(text[start:])
        return "".join(out)

    def _all(self) -> list[str]:
        names = self._short + [n for _, by_length in self._by_prefix.values() for group in by_length.values() for n in group]
        return sorted(names, key=len, reverse=True)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _one_deletion(term: str) -> set[str]:
    return {term} | {term[:i] + term[i + 1 :] for i in range(len(term))}


def substance_parts(substance: str | None) -> list[str]:
    """The active substances of a combination ("emtricitabine / tenofovir disoproxil"), lower case."""
    parts = re.split(r"\s*(?:/|,|\+|;|\band\b|\bog\b|\boch\b|\bund\b|\bet\b|\be\b|\by\b)\s*", (substance or "").lower())
    return [p.strip() for p in parts if len(p.strip()) > 2]


_WORD_RX = re.compile(r"[^\W\d_][\w-]*(?:['’]s\b)?")


def _words(text: str) -> list[str]:
    """Words, with an elided article split off ("d'Imbruvica", "l’Opzelura") and a genitive 's kept."""
    return _WORD_RX.findall(text)
