"""python -m rag "How often is Conexxence given?" [--json] [--history FILE]"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rag", description="Ask the EMA overviews a question.")
    p.add_argument("question", help="the question, in English or Swedish")
    p.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    p.add_argument("--history", type=Path, help='JSON file with earlier turns: [{"role": "user", "content": "..."}, ...]')
    p.add_argument("--store", type=Path, help="store folder (default: STORE_DIR)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    history = []
    if args.history:
        try:
            history = json.loads(args.history.read_text(encoding="utf-8"))
            assert isinstance(history, list) and all(isinstance(t, dict) for t in history)
        except (OSError, ValueError, AssertionError):
            print(f"error: {args.history} must be a JSON list of {{role, content}} turns", file=sys.stderr)
            return 2

    from .offline import prepare_environment

    prepare_environment()
    # The language identifier's model is decompressed while the store and the embedder are opened.
    threading.Thread(target=_load_language_model, daemon=True, name="language-load").start()
    from .settings import Settings
    from .store import StoreError

    settings = Settings()
    if args.store:
        settings = settings.model_copy(update={"store_dir": args.store})
    try:
        from .service import RagService

        answer = RagService(settings).answer(args.question, history)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(answer.answer)
    for c in answer.citations:
        ref = c.ref or "no reference number"
        if c.ref_inferred:
            ref += " (taken from the EPAR page)"
        where = f", page {c.page}" if c.page else ""
        print(f"\n[{c.number}] {c.medicine} — {c.section_title} ({ref}; {c.product_number or '—'}; "
              f"{c.language}; {c.source}{where})\n    “{c.quote}”" + (f"\n    {c.url}" if c.url else ""))
    return 0


def _load_language_model() -> None:
    from .language import detect

    detect("load the model")


if __name__ == "__main__":
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error of ours
        code = 0
    sys.stderr.flush()
    # Nothing is left to write (the question path only reads), and tearing down the store's and
    # the model's native libraries takes about a second at exit.
    os._exit(code)
