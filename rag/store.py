"""The Chroma store of sections: embedded on disk by default, a Chroma server when CHROMA_HOST is set."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from .settings import Settings

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """The store cannot be used; the message says what to do."""


@dataclass
class Node:
    """One stored section: id, original text, citation metadata (and its vector when asked for)."""

    node_id: str
    text: str
    metadata: dict = field(default_factory=dict)
    embedding: list[float] | None = None

    def get_embedding(self) -> list[float]:
        assert self.embedding is not None, f"{self.node_id} has no embedding"
        return self.embedding


@dataclass
class Hit:
    node: Node
    score: float  # cosine similarity


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.server_mode:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:
            raise StoreError(
                f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc}); "
                "start it with `chroma run --path DIR --host HOST --port PORT` or unset CHROMA_HOST"
            ) from None
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)


# Embedded Chroma keeps one client state per folder and process, with the vector index in memory.
# Another process's writes (`python -m ingest` while the app runs) reach the SQLite tables, so
# reads see them, but not that index: queries miss new sections, return deleted ones without
# metadata, and with a filter fail with "Error finding id". So the process reads each folder
# through one shared client, and opens the folder afresh when the stored (id, fingerprint) pairs
# change in a way its own writes do not explain.
@dataclass
class _Opened:
    client: Any
    generation: int
    version: int | None = None  # of the data the index is known to hold; None: take the next reading


_opened_lock = threading.Lock()
_opened: dict[str, _Opened] = {}


def _embedded(settings: Settings, stale: int | None = None) -> _Opened:
    """The folder's shared client; a new one if the caller found generation `stale` out of date."""
    path = str(settings.store_dir)
    with _opened_lock:
        current = _opened.get(path)
        if current is None or current.generation == stale:
            if current is not None:
                from chromadb.api.shared_system_client import SharedSystemClient

                # Chroma caches the client state per folder; dropped (not stopped, so calls still
                # running on it finish) for the next client to start from the files.
                SharedSystemClient._identifier_to_system.pop(path, None)
                SharedSystemClient._identifier_to_refcount.pop(path, None)
            current = _Opened(_client(settings), 0 if current is None else current.generation + 1)
            _opened[path] = current
        return current


_INTERNAL_KEYS = ("_node_content", "_node_type", "document_id", "ref_doc_id")


class SectionStore:
    """Sections with their embeddings and citation metadata (with their sentences' vectors, see
    rag.sentences.pack) in one Chroma collection."""

    def __init__(self, settings: Settings, *, any_model: bool = False) -> None:
        """`any_model`: open a store built with another embedding model too (only to reset it)."""
        self.settings = settings
        self._opened: _Opened | None = None
        self._open(check=not any_model)

    def _open(self, stale: int | None = None, check: bool = True) -> None:
        settings = self.settings
        if settings.server_mode:
            self.client = _client(settings)
        else:
            self._opened = _embedded(settings, stale)
            self.client = self._opened.client
        self.collection = self.client.get_or_create_collection(
            settings.collection,
            embedding_function=None,  # embeddings always come from our embedder, never Chroma's default
            metadata={"hnsw:space": "cosine", "embed_model": self.model_id},
        )
        built_with = (self.collection.metadata or {}).get("embed_model")
        if check and built_with and built_with != self.model_id:
            raise StoreError(
                f"the store was built with embedding model {built_with!r}, but the settings give "
                f"{self.model_id!r}; re-ingest with `python -m ingest --reset`"
            )

    @property
    def model_id(self) -> str:
        """The embedding model and, for the bundled one, which weights: vectors of two never mix."""
        s = self.settings
        from .settings import DEFAULT_EMBED_MODEL

        if s.embed_model == DEFAULT_EMBED_MODEL and s.embed_quantization != "q4":
            return f"{s.embed_model}:{s.embed_quantization}"
        return s.embed_model

    def reopen_if(self, version: str | None) -> None:
        """Open the folder afresh when another process wrote `version` since this one looked."""
        opened = self._opened
        if opened is None or version is None:
            return
        if opened.version is not None and opened.version != version:
            self._reopen()
            opened = self._opened
        opened.version = version

    def seen(self, version: str) -> None:
        """This process wrote `version` itself: its own client already holds the data."""
        if self._opened is not None:
            self._opened.version = version

    def _reopen(self) -> None:
        self._open(stale=self._opened.generation if self._opened else None)

    def _current(self) -> None:
        """Switch to the folder's newest client if another store object of this process reopened it."""
        if self._opened is not None and _opened.get(str(self.settings.store_dir)) is not self._opened:
            self._open()

    def _wrote(self) -> None:
        from . import sidecar

        sidecar.mark_writing(self.settings)

    # writing -------------------------------------------------------------------------------
    def upsert(self, nodes: list[Node]) -> None:
        """Insert or replace by id."""
        if nodes:
            self._wrote()
        for start in range(0, len(nodes), 256):
            chunk = nodes[start : start + 256]
            self.collection.upsert(
                ids=[n.node_id for n in chunk],
                embeddings=[n.get_embedding() for n in chunk],
                metadatas=[{k: ("" if v is None else v) for k, v in n.metadata.items()} for n in chunk],
                documents=[n.text for n in chunk],
            )

    def delete(self, ids: list[str]) -> None:
        if ids:
            self._wrote()
            self.collection.delete(ids=ids)

    def reset(self) -> None:
        self._wrote()
        self.client.delete_collection(self.settings.collection)
        self._open()

    # reading -------------------------------------------------------------------------------
    def warm_in_background(self) -> None:
        """Have Chroma load its vector index now (0.25 s at 40,000 sections), in a thread: the first
        question would otherwise wait for it. Chroma's reads release the GIL, so nothing else waits."""
        collection = self.collection

        def load() -> None:
            try:
                collection.get(limit=1, include=["embeddings"])
            except Exception as exc:  # noqa: BLE001 - the first question reads again and reports it
                log.debug("store warm-up: %s", exc)

        # The embedded store reads in native code, which a daemon thread must not be in when the
        # interpreter exits (see rag.embedder); a server is read over HTTP, in Python.
        threading.Thread(target=load, daemon=self.settings.chroma_host is not None, name="store-warm").start()

    def count(self) -> int:
        return self.collection.count()

    def entries(self, where: dict | None = None) -> dict[str, dict]:
        """id -> metadata for every section (optionally filtered): a full scan, for ingest."""
        got = self.collection.get(where=where, include=["metadatas"])
        return {i: _clean(m) for i, m in zip(got["ids"], got["metadatas"])}

    def pages(self, size: int = 2000):
        """Every section with text and metadata, a page at a time (for building the side index)."""
        offset = 0
        while True:
            got = self.collection.get(include=["metadatas", "documents"], limit=size, offset=offset)
            if not got["ids"]:
                return
            yield [Node(i, d, _clean(m)) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
            offset += len(got["ids"])

    def sections(self, ids: list[str] | None = None, where: dict | None = None, embeddings: bool = False) -> list[Node]:
        include = ["metadatas", "documents"] + (["embeddings"] if embeddings else [])
        got = self.collection.get(ids=ids, where=where, include=include)
        vectors = got["embeddings"] if embeddings else [None] * len(got["ids"])
        return [Node(i, d, _clean(m), None if v is None else list(v))
                for i, d, m, v in zip(got["ids"], got["documents"], got["metadatas"], vectors)]

    def query(self, embedding: list[float], top_k: int, medicines: list[str] | None = None) -> list[Hit]:
        """The top_k sections nearest to the embedding, optionally of some medicines only.

        With medicines, their sections (a few dozen, a few hundred at most) are compared with the
        embedding one by one, found by id in the side index: Chroma's filtered HNSW search returns
        only the allowed neighbours it meets on its way through the graph, which in a large store
        are few (1 of a medicine's 9 sections at 40,000 sections, measured), and its metadata filter
        reads every row. Without a loaded side index, Chroma filters.
        """
        if medicines:
            from . import sidecar

            index = sidecar.loaded(self.settings)
            if index is not None and index.version is not None:
                return self._nearest_of(embedding, top_k, index.ids_of(medicines))
        where = None
        if medicines:
            where = {"medicine": medicines[0]} if len(medicines) == 1 else {"medicine": {"$in": list(medicines)}}
        self._current()

        def run():
            # Ids and distances first, then the rows by id: Chroma's query reads metadata slower than its get.
            got = self.collection.query(query_embeddings=[embedding], n_results=max(top_k, 1), where=where,
                                        include=["distances"])
            ids = got["ids"][0]
            rows = self.collection.get(ids=ids, include=["metadatas", "documents"]) if ids else {"ids": []}
            return ids, got["distances"][0], rows

        try:
            ids, distances, rows = run()
        except Exception:
            if self._opened is None:
                raise
            # Another process wrote since this one looked: a filter names ids the in-memory index
            # lacks ("Error finding id"). Open the folder afresh, once.
            self._reopen()
            ids, distances, rows = run()
        by_id = {i: (d, m) for i, d, m in zip(rows["ids"], rows.get("documents") or [], rows.get("metadatas") or [])}
        hits = []
        for i, dist in zip(ids, distances):
            d, m = by_id.get(i, (None, None))
            if m is None or d is None:  # deleted by another process since this index was loaded
                continue
            hits.append(Hit(Node(i, d, _clean(m)), 1.0 - float(dist)))  # cosine space: distance = 1 - cosine
        return hits

    def _get(self, ids: list[str], include: list[str]) -> dict:
        self._current()
        try:
            return self.collection.get(ids=ids, include=include)
        except Exception:
            if self._opened is None:
                raise
            self._reopen()  # another process wrote since this one looked: open the folder afresh, once
            return self.collection.get(ids=ids, include=include)

    def _nearest_of(self, embedding: list[float], top_k: int, ids: list[str]) -> list[Hit]:
        """Exact cosine nearest of the given sections (those still stored)."""
        import numpy as np

        if not ids or top_k < 1:
            return []
        everything = len(ids) <= top_k  # all of them are returned: fetch them whole at once
        got = self._get(ids, ["embeddings", "metadatas", "documents"] if everything else ["embeddings"])
        if not got["ids"]:
            return []
        vectors = np.asarray(got["embeddings"], np.float32)
        q = np.asarray(embedding, np.float32)
        scores = vectors @ q / np.maximum(np.linalg.norm(vectors, axis=1) * np.linalg.norm(q), 1e-12)
        order = np.argsort(-scores, kind="stable")[:top_k]
        if everything:
            docs, metas = got["documents"], got["metadatas"]
            chosen = [(got["ids"][k], docs[k], metas[k], scores[k]) for k in order]
        else:
            wanted = [got["ids"][k] for k in order]
            rest = self._get(wanted, ["metadatas", "documents"])
            by_id = {i: (d, m) for i, d, m in zip(rest["ids"], rest["documents"], rest["metadatas"])}
            chosen = [(i, *by_id.get(i, (None, None)), scores[k]) for i, k in zip(wanted, order)]
        return [Hit(Node(i, d, _clean(m)), float(s)) for i, d, m, s in chosen if m is not None and d is not None]


def _clean(meta: dict | None) -> dict:
    return {k: v for k, v in (meta or {}).items() if k not in _INTERNAL_KEYS}


def make_node(node_id: str, doc_id: str, text: str, metadata: dict, embedding: list[float]) -> Node:
    return Node(node_id, text, {**metadata, "doc_id": doc_id}, list(embedding))
