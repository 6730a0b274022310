"""The Chroma store of sections: embedded on disk by default, a Chroma server when CHROMA_HOST is set."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)
from llama_index.core.vector_stores.utils import node_to_metadata_dict
from llama_index.vector_stores.chroma import ChromaVectorStore

from .settings import Settings


class StoreError(RuntimeError):
    """The store cannot be used; the message says what to do."""


@dataclass
class Hit:
    node: TextNode
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


def data_version(entries: dict[str, dict]) -> int:
    """Changes whenever a section is added, removed or re-embedded."""
    return hash(frozenset((i, m.get("fingerprint")) for i, m in entries.items()))


class SectionStore:
    """Sections with their embeddings and citation metadata, in one Chroma collection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._opened: _Opened | None = None
        self._open()

    def _open(self, stale: int | None = None) -> None:
        settings = self.settings
        if settings.server_mode:
            self.client = _client(settings)
        else:
            self._opened = _embedded(settings, stale)
            self.client = self._opened.client
        self.collection = self.client.get_or_create_collection(
            settings.collection,
            embedding_function=None,  # embeddings always come from our embedder, never Chroma's default
            metadata={"hnsw:space": "cosine", "embed_model": settings.embed_model},
        )
        built_with = (self.collection.metadata or {}).get("embed_model")
        if built_with and built_with != settings.embed_model:
            raise StoreError(
                f"the store was built with embedding model {built_with!r}, but EMBED_MODEL is "
                f"{settings.embed_model!r}; re-ingest with `python -m ingest --reset`"
            )
        self.vector_store = ChromaVectorStore(chroma_collection=self.collection)

    def _reopen(self) -> None:
        self._open(stale=self._opened.generation if self._opened else None)

    def _current(self) -> None:
        """Switch to the folder's newest client if another store object of this process reopened it."""
        if self._opened is not None and _opened.get(str(self.settings.store_dir)) is not self._opened:
            self._open()

    def _wrote(self) -> None:
        if self._opened is not None:
            self._opened.version = None

    # writing -------------------------------------------------------------------------------
    def upsert(self, nodes: list[TextNode]) -> None:
        """Insert or replace by id (ChromaVectorStore.add would refuse ids that already exist)."""
        for start in range(0, len(nodes), 256):
            chunk = nodes[start : start + 256]
            metadatas = []
            for node in chunk:
                meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
                metadatas.append({k: ("" if v is None else v) for k, v in meta.items()})
            self.collection.upsert(
                ids=[n.node_id for n in chunk],
                embeddings=[n.get_embedding() for n in chunk],
                metadatas=metadatas,
                documents=[n.text for n in chunk],
            )
            self._wrote()

    def delete(self, ids: list[str]) -> None:
        if ids:
            self.collection.delete(ids=ids)
            self._wrote()

    def reset(self) -> None:
        self.client.delete_collection(self.settings.collection)
        self._open()
        self._wrote()

    # reading -------------------------------------------------------------------------------
    def count(self) -> int:
        return self.collection.count()

    def entries(self, where: dict | None = None) -> dict[str, dict]:
        """id -> metadata for every section (optionally filtered)."""
        got = self.collection.get(where=where, include=["metadatas"])
        entries = dict(zip(got["ids"], got["metadatas"]))
        opened = self._opened
        if where is None and opened is not None:
            version = data_version(entries)
            if opened.version is None:
                opened.version = version
            elif opened.version != version:  # written by another process
                self._reopen()
                self._opened.version = version
        return entries

    def sections(self, ids: list[str] | None = None, where: dict | None = None) -> list[TextNode]:
        got = self.collection.get(ids=ids, where=where, include=["metadatas", "documents"])
        return [_to_node(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def query(self, embedding: list[float], top_k: int, medicines: list[str] | None = None) -> list[Hit]:
        filters = None
        if medicines:
            filters = MetadataFilters(
                filters=[MetadataFilter(key="medicine", value=m) for m in medicines],
                condition=FilterCondition.OR,
            )
        query = VectorStoreQuery(query_embedding=embedding, similarity_top_k=top_k, filters=filters)
        self._current()
        try:
            result = self.vector_store.query(query)
        except Exception:
            if self._opened is None:
                raise
            # Another process wrote since the last entries(): a deleted id comes back without its
            # metadata, or a filter names ids the index lacks. Open the folder afresh, once.
            self._reopen()
            result = self.vector_store.query(query)
        hits = []
        for node, sim in zip(result.nodes or [], result.similarities or []):
            # ChromaVectorStore reports exp(-distance); with cosine space, distance = 1 - cosine.
            hits.append(Hit(node, 1.0 - (-math.log(sim)) if sim > 0 else -1.0))
        return hits


def _to_node(node_id: str, text: str, meta: dict) -> TextNode:
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    node = metadata_dict_to_node(meta, text=text)
    node.id_ = node_id
    return node


def make_node(node_id: str, doc_id: str, text: str, metadata: dict, embedding: list[float]) -> TextNode:
    node = TextNode(id_=node_id, text=text, metadata=metadata, embedding=embedding)
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc_id)
    return node
