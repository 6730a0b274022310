"""python -m eval.bench [--json OUT] [--docs N]

Ingest throughput and answer() latency on the seed corpus, then on N generated documents (see
eval.synth), and how query latency grows between the two. Every store is temporary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from .metrics import percentile
from .runner import DEFAULT_CORPUS, eval_settings

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
    # ru_maxrss is in KiB on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def bench_ingest(corpus: Path, settings, label: str) -> dict:
    from ingest.pipeline import ingest
    from rag.embedder import get_embedder

    embedder = get_embedder(settings)
    total = sum(1 for p in corpus.rglob("*") if p.is_file() and p.name != "SOURCES.md")
    done = [0]
    start = time.perf_counter()

    def progress(name: str) -> None:
        done[0] += 1
        if done[0] % 50 == 0 or done[0] == total:
            elapsed = time.perf_counter() - start
            log(f"  {label}: {done[0]}/{total} documents embedded, {elapsed:.0f} s")

    report = ingest([corpus], settings, progress=progress)
    wall = time.perf_counter() - start
    docs = [f.doc for f in report.files if f.status in ("added", "updated") and f.doc]
    sections = [s for d in docs for s in d.sections]
    tokens = sum(embedder.count_tokens(s.text) for s in sections)
    return {
        "documents": len(docs), "sections": len(sections), "tokens": tokens, "skipped": len(report.skipped),
        "wall_s": round(wall, 2), "docs_per_s": round(len(docs) / wall, 2),
        "sections_per_s": round(len(sections) / wall, 2), "tokens_per_s": round(tokens / wall, 1),
        "store_count": report.store_count, "peak_rss_mb": peak_rss_mb(),
    }


def bench_answers(settings, names: dict[str, str]) -> dict:
    from rag.service import RagService

    service = RagService(settings)
    questions = [q.format(**names) for q in QUESTIONS]
    start = time.perf_counter()
    service.answer(questions[0])  # loads the section index: timed apart as warm-up
    warmup = time.perf_counter() - start

    def timed() -> list[float]:
        out = []
        for q in questions:
            t = time.perf_counter()
            service.answer(q)
            out.append((time.perf_counter() - t) * 1000)
        return out

    first, repeat = timed(), timed()
    # first pass embeds each answered section's sentences once; the repeat pass finds them cached
    return {"questions": len(questions), "warmup_ms": round(warmup * 1000, 1), "latency_ms": _stats(first),
            "latency_ms_repeat": _stats(repeat), "peak_rss_mb": peak_rss_mb()}


def _stats(ms: list[float]) -> dict:
    return {"p50": round(percentile(ms, 50), 1), "p95": round(percentile(ms, 95), 1)}


def _ratio(before: float, after: float) -> float | None:
    return round(after / before, 2) if before else None


def run(n_docs: int) -> dict:
    from rag.embedder import get_embedder

    from .synth import generate

    result: dict = {"machine": machine(), "docs": n_docs}
    with tempfile.TemporaryDirectory(prefix="ema-bench-") as tmp:
        root = Path(tmp)
        seed_settings = eval_settings(root / "seed" / "store")
        get_embedder(seed_settings).get_text_embedding("warm-up")  # model load is not ingest time
        log("seed corpus: ingest")
        seed = {"ingest": bench_ingest(DEFAULT_CORPUS, seed_settings, "seed")}
        log("seed corpus: answers")
        seed["answer"] = bench_answers(seed_settings, {m: m for m in ("Conexxence", "Lumykras", "Opzelura")})
        result["seed"] = seed

        log(f"generating {n_docs} documents")
        docs = generate(root / "synth" / "corpus", n_docs)
        middle = docs[len(docs) // 2:] + docs
        names = {}
        for m in ("Conexxence", "Lumykras", "Opzelura"):
            names[m] = next((d.medicine for d in middle if d.seed_medicine == m), m)
        synth_settings = eval_settings(root / "synth" / "store")
        log(f"generated corpus: ingest ({n_docs} documents)")
        synth = {"ingest": bench_ingest(root / "synth" / "corpus", synth_settings, "generated")}
        log("generated corpus: answers")
        synth["answer"] = bench_answers(synth_settings, names)
        synth["medicines_asked"] = names
        result["generated"] = synth

    result["growth"] = {
        f"{key}_{p}": _ratio(seed["answer"][key][p], synth["answer"][key][p])
        for key in ("latency_ms", "latency_ms_repeat") for p in ("p50", "p95")
    }
    return result


def print_summary(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    m = result["machine"]
    console = Console()
    console.print(f"machine: {m['cpu_count']} CPUs, {m['ram_gb']} GB RAM, {m['platform']}, Python {m['python']}")
    table = Table(title="Benchmarks")
    table.add_column("")
    table.add_column("seeds", justify="right")
    table.add_column(f"generated ({result['docs']} docs)", justify="right")
    table.add_column("growth", justify="right")
    s, g, gr = result["seed"], result["generated"], result["growth"]
    for key in ("documents", "sections", "tokens", "wall_s", "docs_per_s", "sections_per_s", "tokens_per_s"):
        table.add_row(f"ingest {key}", str(s["ingest"][key]), str(g["ingest"][key]), "")
    for key in ("latency_ms", "latency_ms_repeat"):
        for p in ("p50", "p95"):
            table.add_row(f"answer {key} {p}", str(s["answer"][key][p]), str(g["answer"][key][p]), f"{gr[f'{key}_{p}']}×")
    table.add_row("peak RSS MB (process, so far)", str(s["answer"]["peak_rss_mb"]), str(g["answer"]["peak_rss_mb"]), "")
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench", description="Ingest and answer() benchmarks on the seeds and on a generated corpus.")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--docs", type=int, default=1000, help="documents in the generated corpus (default 1000)")
    args = p.parse_args(argv)
    if args.docs < 4:
        p.error("--docs must be at least 4 (one document per seed file)")

    from rag.offline import prepare_environment

    prepare_environment()
    result = run(args.docs)
    print_summary(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
