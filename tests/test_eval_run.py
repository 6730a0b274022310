"""`python -m eval` end to end on a four-question set over the seed corpus, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "data" / "summaries"

TINY = [
    {"id": "con-often", "question": "How often is Conexxence given?", "language": "en", "answerable": True, "split": "dev",
     "must_include": [["6 months", "sjätte månad"]], "citations": [{"medicine": "Conexxence", "section": "how_used"}]},
    {"id": "lum-dose", "question": "What is the recommended dose of Lumykras?", "language": "en", "answerable": True,
     "split": "test",
     "must_include": [["960 mg"]],
     "citations": [{"medicine": "Lumykras", "ref": "EMA/685702/2021", "section": "how_used"}]},
    {"id": "opz-sv", "question": "Vad används Opzelura för?", "language": "sv", "answerable": True,
     "must_include": [["vitiligo"]], "citations": [{"medicine": "Opzelura", "section": "what_is"}],
     "split": "test", "note": "extra fields are ignored"},
    {"id": "ibuprofen", "question": "What is the maximum daily dose of ibuprofen?", "language": "en",
     "answerable": False, "must_include": [], "citations": [], "split": "dev"},
]


def run_eval(model_cache_dir, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "MODEL_CACHE_DIR": str(model_cache_dir)}
    return subprocess.run([sys.executable, "-m", "eval", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_defaults_are_the_split_corpus_set_over_seeds_and_corpus():
    from eval.__main__ import build_parser
    from eval.runner import load_qa

    args = build_parser().parse_args([])
    assert args.qa == ROOT / "eval" / "qa_corpus.jsonl"
    assert args.corpus == [SEEDS, ROOT / "eval" / "corpus"]
    assert {i.split for i in load_qa(args.qa)} == {"dev", "test"}
    seed = build_parser().parse_args(["--qa", "eval/qa.jsonl", "--corpus", "data/summaries"])
    assert seed.qa == Path("eval/qa.jsonl") and seed.corpus == [Path("data/summaries")]


def test_eval_run_writes_metrics_json_and_report_with_the_baseline_beside(tmp_path, model_cache_dir):
    qa = tmp_path / "tiny.jsonl"
    qa.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in TINY), encoding="utf-8")
    out, report = tmp_path / "out.json", tmp_path / "report"

    proc = run_eval(model_cache_dir, "--qa", qa, "--corpus", SEEDS, "--json", out, "--report", report, "--baseline")

    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text(encoding="utf-8"))
    assert set(results) == {"ours", "baseline"}
    ours, base = results["ours"], results["baseline"]
    assert set(ours["by_split"]) == set(base["by_split"]) == {"dev", "test"}
    assert set(base["by_language"]) == {"en", "sv"}
    assert {r["id"] for r in base["per_question"]} == {row["id"] for row in TINY}
    base_rows = {r["id"]: r for r in base["per_question"]}
    assert base_rows["lum-dose"]["first_citation"]["section"] == "how_used"
    assert base_rows["lum-dose"]["first_citation"]["ref"] == "EMA/685702/2021"
    for key in ("answer_accuracy", "citation_accuracy", "recall_at_1", "recall_at_3", "recall_at_5", "mrr",
                "refusal_accuracy", "false_refusal_rate", "latency_ms_p50", "latency_ms_p95"):
        assert key in ours
    assert (ours["n"], ours["n_answerable"], ours["n_unanswerable"]) == (4, 3, 1)
    assert ours["answer_accuracy"] == 1.0, [(r["id"], r["answer"]) for r in ours["per_question"]]
    assert ours["refusal_accuracy"] == 1.0
    rows = {r["id"]: r for r in ours["per_question"]}
    assert set(rows) == {row["id"] for row in TINY}
    assert rows["lum-dose"]["first_citation"]["medicine"] == "Lumykras"
    assert rows["ibuprofen"]["refused"] and rows["ibuprofen"]["latency_ms"] > 0
    assert "answer accuracy" in proc.stdout and "test (baseline)" in proc.stdout and "sv (baseline)" in proc.stdout
    md = (report / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Evaluation report")
    for row in ("| dev (ours) |", "| dev (baseline) |", "| test (baseline) |", "| sv (ours) |", "| sv (baseline) |"):
        assert row in md
    assert (report / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_question_file_exits_2_naming_the_line(tmp_path, model_cache_dir):
    qa = tmp_path / "bad.jsonl"
    qa.write_text(json.dumps(TINY[0]) + "\n\n" + '{"id": "x", "question": "Why?", "answerable": "yes"}\n',
                  encoding="utf-8")

    proc = run_eval(model_cache_dir, "--qa", qa, "--corpus", SEEDS)

    assert proc.returncode == 2
    assert "line 3" in proc.stderr and "answerable" in proc.stderr
    assert "Traceback" not in proc.stderr
