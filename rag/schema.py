"""The Answer every front end receives (CLI, Gradio, HTTP API, eval)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Citation:
    number: int
    medicine: str
    ref: str | None  # the overview's EMA/NNNNNN/YYYY, or None when the corpus has none
    product_number: str | None
    section: str  # canonical key
    section_title: str  # as the document writes it
    language: str
    source: str
    page: int | None  # page of the overview PDF the section starts on; None for other sources
    quote: str  # the exact sentences used, a substring of the stored section
    ref_inferred: bool = False
    section_id: str = ""
    url: str | None = None  # the medicine's page on www.ema.europa.eu
    context: str = ""  # the whole stored section; `quote` is a substring of it


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    mode: str = "extractive"  # "extractive" | "llm"
    retrieved: list[dict] = field(default_factory=list)
    language: str = "en"
    medicines: list[str] = field(default_factory=list)  # what the question was taken to be about
    reason: str = ""  # why it was refused, for logs and eval

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SectionText:
    """One section of one overview as stored, for reading it whole (parts of a long section joined)."""

    medicine: str
    section: str  # canonical key
    section_title: str
    language: str
    ref: str | None
    product_number: str | None
    source: str
    page: int | None
    text: str
    ref_inferred: bool = False
    section_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)
