"""Faults during ingest: SIGKILL while embedding, and two ingests started at once.

Everything that writes runs as `python -m ingest` in its own process, as users run it; every check
opens the store in a fresh process, as an app started after the crash would.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import threading
import time

import pytest

from .conftest import ROOT
from .corpus_factory import (
    expected_ids,
    fresh_check,
    ingest_cmd,
    ingest_env,
    run_ingest,
    seed_ids,
    seeded_store,
    store_snapshot,
    synthetic_corpus,
)

QUESTION = "How often is Conexxence given?"
# (documents reported by the progress bar, then seconds to wait): spread so the kills land at
# different moments of embedding and writing one document.
KILL_POINTS = ((3, 0.2), (10, 1.3), (18, 2.4))


class ProgressWatcher:
    """Runs ingest with stderr on a pseudo-terminal, so its tqdm bar reports "n/total" as it goes."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))  # tqdm draws nothing at width 0
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(env, COLUMNS="160"), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=slave, start_new_session=True)
        os.close(slave)
        self._master = master
        self.done = 0
        self.output = ""
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                break
            if not chunk:
                break
            text = chunk.decode("utf-8", "replace")
            with self._changed:
                self.output = (self.output + text)[-20000:]
                counts = [int(n) for n in re.findall(r"\b(\d+)/\d+\b", self.output[-400:])]
                if counts:
                    self.done = max(self.done, *counts)
                self._changed.notify_all()
        os.close(self._master)

    def wait_for(self, n: int, timeout: float) -> int:
        end = time.monotonic() + timeout
        with self._changed:
            while self.done < n and self.proc.poll() is None and time.monotonic() < end:
                self._changed.wait(0.2)
        return self.done

    def kill(self) -> int:
        os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(30)


def _docs_in(ids: set[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for i in ids:
        out.setdefault(i.split("#", 1)[0], set()).add(i)
    return out


def _status_lines(stdout: str, names: list[str]) -> dict[str, str]:
    status = {}
    for line in stdout.splitlines():
        for name in names:
            if name in line:
                m = re.search(r"\b(added|updated|unchanged|skipped)\b", line)
                status[name] = m.group(1) if m else "?"
    return status


@pytest.mark.slow
def test_sigkill_while_embedding_leaves_a_working_store_and_a_rerun_converges(make_settings, tmp_path):
    settings = make_settings()
    seeded_store(settings)
    corpus = tmp_path / "corpus"
    files = synthetic_corpus(corpus, 30)
    expected = expected_ids(files, settings)
    assert len(expected) == 30
    seeds = seed_ids(settings)
    all_expected = seeds | set().union(*expected.values())

    before = fresh_check(settings, QUESTION)
    assert set(before["ids"]) == seeds
    seed_fingerprints = {i: before["metas"][i]["fingerprint"] for i in seeds}
    env = ingest_env(settings)
    log = []
    last_count, docs_done = len(seeds), 0

    for target, delay in KILL_POINTS:
        watcher = ProgressWatcher(ingest_cmd(corpus, "--store", settings.store_dir), env)
        reached = watcher.wait_for(target, timeout=240)
        assert watcher.proc.poll() is None, f"ingest ended before kill point {target}: {watcher.output[-2000:]}"
        assert reached >= target, watcher.output[-2000:]
        time.sleep(delay)
        code = watcher.kill()
        assert code == -signal.SIGKILL

        after = fresh_check(settings, QUESTION)
        ids = set(after["ids"])
        # The store opens, still answers from what was there, and lost or changed none of it.
        assert not after["refused"] and "6 months" in after["answer"], after["answer"]
        assert any(c.startswith("conexxence_en.md#") for c in after["cited"])
        assert {i: after["metas"][i]["fingerprint"] for i in seeds} == seed_fingerprints
        # Nothing but known sections, and every document either complete or absent: never half written.
        assert ids <= all_expected, sorted(ids - all_expected)[:5]
        for doc, doc_ids in _docs_in(ids - seeds).items():
            assert doc_ids == expected[doc], f"{doc} is half written after the kill"
        assert after["count"] >= last_count
        last_count = after["count"]
        docs_done = len(_docs_in(ids - seeds))
        log.append((target, delay, watcher.done, docs_done, after["count"]))

    final = run_ingest(settings, corpus)
    assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
    status = _status_lines(final.stdout, [f.name for f in files])
    assert set(status) == {f.name for f in files}
    assert set(status.values()) <= {"added", "unchanged"}, status
    assert list(status.values()).count("unchanged") == docs_done > 0

    snap = store_snapshot(settings)
    assert set(snap) == all_expected  # exactly one copy of every section, nothing stale, nothing extra
    assert len(snap) == len(seeds) + sum(len(v) for v in expected.values())
    for doc, doc_ids in _docs_in(set(snap) - seeds).items():
        assert len({snap[i]["fingerprint"] for i in doc_ids}) == 1, doc
    print(f"\nkills (target, delay s, progress at kill, documents stored, sections stored): {log}; final {len(snap)}")


def test_two_ingests_at_once_do_not_corrupt_the_store(make_settings, tmp_path):
    settings = make_settings()
    seeded_store(settings)
    corpus = tmp_path / "corpus"
    files = synthetic_corpus(corpus, 6)
    expected = seed_ids(settings) | set().union(*expected_ids(files, settings).values())

    cmd = ingest_cmd(corpus, "--store", settings.store_dir)
    env = ingest_env(settings)
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 3]), [r[1][-2000:] for r in results]
    for p, (out, err) in zip(procs, results):
        assert "Traceback" not in err
        if p.returncode == 3:
            assert "another ingest is writing to this store" in err

    snap = store_snapshot(settings)
    assert set(snap) == expected
    print(f"\ntwo ingests at once: exit codes {codes}; store {len(snap)} sections, as expected")

    again = run_ingest(settings, corpus)  # the lock of the finished runs is gone
    assert again.returncode == 0, again.stderr
    assert set(_status_lines(again.stdout, [f.name for f in files]).values()) == {"unchanged"}
