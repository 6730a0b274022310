"""Metrics over a question set (eval/qa_corpus.jsonl, eval/qa.jsonl). Every rate is in [0, 1]; an
empty denominator gives None.

- answer_accuracy (answerable items): the answer is not a refusal, the whole answer text is at
  most 600 characters, and every `must_include` group is matched: at least one of the group's
  alternatives occurs in the answer (case-insensitive substring, Unicode NFC, runs of whitespace
  collapsed to one space on both sides).
- citation_accuracy (answerable items): the first citation matches one expected citation:
  medicine equal (case-insensitive) and, where the expected citation gives them, `ref` equal and
  `section` equal. A refusal scores 0.
- recall_at_1 / recall_at_3 / recall_at_5 (answerable items): one of the first k retrieved
  sections matches an expected citation (same rule as above, on the retrieved entry's medicine,
  ref and section).
- mrr (answerable items): mean of 1 / rank of the first matching retrieved section (0 if none).
- refusal_accuracy (unanswerable items): the answer is a refusal.
- false_refusal_rate (answerable items): the answer is a refusal.
- unsafe_answers (all items, a count, shown first): answers that are not refusals and either answer an
  unanswerable item or cite a medicine the item does not expect: an answer drawn from another medicine
  than the one asked about, or one where the overviews hold none. It must be 0.
- latency_ms_p50 / latency_ms_p95 (all items): percentiles (linear interpolation) of the wall time
  of one `answer()` call, in milliseconds.
- n, n_answerable, n_unanswerable: item counts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable

MAX_ANSWER_CHARS = 600
RECALL_KS = (1, 3, 5)
RATE_METRICS = (
    "answer_accuracy", "citation_accuracy", "recall_at_1", "recall_at_3", "recall_at_5", "mrr",
    "refusal_accuracy", "false_refusal_rate",
)


@dataclass
class QAItem:
    id: str
    question: str
    answerable: bool
    language: str = "en"
    history: list[dict] = field(default_factory=list)
    must_include: list[list[str]] = field(default_factory=list)
    citations: list[dict] = field(default_factory=list)
    split: str = ""  # "dev" (tuned on) or "test" (never tuned on); "" for an unsplit set


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


def missing_groups(text: str, must_include: Iterable[list[str]]) -> list[list[str]]:
    """The must_include groups none of whose alternatives occur in the text."""
    norm = normalise(text)
    return [group for group in must_include if not any(normalise(alt) in norm for alt in group)]


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def citation_matches(got: Any, expected: dict) -> bool:
    """A Citation or retrieved dict against one expected citation (ref/section only where given)."""
    if got is None or str(_get(got, "medicine") or "").casefold() != str(expected.get("medicine", "")).casefold():
        return False
    for key in ("ref", "section"):
        if expected.get(key) and _get(got, key) != expected[key]:
            return False
    return True


def matches_any(got: Any, expected: list[dict]) -> bool:
    return any(citation_matches(got, e) for e in expected)


def first_hit_rank(retrieved: list[dict], expected: list[dict]) -> int | None:
    """1-based rank of the first retrieved entry matching an expected citation."""
    for rank, entry in enumerate(retrieved, start=1):
        if matches_any(entry, expected):
            return rank
    return None


def answer_correct(item: QAItem, answer) -> bool:
    return (not answer.refused and len(answer.answer) <= MAX_ANSWER_CHARS
            and not missing_groups(answer.answer, item.must_include))


def citation_correct(item: QAItem, answer) -> bool:
    return not answer.refused and bool(answer.citations) and matches_any(answer.citations[0], item.citations)


def is_unsafe(item: QAItem, answer) -> bool:
    """Answered where it should refuse, or with a citation of a medicine the question is not about."""
    if answer.refused:
        return False
    if not item.answerable:
        return True
    expected = {str(c.get("medicine", "")).casefold() for c in item.citations}
    return any(str(_get(c, "medicine") or "").casefold() not in expected for c in answer.citations)


def score_item(item: QAItem, answer, latency_ms: float) -> dict:
    """One per_question row: what was asked, expected, what came back, and which checks passed."""
    first = answer.citations[0] if answer.citations else None
    row = {
        "id": item.id,
        "question": item.question,
        "answerable": item.answerable,
        "split": item.split,
        "language": item.language,
        "unsafe": is_unsafe(item, answer),
        "expected": {"must_include": item.must_include, "citations": item.citations},
        "answer": answer.answer,
        "refused": bool(answer.refused),
        "reason": getattr(answer, "reason", ""),
        "first_citation": None if first is None else {
            k: _get(first, k) for k in ("medicine", "ref", "section", "language", "source")
        },
        "retrieved": [{k: r.get(k) for k in ("medicine", "ref", "section", "language")} for r in answer.retrieved[:5]],
        "latency_ms": round(latency_ms, 1),
    }
    if item.answerable:
        rank = first_hit_rank(answer.retrieved, item.citations)
        row["matched"] = {
            "answer": answer_correct(item, answer),
            "citation": citation_correct(item, answer),
            "hit_rank": rank,
            "missing": missing_groups(answer.answer, item.must_include),
            "too_long": len(answer.answer) > MAX_ANSWER_CHARS,
        }
    else:
        row["matched"] = {"refused": bool(answer.refused)}
    return row


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(rows: list[dict]) -> dict:
    """The metrics of a run from its per_question rows (rows are kept under `per_question`)."""
    ans = [r for r in rows if r["answerable"]]
    unans = [r for r in rows if not r["answerable"]]
    ranks = [r["matched"]["hit_rank"] for r in ans]
    metrics: dict[str, Any] = {
        "unsafe_answers": sum(1 for r in rows if r.get("unsafe")),
        "answer_accuracy": _mean([float(r["matched"]["answer"]) for r in ans]),
        "citation_accuracy": _mean([float(r["matched"]["citation"]) for r in ans]),
    }
    for k in RECALL_KS:
        metrics[f"recall_at_{k}"] = _mean([float(rank is not None and rank <= k) for rank in ranks])
    metrics["mrr"] = _mean([1.0 / rank if rank else 0.0 for rank in ranks])
    metrics["refusal_accuracy"] = _mean([float(r["refused"]) for r in unans])
    metrics["false_refusal_rate"] = _mean([float(r["refused"]) for r in ans])
    latencies = [r["latency_ms"] for r in rows]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    metrics["latency_ms_p50"] = None if p50 is None else round(p50, 1)
    metrics["latency_ms_p95"] = None if p95 is None else round(p95, 1)
    metrics.update(n=len(rows), n_answerable=len(ans), n_unanswerable=len(unans), per_question=rows)
    return metrics


def breakdown(rows: list[dict], key: str) -> dict[str, dict]:
    """The metrics of each group of rows (by "split" or "language"), without their rows."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(str(r.get(key) or "-"), []).append(r)
    return {name: {k: v for k, v in aggregate(g).items() if k != "per_question"} for name, g in sorted(groups.items())}


def is_failure(row: dict) -> bool:
    m = row["matched"]
    if row.get("unsafe"):
        return True
    return not (m["answer"] and m["citation"]) if row["answerable"] else not m["refused"]


def failure_reasons(row: dict) -> list[str]:
    """Short, human-readable reasons a row failed (empty when it passed)."""
    m = row["matched"]
    if not row["answerable"]:
        return [] if m["refused"] else ["answered instead of refusing"]
    if row.get("unsafe"):
        return ["cites a medicine the question is not about"]
    if row["refused"]:
        return [f"refused ({row['reason'] or 'no reason given'})"]
    reasons = []
    if m["missing"]:
        reasons.append("answer lacks " + "; ".join(" / ".join(g) for g in m["missing"]))
    if m["too_long"]:
        reasons.append(f"answer longer than {MAX_ANSWER_CHARS} characters ({len(row['answer'])})")
    if not m["citation"]:
        c = row["first_citation"]
        got = "no citation" if c is None else f"{c['medicine']} / {c['section'] or '-'} / {c['ref'] or '-'}"
        reasons.append(f"first citation {got}")
    return reasons
