"""The in-process server shuts down completely."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from lmstudio_async.server import LocalServer

from .scripted import scripted_server
from .wire import open_socket

pytestmark = pytest.mark.anyio


def other_tasks() -> set[asyncio.Task[object]]:
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}


async def test_exit_leaves_no_tasks_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    before = other_tasks()
    async with (
        scripted_server(monkeypatch) as (server, seen),
        open_socket(server.api_host, "system") as system,
        open_socket(server.api_host, "llm") as llm,
    ):
        await system.send({"type": "channelCreate", "endpoint": "alive", "channelId": 1})
        await llm.send({"type": "channelCreate", "endpoint": "hang", "channelId": 1})
        await llm.send({"type": "rpcCall", "endpoint": "hang", "callId": 1})
        await seen.wait_started("hang_channel", "hang_rpc")
        with anyio.fail_after(10):
            await server.aclose()
        # The server went away: the sockets are closed from its side.
        await system.expect_closed()
        await llm.expect_closed()
    assert sorted(seen.cancelled_handlers) == ["hang_channel", "hang_rpc"]
    assert other_tasks() == before


async def test_api_host_and_state() -> None:
    server = LocalServer(port=0, lmstudio_version="9.9.9")
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.api_host
    async with server:
        assert server.api_host == f"127.0.0.1:{server.port}"
        assert server.state.config.lmstudio_version == "9.9.9"
        async with open_socket(server.api_host, "system") as sock:
            assert (await sock.call("version"))["result"]["version"] == "9.9.9"


async def test_alive_channel_stays_open(server: LocalServer) -> None:
    async with open_socket(server.api_host, "system") as sock:
        await sock.send({"type": "channelCreate", "endpoint": "alive", "channelId": 1})
        # Nothing arrives for the alive channel; the next frame answers the next call.
        await anyio.sleep(0.2)
        assert (await sock.call("getExperimentFlags", call_id=2))["callId"] == 2
