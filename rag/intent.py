"""Which EMA sections a question is probably about, and which language it is in.

Cue words are data, per section key, English and Swedish mixed. Cues match word starts, so
"biverkning" also matches "biverkningarna"; a cue ending in "=" matches the whole word only. The result is a prior for ranking, not a
filter: a question with no cue leaves every section equally likely.
"""

from __future__ import annotations

import re

CUES: dict[str, tuple[str, ...]] = {
    "how_used": (
        "dose", "dosage", "dosing", "how often", "how much", "how many", "frequency", "given",
        "take", "taken", "taking", "administ", "inject", "tablet", "cream", "apply", "applied",
        "mg=", "milligram", "prescription", "how is", "how should", "how long", "duration",
        "every", "daily", "once", "twice", "reduce the dose", "stop treatment",
        "dos=", "dosen", "doser", "hur ofta", "hur mycket", "hur länge", "hur används", "hur tas", "ges=", "tas=",
        "tabletter", "kräm", "applicer", "injektion", "injicer", "receptbelag", "gång=", "gången",
        "dagligen", "behandlingen ska", "avbryt", "supplement", "calcium", "vitamin", "tillskott",
        "put on", "at one time", "share of the body", "how much of the body", "form=", "come in",
        "comes in", "available as", "formulation", "finns som", "stop", "continue", "fortsätt",
        "who can give", "self-inject", "inject themselves",
    ),
    "how_works": (
        "how does", "work", "mechanism", "act=", "acts=", "target", "bind", "block", "inhibit", "mode of action",
        "hur verkar", "verkar", "verkningsmekanism", "binder", "blocker", "hämma",
    ),
    "benefits": (
        "benefit", "stud", "trial", "effective", "efficacy", "result", "shown", "improve", "percent",
        "%", "patients responded", "response", "compared", "placebo", "how well",
        "fördel", "studie", "effekt", "visats", "procent", "förbättr", "jämför", "resultat",
        "lasted", "last=", "varade", "behandlingssvar", "svaren", "bone density", "bentäthet",
    ),
    "risks": (
        "side effect", "risk", "adverse", "safety", "safe", "harm", "contraindicat", "must not",
        "who cannot", "pregnan", "breast", "allerg", "common", "toxic",
        "biverkning", "risk", "säkerhet", "får inte", "gravid", "ammande", "vanligaste",
        "must not be", "who must not", "should not be used", "får inte ges", "får inte användas",
    ),
    "what_is": (
        "used for", "indicat", "treat", "condition", "disease", "which medicine",
        "what medicine", "active substance", "contain", "biosimilar", "reference medicine", "who can",
        "används för", "vad används", "behandla", "sjukdom", "vilket läkemedel",
        "aktiva substans", "innehåller", "referensläkemedel", "age=", "what age", "years old",
        "ålder", "vilken ålder", "från vilken",
    ),
    "why_authorised": (
        "why", "authoris", "authoriz", "approv", "outweigh", "conditional",
        "varför", "godkän", "villkorat", "större än riskerna",
    ),
    "missing_info": (
        "awaited", "still", "missing", "ongoing", "further data", "more data", "pending", "future stud",
        "saknas", "pågående", "ytterligare", "väntas", "ongoing study", "being compared",
    ),
    "safe_use": (
        "measure", "ensure", "card", "monitor", "precaution", "recommendation", "risk management",
        "åtgärd", "garantera", "kort=", "övervak", "försiktighet",
    ),
    "other_info": (
        "more information", "further information", "where can i", "website", "marketing authorisation valid",
        "when was", "when did", "date", "read more", "learn more", "mer information", "läsa mer", "webbplats", "när=",
    ),
    "authorisation_details": (
        "holder", "company", "marketed by", "manufacturer", "who markets", "when was", "authorised on",
        "opinion", "chmp", "product number", "innehavare", "innehar", "företag", "tillverkare",
        "marketing authorisation holder", "holds the marketing", "holds its marketing", "address of the",
        "innehar godkännandet",
    ),
    "product_details": (
        "atc", "therapeutic area", "pharmacotherapeutic", "inn=", "common name", "mesh", "class",
        "terapeutisk", "atc-kod",
    ),
}

_SWEDISH = re.compile(
    r"[åäö]|\b(?:hur|vad|vilka|vilken|vilket|varför|när|och|används|ges|är|det|för|med|av|som|ska|"
    r"kan|inte|om|finns|rekommenderas|läkemedel|biverkningar)\b",
    re.IGNORECASE,
)
_ENGLISH = re.compile(
    r"\b(?:how|what|which|why|when|who|is|are|the|of|for|with|does|do|can|given|used|side|effects|dose)\b",
    re.IGNORECASE,
)


def question_language(question: str) -> str:
    sv = len(_SWEDISH.findall(question))
    en = len(_ENGLISH.findall(question))
    return "sv" if sv > en else "en"


def section_prior(question: str, fallback: bool = True) -> dict[str, float]:
    """Section key -> weight in [0, 1]; the best-cued key gets 1."""
    q = " " + re.sub(r"\s+", " ", question.lower()) + " "
    scores: dict[str, float] = {}
    for key, cues in CUES.items():
        hits = 0.0
        for cue in cues:
            # "word=" matches that whole word only; other cues match word starts.
            pattern = r"(?<![\w])" + re.escape(cue.rstrip("=")) + (r"(?![\w])" if cue.endswith("=") else "")
            if re.search(pattern, q):
                hits += 1.0 + 0.5 * cue.count(" ")  # phrases say more than single words
        if hits:
            scores[key] = hits
    if not scores:
        if fallback and re.match(r"\s*(?:what is|what's|vad är)\b", q):
            return {"what_is": 1.0}
        return {}
    top = max(scores.values())
    return {k: v / top for k, v in scores.items()}
