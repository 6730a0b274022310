"""python -m ingest [PATH ...] [--store DIR] [--reset]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Ingest EMA medicine overviews (.txt, .md, .pdf) into the section store.",
    )
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: SUMMARIES_DIR, data/summaries)")
    p.add_argument("--store", type=Path, help="store folder (default: STORE_DIR)")
    p.add_argument("--reset", action="store_true", help="empty the store before ingesting")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    from rag.offline import prepare_environment
    from rag.settings import Settings

    from .pipeline import IngestBusy, collect_files, ingest

    prepare_environment()
    settings = Settings()
    if args.store:
        settings = settings.model_copy(update={"store_dir": args.store})
    paths = args.paths or [settings.summaries_dir]
    err = Console(stderr=True)
    try:
        files, _ = collect_files(paths)
    except FileNotFoundError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2

    from tqdm import tqdm

    bar = tqdm(total=len(files), desc="ingest", unit="file", file=sys.stderr, disable=None)
    try:
        report = ingest(paths, settings, reset=args.reset, progress=lambda name: (bar.set_postfix_str(name), bar.update(1)))
    except IngestBusy as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 3
    except Exception as exc:  # the store or model is unusable: say what, not a traceback
        from rag.store import StoreError

        if isinstance(exc, StoreError):
            err.print(f"[red]error:[/red] {exc}")
            return 3
        raise
    finally:
        bar.close()

    print_report(report, settings)
    return report.exit_code


def print_report(report, settings) -> None:
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # logs and CI: keep each document on one line
    table = Table(title="Ingested documents", show_lines=False)
    for col in ("file", "status", "medicine", "lang", "reference", "product", "sections"):
        table.add_column(col, no_wrap=col != "reference")
    for r in report.files:
        if r.status in ("skipped", "ignored"):
            continue
        d = r.doc
        ref = (d.ref or "—") + (" (inferred)" if r.ref_inferred else "")
        medicine = (d.medicine or "?") + (" (file name)" if d.medicine_source == "file name" else "")
        inferred = sum(s.inferred for s in d.sections)
        count = str(len(d.sections)) + (f" ({inferred} by content)" if inferred else "")
        table.add_row(r.name, r.status, medicine, d.language, ref, d.product_number or "—", count)
    console.print(table)
    for r in report.files:
        for note in r.notes:
            console.print(f"  note  {r.name}: {note}")
    for r in report.files:
        if r.status == "skipped":
            console.print(f"  [red]skipped[/red]  {r.path}: {r.reason}")
        elif r.status == "ignored":
            console.print(f"  ignored  {r.path}: {r.reason}")
    where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.server_mode else str(settings.store_dir)
    console.print(
        f"store {where}: {report.store_count} sections"
        + (f", {report.removed_sections} stale removed" if report.removed_sections else "")
        + (f"; {len(report.skipped)} file(s) skipped" if report.skipped else "")
    )


if __name__ == "__main__":
    sys.exit(main())
