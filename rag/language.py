"""Which of the 24 official EU languages a text is written in (py3langid, restricted to those)."""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path

EU_LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)
_lock = threading.Lock()


_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


@lru_cache(maxsize=1)
def _identifier():
    return identifier_of(_eu_model())


def identifier_of(a: dict):
    from py3langid.langid import LanguageIdentifier
    from py3langid.modelio import _to_array

    return LanguageIdentifier(a["ptc"], a["pc"], a["classes"].tolist(), _to_array(a["nextmove"]),
                              a["out_feat"].tolist(), norm_probs=True, tk_row=_to_array(a["nextmove_row"]))


def _eu_model() -> dict:
    """py3langid's model cut to the 24 EU languages, one .npy per array in the model cache, made
    once: unpacking its LZMA file of 97 languages took 0.9 s in every process."""
    import io
    import lzma
    import os
    import shutil
    import tempfile
    from importlib import metadata

    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    from .settings import Settings

    folder = Settings().model_cache_dir / "langid" / f"py3langid-{metadata.version('py3langid')}-eu"
    try:
        return {k: np.load(folder / f"{k}.npy", mmap_mode="r") for k in _ARRAYS}
    except (OSError, ValueError):
        pass
    with lzma.open(MODEL_DIR / MODEL_FILE) as src, np.load(io.BytesIO(src.read()), allow_pickle=False) as full:
        keep = [i for i, c in enumerate(full["classes"].tolist()) if c in EU_LANGUAGES]
        arrays = {k: full[k] for k in ("nextmove", "nextmove_row", "out_feat")}
        arrays.update(ptc=full["ptc"][:, keep], pc=full["pc"][keep], classes=full["classes"][keep])
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".langid.", dir=folder.parent))
        for k, v in arrays.items():
            np.save(tmp / f"{k}.npy", v)
        tmp.chmod(0o755)
        try:
            os.replace(tmp, folder)  # atomic: the final name only ever holds every file
        except OSError:  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError:
        pass  # a read-only cache: this process uses the arrays from memory
    return arrays


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
