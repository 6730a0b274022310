"""The one answerer interface: the extractive default (rag/extractive.py) and the LLM (rag/llm.py)."""

from __future__ import annotations

from typing import Iterator, Protocol

from .context import AnswerContext
from .schema import Answer


class Answerer(Protocol):
    mode: str  # "extractive" | "llm", reported in every Answer

    def stream(self, ctx: AnswerContext, history: list[dict]) -> Iterator[str | Answer]:
        """Text pieces as they are ready, then the final Answer (a refusal when the sources do not answer)."""
        ...
