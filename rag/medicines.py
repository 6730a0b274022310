"""Which medicines a question names: the corpus catalogue first, then a drug lexicon for the rest.

The catalogue knows the corpus (names, active substances, small typos); the lexicon
(drug-named-entity-recognition, which ships its dictionary) knows thousands of brands and
substances the corpus lacks, and maps brands to substances, so a question about Xgeva is refused
and told that Conexxence has the same active substance.

Loading the dictionary takes a few seconds and about 370 MB, so a question first looks its words
up in a list of what the dictionary can match (hashes of its entries, written once per dictionary
version beside the converted models): most questions name no medicine outside the corpus and never
load it. The app loads it at start (`warm_lexicon`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .catalogue import INN_SUFFIXES, Catalogue, Medicine, substance_parts
from .lexical import same_cognate

_lexicon_lock = threading.Lock()
_WORD = re.compile(r"[^\W\d_][\w'’\-]*", re.UNICODE)
_PACKAGE = "drug_named_entity_recognition"
_DATA_FILE = "drug_ner_dictionary.pkl.bz2"
_TERMS_FORMAT = 1


@dataclass
class Resolution:
    medicines: list[Medicine] = field(default_factory=list)  # corpus medicines the question names
    unknown: list[str] = field(default_factory=list)  # medicines it names that the corpus lacks, as written
    same_substance: list[tuple[str, Medicine]] = field(default_factory=list)  # (unknown name, corpus medicine)

    @property
    def names_any(self) -> bool:
        return bool(self.medicines or self.unknown)


def _find_drugs(words: list[str]) -> list[tuple[dict, int, int]]:
    if not _may_match(words):
        return []
    with _lexicon_lock:  # the first call loads the dictionary (a few seconds); later calls are cheap
        from drug_named_entity_recognition import find_drugs

        return find_drugs(words, is_ignore_case=True)


def warm_lexicon() -> None:
    """Load the drug dictionary now (and write its term list if missing), so no question waits for it."""
    from importlib import import_module

    with _lexicon_lock:
        import_module(_PACKAGE)  # importing it loads the dictionary
    _terms()


# What the dictionary can match -----------------------------------------------------------------
# find_drugs looks up each word and each pair of neighbouring words, lowercased, among the
# dictionary's entries; a question with none of them among the entries gets no match from it.
def _candidates(words: list[str]) -> list[str]:
    return [w.lower() for w in words] + [(a + " " + b).lower() for a, b in zip(words, words[1:])]


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def _may_match(words: list[str]) -> bool:
    terms = _terms()
    if terms is None:
        return True  # no term list: ask the dictionary itself
    wanted = np.fromiter((_hash(c) for c in _candidates(words)), np.uint64)
    at = np.minimum(np.searchsorted(terms, wanted), len(terms) - 1)
    return bool(np.any(terms[at] == wanted))


_terms_lock = threading.Lock()
_terms_cache: list = []  # [sorted uint64 hashes or None], once per process


def _terms() -> np.ndarray | None:
    if not _terms_cache:
        with _terms_lock:
            if not _terms_cache:
                _terms_cache.append(_load_terms())
    return _terms_cache[0]


def _terms_path() -> Path | None:
    """The term list of the installed dictionary: named by a digest of its data file, so a new
    version of the package gets a list of its own."""
    from importlib.util import find_spec

    from .settings import Settings

    try:
        spec = find_spec(_PACKAGE)  # locates the package without loading the dictionary
        data = Path(next(iter(spec.submodule_search_locations))) / _DATA_FILE
        digest = hashlib.sha256(data.read_bytes()).hexdigest()[:16]
    except (AttributeError, TypeError, StopIteration, OSError, ValueError):
        return None
    return Settings().model_cache_dir / "drug-lexicon" / f"terms-v{_TERMS_FORMAT}-{digest}.npy"


def _load_terms() -> np.ndarray | None:
    path = _terms_path()
    if path is None:
        return None
    try:
        terms = np.load(path, allow_pickle=False)
        if terms.dtype == np.uint64 and terms.ndim == 1 and len(terms):
            return terms
    except (OSError, ValueError):
        pass
    with _lexicon_lock:  # written once per machine and dictionary version, from the loaded dictionary
        from drug_named_entity_recognition import drugs_finder

        entries = list(drugs_finder.drug_variant_to_canonical)
    if not entries:
        return None
    terms = np.unique(np.fromiter((_hash(e) for e in entries), np.uint64, len(entries)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".terms.", suffix=".npy", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, terms)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError:
        pass  # a read-only cache: this process keeps its own copy
    return terms


class MedicineResolver:
    def __init__(self, catalogue: Catalogue, use_lexicon: bool = True) -> None:
        self.catalogue = catalogue
        self.use_lexicon = use_lexicon
        self._substances = [(part, m) for m in catalogue.medicines for part in substance_parts(m.substance)]
        self._lexicon_names: dict[str, list[Medicine]] | None = None

    def resolve(self, text: str) -> Resolution:
        found = Resolution(medicines=self.catalogue.find(text))
        covered = {w.lower() for m in found.medicines for w in (m.name, m.substance or "") if w}
        covered |= {p for m in found.medicines for p in substance_parts(m.substance)}
        words = _WORD.findall(text)
        if self.use_lexicon and words:
            for drug, start, end in _find_drugs(words):
                written = " ".join(words[start:end])
                if written.lower() in covered or self.catalogue.find(written):
                    continue
                substance = str(drug.get("name") or "").lower()
                if written.islower() and len(written) <= 4 and written.lower() != substance:
                    continue  # a short lower-case brand ("agit") is more likely a word of the question's language
                # The substance itself ("capecitabine", "detemir") of a corpus medicine whose overview writes it
                # otherwise (in Maltese, as "Insulindetemir"), by what the lexicon knows of that medicine's name.
                brands = self._medicines_of(_plain(substance)) if _writes_substance(written, _plain(substance)) else []
                if brands:
                    found.medicines += [m for m in brands if m not in found.medicines]
                    covered.add(written.lower())
                    continue
                synonyms = {str(s).lower() for s in drug.get("synonyms") or ()} | {substance}
                twins = [m for s, m in self._substances if s in synonyms]
                if written not in found.unknown:
                    found.unknown.append(written)
                    for twin in twins:
                        if (written, twin) not in found.same_substance:
                            found.same_substance.append((written, twin))
        for word in words:
            w = word.lower()
            if w in covered:
                continue
            if (len(w) >= 6 and w.endswith(INN_SUFFIXES) and w.isalpha() and w not in covered
                    and w not in self.catalogue.vocabulary and not self.catalogue.find(word)
                    and word not in found.unknown and not any(word in u for u in found.unknown)):
                found.unknown.append(word)
        return found

    def _medicines_of(self, substance: str) -> list[Medicine]:
        """The corpus medicines whose name the lexicon knows as a brand of this substance ("Levemir")."""
        if self._lexicon_names is None:
            by_substance: dict[str, list[Medicine]] = {}
            for m in self.catalogue.medicines:
                words = _WORD.findall(m.name)
                for drug, start, end in _find_drugs(words) if words else []:
                    if end - start == len(words):
                        by_substance.setdefault(_plain(str(drug.get("name") or "").lower()), []).append(m)
            self._lexicon_names = by_substance
        return self._lexicon_names.get(substance, [])


def _plain(substance: str) -> str:
    """The substance without the lexicon's note: "insulin detemir (rdna origin)" is "insulin detemir"."""
    return re.sub(r"\s*\([^)]*\)", "", substance).strip()


def _writes_substance(written: str, substance: str) -> bool:
    """The question writes the substance (in some language), not a brand of it: "capecitabina", "detemir"."""
    w = written.lower()
    return bool(substance) and (w == substance or (len(w) >= 6 and w in substance.split()) or same_cognate(w, substance))
