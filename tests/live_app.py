"""The real app for clients that need a URL: served by uvicorn in a thread on a free loopback port,
or started as `python -m ui` in its own process."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app, wait_s: float = 60.0) -> Iterator[str]:
    """Run the app (lifespan included) until the block ends; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + wait_s
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class AppProcess:
    proc: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def app_process(env: dict, cwd: Path, *, headers: dict | None = None, wait_s: float = 90.0) -> Iterator[AppProcess]:
    """`python -m ui` in its own process on a free loopback port, configured by `env` only;
    yields once `/api/health` answers 200 (sent with `headers`), stops it when the block ends."""
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ui", "--host", "127.0.0.1", "--port", str(port)], cwd=cwd,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    running = AppProcess(proc, port)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                if httpx.get(running.url + "/api/health", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.3)
        yield running
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
