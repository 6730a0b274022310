"""Serve the chat, the HTTP API and the help widget: `python -m ui [--host H] [--port P]`."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    from rag.offline import prepare_environment

    prepare_environment()
    parser = argparse.ArgumentParser(prog="python -m ui",
                                     description="Serve the chat, the HTTP API and the help widget.")
    parser.add_argument("--host", help="address to listen on (default: APP_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: APP_PORT or 7860)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("ui")

    import uvicorn

    from rag.service import RagService
    from rag.settings import Settings
    from rag.store import StoreError

    from .app import create_app

    settings = Settings()
    settings = settings.model_copy(update={"host": args.host or settings.host, "port": args.port or settings.port})
    host, port = settings.host, settings.port
    try:
        service = RagService(settings)
    except StoreError as exc:
        log.error("Cannot open the document store: %s", exc)
        return 1
    try:
        sections = service.store.count()
    except Exception as exc:  # the app still starts; /api/health reports the store as unreachable
        log.error("The document store is not reachable: %s", exc)
    else:
        if not sections:
            log.warning("The store at %s is empty: run `python -m ingest` (or `make run`); "
                        "until then every question is refused.", settings.store_dir)
        else:
            log.info("%d sections loaded; answering in %s mode", sections, service.mode)

    if host in ("0.0.0.0", "::") and not settings.trusted_hosts:
        log.warning("Listening on all interfaces, but only requests for %s are answered: set TRUSTED_HOSTS "
                    "to the names users reach this server by.", ", ".join(settings.allowed_hosts))
    app = create_app(settings, service)
    base = f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{port}"
    log.info("chat: %s/  widget demo: %s/embed  API schema: %s/openapi.json", base, base, base)
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
