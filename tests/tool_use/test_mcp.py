"""MCP servers' tools in ``act()``: a small stdio MCP server written here, run as a subprocess."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp", reason="MCP tools need the mcp extra")

from lmstudio_async import AsyncClient, AsyncLLM, LMStudioValueError
from lmstudio_async.testing import ServerProcess
from lmstudio_async.tools.mcp import mcp_stdio_tools

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"

SERVER = textwrap.dedent(
    '''
    import os

    try:  # mcp 2.x
        from mcp.server.mcpserver import MCPServer as Server
    except ImportError:  # mcp 1.x
        from mcp.server.fastmcp import FastMCP as Server

    app = Server("arithmetic")


    @app.tool()
    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        return a * b


    @app.tool()
    def divide(a: int, b: int) -> float:
        """Divide a by b."""
        return a / b


    @app.tool()
    def server_pid() -> int:
        """The server's process id."""
        return os.getpid()


    app.run()
    '''
)


@pytest.fixture
def server_script(tmp_path: Path) -> Path:
    script = tmp_path / "arithmetic_server.py"
    script.write_text(SERVER)
    return script


@pytest.fixture
async def llm(lmstudio_server: ServerProcess) -> AsyncIterator[AsyncLLM]:
    async with AsyncClient(lmstudio_server.api_host) as client:
        yield await client.llm.model(LLAMA)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes: it no longer runs.
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" not in status.read_text()


async def test_mcp_tools_are_listed_called_and_closed(
    llm: AsyncLLM, lmstudio_server: ServerProcess, server_script: Path
) -> None:
    def local(word: str) -> str:
        """A local tool next to the MCP ones."""
        return word.upper()

    messages: list[Any] = []
    tools: list[Any] = [local, mcp_stdio_tools(sys.executable, [str(server_script)])]
    prompt = 'multiply {"a": 6, "b": 7} and server_pid and local {"word": "hi"}'
    result = await llm.act(prompt, tools, on_message=messages.append)
    assert result.rounds == 2
    first_request = next(
        r["message"]["creationParameter"]
        for r in lmstudio_server.requests()
        if r["message"].get("endpoint") == "predict"
    )
    fields = first_request["predictionConfigStack"]["layers"][0]["config"]["fields"]
    offered = next(f["value"]["tools"] for f in fields if f["key"] == "llm.prediction.tools")
    by_name = {tool["function"]["name"]: tool["function"] for tool in offered}
    assert sorted(by_name) == ["divide", "local", "multiply", "server_pid"]
    assert by_name["multiply"]["description"] == "Multiply two integers."
    assert by_name["multiply"]["parameters"]["properties"]["a"]["type"] == "integer"
    results = [part.content for part in messages[1].content]
    assert results[0] == '"42"'
    assert results[2] == '"HI"'
    pid = int(results[1].strip('"'))
    assert not pid_alive(pid)  # the session, and its server process, ended with act()


async def test_mcp_errors_go_back_to_the_model_and_bad_arguments_are_caught(
    llm: AsyncLLM, server_script: Path
) -> None:
    messages: list[Any] = []
    tools = [mcp_stdio_tools(sys.executable, [str(server_script)], include=["divide"])]
    await llm.act('divide {"a": 1, "b": 0}', tools, on_message=messages.append)
    error = messages[1].content[0].content
    assert "McpToolError" in error and "divide" in error  # the server's own error text
    messages.clear()
    await llm.act('divide {"a": "one", "b": 2}', tools, on_message=messages.append)
    assert "Failed to parse arguments for tool divide" in messages[1].content[0].content
    messages.clear()
    await llm.act('multiply {"a": 1, "b": 2}', tools, on_message=messages.append)
    # Only "divide" was included: multiply is not offered, so the model does not call it.
    assert len(messages) == 1


def test_mcp_tool_arguments_are_checked() -> None:
    with pytest.raises(LMStudioValueError, match="list of arguments"):
        mcp_stdio_tools("python", "server.py")
    with pytest.raises(LMStudioValueError, match="timeout"):
        mcp_stdio_tools("python", timeout=0)


async def test_respond_does_not_open_sessions(llm: AsyncLLM, server_script: Path) -> None:
    with pytest.raises(LMStudioValueError, match="only act"):
        provider: Any = mcp_stdio_tools(sys.executable, [str(server_script)])
        await llm.respond("hi", tools=[provider])
