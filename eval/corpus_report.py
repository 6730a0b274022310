"""python -m eval.corpus_report [--labels eval/corpus/labels.jsonl] [--split dev|test|all] [--no-model]

How the parser reads every document of the labelled corpus, against the labels read off the
text by hand: medicine, language, substance, numbers, section keys, and for documents without
headings whether the dose and the indication landed in the right section. Prints a Markdown
table and the totals.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from pathlib import Path

from rag.catalogue import substance_parts

CORPUS = Path(__file__).resolve().parent / "corpus"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def read_labels(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def parse_file(path: Path, classifier=None):
    from ingest.loaders import load
    from ingest.parse import parse

    loaded = load(path, 50 * 1024 * 1024)
    accepted = inspect.signature(parse).parameters
    extra = {k: v for k, v in (("classifier", classifier), ("file_name", path.name)) if k in accepted and v is not None}
    return parse(loaded.pages, loaded.format, **extra)


def check(label: dict, doc) -> dict:
    keys = [s.key for s in doc.sections]
    by_key: dict[str, str] = {}
    for s in doc.sections:
        by_key[s.key] = by_key.get(s.key, "") + " " + _flat(s.text)
    inferred = any(getattr(s, "inferred", False) for s in doc.sections)
    row = {
        "file": label["file"], "split": label["split"], "layout": label["layout"], "language": label["language"],
        "medicine": doc.medicine or "?", "medicine_ok": (doc.medicine or "").lower() == label["medicine"].lower(),
        "language_ok": doc.language == label["language"],
        "substance_ok": sorted(substance_parts(doc.substance)) == sorted(substance_parts(label.get("substance"))),
        "ref_ok": (doc.ref or None) == (label.get("ref") or None),
        "sections": len(doc.sections), "keys": sorted(set(keys)),
        "unkeyed": sum(k in ("unknown", "other") for k in keys), "inferred": inferred,
    }
    for field, key in (("indication_sentence", "what_is"), ("dose_sentence", "how_used")):
        sentence = _flat(label.get(field) or "")
        if sentence:
            row[f"{key}_ok"] = sentence in by_key.get(key, "")
    return row


def classification_accuracy(labels: list[dict], base: Path, classifier) -> tuple[int, int, dict[str, list[int]]]:
    """Documents with headings, read without them: how many paragraphs get their heading's key back."""
    from ingest.classify import ORDER

    right = total = 0
    per_key: dict[str, list[int]] = {}
    for label in labels:
        if label["layout"] == "web_plain":
            continue
        doc = parse_file(base / label["file"])
        paras = [(s.key, p) for s in doc.sections if s.key in ORDER and not s.inferred for p in s.text.split("\n\n")]
        if len(paras) < 3:
            continue
        got = classifier.assign([p for _, p in paras], doc.language)
        for (want, _), key in zip(paras, got):
            ok = int(want == key)
            right += ok
            total += 1
            per_key.setdefault(want, [0, 0])[0] += ok
            per_key[want][1] += 1
    return right, total, per_key


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.corpus_report", description=__doc__.splitlines()[2])
    p.add_argument("--labels", type=Path, default=CORPUS / "labels.jsonl")
    p.add_argument("--split", choices=("dev", "test", "all"), default="all")
    p.add_argument("--no-model", action="store_true", help="classify headless text by cue phrases only")
    p.add_argument("--json", type=Path, help="write the rows here")
    p.add_argument("--classify", action="store_true",
                   help="read documents with headings without them and report how many paragraphs get their key back")
    args = p.parse_args(argv)

    from rag.offline import prepare_environment

    prepare_environment()
    classifier = None
    if not args.no_model:
        try:
            from ingest.classify import SectionClassifier
            from rag.embedder import get_embedder
            from rag.settings import Settings

            classifier = SectionClassifier(get_embedder(Settings()).get_text_embedding_batch)
        except ImportError:
            classifier = None
    if args.classify:
        from ingest.classify import SectionClassifier

        labels = [x for x in read_labels(args.labels) if args.split in ("all", x["split"])]
        if args.split in ("all", "dev"):  # the seeds are whole overviews with every heading: dev material
            seeds = Path(__file__).resolve().parent.parent / "data" / "summaries"
            labels += [{"file": str(f), "layout": "overview", "split": "dev"} for f in sorted(seeds.glob("*_*.*"))]
        right, total, per_key = classification_accuracy(labels, args.labels.parent, classifier or SectionClassifier())
        print(f"paragraphs keyed right: {right}/{total} = {right / max(total, 1):.3f}")
        for key, (r, t) in sorted(per_key.items()):
            print(f"  {key}: {r}/{t}")
        return 0
    rows = []
    for label in read_labels(args.labels):
        if args.split != "all" and label["split"] != args.split:
            continue
        path = args.labels.parent / label["file"]
        try:
            rows.append(check(label, parse_file(path, classifier)))
        except Exception as exc:  # a report of what failed is the point
            rows.append({"file": label["file"], "split": label["split"], "layout": label["layout"],
                         "language": label["language"], "medicine": f"ERROR {type(exc).__name__}: {exc}"[:80],
                         "medicine_ok": False, "sections": 0, "keys": [], "unkeyed": 0})
    print("| file | split | layout | lang | medicine found | sections | keys | unkeyed | indication in what_is | dose in how_used |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    mark = {True: "yes", False: "**no**", None: "—"}
    for r in rows:
        print(f"| {r['file']} | {r['split']} | {r['layout']} | {r['language']}{'' if r.get('language_ok', True) else ' (**wrong**)'} "
              f"| {r['medicine']}{'' if r['medicine_ok'] else ' (**wrong**)'} | {r['sections']} | {' '.join(r['keys'])} "
              f"| {r['unkeyed']} | {mark[r.get('what_is_ok')]} | {mark[r.get('how_used_ok')]} |")
    n = len(rows) or 1
    totals = {k: sum(1 for r in rows if r.get(k)) for k in ("medicine_ok", "language_ok", "substance_ok", "ref_ok")}
    headed = [r for r in rows if r["layout"] != "web_plain"]
    plain = [r for r in rows if r["layout"] == "web_plain"]
    print()
    print(f"documents {len(rows)}: medicine {totals['medicine_ok']}/{n}, language {totals['language_ok']}/{n}, "
          f"substance {totals['substance_ok']}/{n}, reference {totals['ref_ok']}/{n}")
    print(f"with headings {len(headed)}: every section keyed in {sum(1 for r in headed if not r['unkeyed'])}")
    for key in ("what_is", "how_used"):
        judged = [r for r in plain if f"{key}_ok" in r]
        print(f"without headings {len(plain)}: {key} holds its sentence in {sum(1 for r in judged if r[f'{key}_ok'])}/{len(judged)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
