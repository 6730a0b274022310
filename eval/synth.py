"""A large corpus derived from the seed overviews, for scaling benchmarks.

Document i copies seed i mod 4 with the medicine and its active substance renamed
(Conexxence -> Medname0001, denosumab -> substance0001) and every EMA/NNNNNN/YYYY and
EMEA/H/C/NNNNNN number replaced by a well-formed one unique to the document, so no two documents
are duplicates and each names a medicine of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .runner import SEED_CORPUS

# seed file -> (medicine, active substance)
SEEDS = {
    "conexxence_en.md": ("Conexxence", "denosumab"),
    "conexxence_sv.txt": ("Conexxence", "denosumab"),
    "lumykras_sv.txt": ("Lumykras", "sotorasib"),
    "opzelura_sv.txt": ("Opzelura", "ruxolitinib"),
}
_EMA_REF = re.compile(r"EMA/\d{5,6}/(\d{4})")
_PRODUCT = re.compile(r"EMEA/H/C/\d{4,6}")


@dataclass(frozen=True)
class SynthDoc:
    path: Path
    seed: str
    seed_medicine: str
    medicine: str
    substance: str


def _same_case(word: str, like: str) -> str:
    if like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word.lower()


def _rename(text: str, old: str, new: str) -> str:
    return re.sub(re.escape(old), lambda m: _same_case(new, m.group(0)), text, flags=re.IGNORECASE)


def derive(text: str, index: int, medicine: str, substance: str, new_medicine: str, new_substance: str) -> str:
    """One seed text as document `index`: renamed, with its own reference numbers."""
    text = _rename(_rename(text, medicine, new_medicine), substance, new_substance)
    refs: dict[str, str] = {}

    def new_ref(m: re.Match) -> str:
        if m.group(0) not in refs:
            refs[m.group(0)] = f"EMA/{(100000 + index * 8 + len(refs)) % 1000000:06d}/{m.group(1)}"
        return refs[m.group(0)]

    text = _EMA_REF.sub(new_ref, text)
    return _PRODUCT.sub(f"EMEA/H/C/{(500000 + index) % 1000000:06d}", text)


def generate(out_dir: Path, n: int, seeds_dir: Path = SEED_CORPUS) -> list[SynthDoc]:
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = [(name, *SEEDS[name], (seeds_dir / name).read_text(encoding="utf-8")) for name in sorted(SEEDS)]
    docs = []
    for i in range(1, n + 1):
        name, medicine, substance, text = seeds[(i - 1) % len(seeds)]
        new_med, new_sub = f"Medname{i:04d}", f"substance{i:04d}"
        suffix = name.split("_", 1)[1]  # keeps language and extension: "sv.txt"
        path = out_dir / f"{new_med.lower()}_{suffix}"
        path.write_text(derive(text, i, medicine, substance, new_med, new_sub), encoding="utf-8")
        docs.append(SynthDoc(path, name, medicine, new_med, new_sub))
    return docs
