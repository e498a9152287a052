"""What the client does with servers that refuse it or say things it does not know."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from lmstudio_async import (
    AsyncClient,
    LMStudioAuthenticationError,
    LMStudioClientError,
    LMStudioTimeoutError,
    LMStudioUnknownMessageWarning,
)

pytestmark = pytest.mark.anyio

TOKEN = "sk-lm-abcd1234:ABCDEFGHIJ0123456789"

Script = Callable[[web.WebSocketResponse, dict[str, Any]], Awaitable[None]]


@pytest.fixture
async def scripted_peer() -> AsyncIterator[Callable[[Script], Awaitable[str]]]:
    """A bare websocket peer that authenticates, then answers each rpcCall with a script.

    Our own server never misbehaves, so protocol-robustness cases need their own peer.
    """
    runners: list[web.AppRunner] = []

    async def start(script: Script) -> str:
        async def handle(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await ws.receive_json()  # auth packet
            await ws.send_json({"success": True})
            async for frame in ws:
                await script(ws, json.loads(frame.data))
            return ws

        app = web.Application()
        app.router.add_get("/{namespace}", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_unknown_envelopes_warn_and_the_call_still_completes(
    scripted_peer: Callable[[Script], Awaitable[str]],
) -> None:
    async def script(ws: web.WebSocketResponse, call: dict[str, Any]) -> None:
        await ws.send_json({"type": "somethingNewer", "callId": call["callId"]})
        await ws.send_json({"type": "communicationWarning", "warning": "just saying"})
        await ws.send_json({"type": "keepAliveAck"})
        await ws.send_json(
            {
                "type": "rpcResult",
                "callId": call["callId"],
                "result": {"version": "9.9.9", "build": 7, "extra": 1},
            }
        )

    host = await scripted_peer(script)
    async with AsyncClient(host) as client:
        with pytest.warns(LMStudioUnknownMessageWarning, match="somethingNewer"):
            version = await client.system.version()
    assert (version.version, version.build) == ("9.9.9", 7)


async def test_unknown_model_types_in_listings_are_skipped_not_fatal(
    scripted_peer: Callable[[Script], Awaitable[str]],
) -> None:
    known = {
        "type": "llm",
        "modelKey": "m",
        "format": "gguf",
        "displayName": "M",
        "path": "p/m/m.gguf",
        "sizeBytes": 1,
        "maxContextLength": 8,
        "vision": False,
        "trainedForToolUse": False,
    }
    newer = {**known, "type": "imageGen", "modelKey": "painter"}

    async def script(ws: web.WebSocketResponse, call: dict[str, Any]) -> None:
        await ws.send_json(
            {"type": "rpcResult", "callId": call["callId"], "result": [newer, known]}
        )

    host = await scripted_peer(script)
    async with AsyncClient(host) as client:
        with pytest.warns(LMStudioUnknownMessageWarning, match="imageGen"):
            models = await client.list_downloaded_models()
    assert [m.model_key for m in models] == ["m"]


async def test_a_result_of_the_wrong_shape_is_a_clear_client_error(
    scripted_peer: Callable[[Script], Awaitable[str]],
) -> None:
    async def script(ws: web.WebSocketResponse, call: dict[str, Any]) -> None:
        await ws.send_json({"type": "rpcResult", "callId": call["callId"], "result": {"v": 1}})

    host = await scripted_peer(script)
    async with AsyncClient(host) as client:
        with pytest.raises(
            LMStudioClientError, match="system/version does not have the expected form"
        ):
            await client.system.version()


async def test_a_server_that_never_answers_times_out(
    scripted_peer: Callable[[Script], Awaitable[str]],
) -> None:
    async def script(ws: web.WebSocketResponse, call: dict[str, Any]) -> None:
        pass  # like a real LM Studio that only logs a malformed request

    host = await scripted_peer(script)
    async with AsyncClient(host, timeout=0.2) as client:
        with pytest.raises(LMStudioTimeoutError):
            await client.system.version()


async def test_token_required_servers_refuse_guests_and_accept_the_token(
    lmstudio_server_factory: Any,
) -> None:
    server = lmstudio_server_factory("--api-token", TOKEN)
    async with AsyncClient(server.api_host, api_token="") as guest:
        with pytest.raises(LMStudioAuthenticationError, match="LM_API_TOKEN") as caught:
            await guest.system.version()
        assert caught.value.title == "Authentication failed"
    wrong = "sk-lm-abcd1234:ZZZZZZZZZZ0123456789"
    async with AsyncClient(server.api_host, api_token=wrong) as impostor:
        with pytest.raises(LMStudioAuthenticationError):
            await impostor.system.version()
    async with AsyncClient(server.api_host, api_token=TOKEN) as client:
        assert (await client.system.version()).version
        # Every namespace socket authenticates with the same credentials.
        assert await client.list_loaded_models() == []


async def test_a_non_lmstudio_http_server_is_named_as_such(unused_http_server: str) -> None:
    async with AsyncClient(unused_http_server) as client:
        with pytest.raises(
            LMStudioClientError, match=r"refused the websocket for /system \(HTTP 404\)"
        ):
            await client.system.version()


@pytest.fixture
async def unused_http_server() -> AsyncIterator[str]:
    app = web.Application()
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()
