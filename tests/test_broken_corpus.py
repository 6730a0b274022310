"""A folder of more than 200 broken files next to a few good ones: ingest reports every file,
and the store ends up holding exactly the good documents."""

from __future__ import annotations

import os
import random
import shutil
import time
from pathlib import Path

import pytest

from ingest.loaders import Skip, load
from ingest.pipeline import ingest
from rag.store import SectionStore

from .conftest import SEEDS
from .corpus_factory import expected_ids, run_ingest
from .test_ingest import _pdf_bytes

HEADINGS = {
    "sv": ["Vad är {m} och vad används det för?", "Hur används {m}?", "Hur verkar {m}?",
           "Vilka fördelar med {m} har visats i studierna?", "Vilka är riskerna med {m}?", "Varför är {m} godkänt i EU?"],
    "en": ["What is {m} and what is it used for?", "How is {m} used?", "How does {m} work?",
           "What benefits of {m} have been shown in studies?", "What are the risks associated with {m}?",
           "Why is {m} authorised in the EU?"],
    "de": ["Was ist {m} und wofür wird es angewendet?", "Wie wird {m} angewendet?", "Wie wirkt {m}?"],
    "fr": ["Qu’est-ce que {m} et dans quel cas est-il utilisé?", "Comment {m} est-il utilisé?", "Comment {m} agit-il?"],
}
ADDRESS = ("Official address  Domenico Scarlattilaan 6  ●  1083 HS Amsterdam  ●  The Netherlands\n"
           "Address for visits and deliveries  Refer to www.ema.europa.eu/how-to-find-us\n"
           "Send us a question  Go to www.ema.europa.eu/contact   Telephone +31 (0)88 781 6000\n"
           "An agency of the European Union\n"
           "© European Medicines Agency, 2024. Reproduction is authorised provided the source is acknowledged.\n")


def small_overview(medicine: str, markdown: bool = False) -> str:
    h = "## " if markdown else ""
    return (f"{medicine} (examplinib)\n"
            f"{h}Vad är {medicine} och vad används det för?\n"
            f"{medicine} är ett läkemedel som används för att behandla en påhittad sjukdom hos vuxna.\n"
            f"{h}Hur används {medicine}?\n"
            f"{medicine} tas som en tablett en gång dagligen, med eller utan mat.\n"
            f"{h}Vilka är riskerna med {medicine}?\n"
            f"De vanligaste biverkningarna är huvudvärk och trötthet.\n")


def make_good(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    for name in ("lumykras_sv.txt", "opzelura_sv.txt"):
        shutil.copy(SEEDS / name, folder / name)
    (folder / "latinmed_sv.txt").write_bytes(small_overview("Latinmed").encode("cp1252"))
    (folder / "utfmed_sv.txt").write_bytes(small_overview("Utfmed").encode("utf-16-le"))  # no byte-order mark
    (folder / "Gödmed – överblick (kopia 2).md").write_text(small_overview("Gödmed", markdown=True), encoding="utf-8")
    long_para = " ".join(f"Dosen {i} mg ges varje vecka av en sjuksköterska" for i in range(90)) + "."
    (folder / "repeatmed_sv.txt").write_text(
        small_overview("Repeatmed").replace("en gång dagligen, med eller utan mat.", long_para)
        + "Hur används Repeatmed?\nSamma rubrik igen, som när en sida skrivits ut två gånger.\n", encoding="utf-8")
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner")  # owner password only: anyone may open it
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in ("Ownermed (ownerinib)", "How is Ownermed used?", "Ownermed is given as an injection every week."):
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    (folder / "ownermed.pdf").write_bytes(bytes(pdf.output()))
    return sorted(folder.iterdir())


def make_broken(folder: Path, good: list[Path]) -> dict[str, str]:
    """Write the broken files; returns relative name -> what the skip reason must contain."""
    rnd = random.Random(6)
    folder.mkdir(parents=True)
    expect: dict[str, str] = {}
    suffixes = (".txt", ".md", ".text", ".markdown")

    def put(name: str, data: bytes, reason: str) -> None:
        (folder / name).write_bytes(data)
        expect[name] = reason

    for i in range(8):
        put(f"empty_{i}{suffixes[i % 4]}", b"", "empty file")
        bom = (b"", b"\xef\xbb\xbf", b"\xff\xfe")[i % 3]
        white = rnd.choice([b" ", b"\n\n\n", b"\t \r\n", b"\x0c\n"]) * (i + 1)
        put(f"blank_{i}{suffixes[i % 4]}", bom + (white.decode().encode("utf-16-le") if bom == b"\xff\xfe" else white),
            "empty file")
    for i in range(30):
        data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(64, 4096))) + b"\x00"
        put(f"binary_{i:02d}{suffixes[i % 4]}", data, "binary")
    for i in range(5):
        put(f"controls_{i}.txt", bytes(rnd.choice(b"\x01\x02\x03\x1babc ") for _ in range(2000)), "binary")
    for i in range(4):
        put(f"image_{i}.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rnd.randrange(256) for _ in range(500)),
            "binary")
    for i in range(10):
        put(f"fake_{i}.pdf", f"Just text named PDF number {i}.\n".encode(), "not a PDF")

    pdf = _pdf_bytes("Cutmed")
    for i in range(30):
        put(f"truncated_{i:02d}.pdf", pdf[: rnd.randrange(16, len(pdf) - 16)], "damaged or truncated")
    for i in range(10):
        put(f"locked_{i}.pdf", _pdf_bytes(f"Lockmed{i}", password=f"secret{i}"), "encrypted")
    for i in range(10):
        put(f"garbage_{i}.pdf", b"%PDF-1.7\n" + bytes(rnd.randrange(256) for _ in range(2000)), "PDF")
    from fpdf import FPDF

    for i in range(3):
        blank = FPDF()
        blank.add_page()
        blank.rect(10, 10, 20 + i, 20)
        put(f"scanned_{i}.pdf", bytes(blank.output()), "no text layer")

    for i in range(4):
        put(f"utf16_damaged_{i}.txt", b"\xff\xfe" + "Hur används?".encode("utf-16-le")[: 2 * i + 1] + b"\x00\xd8",
            "not valid UTF-16")
    for i, text in enumerate([
        "ルミクラスは、がんの治療に使用される医薬品です。", "どのように使用されますか？医師の処方が必要です。",
        "副作用は下痢、吐き気、疲労です。", "この薬は錠剤として服用します。", "承認の理由：利益がリスクを上回る。",
        "オプゼルラはクリームです。", "コネクセンスは注射剤です。",
        "テストテキストデス", "ルミクラス", "オプゼルラ ルミクラス コネクセンス",  # katakana only: cp1252 accepts these bytes
    ]):
        put(f"shiftjis_{i}.txt", (text * 20).encode("shift_jis"), "neither UTF-8 nor Windows-1252")
    for name in ("huge.txt", "huge.md", "huge.pdf"):
        with open(folder / name, "wb") as f:
            f.truncate(50 * 1024 * 1024)  # sparse: 50 MB that take no time to write
        expect[name] = "over the limit"
    letters = "abcdefghijklmnopqrstuvwxyz"
    long_lines = {
        "letters": "".join(rnd.choice(letters) for _ in range(1 << 20)),
        "base64": "QUJD" * (1 << 18),
        "words": "Lumykras " * 120_000,
        "json": '{"a": [' + ",".join("1" for _ in range(1 << 19)) + "]}",
        "spaces": " " * (1 << 20) + "x",
    }
    for key, line in long_lines.items():
        put(f"longline_{key}.txt", (f"Hur används Lumykras?\n{line}\n").encode(), "has a line of")

    nested = {
        "quotes": "> " * 5000 + "\n",
        "quotes_tight": ">" * 5000 + "\n",
        "quote_lines": "\n".join(">" * i for i in range(1, 2000)),
        "list_markers": "\n".join("  " * i + "-" for i in range(1000)),
        "numbered": "\n".join("   " * i + "1." for i in range(1000)),
        "hashes": "#" * 5000 + "\n" + "\n".join("#" * (i % 7) for i in range(3000)),
        "brackets": "[" * 5000 + "](" * 5000 + ")" * 5000,
        "emphasis": "*" * 10_000 + "\n" + "_" * 10_000,
        "fences": "```\n" * 5000,
        "table": "\n".join("|" * (i % 50 + 1) + "---|" * 5 for i in range(2000)),
        "rules": "---\n" * 5000,
        "mixed": "\n".join(("> " * (i % 100)) + "- " * (i % 30) + "#" * (i % 6) for i in range(3000)),
    }
    for key, text in nested.items():
        put(f"nested_{key}.md", text.encode(), "no text left")

    for i, lang in enumerate(["sv", "en", "de", "fr"] * 3):
        med = f"Headmed{i}"
        lines = [h.format(m=med) for h in HEADINGS[lang]]
        if i % 3 == 1:
            lines = [f"# {x}" for x in lines]
        put(f"headings_only_{i:02d}_{lang}.{'md' if i % 3 == 1 else 'txt'}",
            ("\n".join(lines) + "\n").encode(), "no text left")
    for i in range(5):
        put(f"boilerplate_{i}.txt", (ADDRESS + f"EMA/12345{i}/2024\nSida {i + 1}/9\n" * (i + 1)).encode(),
            "no text left")

    for i in range(30):
        src = good[i % len(good)]
        if src.suffix == ".pdf":
            src = good[0]
        name = f"copy {i:02d} of {src.name}"
        shutil.copy(src, folder / name)
        expect[name] = f"duplicate of {src.name}"
    for i in range(3):
        os.symlink(folder / f"gone_{i}.txt", folder / f"dangling_{i}.txt")
        expect[f"dangling_{i}.txt"] = "cannot read file"
    long_name = "x" * 200 + ".txt"
    put(long_name, b"\x00" * 10, "binary")
    put("-rf --no-such-flag.md", b"", "empty file")
    return expect


IGNORED = {"report.docx": b"PK\x03\x04", "page.html": b"<html><body>Lumykras</body></html>",
           "data.json": b"{}", "photo.png": b"\x89PNG", "table.csv": b"a,b\n", "README.md": b"# notes",
           ".hidden.txt": b"Lumykras", "noextension": b"Lumykras"}


def test_broken_folder_is_reported_file_by_file_and_only_good_documents_are_stored(make_settings, tmp_path):
    settings = make_settings()
    root = tmp_path / "inbox"
    good = make_good(root / "good")
    broken = make_broken(root / "junk", good)
    for name, data in IGNORED.items():
        (root / "junk" / name).write_bytes(data)
    assert len(broken) >= 200

    started = time.perf_counter()
    report = ingest([root], settings)
    took = time.perf_counter() - started

    by_path = {str(f.path.relative_to(root)): f for f in report.files}
    assert len(by_path) == len(good) + len(broken) + len(IGNORED)  # every file is reported once
    for name, reason in broken.items():
        result = by_path[f"junk/{name}"]
        assert result.status == "skipped", (name, result.status, result.reason)
        assert reason in result.reason, (name, result.reason)
    for name in IGNORED:
        assert by_path[f"junk/{name}"].status == "ignored" and by_path[f"junk/{name}"].reason
    for path in good:
        result = by_path[f"good/{path.name}"]
        assert result.status == "added", (path.name, result.reason)
    assert report.exit_code == 1
    notes = {n for f in report.files for n in f.notes}
    assert "read as UTF-16 (no byte-order mark)" in notes and "not UTF-8: read as Windows-1252" in notes

    # Exactly the good documents, each section once.
    expected = expected_ids(good, settings)
    assert set(expected) == {p.name for p in good}
    store = SectionStore(settings)
    entries = store.entries()
    assert set(entries) == set().union(*expected.values())
    assert store.count() == sum(len(v) for v in expected.values())
    assert {m["source"] for m in entries.values()} == {p.name for p in good}
    repeat = {i for i in entries if i.startswith("repeatmed_sv.txt#how_used")}
    assert len(repeat) >= 3  # the long section in parts, and the repeated heading under an id of its own
    assert "Samma rubrik igen" in " ".join(n.text for n in store.sections(ids=sorted(repeat)))
    assert took < 60, f"ingest took {took:.0f} s"

    # A second run, as a user would start it: nothing changes, every broken file is still reported.
    again = run_ingest(settings, root)
    assert again.returncode == 1 and "Traceback" not in again.stderr, again.stderr[-2000:]
    flat = " ".join(again.stdout.split())
    assert f"{len(broken)} file(s) skipped" in flat
    assert f"{store.count()} sections" in flat
    assert flat.count(" unchanged ") == len(good)


def test_the_size_limit_is_checked_before_the_file_is_read(tmp_path, monkeypatch):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(50 * 1024 * 1024)

    def no_reading(self):
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    started = time.perf_counter()
    with pytest.raises(Skip, match=r"50\.0 MB, over the limit of 20 MB \(MAX_FILE_MB\)"):
        load(huge, 20 * 1024 * 1024)
    assert time.perf_counter() - started < 0.1
