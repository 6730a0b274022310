"""python -m eval.bench [--tiers 35,3500,40000] [--json OUT] [--markdown OUT]

Per tier of stored sections: ingest throughput, then — in a freshly started process, as an app
after a restart — the first question's latency, the app's start-up warm-up, answer() p50/p95 the
first time each question is asked and repeated, where the time of an answer goes (Chroma, BM25,
fetching candidates, the rest), and the process's peak RSS. Tier 35 is the seed corpus; larger
tiers are generated from it (eval.synth, about 8.75 sections a document). Every store is temporary.

Tiers up to --embed-limit sections (default 3,500) embed every section (and, with
SENTENCE_VECTORS=ingest, every sentence) with the model: their ingest figures are real. Embedding
40,000 sections that way takes over half an hour on 2 cores, so a larger tier is built from variants: every document still goes through the real ingest
(parse, store writes, side index), but a text the model has embedded in this run (in a smaller
tier) gets that vector, and any other text gets the real vector of the same seed text in another
generated document (a text differs from its seed only in names and numbers), perturbed by random
noise as large as the spread between those real renamed copies, so no two stored vectors are the
same. Its ingest figures measure parsing and storing, not the model; the query path is the
product's own (RagService.answer over the real Chroma store and side index).

--compare-ingest ingests one generated corpus with the previous settings (EMBED_QUANTIZATION=q4,
EMBED_BATCH_SIZE=4, SENTENCE_VECTORS=ingest) and the current ones, or with --against REV with the code
of a git revision and this code, alternating, each in its own process into a fresh store.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .metrics import percentile
from .runner import SEED_CORPUS, ROOT, eval_settings

# {Conexxence} etc. are replaced by the medicine of the store under test.
QUESTIONS = (
    "What is {Conexxence} used for?",
    "How often is {Conexxence} given?",
    "Hur ofta ges {Conexxence}?",
    "What are the most common side effects of {Conexxence}?",
    "Who is the marketing authorisation holder for {Conexxence}?",
    "Hur verkar {Conexxence}?",
    "Vad används {Lumykras} för?",
    "What is the recommended dose of {Lumykras}?",
    "Vilken är den rekommenderade dosen av {Lumykras}?",
    "How does {Lumykras} work?",
    "Why was {Lumykras} authorised in the EU?",
    "What information about {Lumykras} is still missing?",
    "How much does a pack of {Lumykras} cost?",
    "What is {Opzelura} used for?",
    "How often should {Opzelura} be applied?",
    "Vilken är den vanligaste biverkningen av {Opzelura}?",
    "Får gravida kvinnor använda {Opzelura}?",
    "How does {Opzelura} work?",
    "Which medicine is used for vitiligo?",
    "What is the maximum daily dose of ibuprofen?",
)
SECTIONS_PER_DOC = 35 / 4  # the four seeds hold 35 sections
SEED_MEDICINES = ("Conexxence", "Lumykras", "Opzelura")


def machine() -> dict:
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor() or None,
            "python": platform.python_version(), "ram_gb": ram_gb}


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux from VmHWM: ru_maxrss of a process started by
    another counts the parent's memory at the fork (the bench's own, gigabytes after a large ingest)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    # ru_maxrss is in KiB on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


_GENERATED = re.compile(r"Medname\d{4,}|substance\d{4,}|EMA/\d{6}/\d{4}|EMEA/H/C/\d{6}", re.IGNORECASE)


def seed_key(text: str) -> str:
    """A generated text with its generated names and numbers taken out: the same for every copy of one seed text."""
    return _GENERATED.sub("#", text)


class VectorPool:
    """Every vector the model computed in this run, by text and by seed text."""

    def __init__(self) -> None:
        self.by_text: dict[str, object] = {}
        self.by_key: dict[str, list] = {}
        self._noise: float | None = None

    def add(self, text: str, vector) -> None:
        if text not in self.by_text:
            self.by_text[text] = vector
            self.by_key.setdefault(seed_key(text), []).append(vector)
            self._noise = None

    def noise(self) -> float:
        """Noise scale whose perturbed copies of one vector are as similar to each other as real
        renamed copies of one seed text are (median cosine over seed texts with two copies)."""
        if self._noise is None:
            import numpy as np

            cosines = [float(np.dot(v[0], v[1])) for v in self.by_key.values() if len(v) >= 2]
            c = min(statistics.median(cosines), 0.9999) if cosines else 0.99
            # two copies v + s*g1, v + s*g2 (g ~ N(0, I/d)) have cosine 1 / (1 + s^2)
            self._noise = math.sqrt(1 / c - 1)
        return self._noise


def _seed_of(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


class BenchEmbedder:
    """The real embedder, recording what it computes into the pool; with `variants`, a text the
    pool lacks gets a perturbed real vector of its seed text instead (see the module docstring)."""

    def __init__(self, inner, pool: VectorPool, variants: bool) -> None:
        self.inner, self.pool, self.variants = inner, pool, variants
        self.embedded = self.exact = self.perturbed = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def passages(self, texts: list[str]):
        import numpy as np

        pool = self.pool
        if not self.variants:  # what ingest does, recorded
            vectors = self.inner.passages(texts)
            for t, v in zip(texts, vectors):
                pool.add(t, v)
            self.embedded += len(texts)
            return vectors
        todo = [t for t in dict.fromkeys(texts) if t not in pool.by_text and not pool.by_key.get(seed_key(t))]
        if todo:  # a seed text no smaller tier embedded: once, for real
            for t, v in zip(todo, self.inner.passages(todo)):
                pool.add(t, v)
        self.embedded += len(todo)
        out = np.empty((len(texts), 0), np.float32)
        for row, t in enumerate(texts):
            v = pool.by_text.get(t)
            if v is None:
                rng = np.random.default_rng(_seed_of(t))
                copies = pool.by_key[seed_key(t)]
                base = copies[int(rng.integers(len(copies)))]
                v = base + pool.noise() * rng.standard_normal(base.shape[0]).astype(np.float32) / math.sqrt(base.shape[0])
                v = v / np.linalg.norm(v)
                self.perturbed += 1
            elif t not in todo:
                self.exact += 1
            if out.shape[1] == 0:
                out = np.empty((len(texts), v.shape[0]), np.float32)
            out[row] = v
        return out

    def get_text_embedding_batch(self, texts: list[str], **_) -> list[list[float]]:
        return self.passages(texts).tolist()


def bench_ingest(corpus: Path, settings, label: str, pool: VectorPool | None = None, variants: bool = False) -> dict:
    """Ingest the corpus into a new store; without a pool the embedder is used as it is."""
    import rag.embedder as embedder_module
    from ingest.pipeline import ingest

    real = embedder_module.get_embedder(settings)
    embedder = BenchEmbedder(real, pool, variants) if pool is not None else real
    total = sum(1 for p in corpus.rglob("*") if p.is_file() and p.name != "SOURCES.md")
    done = [0]
    start = time.perf_counter()

    def progress(name: str) -> None:
        done[0] += 1
        if done[0] % 500 == 0 or done[0] == total:
            log(f"  {label}: {done[0]}/{total} documents, {time.perf_counter() - start:.0f} s")

    original = embedder_module.get_embedder
    embedder_module.get_embedder = lambda s: embedder
    try:
        report = ingest([corpus], settings, progress=progress)
    finally:
        embedder_module.get_embedder = original
    wall = time.perf_counter() - start
    docs = [f.doc for f in report.files if f.status in ("added", "updated") and f.doc]
    sections = [s for d in docs for s in d.sections]
    tokens = sum(real.count_tokens(s.text) for s in sections)
    out = {
        "documents": len(docs), "sections": len(sections), "tokens": tokens, "skipped": len(report.skipped),
        "wall_s": round(wall, 2), "sections_per_s": round(len(sections) / wall, 2),
        "tokens_per_s": round(tokens / wall, 1), "store_count": report.store_count, "variants": variants,
        "embed_quantization": settings.embed_quantization, "embed_batch_size": settings.embed_batch_size,
    }
    if isinstance(embedder, BenchEmbedder):
        out["texts_embedded"] = embedder.embedded
        out["texts_reused_exact"], out["texts_perturbed"] = embedder.exact, embedder.perturbed
        if variants:
            out["noise"] = round(pool.noise(), 4)
            out["noise_cosine_to_source"] = round(1 / math.sqrt(1 + pool.noise() ** 2), 4)
    return out


class _Stopwatch:
    """Time spent in some methods of one service, per answer (wrapped on the instances only)."""

    PARTS = ("dense", "bm25", "fetch")

    def __init__(self, service) -> None:
        self.spent = dict.fromkeys(self.PARTS, 0.0)
        self._wrap(service.store, "query", "dense")  # Chroma's vector search, with the medicine filter
        self._wrap(service.corpus, "bm25_scores", "bm25")  # BM25 over every section
        self._wrap(service.store, "sections", "fetch")  # candidates BM25 found that the dense search did not

    def _wrap(self, obj, name: str, part: str) -> None:
        inner = getattr(obj, name)

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[part] += time.perf_counter() - t

        setattr(obj, name, timed)

    def reset(self) -> None:
        self.spent = dict.fromkeys(self.PARTS, 0.0)


def bench_answers(settings, names: dict[str, str]) -> dict:
    """In a process that has just started: the first question, the app's start-up warm-up, then
    every question twice."""
    started = time.perf_counter()
    from rag.service import RagService
    from ui.warm import warm

    service = RagService(settings)
    questions = [q.format(**names) for q in QUESTIONS]
    t = time.perf_counter()
    service.answer(questions[1])
    first_question = time.perf_counter() - t
    since_start = time.perf_counter() - started
    warm_up = warm(service)  # what the app does at start: the drug dictionary, indexes, model
    watch = _Stopwatch(service)

    def timed() -> tuple[list[float], dict[str, list[float]]]:
        out, parts = [], {p: [] for p in (*_Stopwatch.PARTS, "rest")}
        for q in questions:
            watch.reset()
            t = time.perf_counter()
            service.answer(q)
            total = (time.perf_counter() - t) * 1000
            out.append(total)
            for p in _Stopwatch.PARTS:
                parts[p].append(watch.spent[p] * 1000)
            parts["rest"].append(total - sum(watch.spent.values()) * 1000)
        return out, parts

    (first, parts), (repeat, _) = timed(), timed()
    return {"questions": len(questions), "first_question_ms": round(first_question * 1000, 1),
            "start_to_first_answer_ms": round(since_start * 1000, 1), "warm_up_ms": round(warm_up * 1000, 1),
            "latency_ms": _stats(first), "latency_ms_repeat": _stats(repeat),
            "parts_ms_first_time": {p: _stats(v) for p, v in parts.items()}, "peak_rss_mb": peak_rss_mb()}


def answers_in_fresh_process(settings, names: dict[str, str]) -> dict:
    code = ("import json, sys; from pathlib import Path; from rag.offline import prepare_environment; "
            "prepare_environment(); from eval.bench import bench_answers; from eval.runner import eval_settings; "
            "print(json.dumps(bench_answers(eval_settings(Path(sys.argv[1])), json.loads(sys.argv[2]))))")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code, str(settings.store_dir), json.dumps(names)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _stats(ms: list[float]) -> dict:
    return {"p50": round(percentile(ms, 50), 1), "p95": round(percentile(ms, 95), 1)}


def run_tier(root: Path, target: int, embed_limit: int, pool: VectorPool, keep: Path | None = None) -> dict:
    from .synth import generate

    settings = eval_settings(root / f"tier{target}" / "store")
    if target <= 35:
        corpus, names = SEED_CORPUS, {m: m for m in SEED_MEDICINES}
    else:
        n_docs = max(4, math.ceil(target / SECTIONS_PER_DOC))
        log(f"tier {target}: generating {n_docs} documents")
        corpus = root / f"tier{target}" / "corpus"
        docs = generate(corpus, n_docs)
        middle = docs[len(docs) // 2:] + docs
        names = {m: next(d.medicine for d in middle if d.seed_medicine == m) for m in SEED_MEDICINES}
    variants = target > embed_limit
    log(f"tier {target}: ingest" + (" (variants: vectors of real embeddings, perturbed)" if variants else ""))
    result = {"target_sections": target,
              "ingest": bench_ingest(corpus, settings, f"tier {target}", pool, variants)}
    log(f"tier {target}: answers in a fresh process")
    result["answer"] = answers_in_fresh_process(settings, names)
    result["medicines_asked"] = names
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        shutil.move(str(settings.store_dir), str(keep / f"tier{target}"))
        result["kept_store"] = str(keep / f"tier{target}")
    shutil.rmtree(root / f"tier{target}", ignore_errors=True)
    return result


# The settings ingest ran with before int8 weights, one text per call and sentence vectors at the
# first quote became the default.
PREVIOUS = {"embed_quantization": "q4", "embed_batch_size": 4, "sentence_vectors": "ingest"}

# One ingest in its own process, model loaded before the clock; only APIs every version has.
_TIMED_INGEST = """
import json, sys, time
from pathlib import Path
from rag.settings import Settings
from rag.embedder import get_embedder
from ingest.pipeline import ingest
s = Settings(_env_file=None, store_dir=Path(sys.argv[2]), model_cache_dir=Path(sys.argv[3]))
get_embedder(s).get_text_embedding("warm-up")
import chromadb
t = time.perf_counter()
report = ingest([Path(sys.argv[1])], s)
print(json.dumps({"wall_s": round(time.perf_counter() - t, 2), "store_count": report.store_count}))
"""


def _ingest_in_process(code: Path, corpus: Path, store: Path, env: dict) -> dict:
    env = dict(os.environ, **env, PYTHONPATH=str(code))
    for name in ("STORE_DIR", "CHROMA_HOST", "LLM_BASE_URL"):
        env.pop(name, None)
    from rag.settings import Settings

    cache = str(Settings().model_cache_dir)
    out = subprocess.run([sys.executable, "-c", _TIMED_INGEST, str(corpus), str(store), cache], cwd=code, env=env,
                         capture_output=True, text=True, timeout=7200)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _checkout(rev: str, into: Path) -> Path:
    """The code of a git revision of this repository, unpacked (no worktree left behind)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def compare_ingest(root: Path, n_docs: int, rounds: int, against: str | None = None) -> dict:
    """The same generated corpus ingested before and after, alternating, each into a fresh store:
    before is the previous settings, or with `against` the code of that git revision."""
    from rag.embedder import get_embedder

    from .synth import generate

    corpus = root / "compare" / "corpus"
    generate(corpus, n_docs)
    if against:
        old = _checkout(against, root / "compare" / "code")
        configs = {"previous": (old, {}), "current": (ROOT, {})}
        described = {"previous": f"the code of {against}", "current": "this code"}
    else:
        configs = {"previous": (ROOT, {k.upper(): str(v) for k, v in PREVIOUS.items()}), "current": (ROOT, {})}
        described = {"previous": ", ".join(f"{k.upper()}={v}" for k, v in PREVIOUS.items()), "current": "the defaults"}
    get_embedder(eval_settings(root / "compare" / "warm")).get_text_embedding("warm-up")  # converts the model once
    runs: dict[str, list[dict]] = {k: [] for k in configs}
    for r in range(rounds):
        for label, (code, env) in configs.items():
            store = root / "compare" / f"store-{label}-{r}"
            log(f"compare ingest, round {r + 1}: {described[label]}")
            runs[label].append(_ingest_in_process(code, corpus, store, env))
            if label == "current" and r == 0:
                tokens = _stored_tokens(store)
            shutil.rmtree(store, ignore_errors=True)
    for got in runs["previous"] + runs["current"]:
        got["tokens_per_s"] = round(tokens / got["wall_s"], 1)
    ratios = [c["tokens_per_s"] / p["tokens_per_s"] for p, c in zip(runs["previous"], runs["current"])]
    return {"documents": n_docs, "section_tokens": tokens, "described": described, "runs": runs,
            "ratio_per_round": [round(x, 2) for x in ratios]}


def _stored_tokens(store: Path) -> int:
    """Section tokens in a store, as this model counts them: the work both sides of a comparison do."""
    from rag.embedder import get_embedder
    from rag.store import SectionStore

    settings = eval_settings(store)
    embedder = get_embedder(settings)
    texts = SectionStore(settings).collection.get(include=["documents"])["documents"]
    return sum(embedder.count_tokens(t) for t in texts)


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run(tiers: list[int], embed_limit: int, on_tier=None, compare_docs: int = 0, rounds: int = 2,
        keep: Path | None = None, against: str | None = None) -> dict:
    from rag.embedder import get_embedder
    from rag.settings import Settings

    s = Settings()
    result: dict = {"machine": machine(), "embed_quantization": s.embed_quantization,
                    "embed_batch_size": s.embed_batch_size, "embed_limit": embed_limit,
                    "load_average_at_start": load_average(), "tiers": []}
    pool = VectorPool()
    with tempfile.TemporaryDirectory(prefix="ema-bench-") as tmp:
        root = Path(tmp)
        get_embedder(eval_settings(root / "warm")).get_text_embedding("warm-up")  # model load is not ingest time
        import chromadb  # noqa: F401  (nor is importing the store's library)

        if compare_docs:
            result["compare_ingest"] = compare_ingest(root, compare_docs, rounds, against)
            if on_tier:
                on_tier(result)
        for target in tiers:
            tier = run_tier(root, target, embed_limit, pool, keep)
            tier["load_average_after"] = load_average()
            result["tiers"].append(tier)
            if on_tier:
                on_tier(result)  # figures so far, in case a larger tier does not finish
    result["load_average_at_end"] = load_average()
    return result


def markdown(result: dict) -> str:
    tiers = result["tiers"]
    lines: list[str] = []

    def row(label: str, values) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    if tiers:
        lines += ["| | " + " | ".join(f"{t['ingest']['sections']:,} sections" for t in tiers) + " |",
                  "|---|" + "---:|" * len(tiers)]
        row("documents", [f"{t['ingest']['documents']:,}" for t in tiers])
        row("vectors", ["variants *" if t["ingest"]["variants"] else "all embedded" for t in tiers])
        row("ingest tokens/s", [f"{t['ingest']['tokens_per_s']:,.0f}" + (" *" if t["ingest"]["variants"] else "")
                                for t in tiers])
        row("ingest wall time", [f"{t['ingest']['wall_s']:,.0f} s" for t in tiers])
        row("first question after start (cold)", [f"{t['answer']['first_question_ms']:,.0f} ms" for t in tiers])
        row("process start to first answer", [f"{t['answer']['start_to_first_answer_ms']:,.0f} ms" for t in tiers])
        row("app start-up warm-up", [f"{t['answer']['warm_up_ms']:,.0f} ms" for t in tiers])
        for key, label in (("latency_ms", "first time"), ("latency_ms_repeat", "repeated")):
            row(f"answer p50 / p95, {label}", [f"{t['answer'][key]['p50']:.0f} / {t['answer'][key]['p95']:.0f} ms"
                                               for t in tiers])
        parts = (("dense", "Chroma vector search"), ("bm25", "BM25 over every section"),
                 ("fetch", "fetching BM25-only candidates"), ("rest", "everything else"))
        for key, label in parts:
            row(f"of which {label}, p50 / p95", [
                f"{t['answer']['parts_ms_first_time'][key]['p50']:.1f} / {t['answer']['parts_ms_first_time'][key]['p95']:.1f} ms"
                for t in tiers])
        row("peak RSS of the answering process", [f"{t['answer']['peak_rss_mb']:,.0f} MB" for t in tiers])
        row("load average after the tier", [", ".join(map(str, t.get("load_average_after") or ["?"])) for t in tiers])
    m = result["machine"]
    notes = [f"\nMachine: {m['cpu_count']} CPUs, {m['ram_gb']} GB RAM, {m['platform']}, Python {m['python']}; "
             f"EMBED_QUANTIZATION={result['embed_quantization']}, EMBED_BATCH_SIZE={result['embed_batch_size']}; "
             f"load average at start {result.get('load_average_at_start')}, at end {result.get('load_average_at_end')}."]
    variant = [t for t in tiers if t["ingest"]["variants"]]
    if variant:
        i = variant[0]["ingest"]
        notes.append(f"* built from variants: every document parsed, stored and indexed by the real ingest; "
                     f"{i['texts_reused_exact']:,} texts got the vector the model computed for them in a smaller tier, "
                     f"{i['texts_perturbed']:,} the real vector of the same seed text in another generated document "
                     f"plus noise (cosine {i['noise_cosine_to_source']} to it, as far apart as real renamed copies), "
                     f"{i['texts_embedded']:,} were embedded. Its ingest figures measure parsing and storing, not the model.")
    notes.append("Answer parts are the first-time pass; the first question and the warm-up are outside the two passes.")
    compare = result.get("compare_ingest")
    if compare:
        d = compare["described"]
        notes += ["", f"Ingest side by side ({compare['documents']} generated documents, "
                      f"{compare['section_tokens']:,} section tokens, each ingest in its own process with the model "
                      "loaded before the clock, alternating):", "",
                  f"| round | before: {d['previous']} | after: {d['current']} | ratio |",
                  "|---|---:|---:|---:|"]
        for n, (p, c, r) in enumerate(zip(compare["runs"]["previous"], compare["runs"]["current"],
                                          compare["ratio_per_round"]), start=1):
            notes.append(f"| {n} | {p['tokens_per_s']:,.0f} tokens/s | {c['tokens_per_s']:,.0f} tokens/s | {r:.2f}× |")
    return "\n".join(lines + notes) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.split("\n\n")[1])
    p.add_argument("--tiers", default="35,3500,40000", help="stored sections per tier (default 35,3500,40000)")
    p.add_argument("--embed-limit", type=int, default=3500,
                   help="tiers above this many sections are built from variants of real vectors (default 3500)")
    p.add_argument("--compare-ingest", type=int, default=0, metavar="DOCS",
                   help="also ingest DOCS generated documents with the previous and the current settings, side by side")
    p.add_argument("--rounds", type=int, default=2, help="rounds of --compare-ingest (default 2)")
    p.add_argument("--against", metavar="REV", help="--compare-ingest against the code of this git revision "
                   "instead of the previous settings")
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep each tier's store in DIR/tierN (to profile it)")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--markdown", type=Path, help="write the table here")
    args = p.parse_args(argv)
    try:
        tiers = sorted({int(t) for t in args.tiers.split(",") if t.strip()})
    except ValueError:
        p.error("--tiers takes numbers separated by commas, e.g. 35,3500")
    if tiers and tiers[0] < 1:
        p.error("--tiers needs positive numbers")
    if not tiers and not args.compare_ingest:
        p.error("nothing to run: give --tiers or --compare-ingest")

    from rag.offline import prepare_environment

    prepare_environment()

    def write(result: dict) -> None:
        for path, text in ((args.json, json.dumps(result, indent=2)), (args.markdown, markdown(result))):
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                log(f"wrote {path}")

    result = run(tiers, args.embed_limit, on_tier=write, compare_docs=args.compare_ingest, rounds=args.rounds,
                 keep=args.keep, against=args.against)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
