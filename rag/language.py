"""Which of the 24 official EU languages a text is written in (py3langid, restricted to those)."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

EU_LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(EU_LANGUAGES))
    return ident


def detect(text: str, default: str = "en") -> tuple[str, float]:
    """(language code, probability); `default` with probability 0 when there is nothing to judge."""
    sample = " ".join(text.split())[:6000]
    if sum(ch.isalpha() for ch in sample) < 3:
        return default, 0.0
    with _lock:  # the identifier keeps per-call state in numpy buffers
        code, prob = _identifier().classify(sample)
    return str(code), float(prob)


def question_language(text: str, names: re.Pattern[str] | None = None, default: str = "en") -> str:
    """The language of a question, judged without the medicine names in it ("Was ist Conexxence?")."""
    if names is not None:
        text = names.sub(" ", text)
    if len(re.findall(r"[^\W\d_]{2,}", text)) < 2:  # "dose?" says nothing about its language
        return default
    return detect(text, default)[0]
