"""The API key as OpenAI and MCP clients send it: `Authorization: Bearer KEY`, or `X-API-Key` as for /api/*.

Only where the key is read differs; who needs one is decided by `ui.access.require_api_key`, the same rule
as for /api/*.
"""

from __future__ import annotations

from fastapi import HTTPException, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.settings import Settings

from .access import api_key_header, require_api_key

bearer = HTTPBearer(auto_error=False, description="The server's API_KEY, when it sets one (OpenAI clients send "
                                                  "their API key this way). X-API-Key works too.")


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def require_client_key(settings: Settings):
    """A FastAPI dependency: the /api/* rule, with the key taken from either header."""
    check = require_api_key(settings)

    async def dependency(request: Request, key: str | None = Security(api_key_header),
                         token: HTTPAuthorizationCredentials | None = Security(bearer)) -> None:
        await check(request, key or (token.credentials if token else None))

    return dependency


class KeyGuard:
    """The same rule in front of a plain ASGI app (the MCP endpoint, which is not a FastAPI route)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.check = require_api_key(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            try:
                await self.check(request, presented_key(request))
            except HTTPException as exc:
                response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                        headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
