"""python -m rag.prepare_model: make the embedding model ready for offline use (idempotent)."""

from __future__ import annotations

import sys
import time


def main() -> int:
    from .offline import prepare_environment
    from .settings import DEFAULT_EMBED_MODEL, Settings

    prepare_environment()
    settings = Settings()
    from .language import detect

    detect("the language identifier, cut to the EU languages once")
    if settings.embed_model != DEFAULT_EMBED_MODEL:
        print(f"embedding model {settings.embed_model}: fastembed fetches it on first use")
        return 0
    from . import e5_onnx

    start = time.perf_counter()
    folder = e5_onnx.ensure_onnx_model(settings.model_cache_dir)
    print(f"embedding model ready: {folder} ({time.perf_counter() - start:.1f} s)")
    # Both weight sets, so switching EMBED_QUANTIZATION later needs no conversion.
    start = time.perf_counter()
    int8 = e5_onnx.ensure_int8_model(folder)
    print(f"int8 embedding model ready: {int8} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
