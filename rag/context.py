"""What the service hands an answerer: the question as understood, and the sections retrieved for it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .retriever import ScoredSection
from .schema import Answer
from .wording import say


@dataclass
class AnswerContext:
    question: str  # as the user sent it
    text: str  # cleaned, for retrieval
    lang: str
    medicines: list[str]
    prior: dict[str, float]
    embedding: list[float]
    ranked: list[ScoredSection]
    covered: str  # "I can answer from the overviews of: …", said with every refusal
    note: str = ""  # said before the answer, e.g. that it is about another medicine than the one selected
    shape: object = None  # guard.Shape: what the quote must hold (a frequency, the active substance …)
    subject: tuple[str, ...] = ()  # the medicines' names and active substances
    retrieved: list[dict] = field(init=False)

    def __post_init__(self) -> None:
        self.retrieved = [r.to_dict() for r in self.ranked]

    def refusal(self, reason: str, mode: str, key: str = "not_covered") -> Answer:
        message = f"{say(self.lang, key)} {self.covered}"
        return refusal(self.question, self.lang, message, reason, mode, self.medicines, self.retrieved)

    def too_weak(self, min_dense: float) -> bool:
        """The best section is too far from the question to answer from."""
        return not self.ranked or self.ranked[0].dense < min_dense


def refusal(question: str, lang: str, message: str, reason: str, mode: str,
            medicines: list[str] | None = None, retrieved: list[dict] | None = None) -> Answer:
    return Answer(question, message, True, [], mode, retrieved or [], lang, medicines or [], reason)
