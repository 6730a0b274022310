"""Files in, sections with embeddings and citation metadata out, upserted into the store.

Per document: parse, skip if unchanged (same fingerprint), otherwise embed, upsert by stable id
(document + section), and only then delete the document's stale sections, so an interrupted run
never leaves a document with fewer sections than before.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Callable, Iterator

from rag.settings import Settings

from .classify import SectionClassifier
from .headings import english_title
from .loaders import SUPPORTED_SUFFIXES, Skip, load
from .parse import ParsedDocument, parse

PARSER_VERSION = "3"
IGNORED_NAMES = ("SOURCES.md", "README*", "LICENSE*", "NOTICE*", ".*")


@dataclass
class FileResult:
    path: Path
    status: str  # added | updated | unchanged | skipped | ignored
    reason: str = ""
    doc: ParsedDocument | None = None
    ref_inferred: bool = False
    notes: list[str] = field(default_factory=list)
    raw_hash: str = ""  # sha256 of the file's bytes

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class IngestReport:
    files: list[FileResult]
    store_count: int
    removed_sections: int = 0

    @property
    def skipped(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "skipped"]

    @property
    def exit_code(self) -> int:
        return 1 if self.skipped else 0


class IngestBusy(RuntimeError):
    pass


def collect_files(paths: list[Path]) -> tuple[list[Path], list[FileResult]]:
    """Supported files under the given paths; explicitly named files are always tried."""
    files: list[Path] = []
    ignored: list[FileResult] = []
    for path in paths:
        if path.is_dir():
            # A dangling symlink is kept so that it is reported (as unreadable), not silently passed over.
            for f in sorted(p for p in path.rglob("*") if p.is_file() or (p.is_symlink() and not p.exists())):
                if any(fnmatch(f.name, pat) for pat in IGNORED_NAMES):
                    ignored.append(FileResult(f, "ignored", "not an overview (documentation file)"))
                elif f.suffix.lower() in SUPPORTED_SUFFIXES:
                    files.append(f)
                else:
                    ignored.append(FileResult(f, "ignored", f"unsupported file type {f.suffix or '(none)'}"))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return files, ignored


@contextmanager
def ingest_lock(settings: Settings) -> Iterator[None]:
    """One ingest at a time per store; a second one is told so instead of racing the first."""
    from rag import sidecar

    try:
        with sidecar.writer_lock(settings):
            yield
    except sidecar.Busy as exc:
        raise IngestBusy(f"another ingest is writing to this store ({exc}); wait for it to finish") from None


def ingest(
    paths: list[Path],
    settings: Settings,
    *,
    reset: bool = False,
    progress: Callable[[str], None] | None = None,
) -> IngestReport:
    from rag import sidecar
    from rag.embedder import get_embedder
    from rag.store import SectionStore

    files, ignored = collect_files(paths)
    with ingest_lock(settings):
        embedder = get_embedder(settings)
        store = SectionStore(settings, any_model=reset)
        if reset:
            store.reset()
        classifier = SectionClassifier(embedder.get_text_embedding_batch)
        results = _parse_all(files, settings, embedder.count_tokens, classifier)
        existing = store.entries()
        _drop_duplicates(results, existing)
        _infer_references(results, existing)
        by_doc: dict[str, dict[str, dict]] = {}
        for sid, meta in existing.items():
            by_doc.setdefault(meta.get("doc_id", ""), {})[sid] = meta
        writer = _Writer(store)
        try:
            group: list[_Pending] = []
            texts = 0
            for result in results:
                if result.status == "skipped":
                    continue
                if progress:
                    progress(result.name)
                pending = _prepare(result, settings, by_doc.get(result.name, {}))
                if pending is None:
                    continue
                group.append(pending)
                texts += len(pending.texts)
                if texts >= EMBED_GROUP:
                    _embed_and_write(group, writer, embedder)
                    group, texts = [], 0
            _embed_and_write(group, writer, embedder)
            writer.finish()
        finally:
            writer.close()
        removed = writer.removed
        state = sidecar.read_state(settings)
        if reset or state is None or state.get("state") != "ready":
            sidecar.build(store)  # the catalogue, word list and BM25 the question path reads
        return IngestReport(results + ignored, store.count(), removed)


def _parse_all(files, settings, count_tokens, classifier) -> list[FileResult]:
    results = []
    for path in files:
        try:
            loaded = load(path, settings.max_file_bytes)
            doc = parse(loaded.pages, loaded.format, max_tokens=settings.max_section_tokens, count_tokens=count_tokens,
                        classifier=classifier, file_name=path.name)
        except Skip as exc:
            results.append(FileResult(path, "skipped", str(exc)))
            continue
        result = FileResult(path, "pending", doc=doc, notes=loaded.notes + doc.notes,
                            raw_hash=hashlib.sha256(loaded.raw).hexdigest())
        if not doc.sections:
            result.status, result.reason = "skipped", "no text left after removing boilerplate"
        elif not doc.medicine:
            result.status, result.reason = "skipped", "no medicine name in the text or the file name"
        results.append(result)
    return results


def _drop_duplicates(results: list[FileResult], existing: dict[str, dict]) -> None:
    seen_hash: dict[str, str] = {}
    seen_name: dict[str, str] = {}
    stored = {m.get("raw_hash"): m.get("doc_id") for m in existing.values()}
    for r in results:
        if r.status == "skipped":
            continue
        h = r.raw_hash
        if h in seen_hash:
            r.status, r.reason = "skipped", f"duplicate of {seen_hash[h]}"
        elif stored.get(h) not in (None, r.name):
            r.status, r.reason = "skipped", f"duplicate of {stored[h]} (already in the store)"
        elif r.name in seen_name:
            r.status, r.reason = "skipped", f"another file named {r.name} was ingested in this run ({seen_name[r.name]})"
        else:
            seen_hash[h] = r.name
            seen_name[r.name] = str(r.path)


def _infer_references(results: list[FileResult], existing: dict[str, dict]) -> None:
    """A translation with no number takes it from the EPAR page of the same medicine. Never invented."""
    overview: dict[str, str] = {}
    product: dict[str, str] = {}
    for meta in existing.values():
        med = str(meta.get("medicine", "")).lower()
        if meta.get("epar_overview_ref"):
            overview.setdefault(med, meta["epar_overview_ref"])
        if meta.get("product_number"):
            product.setdefault(med, meta["product_number"])
    for r in results:
        if r.doc and r.doc.medicine and r.status != "skipped":
            med = r.doc.medicine.lower()
            if r.doc.epar_overview_ref:
                overview[med] = r.doc.epar_overview_ref
            if r.doc.product_number:
                product[med] = r.doc.product_number
    for r in results:
        if not r.doc or not r.doc.medicine or r.status == "skipped":
            continue
        med = r.doc.medicine.lower()
        if not r.doc.ref and med in overview:
            r.doc.ref, r.ref_inferred = overview[med], True
            r.notes.append(f"reference number {r.doc.ref} taken from the EPAR page of {r.doc.medicine}")
        if not r.doc.product_number and med in product:
            r.doc.product_number = product[med]


def _fingerprint(r: FileResult, settings: Settings) -> str:
    d = r.doc
    parts = [r.raw_hash, PARSER_VERSION, settings.embed_model, d.ref or "", d.product_number or "",
             str(r.ref_inferred), str(settings.max_section_tokens)]
    if settings.sentence_vectors == "ingest":
        parts.append("sentence vectors")  # switching to it re-embeds, so every section gets them
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def section_id(doc_id: str, key: str, part: int) -> str:
    return f"{doc_id}#{key}" + (f".{part}" if part else "")


# Texts embedded in one call: the embedder runs them side by side, one per core, and a
# single document's few sections leave a core idle at the end of every call.
EMBED_GROUP = 48


@dataclass
class _Pending:
    """One document's sections ready to embed: `texts` are the sections, then their sentences."""

    result: FileResult
    ids: list[str]
    metas: list[dict]
    texts: list[str]
    stale: list[str]
    updated: bool
    sentence_spans: list[list] | None = None


def _prepare(r: FileResult, settings: Settings, old: dict[str, dict]) -> _Pending | None:
    """A document's texts and metadata; None when the store already has it (`old`: its sections there)."""
    doc = r.doc
    assert doc is not None
    doc_id = r.name
    fp = _fingerprint(r, settings)
    ids = [section_id(doc_id, s.key, s.part) for s in doc.sections]
    if old and set(old) == set(ids) and all(m.get("fingerprint") == fp for m in old.values()):
        r.status = "unchanged"
        return None

    texts, metas = [], []
    for s in doc.sections:
        medicine = doc.medicine or ""
        title_en = english_title(s.key, medicine or "the medicine")
        heading = "" if s.inferred else f"\n{s.title}"
        texts.append(f"{medicine}: {title_en}{heading}\n\n{s.text}".lstrip(": "))
        metas.append({
            "medicine": medicine,
            "substance": doc.substance or "",
            "language": doc.language,
            "section": s.key,
            "section_title": s.title,
            "section_title_en": title_en,
            "part": s.part,
            "ref": doc.ref or "",
            "ref_inferred": r.ref_inferred,
            "product_number": doc.product_number or "",
            "epar_overview_ref": doc.epar_overview_ref or "",
            "source": r.name,
            "page": s.page or 0,
            "section_inferred": s.inferred,
            "medicine_source": doc.medicine_source,
            "url": doc.url or "",
            "url_source": doc.url_source,
            "fingerprint": fp,
            "raw_hash": r.raw_hash,
        })
    stale = [i for i in old if i not in set(ids)]
    if settings.sentence_vectors != "ingest":
        return _Pending(r, ids, metas, texts, stale, bool(old))
    from rag.sentences import sentence_texts, spans

    # Sections and their sentences in one pass; sentence vectors are stored in the section's
    # metadata, so they are written in the same upsert.
    sents = [spans(s.text) for s in doc.sections]
    texts += [t for s, sp in zip(doc.sections, sents) for t in sentence_texts(s.text, doc.medicine or "", sp)]
    return _Pending(r, ids, metas, texts, stale, bool(old), sents)


def _embed_and_write(group: list[_Pending], writer: "_Writer", embedder) -> None:
    """Embed a few documents in one call, then hand each to the writer whole, in order."""
    from rag.sentences import pack
    from rag.store import make_node

    if not group:
        return
    vectors = embedder.passages([t for g in group for t in g.texts])
    k = 0
    for g in group:
        mine, k = vectors[k : k + len(g.texts)], k + len(g.texts)
        sections = g.result.doc.sections
        if g.sentence_spans is not None:
            j = len(sections)
            for meta, sp in zip(g.metas, g.sentence_spans):
                meta.update(pack(sp, mine[j : j + len(sp)]))
                j += len(sp)
        nodes = [make_node(i, g.result.name, s.text, m, v)
                 for i, s, m, v in zip(g.ids, sections, g.metas, mine[: len(sections)].tolist())]
        writer.add(nodes, g.stale)
        g.result.status = "updated" if g.updated else "added"


class _Writer:
    """Writes documents a few at a time: each store call has a fixed cost (tens of ms), as much as
    a document's sections themselves when their vectors come fast. A document's sections always go
    in one call, and its stale sections are removed only after that call, so an interrupted ingest
    never leaves a document with fewer sections than before; it loses at most MAX_WAIT_S of work.

    Writes run in one background thread, in order, while the next documents are embedded; a
    failed write is raised by the next call, and `finish` waits for the last one."""

    MAX_RECORDS = 256
    MAX_WAIT_S = 2.0

    def __init__(self, store) -> None:
        self.store = store
        self.nodes: list = []
        self.stale: list[str] = []
        self.since = 0.0
        self.removed = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="ingest-writer")
        self._last: Future | None = None

    def add(self, nodes: list, stale: list[str]) -> None:
        if self.nodes and len(self.nodes) + len(nodes) > self.MAX_RECORDS:
            self.flush()
        if not self.nodes:
            self.since = time.monotonic()
        self.nodes += nodes
        self.stale += stale
        if time.monotonic() - self.since >= self.MAX_WAIT_S:
            self.flush()

    def flush(self) -> None:
        self._wait()
        if self.nodes or self.stale:
            self._last = self._pool.submit(self._write, self.nodes, self.stale)
        self.removed += len(self.stale)
        self.nodes, self.stale = [], []

    def _write(self, nodes: list, stale: list[str]) -> None:
        if nodes:
            self.store.upsert(nodes)
        if stale:
            self.store.delete(stale)

    def _wait(self) -> None:
        last, self._last = self._last, None
        if last is not None:
            last.result()

    def finish(self) -> None:
        """Write what is left and wait for it."""
        self.flush()
        self._wait()

    def close(self) -> None:
        """Wait for a write under way (after an error elsewhere: nothing new is started)."""
        self._pool.shutdown(wait=True)
