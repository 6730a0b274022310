"""OpenAI-compatible chat completions under /v1, answered by the same service as /api/ask.

Any OpenAI client (Open WebUI, LibreChat, the `openai` SDKs, llama-index's and LangChain's OpenAI classes) can
use the app as a model named `ema-overviews`, or `ema-overviews:NAME` to answer from one medicine's overviews.
The reply text keeps its [n] marks and ends with a plain "Sources:" list; the same citations travel as objects
in the extra `citations` field (of the response, or of the last chunk of a stream). Refusals are ordinary
replies. Streams carry the checked answer: it is complete, with its citations validated, before the first
words are sent.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import anyio
from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from rag.schema import Answer
from rag.settings import Settings
from rag.store import StoreError
from rag.tokens import count_tokens
from rag.wording import language_name

from . import models
from .api import Worker
from .keys import require_client_key
from .openai_models import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    Error,
    ErrorDetail,
    Message,
    Model,
    ModelList,
    Usage,
)

MODEL = "ema-overviews"


def sources_text(citations: list[dict]) -> str:
    """The citations as plain lines, for clients that show only the text."""
    lines = []
    for c in citations:
        ref = c.get("ref") or "no EMA reference number"
        if c.get("ref") and c.get("ref_inferred"):
            ref += " (taken from the EPAR page)"
        language = language_name(c["language"], "en") if c.get("language") else None
        details = [ref] + [v for v in (c.get("product_number"), language, c.get("source")) if v]
        if c.get("page"):
            details[-1] += f", page {c['page']}"
        lines.append(f"- [{c['number']}] {c.get('medicine')}, “{c.get('section_title') or c.get('section')}”: "
                     f"{'; '.join(details)}")
    return "Sources:\n" + "\n".join(lines) if lines else ""


def reply(answer: Answer) -> tuple[str, list[dict]]:
    """The reply text (the answer, then its sources as text) and the citations as objects."""
    citations = answer.to_dict()["citations"]
    sources = sources_text(citations)
    return (f"{answer.answer}\n\n{sources}" if sources else answer.answer), citations


def pieces(text: str) -> list[str]:
    """Words with the space after them; joined, they are the text again."""
    return [p for p in re.split(r"(?<=\s)(?=\S)", text) if p]


def conversation(messages: list[Message]) -> tuple[str, list[dict]]:
    """The question (the last message, from the user) and the user/assistant turns before it."""
    last = messages[-1]
    field = f"messages.{len(messages) - 1}"
    if last.role != "user":
        raise _invalid(field, "The last message must be the user's question (role \"user\").")
    question = last.text()
    if not question.strip():
        raise _invalid(field, "The question is empty; type a question about a medicine.")
    history = [{"role": m.role, "content": m.text()[:models.MAX_TURN_CHARS]} for m in messages[:-1]
               if m.role in ("user", "assistant") and m.text().strip()]
    return question, history[-models.MAX_HISTORY_TURNS:]


def usage(messages: list[Message], reply: str) -> Usage:
    prompt = sum(count_tokens(m.text()) for m in messages)
    completion = count_tokens(reply)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def router(settings: Settings, worker: Worker) -> APIRouter:
    v1 = APIRouter(prefix="/v1", tags=["openai"], dependencies=[Depends(require_client_key(settings))],
                   responses={401: {"model": models.Problem, "description": "API key missing or wrong"}})
    service = worker.service
    started = int(time.time())
    not_found = {404: {"model": Error, "description": "No such model"}}

    async def model_ids() -> list[str]:
        names = [m["name"] for m in await anyio.to_thread.run_sync(service.medicines)]
        return [MODEL] + [f"{MODEL}:{name}" for name in names]

    async def medicine_of(model: str) -> tuple[bool, str | None]:
        """Whether the model exists, and the medicine it limits answers to."""
        if model == MODEL:
            return True, None
        name = model.removeprefix(f"{MODEL}:")
        if name == model or not name.strip():
            return False, None
        medicine = await anyio.to_thread.run_sync(service.find_medicine, name)
        return medicine is not None, medicine

    @v1.get("/models", response_model=ModelList)
    async def list_models() -> dict:
        """`ema-overviews` (every medicine), and `ema-overviews:NAME` for each medicine the overviews cover."""
        return {"data": [Model(id=i, created=started).model_dump() for i in await model_ids()]}

    @v1.get("/models/{model:path}", response_model=Model, responses=not_found)
    async def get_model(model: str):
        exists, _ = await medicine_of(model)
        if not exists:
            return _no_model(model)
        return Model(id=model, created=started).model_dump()

    @v1.post("/chat/completions", response_model=ChatCompletion,
             responses={**not_found, 200: {"content": {"text/event-stream": {}},
                                           "description": "A chat.completion, or with `stream` a stream of "
                                                          "chat.completion.chunk events ending in [DONE]"},
                        422: {"model": models.Problem, "description": "The request is not acceptable"}})
    async def chat_completions(body: ChatCompletionRequest):
        """Answer the last user message from the EMA overviews, with the earlier messages as chat history."""
        question, history = conversation(body.messages)
        exists, medicine = await medicine_of(body.model)
        if not exists:
            return _no_model(body.model)
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

        def complete() -> tuple[Answer, str, list[dict], Usage]:
            answer = service.answer(question, history, medicine)
            text, citations = reply(answer)
            return answer, text, citations, usage(body.messages, text)

        if not body.stream:
            answer, text, citations, counted = await worker.run(complete)
            return ChatCompletion(
                id=ident, created=created, model=body.model, choices=[Choice(message=AssistantMessage(content=text))],
                usage=counted, citations=citations, refused=answer.refused).model_dump()

        include_usage = bool(body.stream_options and body.stream_options.include_usage)

        def chunk(delta: dict | None, finish: str | None = None, **extra) -> dict:
            choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
            return {"data": json.dumps({"id": ident, "object": "chat.completion.chunk", "created": created,
                                        "model": body.model, "system_fingerprint": None, "choices": choices, **extra})}

        async def events():
            yield chunk({"role": "assistant", "content": ""})
            try:
                answer, text, citations, counted = await worker.run(complete)
            except StoreError as exc:
                # Headers are sent already; OpenAI clients raise an error for a data line with "error".
                yield {"data": json.dumps({"error": ErrorDetail(message=f"The document store is not available: {exc}",
                                                                type="server_error").model_dump()})}
                return
            for piece in pieces(text):
                yield chunk({"content": piece})
            yield chunk({}, "stop", citations=citations, refused=answer.refused)
            if include_usage:
                yield chunk(None, usage=counted.model_dump())
            yield {"data": "[DONE]"}

        return EventSourceResponse(events(), sep="\n")

    return v1


def _no_model(model: str) -> JSONResponse:
    detail = ErrorDetail(message=f"The model {model!r} does not exist; GET /v1/models lists the models "
                                 f"({MODEL}, or {MODEL}:NAME for one medicine).",
                         type="invalid_request_error", param="model", code="model_not_found")
    return JSONResponse(Error(error=detail).model_dump(), status_code=404)


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", *field.split(".")), "msg": message, "type": "value_error"}])
