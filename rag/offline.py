"""Process environment for running with no network: called by entry points, never at import."""

from __future__ import annotations

import os
from pathlib import Path


def tiktoken_cache_dir() -> Path:
    from importlib.util import find_spec

    # Located without importing llama-index (over a second), which the question path never needs.
    spec = find_spec("llama_index.core")
    return Path(spec.origin).parent / "_static" / "tiktoken_cache"


def prepare_environment() -> None:
    """Point every library that would phone home or download at a local or disabled path."""
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(tiktoken_cache_dir()))
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # onnxruntime and OpenMP busy-wait by default, which starves the other core on small machines.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
