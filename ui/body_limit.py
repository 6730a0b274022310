"""Request bodies over MAX_BODY_BYTES are refused with 413 before they are read, on every route.

A body that announces its size in Content-Length is refused before any route runs. Any other body
(chunked, or a Content-Length that lies) is counted as it arrives, and reading stops at the limit. The
server hands the app a body in small pieces and waits while the app is not reading, so at most the
limit is ever held in memory.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import models


def too_large(limit: int) -> str:
    return f"The request body is larger than {limit:,} bytes (MAX_BODY_BYTES)."


class BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException, so FastAPI passes it on instead of calling it a parse error."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return

        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = too_large(self.limit)
        body = models.Problem(detail=detail, errors=[models.FieldProblem(field="body", message=detail)])
        await JSONResponse(body.model_dump(), status_code=413, headers={"Connection": "close"})(scope, receive, send)
