"""The MCP server: tools `ask`, `list_medicines` and `get_section` over the same answer service as the chat.

`python -m ui.mcp` serves it over stdio, with the settings of the app (STORE_DIR, MODEL_CACHE_DIR, ... from
the environment or `.env`); the app serves the same tools over streamable HTTP at /mcp, under the API key
rule of /api/*.
"""

from __future__ import annotations

import argparse
import logging
import sys
from contextlib import asynccontextmanager, redirect_stdout
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field
from starlette.routing import Route

from rag.settings import Settings

from . import models
from .api import Worker
from .keys import KeyGuard

PATH = "/mcp"
INSTRUCTIONS = """Answers questions about EU-authorised medicines from the European Medicines Agency's medicine
overviews only. `ask` quotes the overviews with citations (medicine, section, EMA reference number) or says
that they do not answer; show the citations with the answer. `list_medicines` names what the overviews cover;
`get_section` returns a section's full text for checking a quote."""


class AskResult(BaseModel):
    answer: str = Field(description="The answer with [n] marks pointing at `citations`, or why it cannot be given.")
    refused: bool = Field(description="True when the overviews do not answer the question.")
    reason: str = Field(description="Why it was refused (empty when answered).")
    citations: list[models.Citation]
    medicines: list[str] = Field(description="Medicines the question was taken to be about.")
    language: str = Field(description="Language of the question and the answer.")


class MedicineList(BaseModel):
    medicines: list[models.Medicine]


class Section(BaseModel):
    medicine: str
    section: str = Field(description="Canonical section key, e.g. how_used.")
    section_title: str = Field(description="The heading as the document writes it.")
    language: str
    ref: str | None = Field(description="EMA reference number of the overview.")
    ref_inferred: bool
    product_number: str | None
    source: str = Field(description="File the overview was read from.")
    page: int | None
    text: str = Field(description="The section's text as stored.")
    section_ids: list[str]


class SectionList(BaseModel):
    sections: list[Section] = Field(description="One entry per overview that has the section (e.g. per language).")


def build_server(worker: Worker) -> MCPServer:
    service = worker.service
    server = MCPServer("ema-overviews", title="EMA medicine overviews", instructions=INSTRUCTIONS, version="0.1.0",
                       log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    async def catalogue_name(medicine: str) -> str:
        name = await anyio.to_thread.run_sync(service.find_medicine, medicine)
        if name is None:
            names = ", ".join(m["name"] for m in await anyio.to_thread.run_sync(service.medicines))
            raise ToolError(f"No overview of {medicine!r} is loaded; the overviews cover: {names}.")
        return name

    @server.tool(annotations=read_only)
    async def ask(
        question: Annotated[str, Field(description="The question, in English or Swedish.")],
        medicine: Annotated[str | None, Field(description="Only answer from this medicine's overviews "
                                                          "(a name from list_medicines).")] = None,
    ) -> AskResult:
        """Answer a question about a medicine by quoting the EMA medicine overviews, with citations, or refuse."""
        name = await catalogue_name(medicine) if medicine and medicine.strip() else None
        answer = (await worker.run(service.answer, question, [], name)).to_dict()
        return AskResult(**{k: answer[k] for k in AskResult.model_fields})

    @server.tool(annotations=read_only)
    async def list_medicines() -> MedicineList:
        """The medicines the loaded overviews cover, with EMA reference numbers, languages and source files."""
        return MedicineList(medicines=await anyio.to_thread.run_sync(service.medicines))

    @server.tool(annotations=read_only)
    async def get_section(
        medicine: Annotated[str, Field(description="A medicine name from list_medicines.")],
        section: Annotated[str, Field(description="Canonical section key: what_is, how_used, how_works, benefits, "
                                                  "risks, why_authorised, missing_info, safe_use, other_info, ...")],
        language: Annotated[str | None, Field(description="Language code (en, sv); all languages when empty.")] = None,
    ) -> SectionList:
        """The full stored text of one section of a medicine's overview, with its reference numbers."""
        name = await catalogue_name(medicine)
        key = section.strip().lower().replace(" ", "_").replace("-", "_")
        have = await anyio.to_thread.run_sync(service.sections_of, name)
        if key not in have:
            raise ToolError(f"The overviews of {name} have no section {section!r}; they have: {', '.join(have)}.")
        lang = language.strip().lower() if language and language.strip() else None
        if lang and lang not in have[key]:
            raise ToolError(f"The section {key} of {name} is in {', '.join(have[key])}, not in {language!r}.")
        found = await anyio.to_thread.run_sync(service.section, name, key, lang)
        return SectionList(sections=[Section(**s.to_dict()) for s in found])

    return server


def mount(app: FastAPI, settings: Settings, worker: Worker) -> None:
    """Serve the tools over streamable HTTP at /mcp (stateless: every request stands alone)."""
    server = build_server(worker)
    # Creates the session manager; DNS-rebinding protection is on when the app listens on loopback only.
    server.streamable_http_app(stateless_http=True, json_response=True, host=settings.host)
    manager = server.session_manager
    app.router.routes.append(Route(PATH, KeyGuard(StreamableHTTPASGIApp(manager), settings)))
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        async with outer(a) as state, manager.run():
            yield state

    app.router.lifespan_context = lifespan


def main(argv: list[str] | None = None) -> int:
    from rag.offline import prepare_environment

    prepare_environment()
    parser = argparse.ArgumentParser(
        prog="python -m ui.mcp", description="Serve the MCP tools ask, list_medicines and get_section over stdio. "
                                             "Settings come from the environment or .env, as for the app.")
    parser.add_argument("--store", type=Path, help="store folder (default: STORE_DIR)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")

    from rag.service import RagService
    from rag.store import StoreError

    try:
        with redirect_stdout(sys.stderr):  # stdout carries the protocol
            settings = Settings()
            if args.store:
                settings = settings.model_copy(update={"store_dir": args.store.expanduser()})
            service = RagService(settings)
    except StoreError as exc:
        logging.getLogger("ui.mcp").error("Cannot open the document store: %s", exc)
        return 1
    build_server(Worker(service, 1)).run("stdio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
