"""Who may call /api/*: browsers on allowed origins (CORS), other callers with the API key.

The app answers only to the host names in TRUSTED_HOSTS (default: localhost, 127.0.0.1 and APP_HOST);
any other Host header gets 400 before anything else runs. That keeps out DNS-rebinding pages, which reach
the port under a name of their own.

Rule, when API_KEY is set:
- a browser request whose Origin is this app's own origin (the Host it was sent to, which must be a trusted
  host named in the list, not matched by "*"), or one listed in CORS_ORIGINS, needs no key: that is the help
  widget, which runs in a web page and must never hold the key;
- every other request (no Origin header, as from servers, scripts and curl, or an unlisted Origin) must
  send `X-API-Key: <key>`, or gets 401.
Browsers set Origin themselves and pages cannot change it, but a non-browser client can send any Origin.
So the key keeps unknown programs off the API; it does not hide the answers from anyone who can reach
the server (neither does the chat page at /). Restrict who can reach the port to make it private.
When API_KEY is not set, /api/* is open and CORS_ORIGINS alone decides which other sites' pages may call it.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Request, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import APIKeyHeader
from starlette.middleware.trustedhost import TrustedHostMiddleware

from rag.settings import Settings

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False,
    description="Needed when the server sets API_KEY, except from browser pages on this app's origin or an "
                "origin in CORS_ORIGINS.")


def _origin(value: str) -> str:
    parts = urlsplit(value.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else value.strip().lower()


def host_matches(host: str, patterns: list[str]) -> bool:
    """Starlette's TrustedHostMiddleware rule ("name" or "*.domain"), without the allow-all "*"."""
    host = host.lower()
    return any(host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in patterns if p != "*")


def is_own_origin(request: Request, origin: str, settings: Settings) -> bool:
    """Origin names the host this request was sent to, and that host is a trusted one.

    The scheme is ignored (a TLS proxy may sit in front). Host alone proves nothing, since a client or a
    rebinding page chooses it; only a host the operator listed in TRUSTED_HOSTS makes the origin our own.
    """
    host = request.headers.get("host", "").lower()
    netloc = urlsplit(origin.strip()).netloc.lower()
    if not host or netloc != host:
        return False
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return host_matches(name, settings.allowed_hosts)


def trusted_browser(request: Request, settings: Settings) -> bool:
    origin = request.headers.get("origin")
    if not origin:
        return False
    if "*" in settings.cors_origins:
        return True
    return is_own_origin(request, origin, settings) or _origin(origin) in {_origin(o) for o in settings.cors_origins}


def require_api_key(settings: Settings):
    """A FastAPI dependency enforcing the rule above."""

    async def check(request: Request, key: str | None = Security(api_key_header)) -> None:
        expected = settings.api_key
        if not expected or trusted_browser(request, settings):
            return
        if key is None or not hmac.compare_digest(key.encode(), expected.encode()):
            raise HTTPException(401, "A valid X-API-Key header is needed for this request.")

    return check


def add_trusted_hosts(app: FastAPI, settings: Settings) -> None:
    """Refuse requests whose Host header is not a trusted name (400), on every route of the app."""
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts, www_redirect=False)


def add_cors(app: FastAPI, settings: Settings) -> None:
    """Pages on the listed origins may call the API from the browser; same-origin pages always can."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization"],  # OpenAI clients in a page send their key as a Bearer token
        max_age=600,
    )
