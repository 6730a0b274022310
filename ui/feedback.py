"""Thumbs up/down on answers, kept in a local SQLite file (path from settings)."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

Vote = Literal["up", "down"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    refused INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL
)
"""


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10)
        if not self._ready:
            conn.execute(_SCHEMA)
            conn.commit()
            self._ready = True
        return conn

    def add(self, *, question: str, answer: str, citations: list[dict[str, Any]], vote: Vote,
            refused: bool = False, source: str = "chat") -> int:
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        row = (datetime.now(timezone.utc).isoformat(timespec="seconds"), vote, question, answer,
               json.dumps(citations, ensure_ascii=False), int(refused), source)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connect()
            try:
                with conn:
                    cur = conn.execute(
                        "INSERT INTO feedback (created_at, vote, question, answer, citations, refused, source)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)", row)
                return int(cur.lastrowid)
            finally:
                conn.close()

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._lock:
            conn = self._connect()
            conn.row_factory = sqlite3.Row
            try:
                found = conn.execute("SELECT * FROM feedback ORDER BY id").fetchall()
            finally:
                conn.close()
        return [dict(r) | {"citations": json.loads(r["citations"])} for r in found]
