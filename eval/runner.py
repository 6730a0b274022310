"""Load the question set, build a throwaway store, and put every question to an answer function."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Callable

from .metrics import QAItem, aggregate, breakdown, score_item

ROOT = Path(__file__).resolve().parent.parent
SEED_QA = Path(__file__).resolve().parent / "qa.jsonl"  # 120 questions over the four seeds, no split
SEED_CORPUS = ROOT / "data" / "summaries"
# What `python -m eval` measures by default: 500 questions, dev and test, over the seeds and 48 overviews.
EVAL_QA = Path(__file__).resolve().parent / "qa_corpus.jsonl"
EVAL_CORPUS = [SEED_CORPUS, Path(__file__).resolve().parent / "corpus"]

AnswerFn = Callable[[str, list[dict]], object]


class QAFileError(ValueError):
    pass


def _check_strings(value, what: str) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(s, str) and s.strip() for s in value):
        raise ValueError(f"{what} must be a non-empty list of non-empty strings")


def _item(obj) -> QAItem:
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    for key in ("id", "question"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise ValueError(f'"{key}" must be a non-empty string')
    if not isinstance(obj.get("answerable"), bool):
        raise ValueError('"answerable" must be true or false')
    language = obj.get("language", "en")
    if not isinstance(language, str):
        raise ValueError('"language" must be a string')
    history = obj.get("history") or []
    if not isinstance(history, list) or not all(
        isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str) for t in history
    ):
        raise ValueError('"history" must be a list of {"role": "user"|"assistant", "content": str}')
    must = obj.get("must_include") or []
    if not isinstance(must, list):
        raise ValueError('"must_include" must be a list of lists of alternatives')
    for i, group in enumerate(must):
        _check_strings(group, f'"must_include"[{i}]')
    cites = obj.get("citations") or []
    if not isinstance(cites, list) or not all(isinstance(c, dict) and isinstance(c.get("medicine"), str) for c in cites):
        raise ValueError('"citations" must be a list of objects with a "medicine" string')
    if obj["answerable"] and not cites:
        raise ValueError('an answerable item needs at least one expected citation')
    split = obj.get("split", "")
    if split not in ("", "dev", "test"):
        raise ValueError('"split" must be "dev" or "test"')
    return QAItem(obj["id"], obj["question"], obj["answerable"], language, history, must, cites, split)


def load_qa(path: Path) -> list[QAItem]:
    """Parse the JSONL set; any problem raises QAFileError naming the file and line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QAFileError(f"{path}: cannot read: {exc}") from None
    items: list[QAItem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = _item(json.loads(line))
        except json.JSONDecodeError as exc:
            raise QAFileError(f"{path}, line {number}: not valid JSON ({exc.msg}, column {exc.colno})") from None
        except ValueError as exc:
            raise QAFileError(f"{path}, line {number}: {exc}") from None
        if item.id in seen:
            raise QAFileError(f"{path}, line {number}: id {item.id!r} already used on line {seen[item.id]}")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise QAFileError(f"{path}: no questions in the file")
    return items


def eval_settings(store_dir: Path):
    from rag.settings import Settings

    return Settings(_env_file=None, store_dir=store_dir, model_cache_dir=Settings().model_cache_dir,
                    feedback_db=store_dir.parent / "feedback.sqlite3", llm_base_url=None, chroma_host=None)


def build_store(corpus: list[Path], settings) -> int:
    """Ingest the corpus into settings.store_dir; returns the number of stored sections."""
    from ingest.pipeline import ingest

    report = ingest(corpus, settings)
    for f in report.skipped:
        print(f"warning: {f.name} skipped: {f.reason}", file=sys.stderr)
    if report.store_count == 0:
        raise RuntimeError(f"nothing could be ingested from {', '.join(map(str, corpus))}")
    return report.store_count


def run(items: list[QAItem], answer_fn: AnswerFn, label: str = "") -> dict:
    """Every question through answer_fn (after one untimed warm-up) -> metrics with per_question rows."""
    from tqdm import tqdm

    answer_fn(items[0].question, items[0].history)
    rows = []
    for item in tqdm(items, desc=label or "eval", unit="q", file=sys.stderr, disable=None):
        start = time.perf_counter()
        answer = answer_fn(item.question, item.history)
        rows.append(score_item(item, answer, (time.perf_counter() - start) * 1000))
    metrics = aggregate(rows)
    metrics["by_split"] = breakdown(rows, "split")
    metrics["by_language"] = breakdown(rows, "language")
    return metrics
