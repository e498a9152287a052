"""Test-control routes: the request log and reset."""

from __future__ import annotations

import aiohttp
import pytest

from lmstudio_async.server import LocalServer

from .wire import open_socket

pytestmark = pytest.mark.anyio


async def test_request_log_records_post_auth_frames(server: LocalServer) -> None:
    async with open_socket(server.api_host, "system") as first:
        await first.call("version")
        await first.send_text("not json")
        await first.receive()
    async with open_socket(server.api_host, "files") as second:
        await second.send({"type": "keepAlive"})
        await second.receive()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}/lmstudio-test/requests") as response:
            log = await response.json()
        async with session.delete(f"{server.url}/lmstudio-test/requests") as response:
            assert response.status == 200
        async with session.get(f"{server.url}/lmstudio-test/requests") as response:
            assert await response.json() == []
    assert [entry["namespace"] for entry in log] == ["system", "system", "files"]
    assert log[0]["message"] == {"type": "rpcCall", "endpoint": "version", "callId": 1}
    assert log[1]["message"] == "not json"
    assert log[0]["connection"] == log[1]["connection"] != log[2]["connection"]


async def test_request_log_is_off_without_test_control() -> None:
    async with LocalServer(port=0) as server, open_socket(server.api_host, "system") as sock:
        await sock.call("version")
        assert server.state.requests.entries() == []


async def test_reset_clears_faults_and_requests(server: LocalServer) -> None:
    server.state.faults.add_spec("fail:system/version=X")
    server.state.experiment_flags.add("flag")
    async with open_socket(server.api_host, "system") as sock:
        await sock.call("version")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.url}/lmstudio-test/reset") as response,
    ):
        assert response.status == 200
    assert server.state.requests.entries() == []
    assert server.state.faults.failures == {}
    assert server.state.experiment_flags == set()
