"""python -m eval [--qa FILE] [--corpus DIR ...] [--json OUT] [--report DIR] [--baseline] [--split S] [--store DIR]

By default the 500 questions of eval/qa_corpus.jsonl (dev and test) over data/summaries and
eval/corpus; `--qa eval/qa.jsonl --corpus data/summaries` is the 120-question seed set.

Measures; does not judge: exits 0 whatever the scores, 2 for a bad question file or corpus
folder, 1 for any other error.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .runner import EVAL_CORPUS, EVAL_QA, QAFileError, build_store, eval_settings, load_qa, run


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval", description="Evaluate the answer service on a question set.")
    p.add_argument("--qa", type=Path, default=EVAL_QA,
                   help="question set, JSONL (default: eval/qa_corpus.jsonl; eval/qa.jsonl is the seed set)")
    p.add_argument("--corpus", type=Path, nargs="+", default=list(EVAL_CORPUS),
                   help="folders or files to index (default: data/summaries eval/corpus)")
    p.add_argument("--json", type=Path, help="write metrics and per-question rows here")
    p.add_argument("--report", type=Path, help="write report.md and metrics.png into this folder")
    p.add_argument("--baseline", action="store_true", help="also run the llama-index baseline (hybrid retrieval "
                   "over our parser's sections, with a similarity cut-off)")
    p.add_argument("--split", choices=("dev", "test"), help="only the questions of this split")
    p.add_argument("--store", type=Path, help="keep the index in this folder and reuse it on the next run "
                   "(ingest skips unchanged files); default: a temporary folder")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    from rich.console import Console

    from rag.offline import prepare_environment

    prepare_environment()
    err = Console(stderr=True, soft_wrap=True)
    try:
        items = load_qa(args.qa)
    except QAFileError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return 2
    if args.split:
        items = [i for i in items if i.split == args.split]
        if not items:
            err.print(f"[red]error:[/red] no questions of split {args.split!r} in {args.qa}", highlight=False)
            return 2
    missing = [str(p) for p in args.corpus if not p.exists()]
    if missing:
        err.print(f"[red]error:[/red] no such corpus folder or file: {', '.join(missing)}", highlight=False)
        return 2

    with tempfile.TemporaryDirectory(prefix="ema-eval-") as tmp:
        settings = eval_settings(args.store or Path(tmp) / "store")
        where = f"the store {args.store}" if args.store else "a temporary store"
        err.print(f"indexing {', '.join(map(str, args.corpus))} into {where}")
        try:
            build_store(args.corpus, settings)
        except RuntimeError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            return 1

        from rag.service import RagService

        service = RagService(settings)
        results = {"ours": run(items, service.answer, "ours"), "baseline": None}
        if args.baseline:
            from .baseline import Baseline

            err.print("building the baseline's index")
            try:
                base = Baseline(args.corpus, settings)
            except RuntimeError as exc:
                err.print(f"[red]error:[/red] {exc}", highlight=False)
                return 1
            results["baseline"] = run(items, base.answer, "baseline")

    from .report import print_table, write_report

    print_table(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        err.print(f"wrote {args.json}")
    if args.report:
        err.print(f"wrote {write_report(results, args.report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
