"""The one web app: HTTP API, help widget and the Gradio chat, sharing one answer service."""

from __future__ import annotations

import gradio as gr
from fastapi import FastAPI

from rag.service import RagService
from rag.settings import Settings

from . import api, mcp, openai_api, widget
from .access import add_cors
from .chat import build_chat, theme
from .feedback import FeedbackStore

DESCRIPTION = """Answers questions about medicines by quoting the EMA medicine overviews, with a citation for
every quote (medicine, section, EMA reference number), or says that the documents do not answer.
The chat is at `/`, the help widget at `/widget.js` (demo: `/embed`).

When the server sets API_KEY, `/api/*` needs the header `X-API-Key`, except for browser requests from this
app's own origin or an origin listed in CORS_ORIGINS (the widget, which never holds the key)."""


def answer_concurrency(service: RagService) -> int:
    """How many answers are worked on at once, in the chat and in the API (each has its own limit).

    Extractive answers spend their time in the shared CPU-bound embedder, which takes one call at a time:
    two in flight let one request's cheap steps overlap another's embedding, and more would only queue on
    the model. LLM answers mostly wait for the remote endpoint, so more can usefully run side by side.
    """
    return 8 if service.mode == "llm" else 2


def create_app(settings: Settings | None = None, service: RagService | None = None) -> FastAPI:
    settings = settings or Settings()
    service = service or RagService(settings)
    feedback = FeedbackStore(settings.feedback_db)
    concurrency = answer_concurrency(service)

    app = FastAPI(title="EMA medicine overviews Q&A", version="0.1.0", description=DESCRIPTION)
    add_cors(app, settings)
    api.add_error_handlers(app)
    worker = api.Worker(service, concurrency)
    app.include_router(api.router(settings, worker, feedback))
    app.include_router(openai_api.router(settings, worker))
    mcp.mount(app, settings, worker)
    app.include_router(widget.router())
    app.state.service = service
    app.state.feedback = feedback

    blocks = build_chat(service, feedback, concurrency=concurrency, max_chars=settings.max_question_chars)
    # Mounted last: the Gradio app at "/" would otherwise shadow the routes above.
    return gr.mount_gradio_app(
        app, blocks, path="/", server_name=settings.host, server_port=settings.port,
        footer_links=[], run_history=False, ssr_mode=False, show_error=False,
        theme=theme(), css_paths=[widget.STATIC / "chat.css"],
    )
