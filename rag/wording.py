"""What the bot says, and the words that tell a follow-up or a condition question, per language.

One data file per language in `phrases/`; a language without one is answered in English.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

FALLBACK = "en"


@dataclass(frozen=True)
class Phrases:
    code: str
    say: dict[str, str]
    language_names: dict[str, str]
    follow_up: tuple[str, ...]
    condition: tuple[str, ...]
    intent: dict[str, tuple[str, ...]]
    injection: tuple[str, ...] = ()
    out_of_scope: tuple[str, ...] = ()
    leaflet_only: dict[str, tuple[str, ...]] = field(default_factory=dict)  # topic -> how questions name it
    filler: tuple[str, ...] = ()  # words that name no topic in a question about a medicine
    shape: dict[str, tuple[str, ...]] = field(default_factory=dict)  # question cues: what the answer must hold
    written: dict[str, tuple[str, ...]] = field(default_factory=dict)  # how overviews in this language write it
    opener: tuple[str, ...] = ()  # how a question asking what the medicine is opens ("Was ist", "Vad är")
    buying: tuple[str, ...] = ()  # where or how to buy: out of scope unless asked with the prescription


@lru_cache(maxsize=None)
def phrases(code: str) -> Phrases | None:
    path = resources.files(__package__).joinpath("phrases", f"{code}.toml")
    if not re.fullmatch(r"[a-z]{2}", code or "") or not path.is_file():
        return None
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    q = data.get("question", {})
    return Phrases(code, dict(data.get("say", {})), dict(data.get("language_names", {})),
                   tuple(q.get("follow_up", ())), tuple(q.get("condition", ())),
                   {k: tuple(v) for k, v in data.get("intent", {}).items()},
                   tuple(q.get("injection", ())), tuple(q.get("out_of_scope", ())),
                   {k: tuple(v) for k, v in data.get("leaflet_only", {}).items()},
                   tuple(q.get("filler", ())),
                   {k: tuple(v) for k, v in data.get("shape", {}).items()},
                   {k: tuple(v) for k, v in data.get("written", {}).items()},
                   tuple(q.get("opener", ())), tuple(q.get("buying", ())))


@lru_cache(maxsize=1)
def languages_with_phrases() -> tuple[str, ...]:
    """English first, then the others in name order (the order cue lists are joined in)."""
    folder = resources.files(__package__).joinpath("phrases")
    codes = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))
    return tuple(sorted(codes, key=lambda c: (c != FALLBACK, c != "sv", c)))


def answer_language(lang: str) -> str:
    """The language the bot answers in: the question's when its phrase file has the bot's wording."""
    table = phrases(lang)
    return lang if table and table.say else FALLBACK


def say(lang: str, key: str, **values) -> str:
    table = phrases(answer_language(lang))
    text = table.say.get(key) or phrases(FALLBACK).say[key]
    return text.format(**values)


def language_name(language: str, in_language: str) -> str:
    table = phrases(answer_language(in_language))
    return table.language_names.get(language) or phrases(FALLBACK).language_names.get(language, language)


@lru_cache(maxsize=64)
def _cue_rx(cues: tuple[str, ...]) -> re.Pattern[str] | None:
    if not cues:
        return None
    def one(cue: str) -> str:  # "^what is": the question opens so; "for$": it ends so ("What is X for?");
        # "how is * given": a few words stand between ("How is Darzalex given?")
        body = re.escape(cue.lstrip("^").rstrip("$")).replace(r"\ ", r"\s+").replace(r"\*", r"[^?.!]{1,60}?")
        body = rf"^\W*{body}" if cue.startswith("^") else body
        return rf"{body}(?=\W*$)" if cue.endswith("$") else body

    alternatives = "|".join(one(c) for c in sorted(cues, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _has_cue(text: str, lang: str, attr: str) -> bool:
    codes = [lang, FALLBACK] if lang != FALLBACK else [FALLBACK]
    for code in codes:
        table = phrases(code)
        rx = _cue_rx(getattr(table, attr)) if table else None
        if rx and rx.search(text):
            return True
    return False


def reads_as_follow_up(text: str, lang: str) -> bool:
    """'and how is it taken?', 'hur verkar det?', 'und die Nebenwirkungen?': leans on what was said before."""
    return _has_cue(text, lang, "follow_up") or len(re.findall(r"\w+", text)) <= 3


def opens_as_what_is(text: str) -> bool:
    """'What is X?', 'Was ist X?', 'Vad är X?': in any language file's words."""
    rx = _cue_rx(tuple(c for code in languages_with_phrases() for c in phrases(code).opener))
    return bool(rx and rx.search(text))


def asks_for_medicines(text: str, lang: str) -> bool:
    """'Which medicine treats vitiligo?', 'Finns det något läkemedel mot benskörhet?'."""
    return _has_cue(text, lang, "condition")


def asks_for(text: str, kind: str) -> bool:
    """The question asks for a kind of answer ("how often", "wie oft", "active substance"…), in any language."""
    rx = _shape_rx(kind)
    return bool(rx and rx.search(text))


@lru_cache(maxsize=None)
def _shape_rx(kind: str) -> re.Pattern[str] | None:
    return _cue_rx(tuple(c for code in languages_with_phrases() for c in phrases(code).shape.get(kind, ())))


@lru_cache(maxsize=64)
def written_rx(language: str, kind: str) -> re.Pattern[str] | None:
    """How the overviews in `language` write a kind of answer (e.g. a frequency); None when the file has none."""
    table = phrases(language)
    patterns = table.written.get(kind, ()) if table else ()
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None


@lru_cache(maxsize=1)
def leaflet_topics_rx() -> dict[str, re.Pattern[str]]:
    """Topic -> one expression of every phrase file's words for it (questions and overviews may differ in language)."""
    patterns: dict[str, list[str]] = {}
    for code in languages_with_phrases():
        for topic, words in phrases(code).leaflet_only.items():
            patterns.setdefault(topic, []).extend(words)
    return {t: re.compile("|".join(f"(?:{p})" for p in ps), re.IGNORECASE) for t, ps in patterns.items()}


@lru_cache(maxsize=8)
def any_language_rx(attr: str) -> re.Pattern[str] | None:
    """One expression of every phrase file's `attr` patterns (questions may mix languages)."""
    patterns = [p for code in languages_with_phrases() for p in getattr(phrases(code), attr)]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE | re.DOTALL) if patterns else None
