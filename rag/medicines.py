"""Which medicines a question names: the corpus catalogue first, then a drug lexicon for the rest.

The catalogue knows the corpus (names, active substances, small typos); the lexicon
(drug-named-entity-recognition, which ships its dictionary) knows thousands of brands and
substances the corpus lacks, and maps brands to substances, so a question about Xgeva is refused
and told that Conexxence has the same active substance.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from .catalogue import INN_SUFFIXES, Catalogue, Medicine, substance_parts

_lexicon_lock = threading.Lock()
_WORD = re.compile(r"[^\W\d_][\w'’\-]*", re.UNICODE)


@dataclass
class Resolution:
    medicines: list[Medicine] = field(default_factory=list)  # corpus medicines the question names
    unknown: list[str] = field(default_factory=list)  # medicines it names that the corpus lacks, as written
    same_substance: list[tuple[str, Medicine]] = field(default_factory=list)  # (unknown name, corpus medicine)

    @property
    def names_any(self) -> bool:
        return bool(self.medicines or self.unknown)


def _find_drugs(words: list[str]) -> list[tuple[dict, int, int]]:
    with _lexicon_lock:  # the first call loads the dictionary (a few seconds); later calls are cheap
        from drug_named_entity_recognition import find_drugs

        return find_drugs(words, is_ignore_case=True)


class MedicineResolver:
    def __init__(self, catalogue: Catalogue, use_lexicon: bool = True) -> None:
        self.catalogue = catalogue
        self.use_lexicon = use_lexicon
        self._substances = [(part, m) for m in catalogue.medicines for part in substance_parts(m.substance)]

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
                synonyms = {str(s).lower() for s in drug.get("synonyms") or ()} | {substance}
                twins = [m for s, m in self._substances if s in synonyms]
                if written not in found.unknown:
                    found.unknown.append(written)
                    for twin in twins:
                        if (written, twin) not in found.same_substance:
                            found.same_substance.append((written, twin))
        for word in words:
            w = word.lower()
            if (len(w) >= 6 and w.endswith(INN_SUFFIXES) and w.isalpha() and w not in covered
                    and w not in self.catalogue.vocabulary and not self.catalogue.find(word)
                    and word not in found.unknown and not any(word in u for u in found.unknown)):
                found.unknown.append(word)
        return found
