"""An MCP (Model Context Protocol) server's tools as ``act()`` tools. Needs the ``mcp`` extra.

    from lmstudio_async.tools.mcp import mcp_stdio_tools

    await llm.act(chat, [add, mcp_stdio_tools("python", ["weather_server.py"])])

``act()`` opens the session when it starts: it launches the server (stdio) or
connects to it (streamable HTTP), lists its tools with their input schemas,
and offers them to the model like any other tool. Calls go through the MCP
session; a call the server reports as failed (``isError``) goes back to the
model as a tool error. The session is closed when ``act()`` returns, raises or
is cancelled (a stdio server process is stopped).

Works with the ``mcp`` package's 1.x and 2.x client APIs; ``mcp`` is imported
only when a session opens.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from ..errors import LMStudioRuntimeError, LMStudioValueError
from .definitions import ClientTool
from .schema import schema_errors

__all__ = ["McpTools", "McpToolError", "mcp_stdio_tools", "mcp_http_tools"]

INSTALL_HINT = 'pip install "lmstudio-async[mcp]"'
#: Pages of ``tools/list`` read at most (a hostile server could page forever).
_MAX_PAGES = 100


class McpToolError(Exception):
    """An MCP server reported a tool call as failed; its text is the message."""


def _import_mcp() -> Any:
    try:
        import mcp
    except ImportError as exc:
        raise LMStudioRuntimeError(
            f"MCP tools need the mcp package ({exc}): {INSTALL_HINT}"
        ) from exc
    return mcp


def _field(obj: Any, snake: str, camel: str) -> Any:
    """A field of an MCP type: 2.x names them in snake case, 1.x in camel case."""
    value = getattr(obj, snake, None)
    return value if value is not None else getattr(obj, camel, None)


def _result_value(result: Any) -> Any:
    texts = [getattr(part, "text", None) for part in getattr(result, "content", None) or []]
    text = "\n".join(t for t in texts if isinstance(t, str))
    if _field(result, "is_error", "isError"):
        raise McpToolError(text or "The MCP tool failed.")
    structured = _field(result, "structured_content", "structuredContent")
    if text:
        return text
    if structured is not None:
        return structured
    return [part.model_dump(mode="json") for part in getattr(result, "content", None) or []]


@dataclass(frozen=True)
class McpTools:
    """The tools of one MCP server, for ``act()``; see :func:`mcp_stdio_tools` and
    :func:`mcp_http_tools`.

    ``include``: offer only these tool names. ``timeout``: seconds to start the
    session and list the tools. ``call_timeout``: seconds one call may take
    (else ``act()``'s ``tool_timeout``).
    """

    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] | None = None
    cwd: str | None = None
    url: str | None = None
    include: frozenset[str] | None = None
    timeout: float = 30.0
    call_timeout: float | None = None

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise LMStudioValueError("An MCP server needs either a command (stdio) or a url.")
        if not self.timeout > 0:
            raise LMStudioValueError(f"timeout must be > 0 seconds, not {self.timeout!r}.")

    @contextlib.asynccontextmanager
    async def _transport(self) -> AsyncIterator[tuple[Any, Any]]:
        _import_mcp()
        if self.command is not None:
            from mcp.client.stdio import StdioServerParameters, stdio_client

            parameters = StdioServerParameters(
                command=self.command,
                args=list(self.args),
                env=dict(self.env) if self.env is not None else None,
                cwd=self.cwd,
            )
            async with stdio_client(parameters) as streams:
                yield streams[0], streams[1]
            return
        from mcp.client import streamable_http

        # 2.x's name, else 1.x's.
        name = "streamable_http_client"
        if not hasattr(streamable_http, name):
            name = "streamablehttp_client"
        connect = getattr(streamable_http, name)
        async with connect(self.url) as streams:
            yield streams[0], streams[1]

    @contextlib.asynccontextmanager
    async def open_tools(self) -> AsyncIterator[list[ClientTool]]:
        """Open the session and yield its tools; the session closes on exit."""
        mcp = _import_mcp()
        where = self.command or self.url
        async with self._transport() as (read, write), mcp.ClientSession(read, write) as session:
            try:
                with anyio.fail_after(self.timeout):
                    await session.initialize()
                    listed = await _list_tools(session)
            except TimeoutError:
                raise LMStudioRuntimeError(
                    f"The MCP server {where!r} did not list its tools within {self.timeout} s."
                ) from None
            include = self.include
            yield [
                self._client_tool(session, tool)
                for tool in listed
                if include is None or tool.name in include
            ]

    def _client_tool(self, session: Any, tool: Any) -> ClientTool:
        name = tool.name
        schema = _field(tool, "input_schema", "inputSchema") or {"type": "object"}
        function: dict[str, Any] = {"name": name, "parameters": schema}
        if tool.description:
            function["description"] = tool.description

        def check(arguments: Mapping[str, Any] | None) -> dict[str, Any]:
            values = dict(arguments or {})
            errors = schema_errors(schema, values)
            if errors:
                raise ValueError("; ".join(errors[:5]))
            return values

        async def call(**arguments: Any) -> Any:
            return _result_value(await session.call_tool(name, arguments))

        return ClientTool(
            name,
            {"type": "function", "function": function},
            check,
            call,
            self.call_timeout,
            is_async=True,
        )


async def _list_tools(session: Any) -> list[Any]:
    tools: list[Any] = []
    result = await session.list_tools()
    for _ in range(_MAX_PAGES):
        tools.extend(result.tools)
        cursor = _field(result, "next_cursor", "nextCursor")
        if not cursor:
            return tools
        try:  # 1.x takes the cursor as an argument, 2.x as request params
            result = await session.list_tools(cursor=cursor)
        except TypeError:
            import mcp_types  # 2.x's types package

            result = await session.list_tools(
                params=mcp_types.PaginatedRequestParams(cursor=cursor)
            )
    return tools


def _include(include: Iterable[str] | None) -> frozenset[str] | None:
    if include is None:
        return None
    if isinstance(include, str):
        raise LMStudioValueError("include takes a list of tool names, not a string.")
    return frozenset(include)


def mcp_stdio_tools(
    command: str,
    args: Iterable[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    include: Iterable[str] | None = None,
    timeout: float = 30.0,
    call_timeout: float | None = None,
) -> McpTools:
    """The tools of the MCP server that ``command args...`` runs, talking over its stdin/stdout."""
    if isinstance(args, str):
        raise LMStudioValueError("args takes a list of arguments, not a string.")
    return McpTools(
        command=command,
        args=tuple(args),
        env=env,
        cwd=cwd,
        include=_include(include),
        timeout=timeout,
        call_timeout=call_timeout,
    )


def mcp_http_tools(
    url: str,
    *,
    include: Iterable[str] | None = None,
    timeout: float = 30.0,
    call_timeout: float | None = None,
) -> McpTools:
    """The tools of the MCP server at ``url`` (streamable HTTP)."""
    return McpTools(url=url, include=_include(include), timeout=timeout, call_timeout=call_timeout)
