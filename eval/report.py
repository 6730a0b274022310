"""Show a run: a console table, a Markdown report and a bar chart (ours vs baseline)."""

from __future__ import annotations

from pathlib import Path

from . import metrics as m

TABLE_METRICS = ("unsafe_answers",) + m.RATE_METRICS + ("latency_ms_p50", "latency_ms_p95", "n", "n_answerable", "n_unanswerable")
LABELS = {
    "unsafe_answers": "unsafe answers (must be 0)",
    "answer_accuracy": "answer accuracy", "citation_accuracy": "citation accuracy",
    "recall_at_1": "recall@1", "recall_at_3": "recall@3", "recall_at_5": "recall@5", "mrr": "MRR",
    "refusal_accuracy": "refusal accuracy", "false_refusal_rate": "false refusal rate (lower is better)",
    "latency_ms_p50": "latency p50 (ms)", "latency_ms_p95": "latency p95 (ms)",
    "n": "questions", "n_answerable": "answerable", "n_unanswerable": "unanswerable",
}


def fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) <= 1 else f"{value:.0f}"
    return str(value)


def rows(results: dict) -> list[tuple[str, str, str]]:
    ours, base = results["ours"], results.get("baseline")
    return [(LABELS[k], fmt(ours.get(k)), fmt(base.get(k)) if base else "—") for k in TABLE_METRICS]


def group_rows(results: dict, key: str) -> list[tuple[str, dict]]:
    """(label, metrics) per split or language: ours, and the baseline right under it where it ran."""
    ours = results["ours"].get(key) or {}
    base = (results.get("baseline") or {}).get(key) or {}
    out = []
    for name, values in ours.items():
        out.append((f"{name} (ours)", values))
        if name in base:
            out.append((f"{name} (baseline)", base[name]))
    return out


GROUPS = (("by_split", "Per split (dev: tuned on; test: never tuned on)"), ("by_language", "Per question language"))


def print_table(results: dict, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="Evaluation")
    table.add_column("metric")
    table.add_column("ours", justify="right")
    table.add_column("baseline", justify="right")
    for row in rows(results):
        table.add_row(*row)
    console.print(table)
    for key, title in GROUPS:
        if len(results["ours"].get(key) or {}) < 2:
            continue
        t = Table(title=title)
        t.add_column("", no_wrap=True)
        for k in GROUP_METRICS:
            t.add_column(CONSOLE[k], justify="right")
        for name, values in group_rows(results, key):
            t.add_row(name, *(fmt(values.get(k)) for k in GROUP_METRICS))
        console.print(t)


def _expected(row: dict) -> str:
    exp = row["expected"]
    if not row["answerable"]:
        return "a refusal"
    must = "; ".join(" / ".join(g) for g in exp["must_include"]) or "(anything)"
    cites = ", ".join(" / ".join(str(c.get(k)) for k in ("medicine", "section", "ref") if c.get(k)) for c in exp["citations"])
    return f"must include: {must}; citation: {cites}"


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failures_md(metrics: dict) -> list[str]:
    failed = [r for r in metrics["per_question"] if m.is_failure(r)]
    if not failed:
        return ["None."]
    out = []
    for r in failed:
        out += [f"- **{r['id']}**: {r['question']}",
                f"  - expected: {_expected(r)}",
                f"  - got: {_one_line(r['answer']) or '(empty)'}",
                f"  - wrong: {'; '.join(m.failure_reasons(r))}"]
    return out


GROUP_METRICS = ("unsafe_answers", "answer_accuracy", "citation_accuracy", "refusal_accuracy", "false_refusal_rate", "n")
SHORT = {"unsafe_answers": "unsafe answers", "answer_accuracy": "answer accuracy", "citation_accuracy": "citation accuracy",
         "refusal_accuracy": "refusal accuracy", "false_refusal_rate": "false refusals", "n": "questions"}
# Narrow enough for an 80-column terminal
CONSOLE = {**SHORT, "answer_accuracy": "answer acc.", "citation_accuracy": "citation acc.",
           "refusal_accuracy": "refusal acc.", "unsafe_answers": "unsafe", "n": "n"}


def groups_md(results: dict, key: str, title: str) -> list[str]:
    """One row per split or language: ours, and the baseline beside it where it ran."""
    if len(results["ours"].get(key) or {}) < 2 and key == "by_split":
        return []
    head = [SHORT[k] for k in GROUP_METRICS]
    lines = ["", f"## {title}", "", "| | " + " | ".join(head) + " |", "|---|" + "---:|" * len(head)]
    for name, values in group_rows(results, key):
        lines.append(f"| {name} | " + " | ".join(fmt(values.get(k)) for k in GROUP_METRICS) + " |")
    return lines


def markdown(results: dict, chart: str | None = None) -> str:
    definitions = (m.__doc__ or "").strip().splitlines()
    lines = ["# Evaluation report", "", "| metric | ours | baseline |", "|---|---:|---:|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows(results)]
    for key, title in GROUPS:
        lines += groups_md(results, key, title)
    if chart:
        lines += ["", f"![metrics]({chart})"]
    lines += ["", "## Definitions", "", *definitions]
    if results.get("baseline"):
        lines += ["", "**The baseline.** " + " ".join(_baseline_doc())]
    lines += ["", "## Failures (ours)", "", *failures_md(results["ours"])]
    if results.get("baseline"):
        base = results["baseline"]
        n = sum(m.is_failure(r) for r in base["per_question"])
        lines += ["", f"<details><summary>Failures (baseline): {n}</summary>", "", *failures_md(base), "", "</details>"]
    return "\n".join(lines).strip() + "\n"


def _baseline_doc() -> list[str]:
    from . import baseline

    text = " ".join((baseline.__doc__ or "").split())
    return [text] if text else []


CHART_METRICS = ("answer_accuracy", "citation_accuracy", "recall_at_1", "refusal_accuracy", "false_refusal_rate")


def panels(results: dict) -> list[tuple[str, dict, dict | None]]:
    """(title, ours, baseline) per split, or one for the whole run when it has no splits."""
    ours, base = results["ours"], results.get("baseline")
    splits = ours.get("by_split") or {}
    if len(splits) < 2:
        return [("all", ours, base)]
    return [(name, values, ((base or {}).get("by_split") or {}).get(name)) for name, values in splits.items()]


def chart(results: dict, path: Path) -> None:
    """One panel per split: the rates of ours and the baseline side by side, unsafe counts in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    groups = panels(results)
    keys = [k for k in CHART_METRICS if results["ours"].get(k) is not None]
    y = np.arange(len(keys))
    fig, axes = plt.subplots(1, len(groups), figsize=(6.2 * len(groups), 0.7 * len(keys) + 1.9), dpi=120,
                             sharey=True, squeeze=False)
    for ax, (title, ours, base) in zip(axes[0], groups):
        series = [("ours", ours, "#1f6fb4")] + ([("baseline", base, "#e08a2c")] if base else [])
        height = 0.8 / len(series)
        for i, (name, values, color) in enumerate(series):
            vals = [values.get(k) or 0.0 for k in keys]
            bars = ax.barh(y - 0.4 + height * (i + 0.5), vals, height, label=name, color=color)
            ax.bar_label(bars, labels=[f"{v:.2f}" for v in vals], padding=3, fontsize=9)
        unsafe = ", ".join(f"{name} {values.get('unsafe_answers', 0)}" for name, values, _ in series)
        ax.set_title(f"{title}: {ours['n']} questions\nunsafe answers: {unsafe}", fontsize=10)
        ax.set_xlim(0, 1.15)
        ax.set_xlabel("rate (0–1)")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(y, [LABELS[k] for k in keys], fontsize=10)
    axes[0][0].invert_yaxis()
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def write_report(results: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    chart(results, folder / "metrics.png")
    out = folder / "report.md"
    out.write_text(markdown(results, "metrics.png"), encoding="utf-8")
    return out
