"""What EMA prints in each EU language, as data: one TOML file per language beside this module.

A file holds the section headings of both overview generations, the headings of the EMA web page,
the title lines, the sentences that name the active substance, the boilerplate to drop and cue
phrases for documents without headings. `{X}` stands for the medicine name, `{S}` for the active
substance, `{S+}` for a list of them ("ledipasvir and sofosbuvir") and `{*}` for words of a heading we
could not verify (matched only when the medicine name is known). Files are read on first use, never at import.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

HEADING_KEYS = (
    "what_is", "how_used", "how_works", "benefits", "risks",
    "why_authorised", "missing_info", "safe_use", "other_info",
)
WEB_LABEL_KEYS = ("what_is", "product_details", "authorisation_details", "assessment_history", "product_information")
CUE_KEYS = HEADING_KEYS
EU_CODES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)

_TOP_KEYS = {"code", "name", "native", "headings", "web_labels", "titles", "substance", "boilerplate", "cues"}
_SECTION_FIELDS = {"titles": {"patterns"}, "substance": {"patterns"}, "boilerplate": {"page_words", "lines", "intro"}}
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


class LanguageFileError(ValueError):
    """A language file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    native: str
    headings: dict[str, tuple[str, ...]]
    web_labels: dict[str, tuple[str, ...]]
    titles: tuple[str, ...]
    substance: tuple[str, ...]
    page_words: tuple[str, ...]
    boilerplate: tuple[str, ...]  # whole-line regular expressions
    cues: dict[str, tuple[str, ...]]
    intro: tuple[str, ...] = ()  # openings of the standard "about this summary" paragraph, dropped before the first heading


def parse_language(text: str, source: str) -> Language:
    """Read and check one language file's text; `source` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LanguageFileError(f"{source}: not valid TOML: {exc}") from exc

    def fail(entry: str, problem: str) -> LanguageFileError:
        return LanguageFileError(f"{source}: {entry}: {problem}")

    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise fail(", ".join(sorted(unknown)), f"unknown section (allowed: {', '.join(sorted(_TOP_KEYS))})")
    for key in ("code", "name", "native"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise fail(key, "missing or empty")
    for section, fields in _SECTION_FIELDS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise fail(section, "must be a table")
        extra = set(table) - fields
        if extra:
            raise fail(f"{section}.{sorted(extra)[0]}", f"unknown entry (allowed: {', '.join(sorted(fields))})")

    headings = _keyed(data, "headings", HEADING_KEYS, fail, required=True)
    web_labels = _keyed(data, "web_labels", WEB_LABEL_KEYS, fail)
    cues = _keyed(data, "cues", CUE_KEYS, fail)
    titles = _strings(data.get("titles", {}).get("patterns", []), "titles.patterns", fail)
    substance = _strings(data.get("substance", {}).get("patterns", []), "substance.patterns", fail)
    page_words = _strings(data.get("boilerplate", {}).get("page_words", []), "boilerplate.page_words", fail)
    lines = _strings(data.get("boilerplate", {}).get("lines", []), "boilerplate.lines", fail)
    intro = _strings(data.get("boilerplate", {}).get("intro", []), "boilerplate.intro", fail)

    for key, patterns in headings.items():
        for p in patterns:
            _check_placeholders(p, f"headings.{key}", {"{X}", "{*}"}, fail)
            if "{X}" not in p:
                raise fail(f"headings.{key}", f"{p!r} has no {{X}} for the medicine name")
    for key, labels in web_labels.items():
        for p in labels:
            _check_placeholders(p, f"web_labels.{key}", set(), fail)
    for p in titles:
        _check_placeholders(p, "titles.patterns", {"{X}"}, fail)
    for p in substance:
        _check_placeholders(p, "substance.patterns", {"{X}", "{S}", "{S+}"}, fail)
        if p.count("{S}") + p.count("{S+}") != 1:
            raise fail("substance.patterns", f"{p!r} needs exactly one {{S}} or {{S+}} for the substance")
    for p in intro:
        _check_placeholders(p, "boilerplate.intro", {"{X}", "{*}"}, fail)
    for p in lines:
        try:
            re.compile(p)
        except re.error as exc:
            raise fail("boilerplate.lines", f"{p!r} is not a regular expression: {exc}") from exc

    return Language(data["code"], data["name"], data["native"], headings, web_labels, titles, substance,
                    page_words, lines, cues, intro)


def _keyed(data: dict, section: str, allowed: tuple[str, ...], fail, required: bool = False) -> dict[str, tuple[str, ...]]:
    table = data.get(section)
    if table is None:
        if required:
            raise fail(section, "missing")
        return {}
    if not isinstance(table, dict):
        raise fail(section, "must be a table")
    out: dict[str, tuple[str, ...]] = {}
    for key, value in table.items():
        if key not in allowed:
            raise fail(f"{section}.{key}", f"unknown key (allowed: {', '.join(allowed)})")
        out[key] = _strings(value, f"{section}.{key}", fail)
    return out


def _strings(value, entry: str, fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail(entry, "must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _check_placeholders(pattern: str, entry: str, allowed: set[str], fail) -> None:
    for ph in _PLACEHOLDER.findall(pattern):
        if ph not in allowed:
            raise fail(entry, f"{pattern!r} uses {ph}; allowed here: {', '.join(sorted(allowed)) or 'none'}")
    if pattern.count("{X}") > 2:
        raise fail(entry, f"{pattern!r} names the medicine more than twice")


def load_file(path) -> Language:
    """Read and check one language file from disk."""
    return parse_language(Path(path).read_text(encoding="utf-8"), Path(path).name)


@lru_cache(maxsize=1)
def languages() -> dict[str, Language]:
    """All language files, by code."""
    out: dict[str, Language] = {}
    for item in sorted(resources.files(__package__).iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml"):
            continue
        lang = parse_language(item.read_text(encoding="utf-8"), item.name)
        if lang.code != item.name[:-5]:
            raise LanguageFileError(f"{item.name}: code: {lang.code!r} does not match the file name")
        out[lang.code] = lang
    return out


def get(code: str) -> Language | None:
    return languages().get(code)
