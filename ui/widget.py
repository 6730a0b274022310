"""The embeddable help widget: its script and a demo page that embeds it."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

STATIC = Path(__file__).parent / "static"


def router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/widget.js")
    def widget_js() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript; charset=utf-8",
                            headers={"Cache-Control": "public, max-age=300"})

    @pages.get("/embed")
    def embed() -> HTMLResponse:
        return HTMLResponse((STATIC / "embed.html").read_text(encoding="utf-8"))

    return pages
