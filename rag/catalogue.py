"""What the corpus covers, read from the store's metadata, and which of it a question names."""

from __future__ import annotations

import difflib
import math
import re
import tomllib
import zlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from .lexical import without_accents

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


def medicine_facts(metas: list[dict]) -> tuple[list[dict], np.ndarray]:
    """One row per medicine from its sections' metadata (names, numbers, languages, sections), and
    the medicine number of each section (-1: none)."""
    facts: dict[str, dict] = {}
    rows = np.full(len(metas), -1, np.int32)
    order: dict[str, int] = {}
    for n, m in enumerate(metas):
        name = str(m.get("medicine") or "").strip()
        if not name:
            continue
        key = name.lower()
        if key not in facts:
            order[key] = len(order)
            facts[key] = {"name": name, "substance": None, "refs": [], "product_numbers": [], "languages": [],
                          "sources": [], "sections": []}
        f = facts[key]
        rows[n] = order[key]
        f["substance"] = f["substance"] or (m.get("substance") or None)
        for list_key, value in (("refs", m.get("ref")), ("product_numbers", m.get("product_number")),
                                ("languages", m.get("language") or ""), ("sources", m.get("source") or ""),
                                ("sections", m.get("section"))):
            if value is not None and (value or list_key in ("languages", "sources")) and value not in f[list_key]:
                f[list_key].append(value)
    return list(facts.values()), rows


class Catalogue:
    def __init__(self, metadatas: list[dict], vocabulary: set[str] | None = None) -> None:
        """From section metadata, through the same per-medicine rows ingest writes."""
        self._load(medicine_facts(metadatas)[0], vocabulary)

    @classmethod
    def from_facts(cls, facts: list[dict], vocabulary: set[str] | None = None,
                   lookup: "Lookup | None" = None) -> "Catalogue":
        """From the per-medicine rows ingest writes (see rag.sidecar), not from every section; with the
        word lookup ingest built from the same rows, if it has one."""
        cat = cls.__new__(cls)
        cat._load(facts, vocabulary, lookup)
        return cat

    def _load(self, facts: list[dict], vocabulary: set[str] | None, lookup: "Lookup | None" = None) -> None:
        meds = {}
        for f in facts:
            meds[f["name"].lower()] = Medicine(
                f["name"], f.get("substance") or None, set(f.get("refs", ())), set(f.get("product_numbers", ())),
                set(f.get("languages", ())), set(f.get("sources", ())), set(f.get("sections", ())),
            )
        fits = lookup is not None and len(lookup.medicine) and int(lookup.medicine.max()) < len(meds)
        self._finish(meds, vocabulary, lookup if fits else None)

    def _finish(self, meds: dict[str, Medicine], vocabulary: set[str] | None, lookup: "Lookup | None" = None) -> None:
        numbered = list(meds.values())
        self.medicines = sorted(numbered, key=lambda x: x.name.lower())
        self.vocabulary = vocabulary or set()
        self.lookup = lookup if lookup is not None else build_lookup(numbered)
        self._terms: dict[str, Medicine] = dict(zip(self.lookup.terms,
                                                    (numbered[n] for n in self.lookup.medicine.tolist())))
        self._matched: dict[str, Medicine | None] = {}
        self.terms: dict[str, set[str]] = {}  # language -> word stems of every name and substance (filled by the caller)

    @property
    def _by_start(self) -> dict[tuple[str, int], np.ndarray]:
        """Term numbers by first letter and length, for a typo that is more than one deletion away."""
        if not hasattr(self, "_by_start_table"):
            table: dict[tuple[str, int], list[int]] = {}
            for n, term in enumerate(self.lookup.terms):
                table.setdefault((term[:1], len(term)), []).append(n)
            self._by_start_table = {k: np.array(v, np.int64) for k, v in table.items()}
        return self._by_start_table

    @property
    def _term_letters(self) -> np.ndarray:
        """Letter and digit counts of every term (see _letter_counts), one row per term."""
        if not hasattr(self, "_term_letters_table"):
            self._term_letters_table = np.array([_letter_counts(t) for t in self.lookup.terms], np.int32).reshape(-1, 37)
        return self._term_letters_table

    def _similar_enough(self, w: str, numbers: np.ndarray) -> list[str]:
        """The terms among `numbers` that can reach difflib's ratio 0.8 with w: its quick_ratio counts
        the characters two strings share, and letter and digit counts bound that from above."""
        counts = self._term_letters[numbers]
        shared = np.minimum(counts, np.array(_letter_counts(w), np.int32)).sum(axis=1)
        bound = 2.0 * shared / (counts.sum(axis=1) + len(w))
        return [self.lookup.terms[n] for n in numbers[bound >= 0.8 - 1e-9].tolist()]

    @property
    def _phrases(self) -> re.Pattern[str] | None:
        """Names of several words, longest first."""
        if not hasattr(self, "_phrases_rx"):
            several = sorted((t for t in self._terms if " " in t), key=len, reverse=True)
            self._phrases_rx = (re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, several)) + r")(?!\w)", re.IGNORECASE)
                                if several else None)
        return self._phrases_rx

    @property
    def shared_substances(self) -> set[str]:
        """Active substances that more than one medicine has (lower case)."""
        if not hasattr(self, "_shared"):
            counts = Counter((m.substance or "").lower() for m in self.medicines)
            self._shared = {s for s, n in counts.items() if n > 1}
        return self._shared

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

    @property
    def _sharers(self) -> dict[str, list[Medicine]]:
        """Active substances (whole, or one of a combination) that several medicines contain, with them all."""
        if not hasattr(self, "_sharers_table"):
            owners: dict[str, list[Medicine]] = {}
            for m in self.medicines:
                for s in {(m.substance or "").lower(), *substance_parts(m.substance)} - {""}:
                    owners.setdefault(s, []).append(m)
            self._sharers_table = {s: ms for s, ms in owners.items() if len(ms) > 1 and len(s) >= 6}
        return self._sharers_table

    def find(self, text: str) -> list[Medicine]:
        """Medicines named in text: exact, Swedish/English genitive, a small typo, or in a compound word.
        An active substance that several medicines contain names them all."""
        found: list[Medicine] = []
        for word in _words(text):
            sharers = self._sharers.get(word.lower())
            if sharers:
                found += [m for m in sharers if m not in found]
                continue
            med = self._match(word)
            if med is None and "-" in word:  # a compound with the name: "Darzalex-infusionen", "Humira-Spritze"
                med = next((m for part in word.split("-") if len(part) >= 4 for m in [self._match(part)] if m), None)
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
        shared = self.shared_substances | set(self._sharers)
        lowered = text.lower()
        if self._phrases is not None:  # a substance of several words ("voretigene neparvovec")
            def phrase(match: re.Match) -> str:
                med = self._terms[match.group(0).lower()]
                if match.group(0).lower() in shared or med.name.lower() in lowered:
                    return match.group(0)
                return med.name

            text = self._phrases.sub(phrase, text)
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
            self._matched[w] = self._resolve(w)
        return self._matched[w]

    def _resolve(self, w: str) -> Medicine | None:
        for cand in (w, w[:-1] if w.endswith("s") else w, w[:-2] if w.endswith("'s") else w):
            if cand in self._terms:
                return self._terms[cand]
        if len(w) >= 5:
            near = self.lookup.near(w)
            if not near:
                lo, hi = math.ceil(len(w) * 2 / 3), len(w) * 3 // 2
                buckets = [b for n in range(lo, hi + 1) if (b := self._by_start.get((w[:1], n))) is not None]
                if buckets:
                    near = set(self._similar_enough(w, np.concatenate(buckets)))
            close = difflib.get_close_matches(w, sorted(near), n=1, cutoff=0.8)
            if close:
                return self._terms[close[0]]
            return self._sounds.get(sounds_like([w])[0])
        return None

    @property
    def _sounds(self) -> dict[str, Medicine]:
        """Terms by how they sound (see spelling.toml); a sound that two medicines share is left out."""
        if not hasattr(self, "_sounds_table"):
            terms = [t for t in self.lookup.terms if len(t) >= 5]
            table: dict[str, Medicine | None] = {}
            for sound, term in zip(sounds_like(terms), terms):
                med = self._terms[term]
                table[sound] = med if table.get(sound, med) is med else None
            self._sounds_table = {k: v for k, v in table.items() if v is not None}
        return self._sounds_table


@dataclass
class Lookup:
    """Every name, substance and single substance of a combination, lower case, with its medicine
    (a number into the list the lookup was built from), and the one-deletion forms of each term as
    sorted 64-bit hashes: a typo one edit away shares a form with the term (symmetric deletion).
    Ingest writes it beside the store (rag.sidecar), so a process reads it instead of building it."""

    terms: list[str]
    medicine: np.ndarray  # term -> medicine number
    keys: np.ndarray  # sorted hashes of every term's one-deletion forms (the term itself included)
    key_terms: np.ndarray  # the term of each key

    def near(self, word: str) -> set[str]:
        """Terms that share a one-deletion form with the word (a hash collision that passes the length check only adds a candidate)."""
        if not len(self.keys):
            return set()
        hashes = np.array(sorted({_key_hash(k) for k in _one_deletion(word)}), np.uint64)
        lo = np.searchsorted(self.keys, hashes, "left")
        hi = np.searchsorted(self.keys, hashes, "right")
        found = {self.terms[t] for a, b in zip(lo.tolist(), hi.tolist()) for t in self.key_terms[a:b].tolist()}
        return {t for t in found if abs(len(t) - len(word)) <= 1}  # what a shared deletion allows


def build_lookup(medicines: list[Medicine]) -> Lookup:
    terms: dict[str, int] = {}
    parts = Counter(p for med in medicines for p in set(substance_parts(med.substance)))
    for n in sorted(range(len(medicines)), key=lambda k: medicines[k].name.lower()):
        med = medicines[n]
        terms[med.name.lower()] = n
        if med.substance:
            terms[med.substance.lower()] = n
        for part in substance_parts(med.substance):
            if parts[part] == 1 and len(part) >= 6:  # one active substance of a combination ("emtricitabine")
                terms.setdefault(part, n)
    names = list(terms)
    keys, owners = [], []
    for t, term in enumerate(names):
        forms = _one_deletion(term)
        keys += map(_key_hash, forms)
        owners += [t] * len(forms)
    keys_a, owners_a = np.array(keys, np.uint64), np.array(owners, np.int32)
    order = np.lexsort((owners_a, keys_a))
    return Lookup(names, np.array([terms[t] for t in names], np.int32), keys_a[order], owners_a[order])


def _key_hash(key: str) -> int:
    b = key.encode("utf-8", "surrogatepass")
    return zlib.crc32(b) << 32 | zlib.adler32(b)


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


@lru_cache(maxsize=1)
def _spelling_rules() -> tuple[tuple[re.Pattern[str], str], ...]:
    data = tomllib.loads(resources.files(__package__).joinpath("spelling.toml").read_text(encoding="utf-8"))
    return tuple((re.compile(a), b) for a, b in data["rules"])


def sounds_like(words: list[str]) -> list[str]:
    """Each word as it sounds: lower case, no accents, spelling.toml's rules (all words in one pass per rule)."""
    text = without_accents("\n".join(words).lower())
    for rx, to in _spelling_rules():
        text = rx.sub(to, text)
    return text.split("\n")


def _letter_counts(text: str) -> list[int]:
    """How often each of a-z and 0-9 occurs in text, and every other character together."""
    counts = [0] * 37
    for ch in text:
        if "a" <= ch <= "z":
            counts[ord(ch) - 97] += 1
        elif "0" <= ch <= "9":
            counts[ord(ch) - 22] += 1
        else:
            counts[36] += 1
    return counts


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
