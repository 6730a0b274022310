"""Request and response bodies of the HTTP API; they mirror rag.schema so the OpenAPI schema is exact."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_HISTORY_TURNS = 40
MAX_TURN_CHARS = 8000
MAX_CITATIONS = 20
_SURROGATE = re.compile("[\ud800-\udfff]")


def unicode_text(value: str) -> str:
    """Text that can be written as UTF-8: a lone surrogate (JSON allows "\\ud800") becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


class Inbound(BaseModel):
    """A request body: every string in it is made encodable, so it can be answered, stored and echoed."""

    @field_validator("*", mode="before")
    @classmethod
    def _encodable(cls, value):
        return unicode_text(value) if isinstance(value, str) else value


class Turn(Inbound):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_TURN_CHARS)


class AskRequest(Inbound):
    model_config = ConfigDict(json_schema_extra={
        "examples": [{"question": "How often is Conexxence given?", "history": []}]})

    # minLength, pattern and maxLength (the MAX_QUESTION_CHARS setting, filled in by the app) only document
    # the rules; the API checks them itself, to answer with its own messages.
    question: str = Field(description="The question, in English or Swedish, not blank. The length limit is a "
                                      "setting (MAX_QUESTION_CHARS, 2000 by default).",
                          json_schema_extra={"minLength": 1, "pattern": r"\S"})
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS,
                                description="The conversation so far, oldest first; follow-up questions use it.")
    medicine: str | None = Field(None, max_length=200,
                                 description="Only answer from this medicine's overview (a name from /api/medicines).")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("The question is empty; type a question about a medicine.")
        return value


class Citation(BaseModel):
    number: int = Field(description="The [n] mark in the answer text.")
    medicine: str
    ref: str | None = Field(description="EMA reference number of the overview (EMA/NNNNNN/YYYY).")
    product_number: str | None = Field(description="EMA product number, e.g. EMEA/H/C/006157.")
    section: str = Field(description="Canonical section key, e.g. how_used.")
    section_title: str = Field(description="The section heading as the document writes it.")
    language: str = Field(description="Language code of the overview (en, sv).")
    source: str = Field(description="File the overview was read from.")
    page: int | None = Field(description="Page of the overview PDF the section starts on (PDF sources only).")
    quote: str = Field(description="The exact sentences quoted from the section.")
    ref_inferred: bool = Field(False, description="True when the reference number was taken from another "
                                                  "language version of the same overview.")
    section_id: str = ""
    url: str | None = Field(None, description="The medicine's page on the EMA website (https://www.ema.europa.eu).")
    context: str = Field("", description="The whole section the quote was taken from; `quote` is a substring.")


class FeedbackCitation(Inbound):
    """A citation as sent back with feedback: the fields of Citation, each with a length cap (no context)."""

    number: int = Field(ge=0, le=1000)
    medicine: str = Field(max_length=200)
    ref: str | None = Field(None, max_length=40)
    product_number: str | None = Field(None, max_length=40)
    section: str = Field(max_length=60)
    section_title: str = Field("", max_length=500)
    language: str = Field("", max_length=10)
    source: str = Field("", max_length=300)
    page: int | None = Field(None, ge=0, le=100_000)
    quote: str = Field("", max_length=MAX_TURN_CHARS)
    ref_inferred: bool = False
    section_id: str = Field("", max_length=400)
    url: str | None = Field(None, max_length=300)


class Retrieved(BaseModel):
    """A section the retriever ranked, with its scores (for inspection; not needed to show an answer)."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    medicine: str | None = None
    section: str | None = None
    section_title: str | None = None
    language: str | None = None
    ref: str | None = None
    source: str | None = None
    score: float | None = None
    dense: float | None = None
    bm25: float | None = None
    intent: float | None = None


class Answer(BaseModel):
    question: str
    answer: str = Field(description="Quoted sentence(s) with [n] marks, then a pointer to the package leaflet, "
                                    "or the reason the question cannot be answered.")
    refused: bool = Field(description="True when the documents do not answer the question.")
    citations: list[Citation]
    mode: Literal["extractive", "llm"]
    retrieved: list[Retrieved]
    language: str = Field(description="Language of the question and the answer (en, sv).")
    medicines: list[str] = Field(description="Medicines the question was taken to be about.")
    reason: str = Field(description="Why the question was refused (empty when answered).")


class Medicine(BaseModel):
    name: str
    active_substance: str | None
    refs: list[str] = Field(description="EMA reference numbers of the overviews.")
    product_numbers: list[str]
    languages: list[str]
    sources: list[str]


class Health(BaseModel):
    status: Literal["ok", "empty", "unavailable"]
    store_reachable: bool
    documents: int = Field(description="Overviews (source files) in the store.")
    sections: int = Field(description="Sections stored; 0 until `python -m ingest` has run.")
    medicines: int
    mode: Literal["extractive", "llm"]
    message: str = ""


class FeedbackRequest(Inbound):
    question: str = Field(min_length=1, max_length=MAX_TURN_CHARS)
    answer: str = Field(max_length=MAX_TURN_CHARS)
    citations: list[FeedbackCitation] = Field(default_factory=list, max_length=MAX_CITATIONS)
    refused: bool = False
    vote: Literal["up", "down"]


class Live(BaseModel):
    status: Literal["ok"] = "ok"


class FeedbackSaved(BaseModel):
    id: int


class FieldProblem(BaseModel):
    field: str = Field(description="Where the problem is, e.g. question or history.0.role; 'body' for the whole body.")
    message: str


class Problem(BaseModel):
    detail: str = Field(description="One readable sentence.")
    errors: list[FieldProblem] = Field(default_factory=list)
