"""The answer service keeps answering, correctly, while `python -m ingest` writes to the same store
from another process, and it picks up the new documents once the ingest is done."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time

from .conftest import ROOT, SEEDS, SEED_FILES
from .corpus_factory import fresh_check, ingest_cmd, ingest_env, seeded_store, synthetic_corpus

QUESTION = "How often is Conexxence given?"


class AnswerLoop(threading.Thread):
    def __init__(self, service, questions):
        super().__init__(daemon=True)
        self.service, self.questions = service, questions
        self.stop = threading.Event()
        self.results: list[tuple[float, str, object]] = []  # (time, question, Answer or exception)

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            question = self.questions[i % len(self.questions)]
            i += 1
            try:
                result = self.service.answer(question)
            except Exception as exc:  # recorded, so the test can show it
                result = exc
            self.results.append((time.monotonic(), question, result))


def _corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in SEED_FILES:
        shutil.copy(SEEDS / name, corpus / name)
    return corpus, synthetic_corpus(corpus / "extra", 4)


def test_answers_stay_correct_while_an_ingest_adds_documents(make_settings, tmp_path):
    from rag.service import RagService

    settings = make_settings()
    seeded_store(settings)
    corpus, extra = _corpus(tmp_path)
    service = RagService(settings)
    service.corpus.recheck_s = 0.5
    assert "6 months" in service.answer(QUESTION).answer

    loop = AnswerLoop(service, [QUESTION, "What is the recommended dose of Lumykras?", "Hur används Opzelura?"])
    loop.start()
    started = time.monotonic()
    proc = subprocess.run(ingest_cmd(corpus, "--store", settings.store_dir), cwd=ROOT, env=ingest_env(settings),
                          capture_output=True, text=True, timeout=600)
    ingest_end = time.monotonic()
    time.sleep(1.5)  # a few answers after the ingest, once the service has noticed the change
    loop.stop.set()
    loop.join(120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]

    errors = [(q, r) for _, q, r in loop.results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    during = [(q, r) for t, q, r in loop.results if started <= t <= ingest_end]
    assert len(during) >= 10, f"only {len(during)} answers while the ingest ran"
    for _, q, r in loop.results:
        assert not r.refused, (q, r.reason, r.answer)
        if q == QUESTION:
            assert "6 months" in r.answer and r.citations[0].medicine == "Conexxence"

    # The running service now answers about the added documents exactly as a freshly started one does.
    new = extra[0].name.split("_")[0].capitalize()  # "Medname0001"
    assert new in {m["name"] for m in service.medicines()}
    for question in (f"How is {new} used?", QUESTION):
        answer, fresh = service.answer(question), fresh_check(settings, question)
        assert not answer.refused and answer.answer == fresh["answer"], (answer.answer, fresh["answer"])
        assert [c.section_id for c in answer.citations] == fresh["cited"]
    assert service.answer(f"How is {new} used?").citations[0].source == extra[0].name
    print(f"\n{len(during)} answers in {ingest_end - started:.1f} s of ingest, none failed")


def test_a_section_deleted_by_an_ingest_since_the_last_refresh_does_not_break_answering(make_settings):
    from rag.service import RagService

    settings = make_settings()
    seeded_store(settings)
    service = RagService(settings)
    question = "What information is still awaited about Lumykras?"
    assert not service.answer(question).refused
    service.corpus.recheck_s = 600  # the moment between two refreshes, held open
    # What an ingest of an edited lumykras_sv.txt does after its upsert: delete the stale section.
    code = ("import sys; from pathlib import Path; from rag.settings import Settings; from rag.store import SectionStore\n"
            "SectionStore(Settings(_env_file=None, store_dir=Path(sys.argv[1]))).delete(['lumykras_sv.txt#missing_info'])")
    subprocess.run([sys.executable, "-c", code, str(settings.store_dir)], cwd=ROOT, env=ingest_env(settings), check=True,
                   timeout=120)
    answer = service.answer(question)
    assert all(c.section_id != "lumykras_sv.txt#missing_info" for c in answer.citations)
