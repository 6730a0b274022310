"""Ingest into a real on-disk Chroma store with the real embedding model."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ingest.pipeline import ingest
from rag.embedder import get_embedder
from rag.store import SectionStore

from .conftest import ROOT, SEEDS


def snapshot(settings):
    store = SectionStore(settings)
    got = store.collection.get(include=["documents", "metadatas"])
    return {i: (d, m.get("fingerprint")) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}


def by_name(report):
    return {f.name: f for f in report.files}


def test_seeds_go_in_with_their_reference_numbers(seeded_settings):
    store = SectionStore(seeded_settings)
    entries = store.entries()
    docs = {}
    for meta in entries.values():
        docs.setdefault(meta["source"], meta)
    assert set(docs) == {"conexxence_en.md", "conexxence_sv.txt", "lumykras_sv.txt", "opzelura_sv.txt"}
    assert docs["lumykras_sv.txt"]["ref"] == "EMA/685702/2021"
    assert docs["lumykras_sv.txt"]["product_number"] == "EMEA/H/C/005522"
    assert docs["opzelura_sv.txt"]["ref"] == "EMA/169873/2023"
    assert docs["conexxence_en.md"]["ref"] == "EMA/201153/2025"
    assert docs["conexxence_en.md"]["ref_inferred"] is False
    # The Swedish overview prints no number; it takes the one the EPAR page lists, marked as such.
    assert docs["conexxence_sv.txt"]["ref"] == "EMA/201153/2025"
    assert docs["conexxence_sv.txt"]["ref_inferred"] is True
    keys = {(m["source"], m["section"]) for m in entries.values()}
    assert ("lumykras_sv.txt", "missing_info") in keys
    assert ("conexxence_en.md", "authorisation_details") in keys
    assert all(m["medicine"] and m["language"] in ("en", "sv") for m in entries.values())


def test_reingest_changes_nothing(make_settings, seed_copy):
    settings = make_settings()
    first = ingest([seed_copy], settings)
    before = snapshot(settings)
    second = ingest([seed_copy], settings)
    assert {f.status for f in second.files if f.doc} == {"unchanged"}
    assert snapshot(settings) == before
    assert first.store_count == second.store_count == len(before)


def test_changed_file_reembeds_only_that_document_and_drops_stale_sections(make_settings, seed_copy):
    settings = make_settings()
    ingest([seed_copy], settings)
    before = snapshot(settings)
    path = seed_copy / "lumykras_sv.txt"
    text = path.read_text(encoding="utf-8")
    start = text.index("Vilken information om Lumykras saknas")
    end = text.index("Vad görs för att garantera")
    path.write_text((text[:start] + text[end:]).replace("960 mg", "720 mg"), encoding="utf-8")

    report = ingest([seed_copy], settings)
    status = {n: f.status for n, f in by_name(report).items() if f.doc}
    assert status == {"lumykras_sv.txt": "updated", "conexxence_en.md": "unchanged",
                      "conexxence_sv.txt": "unchanged", "opzelura_sv.txt": "unchanged"}
    after = snapshot(settings)
    assert "lumykras_sv.txt#missing_info" in before and "lumykras_sv.txt#missing_info" not in after
    assert "720 mg" in after["lumykras_sv.txt#how_used"][0]
    assert report.removed_sections == 1
    for key, value in before.items():
        if not key.startswith("lumykras"):
            assert after[key] == value


def _bad_files(folder, big_limit_bytes):
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("   \n\n  ", encoding="utf-8")
    (folder / "image.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "fake.pdf").write_text("this is not a pdf", encoding="utf-8")
    (folder / "big.txt").write_text("Hur används Lumykras?\n" + "x" * (big_limit_bytes + 10), encoding="utf-8")
    good_pdf = _pdf_bytes("Brokenmed")
    (folder / "truncated.pdf").write_bytes(good_pdf[: len(good_pdf) // 3])
    (folder / "locked.pdf").write_bytes(_pdf_bytes("Lockedmed", password="secret"))


def _pdf_bytes(medicine: str, password: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    lines = [
        "EMA/123456/2024", "EMEA/H/C/009999", f"{medicine} (examplinib)",
        f"Sammanfattning av {medicine} och varför det är godkänt inom EU",
        f"Vad är {medicine} och vad används det för?",
        f"{medicine} är ett läkemedel som används för att behandla en påhittad sjukdom hos vuxna.",
        f"{medicine} innehåller den aktiva substansen examplinib.",
        f"Hur används {medicine}?",
        "Den rekommenderade dosen är 250 mg två gånger om dagen, med mat.",
    ]
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    for line in [f"Vilka är riskerna med {medicine}?",
                 "De vanligaste biverkningarna är huvudvärk och yrsel (kan förekomma hos fler än 1 av 10 användare).",
                 f"{medicine} (examplinib)", "EMA/123456/2024", "Sida 2/2"]:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_bad_input_is_reported_and_the_store_stays_intact(make_settings, seed_copy, tmp_path):
    settings = make_settings(max_file_mb=0.05)
    ingest([seed_copy], settings)
    before = snapshot(settings)

    bad = tmp_path / "bad"
    bad.mkdir()
    _bad_files(bad, settings.max_file_bytes)
    (bad / "latin1.txt").write_bytes(
        "Oldmed (examplimab)\nVad är Oldmed och vad används det för?\nOldmed används för att behandla höftvärk.\n"
        "Hur används Oldmed?\nOldmed tas en gång dagligen.\n".encode("cp1252"))
    (bad / "notes.txt").write_text("Notes about Examplimab.\n\nExamplimab (examplimab) is a medicine in a study.\n", encoding="utf-8")

    report = ingest([bad], settings)
    reasons = {f.name: f.reason for f in report.files if f.status == "skipped"}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["blank.md"] == "empty file"
    assert "binary" in reasons["image.txt"]
    assert "not a PDF" in reasons["fake.pdf"]
    assert "over the limit" in reasons["big.txt"] and "MAX_FILE_MB" in reasons["big.txt"]
    assert "truncated" in reasons["truncated.pdf"] or "damaged" in reasons["truncated.pdf"]
    assert "encrypted" in reasons["locked.pdf"] and "password" in reasons["locked.pdf"]
    assert report.exit_code == 1

    results = by_name(report)
    assert results["latin1.txt"].status == "added", results["latin1.txt"].reason
    assert any("Windows-1252" in n for n in results["latin1.txt"].notes)
    assert results["notes.txt"].status == "added"
    assert any("no EMA section headings" in n for n in results["notes.txt"].notes)

    after = snapshot(settings)
    for key, value in before.items():
        assert after[key] == value  # nothing that was there is lost or changed
    assert any("Windows" not in k and k.startswith("latin1.txt#how_used") for k in after)
    assert "höftvärk" in after["latin1.txt#what_is"][0]
    notes = " ".join(text for key, (text, _) in sorted(after.items()) if key.startswith("notes.txt#"))
    assert "Notes about Examplimab." in notes and "is a medicine in a study." in notes


def test_real_pdf_with_swedish_text_keeps_pages(make_settings, tmp_path):
    settings = make_settings()
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "pdfmed.pdf").write_bytes(_pdf_bytes("Pdfmed"))
    report = ingest([folder], settings)
    assert report.exit_code == 0
    doc = by_name(report)["pdfmed.pdf"].doc
    assert (doc.medicine, doc.substance, doc.ref, doc.product_number, doc.language) == (
        "Pdfmed", "examplinib", "EMA/123456/2024", "EMEA/H/C/009999", "sv")
    entries = SectionStore(settings).entries()
    pages = {m["section"]: m["page"] for m in entries.values()}
    assert pages == {"what_is": 1, "how_used": 1, "risks": 2}
    texts = {s.key: s.text for s in doc.sections}
    assert "två gånger om dagen" in texts["how_used"]
    assert "Sida 2/2" not in texts["risks"] and "EMA/123456/2024" not in texts["risks"]


def test_long_sections_fit_the_embedding_window(make_settings, tmp_path):
    settings = make_settings()
    folder = tmp_path / "long"
    folder.mkdir()
    para = "Longmed ska tas med ett glas vatten varje morgon, och dosen kan ändras av läkaren vid biverkningar. "
    body = "\n\n".join(para * 5 for _ in range(20))
    (folder / "longmed.txt").write_text(
        f"Longmed (longinib)\nVad är Longmed och vad används det för?\nLongmed används mot en påhittad sjukdom.\n"
        f"Hur används Longmed?\n{body}\n", encoding="utf-8")
    ingest([folder], settings)
    embedder = get_embedder(settings)
    parts = {i: m for i, m in SectionStore(settings).entries().items() if m["section"] == "how_used"}
    assert len(parts) > 2
    for node in SectionStore(settings).sections(ids=list(parts)):
        assert embedder.count_tokens(node.text) <= settings.max_section_tokens


def test_english_dose_question_finds_the_swedish_lumykras_section_first(seeded_settings):
    store = SectionStore(seeded_settings)
    embedder = get_embedder(seeded_settings)
    hits = store.query(embedder.get_query_embedding("What is the recommended dose of Lumykras?"), top_k=3)
    top = hits[0].node.metadata
    assert (top["medicine"], top["section"], top["language"]) == ("Lumykras", "how_used", "sv")


def run_cli(*args, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "ingest", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_cli_table_and_exit_codes(tmp_path, model_cache_dir):
    env = {"MODEL_CACHE_DIR": str(model_cache_dir)}
    store = tmp_path / "cli-store"
    ok = run_cli(str(SEEDS), "--store", str(store), env_extra=env)
    assert ok.returncode == 0, ok.stderr
    for expected in ("lumykras_sv.txt", "EMA/685702/2021", "EMEA/H/C/005843", "EMA/201153/2025 (inferred)", "35 sections"):
        assert expected in ok.stdout
    assert "Traceback" not in ok.stderr

    (tmp_path / "empty.md").write_text("")
    partial = run_cli(str(tmp_path / "empty.md"), "--store", str(store), env_extra=env)
    assert partial.returncode == 1
    assert "empty.md: empty file" in partial.stdout
    assert "35 sections" in partial.stdout

    usage = run_cli(str(tmp_path / "missing-folder"), "--store", str(store), env_extra=env)
    assert usage.returncode == 2
    assert "no such file or folder" in usage.stderr
    assert run_cli("--no-such-flag", env_extra=env).returncode == 2


def test_second_ingest_at_the_same_time_is_refused_clearly(make_settings, seed_copy):
    from ingest.pipeline import IngestBusy, ingest_lock

    settings = make_settings()
    with ingest_lock(settings):
        with pytest.raises(IngestBusy, match="another ingest"):
            ingest([seed_copy], settings)
