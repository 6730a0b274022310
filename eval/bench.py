"""python -m eval.bench [--tiers 35,3500,40000] [--json OUT] [--markdown OUT]

Per tier of stored sections: ingest throughput, then — in a freshly started process, as an app
after a restart — the first question's latency, answer() p50/p95 the first time each question
is asked and repeated, and the process's peak RSS. Tier 35 is the seed corpus; larger tiers are
generated from it (eval.synth, about 8.75 sections a document).

Embedding 40,000 sections takes about half an hour on 2 cores, so generated tiers above
--embed-limit sections embed each distinct text once: a generated text differs from its seed only
in names and numbers, and those repeats reuse the seed text's vector. The output says so; their
ingest figures then measure parsing and storing, not the model. Every store is temporary.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
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
    # ru_maxrss is in KiB on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class ReusingEmbedder:
    """The real embedder, but a text that differs from one already embedded only in generated
    names and numbers gets that text's vector (see the module docstring)."""

    _GENERATED = re.compile(r"Medname\d{4,}|substance\d{4,}|EMA/\d{6}/\d{4}|EMEA/H/C/\d{6}", re.IGNORECASE)

    def __init__(self, inner) -> None:
        self.inner = inner
        self.cache: dict[str, list[float]] = {}
        self.embedded = self.reused = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def passages(self, texts: list[str]):
        import numpy as np

        keys = [self._GENERATED.sub("#", t) for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts) if k not in self.cache}.items())
        if todo:
            for (k, _), v in zip(todo, self.inner.passages([t for _, t in todo])):
                self.cache[k] = v
        self.embedded += len(todo)
        self.reused += len(texts) - len(todo)
        return np.asarray([self.cache[k] for k in keys], dtype=np.float32)

    def get_text_embedding_batch(self, texts: list[str], **_) -> list[list[float]]:
        return self.passages(texts).tolist()


def bench_ingest(corpus: Path, settings, label: str, reuse: bool) -> dict:
    import rag.embedder as embedder_module
    from ingest.pipeline import ingest

    real = embedder_module.get_embedder(settings)
    embedder = ReusingEmbedder(real) if reuse else real
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
        "tokens_per_s": round(tokens / wall, 1), "store_count": report.store_count, "vectors_reused": reuse,
    }
    if reuse:
        out["texts_embedded"], out["texts_reused"] = embedder.embedded, embedder.reused
    return out


def bench_answers(settings, names: dict[str, str]) -> dict:
    """In a process that has just started: the first question, then every question twice."""
    started = time.perf_counter()
    from rag.service import RagService

    service = RagService(settings)
    questions = [q.format(**names) for q in QUESTIONS]
    t = time.perf_counter()
    service.answer(questions[1])
    first_question = time.perf_counter() - t
    since_start = time.perf_counter() - started

    def timed() -> list[float]:
        out = []
        for q in questions:
            t = time.perf_counter()
            service.answer(q)
            out.append((time.perf_counter() - t) * 1000)
        return out

    first, repeat = timed(), timed()
    return {"questions": len(questions), "first_question_ms": round(first_question * 1000, 1),
            "start_to_first_answer_ms": round(since_start * 1000, 1), "latency_ms": _stats(first),
            "latency_ms_repeat": _stats(repeat), "peak_rss_mb": peak_rss_mb()}


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


def run_tier(root: Path, target: int, embed_limit: int) -> dict:
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
    reuse = target > embed_limit
    log(f"tier {target}: ingest" + (" (vectors of repeated texts reused)" if reuse else ""))
    result = {"target_sections": target, "ingest": bench_ingest(corpus, settings, f"tier {target}", reuse)}
    log(f"tier {target}: answers in a fresh process")
    result["answer"] = answers_in_fresh_process(settings, names)
    result["medicines_asked"] = names
    return result


def run(tiers: list[int], embed_limit: int, on_tier=None) -> dict:
    from rag.embedder import get_embedder
    from rag.settings import Settings

    s = Settings()
    result: dict = {"machine": machine(), "embed_quantization": s.embed_quantization,
                    "embed_batch_size": s.embed_batch_size, "embed_limit": embed_limit, "tiers": []}
    with tempfile.TemporaryDirectory(prefix="ema-bench-") as tmp:
        root = Path(tmp)
        get_embedder(eval_settings(root / "warm")).get_text_embedding("warm-up")  # model load is not ingest time
        for target in tiers:
            result["tiers"].append(run_tier(root, target, embed_limit))
            if on_tier:
                on_tier(result)  # figures so far, in case a larger tier does not finish
    return result


def markdown(result: dict) -> str:
    tiers = result["tiers"]
    head = "| | " + " | ".join(f"{t['ingest']['sections']:,} sections" for t in tiers) + " |"
    lines = [head, "|---|" + "---:|" * len(tiers)]

    def row(label: str, values) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    row("documents", [f"{t['ingest']['documents']:,}" for t in tiers])
    row("ingest tokens/s", [f"{t['ingest']['tokens_per_s']:,.0f}" + (" *" if t["ingest"]["vectors_reused"] else "")
                            for t in tiers])
    row("ingest wall time", [f"{t['ingest']['wall_s']:,.0f} s" for t in tiers])
    row("first question after start", [f"{t['answer']['first_question_ms']:,.0f} ms" for t in tiers])
    row("start to first answer", [f"{t['answer']['start_to_first_answer_ms']:,.0f} ms" for t in tiers])
    for key, label in (("latency_ms", "first time"), ("latency_ms_repeat", "repeated")):
        row(f"answer p50 / p95, {label}", [f"{t['answer'][key]['p50']:.0f} / {t['answer'][key]['p95']:.0f} ms"
                                           for t in tiers])
    row("peak RSS of the answering process", [f"{t['answer']['peak_rss_mb']:,.0f} MB" for t in tiers])
    m = result["machine"]
    notes = [f"\nMachine: {m['cpu_count']} CPUs, {m['ram_gb']} GB RAM, {m['platform']}, Python {m['python']}; "
             f"EMBED_QUANTIZATION={result['embed_quantization']}, EMBED_BATCH_SIZE={result['embed_batch_size']}."]
    if any(t["ingest"]["vectors_reused"] for t in tiers):
        notes.append("* vectors of repeated generated texts reused (each distinct text embedded once): "
                     "this figure measures parsing and storing, not embedding.")
    return "\n".join(lines + notes) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.split("\n\n")[1])
    p.add_argument("--tiers", default="35,3500,40000", help="stored sections per tier (default 35,3500,40000)")
    p.add_argument("--embed-limit", type=int, default=3500,
                   help="tiers above this many sections reuse the vectors of repeated texts (default 3500)")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--markdown", type=Path, help="write the table here")
    args = p.parse_args(argv)
    try:
        tiers = sorted({int(t) for t in args.tiers.split(",") if t.strip()})
    except ValueError:
        p.error("--tiers takes numbers separated by commas, e.g. 35,3500")
    if not tiers or tiers[0] < 1:
        p.error("--tiers needs positive numbers")

    from rag.offline import prepare_environment

    prepare_environment()
    def write(result: dict) -> None:
        for path, text in ((args.json, json.dumps(result, indent=2)), (args.markdown, markdown(result))):
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                log(f"wrote {path}")

    result = run(tiers, args.embed_limit, on_tier=write)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
