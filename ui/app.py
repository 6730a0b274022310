"""The one web app: HTTP API, help widget and the Gradio chat, sharing one answer service."""

from __future__ import annotations

from contextlib import asynccontextmanager

import anyio
import gradio as gr
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi_offline import FastAPIOffline

from rag.service import RagService
from rag.settings import Settings

from . import api, mcp, models, openai_api, widget
from .access import add_cors, add_trusted_hosts
from .body_limit import BodyLimit
from .chat import build_chat, theme
from .feedback import FeedbackStore
from .warm import warm

DESCRIPTION = """Answers questions about medicines by quoting the EMA medicine overviews, with a citation for
every quote (medicine, section, EMA reference number), or says that the documents do not answer.
The chat is at `/`, the help widget at `/widget.js` (demo: `/embed`).

When the server sets API_KEY, `/api/*` needs the header `X-API-Key`, except for browser requests from this
app's own origin or an origin listed in CORS_ORIGINS (the widget, which never holds the key); `/api/live`
never does. Request bodies over MAX_BODY_BYTES get 413, Host headers outside TRUSTED_HOSTS get 400, and
`/api/feedback` takes FEEDBACK_RATE_LIMIT posts per client address (then 429)."""


OFFLINE_DOCS = "/static-offline-docs"  # where fastapi-offline mounts its Swagger UI and ReDoc files


def answer_concurrency(service: RagService) -> int:
    """How many answers are worked on at once, in the chat and in the API (each has its own limit).

    Extractive answers spend their time in the shared CPU-bound embedder, which takes one call at a time:
    two in flight let one request's cheap steps overlap another's embedding, and more would only queue on
    the model. LLM answers mostly wait for the remote endpoint, so more can usefully run side by side.
    """
    return 8 if service.mode == "llm" else 2


def _offline_redoc(app: FastAPI) -> None:
    """ReDoc from the package's files; its bundle also shows a logo from a CDN, which the page's CSP blocks."""

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{root}{OFFLINE_DOCS}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{OFFLINE_DOCS}/favicon.png", with_google_fonts=False)
        page.headers["Content-Security-Policy"] = "img-src 'self' data:; connect-src 'self'; font-src 'self' data:"
        return page


def _document_limits(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI schema states this server's question length limit."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            schema["components"]["schemas"]["AskRequest"]["properties"]["question"]["maxLength"] = \
                settings.max_question_chars
        return app.openapi_schema

    app.openapi = openapi


def _warm_at_start(app: FastAPI, service: RagService) -> None:
    """The app starts serving once the first question has nothing left to load (see ui.warm)."""
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        async with outer(a) as state:
            await anyio.to_thread.run_sync(warm, service)
            yield state

    app.router.lifespan_context = lifespan


def create_app(settings: Settings | None = None, service: RagService | None = None) -> FastAPI:
    settings = settings or Settings()
    service = service or RagService(settings)
    feedback = FeedbackStore(settings.feedback_db)
    concurrency = answer_concurrency(service)

    # /docs and /redoc use the Swagger UI and ReDoc files of a package, not a CDN.
    # No validatorUrl: Swagger UI would otherwise send the schema to an outside validator for its badge.
    app: FastAPI = FastAPIOffline(title="EMA medicine overviews Q&A", version="0.1.0", description=DESCRIPTION,
                                  swagger_ui_parameters={"validatorUrl": None}, redoc_url=None)
    _offline_redoc(app)
    _document_limits(app, settings)
    add_cors(app, settings)
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    add_trusted_hosts(app, settings)  # added last, so it runs first
    api.add_error_handlers(app, settings)
    limiter = api.feedback_limiter()
    app.state.limiter = limiter
    worker = api.Worker(service, concurrency)
    app.include_router(api.live_router())
    app.include_router(api.router(settings, worker, feedback, limiter))
    app.include_router(openai_api.router(settings, worker))
    mcp.mount(app, settings, worker)
    _warm_at_start(app, service)
    app.include_router(widget.router())
    app.state.service = service
    app.state.feedback = feedback

    @app.api_route("/gradio_api/upload{rest:path}", methods=["GET", "POST", "PUT"], include_in_schema=False)
    async def no_uploads(rest: str = "") -> JSONResponse:
        # The chat takes no files; Gradio would otherwise store whatever is posted here.
        return JSONResponse(models.Problem(detail="This app takes no file uploads.").model_dump(), status_code=404)

    blocks = build_chat(service, feedback, concurrency=concurrency, max_chars=settings.max_question_chars)
    # Mounted last: the Gradio app at "/" would otherwise shadow the routes above.
    return gr.mount_gradio_app(
        app, blocks, path="/", server_name=settings.host, server_port=settings.port,
        footer_links=[], run_history=False, ssr_mode=False, show_error=False,
        theme=theme(), css_paths=[widget.STATIC / "chat.css"],
    )
