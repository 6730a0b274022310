"""Small files beside the store, written at ingest, so that a question never scans every section.

- `state.json`: which build is current and whether a writer is at work. Read in O(1) to decide
  when to reload; every write to the store first marks it "writing", and an ingest marks it
  "ready" once the build below matches what it wrote. "writing" with no ingest holding the lock
  means an ingest was interrupted: the next reader rebuilds from the store, once.
- `build-<token>/`: the catalogue (one row per medicine: names, numbers, languages, sections),
  the row of every section (id and medicine), the corpus's word list (`words.txt`: word -> how many
  medicines' overviews use it), the same for BM25 tokens (`tokens.txt`: each section tokenised in its
  own language, see rag.lexical), the BM25 index (bm25s, memory-mapped when loaded) and the
  catalogue's word lookup (`lookup_*`: names and substances with their typo keys). Written
  into a temporary folder and renamed, so a build is either whole or absent. A build made under
  other tokenising rules (state.json's "lexical") is rebuilt like one of an older format.

Embedded mode keeps them in STORE_DIR. With a Chroma server they live in INDEX_DIR on the machine
that asks (default: under MODEL_CACHE_DIR), and a host whose files are missing or do not match the
server's collection (its id and section count) builds its own from the server, once.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from . import lexical
from .catalogue import Catalogue, Lookup, medicine_facts
from .settings import Settings

FORMAT = 3  # 3: BM25 tokens are Snowball stems in each section's language, and tokens.txt
_STATE = "state.json"


def index_dir(settings: Settings) -> Path:
    if settings.index_dir is not None:
        root = settings.index_dir
    elif settings.server_mode:
        root = settings.model_cache_dir / "index" / f"{settings.chroma_host}-{settings.chroma_port}"
    else:
        root = settings.store_dir / "ema-index"
    return root / settings.collection


def lock_path(settings: Settings) -> Path:
    """The one-writer lock of a store (ingest, or a reader rebuilding after an interrupted one)."""
    lock_dir = settings.store_dir if not settings.server_mode else settings.model_cache_dir
    return lock_dir / ".ingest.lock"


class Busy(RuntimeError):
    pass


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(path.parent) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


# state ----------------------------------------------------------------------------------------
def read_state(settings: Settings) -> dict | None:
    try:
        state = json.loads((index_dir(settings) / _STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        return None
    # An index tokenised under other rules (stemmers, stopword files) would not match the questions' tokens.
    return state if state.get("lexical") == lexical.signature() else None


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def mark_writing(settings: Settings) -> None:
    """Called before any write to the store: the current build no longer describes it."""
    state = read_state(settings) or {"format": FORMAT, "lexical": lexical.signature(), "build": None, "sections": 0}
    if state.get("state") != "writing":
        _write_json(index_dir(settings) / _STATE, {**state, "state": "writing"})


# the index --------------------------------------------------------------------------------------
@dataclass
class Index:
    """What the question path needs about every section, without holding the sections."""

    version: str | None
    ids: list[str] = field(default_factory=list)
    medicine_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # row -> medicine number
    medicines: list[dict] = field(default_factory=list)  # number -> facts (see rag.catalogue.medicine_facts)
    folder: Path | None = None
    _row: dict[str, int] | None = None
    _words: dict[str, int] | None = None
    _tokens: dict[str, int] | None = None
    _languages: list[str] | None = None
    _bm25: object | None = None
    _lookup: object | None = None
    _by_medicine: list[np.ndarray] | None = None  # medicine number -> its rows
    _numbers: dict[str, int] = field(default_factory=dict)  # lower-case name -> medicine number
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, section_id: str) -> int | None:
        if self._row is None:
            self._row = {i: n for n, i in enumerate(self.ids)}
        return self._row.get(section_id)

    @property
    def words(self) -> dict[str, int]:
        """Every word of the corpus -> how many medicines' overviews use it."""
        if self._words is None:
            self._words = self._counts("words.txt")
        return self._words

    @property
    def tokens(self) -> dict[str, int]:
        """Every BM25 token of the corpus -> how many medicines' overviews have it."""
        if self._tokens is None:
            self._tokens = self._counts("tokens.txt")
        return self._tokens

    def _counts(self, name: str) -> dict[str, int]:
        lines = _read_lines(self.folder / name) if self.folder else []
        return {w: int(n) for w, _, n in (line.partition("\t") for line in lines) if w}

    @property
    def languages(self) -> list[str]:
        """Languages of the stored sections."""
        if self._languages is None:
            self._languages = sorted({lang for m in self.medicines for lang in m.get("languages", ()) if lang})
        return self._languages

    @property
    def bm25(self):
        """bm25s index over every section, memory-mapped on first use."""
        if self._bm25 is None and self.folder is not None and self.ids:
            with self._lock:
                if self._bm25 is None:
                    import bm25s

                    self._bm25 = bm25s.BM25.load(str(self.folder / "bm25"), mmap=True)
        return self._bm25

    @property
    def lookup(self):
        """The catalogue's word lookup ingest built (rag.catalogue.Lookup); None for a build without one."""
        if self._lookup is None and self.folder is not None and (self.folder / "lookup_terms.json").exists():
            self._lookup = Lookup(json.loads((self.folder / "lookup_terms.json").read_text(encoding="utf-8")),
                                  *(np.load(self.folder / f"lookup_{k}.npy", mmap_mode="r") for k in _LOOKUP_ARRAYS))
        return self._lookup

    def _rows(self, medicines: list[str]) -> np.ndarray:
        """Row numbers of these medicines' sections, from a per-medicine table built once per build."""
        if self._by_medicine is None:
            with self._lock:
                if self._by_medicine is None:
                    order = np.argsort(self.medicine_rows, kind="stable")
                    bounds = np.searchsorted(self.medicine_rows[order], np.arange(len(self.medicines) + 1))
                    self._numbers = {m["name"].lower(): n for n, m in enumerate(self.medicines)}
                    self._by_medicine = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        numbers = sorted({self._numbers[m.lower()] for m in medicines if m.lower() in self._numbers})
        if not numbers:
            return np.zeros(0, np.int64)
        return np.concatenate([self._by_medicine[n] for n in numbers])

    def rows_of(self, medicines: list[str]) -> np.ndarray:
        """Boolean mask of the rows of these medicines."""
        mask = np.zeros(len(self.ids), bool)
        mask[self._rows(medicines)] = True
        return mask

    def ids_of(self, medicines: list[str]) -> list[str]:
        """Ids of these medicines' sections, in row order."""
        return [self.ids[r] for r in np.sort(self._rows(medicines))]


_LOOKUP_ARRAYS = ("medicine", "keys", "key_terms")


def _write_lookup(folder: Path, medicines: list[dict]) -> None:
    lookup = Catalogue.from_facts(medicines).lookup
    (folder / "lookup_terms.json").write_text(json.dumps(lookup.terms, ensure_ascii=False), encoding="utf-8")
    for k in _LOOKUP_ARRAYS:
        np.save(folder / f"lookup_{k}.npy", getattr(lookup, k))


def _read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return text.split("\n") if text else []


_loaded: dict[str, Index] = {}  # index folder -> the build this process loaded last


def load(settings: Settings, state: dict) -> Index:
    build = state.get("build")
    if not build:
        index = Index(version=None)
    else:
        folder = index_dir(settings) / build
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        medicines = json.loads((folder / "medicines.json").read_text(encoding="utf-8"))
        rows = np.load(folder / "medicine_rows.npy")
        index = Index(version=build, ids=ids, medicine_rows=rows, medicines=medicines, folder=folder)
    _loaded[str(index_dir(settings))] = index
    return index


def loaded(settings: Settings) -> Index | None:
    """The build this process loaded last for these settings' store (None: not loaded yet)."""
    return _loaded.get(str(index_dir(settings)))


def build(store) -> Index:
    """Read every section once and write a new build; the caller holds the writer lock."""
    import bm25s

    settings = store.settings
    ids, metas, corpus = [], [], []
    words: dict[str, set[str]] = {}
    stems: dict[str, set[str]] = {}
    for page in store.pages():
        for node in page:
            ids.append(node.node_id)
            metas.append(node.metadata)
            m = node.metadata
            medicine = str(m.get("medicine", "")).lower()
            language = str(m.get("language") or "") or None
            body = lexical.tokens(node.text, language)
            corpus.append(lexical.tokens(f"{m.get('medicine', '')} {m.get('section_title', '')}", language) + body)
            for w in set(re.findall(r"\w+", node.text.lower())):
                words.setdefault(w, set()).add(medicine)
            for t in set(body):
                stems.setdefault(t, set()).add(medicine)
    medicines, rows = medicine_facts(metas)
    root = index_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    token = f"build-{uuid.uuid4().hex[:12]}"
    tmp = Path(tempfile.mkdtemp(prefix=f".{token}.", dir=root))
    try:
        (tmp / "ids.json").write_text(json.dumps(ids, ensure_ascii=False), encoding="utf-8")
        (tmp / "medicines.json").write_text(json.dumps(medicines, ensure_ascii=False), encoding="utf-8")
        np.save(tmp / "medicine_rows.npy", rows)
        _write_lookup(tmp, medicines)
        (tmp / "words.txt").write_text("\n".join(f"{w}\t{len(words[w])}" for w in sorted(words)), encoding="utf-8")
        (tmp / "tokens.txt").write_text("\n".join(f"{t}\t{len(stems[t])}" for t in sorted(stems)), encoding="utf-8")
        if ids:
            bm25 = bm25s.BM25()
            bm25.index(corpus, show_progress=False)
            bm25.save(str(tmp / "bm25"))
        tmp.chmod(0o755)
        os.replace(tmp, root / token)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    previous = read_state(settings)
    _write_json(root / _STATE, {"format": FORMAT, "lexical": lexical.signature(), "state": "ready", "build": token,
                                "sections": len(ids),
                                "collection": str(store.collection.id)})
    store.seen(token)
    _remove_old_builds(root, keep={token, (previous or {}).get("build")})
    return load(settings, {"build": token})


def _remove_old_builds(root: Path, keep: set) -> None:
    # The previous build stays for readers that have it open; older ones go.
    for path in root.glob("build-*"):
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
    for path in root.glob(".build-*"):  # left by a build that was killed
        if _older_than(path, 3600):
            shutil.rmtree(path, ignore_errors=True)


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def current(store, state: dict | None) -> tuple[Index, dict | None]:
    """The index that describes the store now, building it when the files cannot be trusted."""
    settings = store.settings
    if _trustworthy(store, state):
        return load(settings, state), state
    try:
        with writer_lock(settings):
            state = read_state(settings)  # another process may have finished meanwhile
            if _trustworthy(store, state, locked=True):
                return load(settings, state), state
            if state is None and store.count() == 0:
                return Index(version=None), state
            index = build(store)
            return index, read_state(settings)
    except Busy:
        # An ingest is writing: keep answering from the last complete build until it is done.
        return (load(settings, state) if state else Index(version=None)), state


def _trustworthy(store, state: dict | None, locked: bool = False) -> bool:
    if state is None:
        return False
    if state.get("state") == "writing":
        # Under the lock ourselves, "writing" can only be left by a writer that was interrupted.
        return not locked and _writer_running(store.settings)
    if store.settings.server_mode:
        # Another host may have ingested: its collection id or size no longer matches these files.
        return state.get("collection") == str(store.collection.id) and state.get("sections") == store.count()
    return True


def _writer_running(settings: Settings) -> bool:
    try:
        with writer_lock(settings):
            return False
    except Busy:
        return True
