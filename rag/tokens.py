"""Token counts with tiktoken's cl100k_base, read from the files llama-index ships (never downloaded)."""

from __future__ import annotations

import os
from functools import lru_cache


@lru_cache(maxsize=1)
def _encoding():
    from .offline import tiktoken_cache_dir

    # tiktoken reads this when the encoding is first loaded; without it, it would try to download.
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(tiktoken_cache_dir()))
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))
