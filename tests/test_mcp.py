"""The MCP server driven by the `mcp` SDK's own client: over stdio (`python -m ui.mcp`) and over HTTP (/mcp)."""

from __future__ import annotations

import sys

import anyio
import pytest

from .conftest import ROOT
from .live_app import serve

KEY = "s3cret-key"
TOOLS = {"ask", "list_medicines", "get_section"}


async def exercise(client) -> None:
    """What an agent does: list the tools, ask, list the medicines, read a section."""
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    assert all(t.output_schema for t in tools.values())
    assert tools["ask"].input_schema["required"] == ["question"]

    r = await client.call_tool("ask", {"question": "How often is Conexxence given?"})
    assert not r.is_error
    answer = r.structured_content
    assert not answer["refused"] and "6 months" in answer["answer"] and "[1]" in answer["answer"]
    cite = answer["citations"][0]
    assert (cite["medicine"], cite["section"], cite["ref"]) == ("Conexxence", "how_used", "EMA/201153/2025")
    assert cite["product_number"] == "EMEA/H/C/006268" and cite["quote"] in answer["answer"]

    r = await client.call_tool("ask", {"question": "What is the maximum daily dose of ibuprofen?"})
    assert not r.is_error and r.structured_content["refused"] and r.structured_content["citations"] == []

    r = await client.call_tool("ask", {"question": "What is it used for?", "medicine": "opzelura"})
    assert {c["medicine"] for c in r.structured_content["citations"]} == {"Opzelura"}

    r = await client.call_tool("list_medicines", {})
    meds = {m["name"]: m for m in r.structured_content["medicines"]}
    assert set(meds) == {"Conexxence", "Lumykras", "Opzelura"}
    assert "EMA/201153/2025" in meds["Conexxence"]["refs"]

    r = await client.call_tool("get_section", {"medicine": "Conexxence", "section": "how_used", "language": "en"})
    [section] = r.structured_content["sections"]
    assert section["ref"] == "EMA/201153/2025" and section["language"] == "en"
    assert cite["quote"] in section["text"] and len(section["text"]) > len(cite["quote"])
    r = await client.call_tool("get_section", {"medicine": "Conexxence", "section": "how_used"})
    assert {s["language"] for s in r.structured_content["sections"]} == {"en", "sv"}

    r = await client.call_tool("get_section", {"medicine": "Conexxence", "section": "price"})
    assert r.is_error and "how_used" in r.content[0].text
    r = await client.call_tool("ask", {"question": "How often?", "medicine": "Aspirin"})
    assert r.is_error and "Conexxence" in r.content[0].text


def test_stdio_server_started_as_a_command(seeded_settings, tmp_path):
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = {"STORE_DIR": str(seeded_settings.store_dir), "MODEL_CACHE_DIR": str(seeded_settings.model_cache_dir),
           "FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"), "LLM_BASE_URL": "", "CHROMA_HOST": "",
           "PYTHONPATH": str(ROOT)}
    params = StdioServerParameters(command=sys.executable, args=["-m", "ui.mcp"], cwd=str(ROOT), env=env)

    async def run(errlog) -> None:
        with anyio.fail_after(180):
            async with Client(stdio_client(params, errlog=errlog)) as client:
                await exercise(client)

    with open(tmp_path / "server.log", "w") as errlog:
        anyio.run(run, errlog)


@pytest.fixture(scope="module")
def base_url(seeded_settings, service, tmp_path_factory):
    from ui.app import create_app

    settings = seeded_settings.model_copy(update={
        "api_key": KEY, "feedback_db": tmp_path_factory.mktemp("mcp") / "feedback.sqlite3"})
    with serve(create_app(settings, service)) as url:
        yield url


def test_streamable_http_on_the_app(base_url):
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async def run() -> None:
        with anyio.fail_after(120):
            async with create_mcp_http_client(headers={"Authorization": f"Bearer {KEY}"}) as http:
                async with Client(streamable_http_client(f"{base_url}/mcp", http_client=http)) as client:
                    await exercise(client)

    anyio.run(run)


def test_http_needs_the_key_like_the_json_api(base_url):
    import httpx

    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    r = httpx.post(f"{base_url}/mcp", json=hello, headers=headers, timeout=30)
    assert r.status_code == 401 and r.json()["detail"]
    r = httpx.post(f"{base_url}/mcp", json=hello, headers=headers | {"Authorization": "Bearer wrong"}, timeout=30)
    assert r.status_code == 401
    r = httpx.post(f"{base_url}/mcp", json=hello, headers=headers | {"X-API-Key": KEY}, timeout=30)
    assert r.status_code == 200 and {t["name"] for t in r.json()["result"]["tools"]} == TOOLS


def test_sdk_client_without_the_key_is_turned_away(base_url):
    from mcp import Client, MCPError

    async def run() -> None:
        async with Client(f"{base_url}/mcp") as client:
            await client.list_tools()

    with pytest.raises(Exception) as error:
        anyio.run(run)
    assert error.group_contains(MCPError, depth=None) if isinstance(error.value, BaseExceptionGroup) \
        else isinstance(error.value, MCPError)
