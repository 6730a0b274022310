"""A small English–Swedish glossary of the words EMA overviews use, as data.

Dense vectors bridge languages only roughly; these pairs let lexical matching (BM25 and
sentence choice) see that "recommended dose" and "rekommenderade dosen" say the same thing.
Each row lists word starts that mean the same; add rows (or languages) freely.
"""

from __future__ import annotations

import re

ROWS: tuple[tuple[str, ...], ...] = (
    ("recommend", "rekommend"),
    ("dose", "dos"),
    ("side effect", "biverkning"),
    ("common", "vanlig"),
    ("serious", "allvarlig"),
    ("study", "studie", "trial"),
    ("studies", "studier"),
    ("patient", "patient"),
    ("adult", "vuxna"),
    ("child", "barn"),
    ("adolescent", "ungdom"),
    ("pregnan", "gravid"),
    ("breast-feed", "breastfeed", "ammande"),
    ("tablet", "tablett"),
    ("cream", "kräm"),
    ("injection", "injektion", "injicer"),
    ("month", "månad"),
    ("year", "år"),
    ("daily", "each day", "per day", "a day", "dagligen", "om dagen"),
    ("once", "en gång"),
    ("twice", "två gånger"),
    ("skin", "hud"),
    ("face", "facial", "ansikt"),
    ("body", "kropp"),
    ("company", "företag"),
    ("prescription", "receptbelag"),
    ("doctor", "läkare"),
    ("pharmacist", "apotekspersonal"),
    ("package leaflet", "bipacksedel"),
    ("cancer", "cancer"),
    ("lung", "lung"),
    ("fracture", "fraktur"),
    ("liver", "lever"),
    ("diarrhoea", "diarrhea", "diarré"),
    ("nausea", "illamående"),
    ("tired", "fatigue", "trötthet"),
    ("acne", "akne"),
    ("improve", "förbättr"),
    ("placebo", "placebo"),
    ("effective", "effektiv"),
    ("benefit", "fördel", "nytta"),
    ("risk", "risk"),
    ("approv", "authoris", "godkän"),
    ("conditional", "villkorat"),
    ("protein", "protein"),
    ("mutation", "mutation"),
    ("enzyme", "enzym"),
    ("immune", "immunsystem"),
    ("pigment", "pigment"),
    ("reduce", "lower", "decrease", "shrink", "minska", "minskning"),
    ("test", "testa"),
    ("before", "innan", "före"),
    ("start", "begin", "inled", "påbörja", "sättas in"),
    ("occur", "happen", "uppstå", "förekomm"),
    ("oral", "by mouth", "genom munnen"),
    ("expect", "förvänta"),
    ("two", "två"),
    ("took part", "participat", "involv", "omfattade", "deltog"),
    ("safely", "safe", "säker"),
    ("stop", "avbryt"),
    ("worse", "förvärr"),
    ("calcium", "kalcium"),
    ("vitamin d", "vitamin d"),
    ("osteoporosis", "osteopor"),
    ("menopaus", "postmenopaus"),
    ("jaw", "käk"),
    ("card", "kort som"),
    ("monitor", "övervak"),
    ("information", "information"),
    ("website", "webbplats"),
    ("biosimilar", "biosimilar"),
    ("reference medicine", "referensläkemedel"),
    ("response", "svar"),
    ("applied", "apply", "applicer"),
    ("percent", "%", "procent"),
)

_INDEX: dict[str, int] = {}
for _i, _row in enumerate(ROWS):
    for _term in _row:
        _INDEX.setdefault(_term, _i)
_TERMS = sorted(_INDEX, key=len, reverse=True)
_RX = re.compile(r"(?<![\w])(" + "|".join(re.escape(t) for t in _TERMS) + r")", re.IGNORECASE)


def concepts(text: str) -> set[int]:
    """Glossary rows a text mentions (by word start), in any listed language."""
    return {_INDEX[m.group(1).lower()] for m in _RX.finditer(text)}


def equivalents(text: str) -> list[str]:
    """Every term of the glossary rows a text mentions, in every listed language (for BM25 queries)."""
    return [term for i in sorted(concepts(text)) for term in ROWS[i]]


def expand(text: str) -> str:
    """The text followed by every glossary equivalent of the terms it uses."""
    extra = equivalents(text)
    return text + (" " + " ".join(extra) if extra else "")
