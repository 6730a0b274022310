"""EMA overview section headings, as data: one row per (language, canonical key, heading pattern).

Patterns are written the way the documents print them, with `{X}` where the medicine name
stands. To support another language, add its rows; nothing else changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# The order every overview follows; also the order sections are listed in.
SECTION_KEYS = (
    "what_is",
    "how_used",
    "how_works",
    "benefits",
    "risks",
    "why_authorised",
    "missing_info",
    "safe_use",
    "other_info",
    "product_details",
    "authorisation_details",
    "assessment_history",
    "product_information",
)
UNKNOWN_KEY = "unknown"

# English canonical headings: prefixed to section text before embedding, and shown to users.
ENGLISH_TITLES = {
    "what_is": "What is {X} and what is it used for?",
    "how_used": "How is {X} used?",
    "how_works": "How does {X} work?",
    "benefits": "What benefits of {X} have been shown in studies?",
    "risks": "What are the risks associated with {X}?",
    "why_authorised": "Why is {X} authorised in the EU?",
    "missing_info": "What information is still awaited about {X}?",
    "safe_use": "What measures are being taken to ensure the safe and effective use of {X}?",
    "other_info": "Other information about {X}",
    "product_details": "Product details",
    "authorisation_details": "Authorisation details",
    "assessment_history": "Assessment history",
    "product_information": "Product information",
    UNKNOWN_KEY: "{X}",
}

HEADINGS: tuple[tuple[str, str, str], ...] = (
    # English: current overviews, EPAR web pages, and the older "EPAR summary for the public".
    ("en", "what_is", "What is {X} and what is it used for?"),
    ("en", "what_is", "What is {X}?"),
    ("en", "what_is", "What is {X} used for?"),
    ("en", "what_is", "Overview"),
    ("en", "how_used", "How is {X} used?"),
    ("en", "how_used", "How is {X} given?"),
    ("en", "how_works", "How does {X} work?"),
    ("en", "benefits", "What benefits of {X} have been shown in studies?"),
    ("en", "benefits", "What benefit has {X} shown during the studies?"),
    ("en", "benefits", "How has {X} been studied?"),
    ("en", "risks", "What are the risks associated with {X}?"),
    ("en", "risks", "What is the risk associated with {X}?"),
    ("en", "why_authorised", "Why is {X} authorised in the EU?"),
    ("en", "why_authorised", "Why is {X} approved?"),
    ("en", "why_authorised", "Why has {X} been approved?"),
    ("en", "why_authorised", "Why has {X} been authorised?"),
    ("en", "missing_info", "What information is still awaited about {X}?"),
    ("en", "safe_use", "What measures are being taken to ensure the safe and effective use of {X}?"),
    ("en", "safe_use", "What measures are being taken to ensure the safe use of {X}?"),
    ("en", "other_info", "Other information about {X}"),
    ("en", "product_details", "Product details"),
    ("en", "authorisation_details", "Authorisation details"),
    ("en", "assessment_history", "Assessment history"),
    ("en", "product_information", "Product information"),
    # Swedish
    ("sv", "what_is", "Vad är {X} och vad används det för?"),
    ("sv", "what_is", "Vad är {X}?"),
    ("sv", "what_is", "Vad används {X} för?"),
    ("sv", "how_used", "Hur används {X}?"),
    ("sv", "how_works", "Hur verkar {X}?"),
    ("sv", "benefits", "Vilka fördelar med {X} har visats i studierna?"),
    ("sv", "benefits", "Vilken nytta med {X} har visats i studierna?"),
    ("sv", "risks", "Vilka är riskerna med {X}?"),
    ("sv", "why_authorised", "Varför är {X} godkänt i EU?"),
    ("sv", "why_authorised", "Varför har {X} godkänts?"),
    ("sv", "missing_info", "Vilken information om {X} saknas för närvarande?"),
    ("sv", "safe_use", "Vad görs för att garantera säker och effektiv användning av {X}?"),
    ("sv", "other_info", "Mer information om {X}"),
    ("sv", "product_details", "Produktinformation"),
    # German
    ("de", "what_is", "Was ist {X} und wofür wird es angewendet?"),
    ("de", "how_used", "Wie wird {X} angewendet?"),
    ("de", "how_works", "Wie wirkt {X}?"),
    ("de", "benefits", "Welchen Nutzen hat {X} in den Studien gezeigt?"),
    ("de", "risks", "Welche Risiken sind mit {X} verbunden?"),
    ("de", "why_authorised", "Warum wurde {X} in der EU zugelassen?"),
    ("de", "missing_info", "Welche Informationen werden für {X} noch erwartet?"),
    ("de", "safe_use", "Welche Maßnahmen werden zur Gewährleistung der sicheren und wirksamen Anwendung von {X} ergriffen?"),
    ("de", "other_info", "Weitere Informationen über {X}"),
    # French
    ("fr", "what_is", "Qu’est-ce que {X} et dans quel cas est-il utilisé?"),
    ("fr", "how_used", "Comment {X} est-il utilisé?"),
    ("fr", "how_works", "Comment {X} agit-il?"),
    ("fr", "benefits", "Quels sont les bénéfices de {X} démontrés au cours des études?"),
    ("fr", "risks", "Quels sont les risques associés à l’utilisation de {X}?"),
    ("fr", "why_authorised", "Pourquoi {X} est-il autorisé dans l’UE?"),
    ("fr", "missing_info", "Quelles informations sont encore en attente au sujet de {X}?"),
    ("fr", "safe_use", "Quelles sont les mesures prises pour assurer l’utilisation sûre et efficace de {X}?"),
    ("fr", "other_info", "Autres informations relatives à {X}"),
)


@dataclass(frozen=True)
class HeadingMatch:
    language: str
    key: str
    name: str | None  # the medicine name as the heading spells it, if the pattern has one


def _to_regex(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in pattern.split("{X}")]
    # Typographic variants: any apostrophe, flexible spaces, optional space before "?".
    body = r"(?P<name>[^?.:;!\n]{1,80}?)".join(parts)
    body = body.replace("’", "['’]").replace(r"\ ", r"\s+").replace(r"\?", r"\s?\?")
    return re.compile(rf"^\s*{body}\s*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    # Longest literal first, so "What is the risk associated with {X}?" wins over "What is {X}?".
    rows = sorted(HEADINGS, key=lambda row: -len(row[2].replace("{X}", "")))
    return tuple((lang, key, _to_regex(p)) for lang, key, p in rows)


def match_heading(line: str) -> HeadingMatch | None:
    """The heading a line is, if it is one. Markdown '#' marks and bold are ignored."""
    text = re.sub(r"^#{1,6}\s*", "", line.strip()).replace("**", "").strip()
    if not text or len(text) > 160:
        return None
    for lang, key, rx in _compiled():
        m = rx.match(text)
        if m:
            name = m.groupdict().get("name")
            return HeadingMatch(lang, key, name.strip() if name else None)
    return None


def english_title(key: str, medicine: str) -> str:
    return ENGLISH_TITLES.get(key, "{X}").replace("{X}", medicine)
