"""The HTTP API under /api: ask, medicines, health, feedback, live."""

from __future__ import annotations

import logging
from functools import partial

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address
from starlette.exceptions import HTTPException

from rag.service import RagService
from rag.settings import Settings
from rag.store import StoreError

from . import models
from .access import require_api_key
from .body_limit import too_large
from .feedback import FeedbackStore

log = logging.getLogger(__name__)


class Worker:
    """Runs answers off the event loop, a few at a time (cheap calls use the default thread pool).

    The embedder is one CPU-bound model shared by everything in the process (and calls into it are
    serialised), so more threads would only wait on it while holding memory; extra requests wait here,
    and health checks stay quick while answers queue.
    """

    def __init__(self, service: RagService, concurrency: int) -> None:
        self.service = service
        self.limiter = anyio.CapacityLimiter(concurrency)

    async def run(self, fn, *args, **kwargs):
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self.limiter)


def feedback_limiter() -> Limiter:
    """Per client address; behind a reverse proxy every user shares the proxy's address (and its budget)."""
    return Limiter(key_func=get_remote_address)


ERRORS = {
    400: {"description": "The Host header is not one of TRUSTED_HOSTS (plain text)"},
    413: {"model": models.Problem, "description": "The request body is over MAX_BODY_BYTES"},
}


def router(settings: Settings, worker: Worker, feedback: FeedbackStore, limiter: Limiter) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(require_api_key(settings))],
                    responses={401: {"model": models.Problem, "description": "API key missing or wrong"}, **ERRORS})
    service = worker.service
    problems = {422: {"model": models.Problem, "description": "The request is not acceptable; `detail` says why"}}
    limited = {429: {"model": models.Problem, "description": "Too many posts from this client; see Retry-After"}}

    @api.post("/ask", response_model=models.Answer, responses=problems)
    async def ask(body: models.AskRequest) -> dict:
        """Answer a question from the EMA overviews, quoting them with citations, or refuse."""
        question = body.question.strip()
        limit = settings.max_question_chars
        if len(question) > limit:
            raise _invalid("question", f"The question is {len(question)} characters long; "
                                       f"the limit is {limit} characters.")
        medicine = None
        if body.medicine:
            names = {m["name"].lower(): m["name"] for m in await anyio.to_thread.run_sync(service.medicines)}
            medicine = names.get(body.medicine.strip().lower())
            if medicine is None:
                raise _invalid("medicine", f"No overview of {body.medicine!r} is loaded; "
                                           "GET /api/medicines lists the medicines covered.")
        history = [t.model_dump() for t in body.history]
        answer = await worker.run(service.answer, question, history, medicine)
        return answer.to_dict()

    @api.get("/medicines", response_model=list[models.Medicine])
    async def medicines() -> list[dict]:
        """The medicines the loaded overviews cover, with their EMA reference numbers."""
        return await anyio.to_thread.run_sync(service.medicines)

    @api.get("/health", response_model=models.Health,
             responses={503: {"model": models.Health, "description": "The store is empty or not reachable"}})
    async def health() -> JSONResponse:
        """Whether the document store is reachable and holds documents, and the answering mode."""
        result = await anyio.to_thread.run_sync(_health, service)
        return JSONResponse(result.model_dump(), status_code=200 if result.status == "ok" else 503)

    @api.post("/feedback", response_model=models.FeedbackSaved, status_code=201, responses=problems | limited)
    @limiter.limit(settings.feedback_rate_limit)
    async def feedback_vote(request: Request, body: models.FeedbackRequest) -> dict:
        """Store a thumbs up or down for an answer (FEEDBACK_RATE_LIMIT posts per client address)."""
        row = await anyio.to_thread.run_sync(partial(
            feedback.add, question=body.question, answer=body.answer, vote=body.vote, refused=body.refused,
            citations=[c.model_dump() for c in body.citations], source="api"))
        return {"id": row}

    return api


def live_router() -> APIRouter:
    """For monitoring probes: needs no key and tells nothing but that the process serves requests."""
    probe = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)

    @probe.get("/live", response_model=models.Live)
    async def live() -> dict:
        """Liveness: 200 while the app serves requests. Store details are at /api/health (behind the key)."""
        return {"status": "ok"}

    return probe


def _health(service: RagService) -> models.Health:
    try:
        sections = service.store.count()
        meds = service.medicines() if sections else []
    except Exception as exc:  # whatever the store raises, health reports it instead of failing
        log.warning("store not reachable: %s", exc)
        return models.Health(status="unavailable", store_reachable=False, documents=0, sections=0, medicines=0,
                             mode=service.mode, message=f"The document store is not reachable: {exc}")
    documents = len({s for m in meds for s in m.get("sources", [])})
    if not sections:
        return models.Health(status="empty", store_reachable=True, documents=0, sections=0, medicines=0,
                             mode=service.mode, message="No documents are loaded; run `python -m ingest`.")
    return models.Health(status="ok", store_reachable=True, documents=documents, sections=sections,
                         medicines=len(meds), mode=service.mode)


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


def _problem_text(error: dict) -> models.FieldProblem:
    loc = [str(p) for p in error.get("loc", ()) if p != "body"]
    kind = error.get("type", "")
    msg = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if kind == "json_invalid":
        reason = str((error.get("ctx") or {}).get("error", "")).strip()
        if loc:
            reason += f" character {loc[0]}" if reason.endswith(" at") else f" at character {loc[0]}"
        return models.FieldProblem(field="body", message=f"The request body is not valid JSON: {reason}.")
    if not loc:
        if kind == "missing":
            msg = 'The request body is missing; send JSON such as {"question": "How often is Conexxence given?"}.'
        elif kind in {"model_attributes_type", "dict_type"}:
            msg = 'The request body must be a JSON object such as {"question": "How often is Conexxence given?"}.'
        return models.FieldProblem(field="body", message=msg)
    field = ".".join(loc)
    if kind == "missing":
        msg = f"{field} is required."
    elif kind != "value_error":
        msg = f"{field}: {msg}."
    return models.FieldProblem(field=field, message=msg)


def _unparsable(exc: BaseException | None) -> str | None:
    """Why a body that FastAPI could not parse (its generic 400) was refused, in words, or None."""
    if isinstance(exc, UnicodeDecodeError):
        return f"The request body is not valid UTF-8 (byte {exc.start}); send JSON encoded as UTF-8."
    if isinstance(exc, RecursionError):
        return "The request body is nested too deeply; send a flat JSON object."
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return "A number in the request body has too many digits."
    return None


def _problem(status: int, detail: str, field: str | None = None, headers: dict | None = None) -> JSONResponse:
    errors = [models.FieldProblem(field=field, message=detail)] if field else []
    return JSONResponse(models.Problem(detail=detail, errors=errors).model_dump(), status_code=status,
                        headers=headers)


def add_error_handlers(app: FastAPI, settings: Settings) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 400 and (reason := _unparsable(exc.__cause__)):
            return _problem(422, reason, "body")
        if exc.status_code == 413:
            return _problem(413, too_large(settings.max_body_bytes), "body")
        return await http_exception_handler(request, exc)

    @app.exception_handler(RateLimitExceeded)
    async def too_many(request: Request, exc: RateLimitExceeded) -> JSONResponse:
        window = exc.limit.limit.get_expiry() if exc.limit else 60
        return _problem(429, f"Too much feedback from this address ({exc.detail}); try again later.",
                        headers={"Retry-After": str(window)})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_problem_text(e) for e in exc.errors()]
        detail = " ".join(e.message for e in errors) or "The request is not valid."
        return JSONResponse(models.Problem(detail=detail, errors=errors).model_dump(), status_code=422)

    @app.exception_handler(StoreError)
    async def store_down(request: Request, exc: StoreError) -> JSONResponse:
        log.error("store error: %s", exc)
        return JSONResponse(models.Problem(detail=f"The document store is not available: {exc}").model_dump(),
                            status_code=503)
