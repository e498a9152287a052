"""Hostile clients on loopback: one test per attack of issue 13, each bounded in count and time.

Nothing here measures speed. Each test counts bytes, frames, log records or the
guard's counters, and waits for events with generous safety timeouts only.
The client-side items (connect timeout, bad ``api_host``/``api_token``) are in
tests/client/test_hosts.py, test_credentials.py and test_transport.py.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio
import lmstudio
import msgspec
import pytest

import lmstudio_async.server.connection as connection_module
from lmstudio_async import AsyncClient
from lmstudio_async.protocol import (
    ChatHistoryData,
    KVConfig,
    KVConfigStack,
    KVConfigStackLayer,
    ModelQuery,
    PredictParameter,
    QuerySpecifier,
    TextPart,
    UserMessage,
)
from lmstudio_async.server import LocalServer
from lmstudio_async.server.auth import MAX_FRAMES_BEFORE_AUTH
from lmstudio_async.server.channel import INBOX_SIZE
from lmstudio_async.server.connection import MAX_COMMUNICATION_WARNINGS
from lmstudio_async.server.guard import UNAUTHENTICATED_BYTES
from lmstudio_async.server.requestlog import MAX_LOGGED_FRAME_BYTES, RequestLog
from lmstudio_async.testing import ServerProcess

from .scripted import scripted_server
from .wire import open_socket, wait_until

pytestmark = pytest.mark.anyio

#: A safety net for waits on events, never a measure of speed.
SAFETY = 30.0
TOKEN = "sk-lm-abcd1234:ABCDEFGHIJ0123456789"
DEEP = 5_000


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection."""
    received = b""
    with anyio.fail_after(SAFETY):
        while True:
            try:
                chunk = await reader.read(65536)
            except ConnectionResetError:
                return received
            if not chunk:
                return received
            received += chunk


@asynccontextmanager
async def raw_tcp(server: LocalServer) -> AsyncIterator[tuple[Any, Any]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        yield reader, writer
    finally:
        writer.close()


async def greeting(server: LocalServer, headers: dict[str, str] | None = None) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.url}/lmstudio-greeting", headers=headers) as response,
    ):
        return response.status


def count_fuzzy_matching(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The words difflib is asked to fuzzy-match, from now on."""
    calls: list[str] = []
    real = difflib.get_close_matches

    def counting(word: str, *args: Any, **kwargs: Any) -> list[str]:
        calls.append(word)
        return real(word, *args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", counting)
    return calls


# --- An unknown endpoint with a huge name -------------------------------------------------


async def test_a_huge_endpoint_name_is_neither_fuzzy_matched_nor_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = count_fuzzy_matching(monkeypatch)
    huge = "x" * 2_000_000
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        reply = await sock.call(huge, call_id=1)
        await sock.send({"type": "channelCreate", "endpoint": huge, "channelId": 1})
        warning = await sock.receive(within=SAFETY)
        assert calls == []
        # The bound is on length only: a plausible name still gets its suggestion.
        near = await sock.call("vod", call_id=2)
    assert reply["type"] == "rpcError"
    assert len(msgspec.json.encode(reply)) < 1_000
    assert "(2000000 characters)" in reply["error"]["title"]
    assert warning["type"] == "communicationWarning"
    assert len(warning["warning"]) < 1_500
    assert calls and "Did you mean 'void'?" in near["error"]["suggestion"]


async def test_huge_model_names_are_neither_fuzzy_matched_nor_echoed(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with AsyncClient(server.api_host) as client:
        await client.llm.load_new_instance("llama-3.2-1b-instruct")
    calls = count_fuzzy_matching(monkeypatch)
    huge = "m" * 2_000_000
    specifier = {"type": "query", "query": {"identifier": huge}}
    async with open_socket(server.api_host, "llm") as sock:
        missing = await sock.call("getModelInfo", {"specifier": specifier, "throwIfNotFound": True})
        unknown = await sock.call(
            "getModelInfo",
            {"specifier": {"type": "query", "query": {"path": huge}}, "throwIfNotFound": True},
            call_id=2,
        )
        await sock.send(
            {
                "type": "channelCreate",
                "endpoint": "loadModel",
                "channelId": 1,
                "creationParameter": {
                    "modelKey": "llama-3.2-1b-instruct",
                    "identifier": "i" * 300,
                    "loadConfigStack": {"layers": []},
                },
            }
        )
        too_long = (await sock.receive_until("channelError", within=SAFETY))[-1]
    assert calls == []
    for reply in (missing, unknown):
        assert reply["type"] == "rpcError"
        assert len(msgspec.json.encode(reply)) < 2_000
    assert "at most 256 characters" in too_long["error"]["title"]


# --- Frames before login -------------------------------------------------------------------


async def test_before_login_only_small_frames_are_accepted(server: LocalServer) -> None:
    async with open_socket(server.api_host, "llm", auth=False) as sock:
        # A frame just over the budget: the socket is dropped before aiohttp buffers it whole.
        await sock.send_text("x" * (UNAUTHENTICATED_BYTES + 1024))
        await sock.expect_closed(within=SAFETY)
    assert server.guard.refused_oversized == 1
    # Small junk first, then a real auth packet: still welcome.
    async with open_socket(server.api_host, "system", auth=False) as sock:
        await sock.send_text("y" * (UNAUTHENTICATED_BYTES // 2))
        await sock.send({"authVersion": 1, "clientIdentifier": "late", "clientPasskey": "k"})
        assert (await sock.receive())["success"] is True
        # After login, large frames are fine.
        big = {"type": "rpcCall", "endpoint": "version", "callId": 1, "parameter": "z" * 2**20}
        await sock.send(big)
        assert (await sock.receive(within=SAFETY))["callId"] == 1
    # Identifier fields are capped too.
    async with open_socket(server.api_host, "system", identifier="i" * 257) as sock:
        assert sock.auth_reply["success"] is False
        assert "at most 256 characters" in sock.auth_reply["error"]


# --- Log flooding ------------------------------------------------------------------------------


async def test_logs_cannot_be_flooded_nor_show_a_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lmstudio_async.server")
    async with LocalServer(port=0, api_tokens=[TOKEN]) as server:
        # Refused auth: a token pasted into the identifier field, and a long identifier.
        async with open_socket(server.api_host, "llm", identifier=TOKEN, passkey="wrong") as sock:
            assert sock.auth_reply["success"] is False
        async with open_socket(server.api_host, "llm", identifier="n" * 250) as sock:
            assert sock.auth_reply["success"] is False
        # Junk before login: skipped, logged once, then the socket is refused.
        async with open_socket(server.api_host, "llm", auth=False) as sock:
            for _ in range(MAX_FRAMES_BEFORE_AUTH):
                await sock.send_text("not json")
            refusal = await sock.receive(within=SAFETY)
        assert refusal["success"] is False
        # Malformed frames after login: warned (and logged) up to the cap, then silence.
        async with open_socket(
            server.api_host, "llm", identifier="abcd1234", passkey=TOKEN[15:]
        ) as sock:
            assert sock.auth_reply["success"] is True
            caplog.clear()
            for _ in range(100):
                await sock.send_text("{oops")
                await sock.send({"type": "communicationWarning", "warning": "client says hi"})
            await sock.send({"type": "rpcCall", "endpoint": "listLoaded", "callId": 5})
            replies = await sock.receive_until("rpcResult", within=SAFETY)
            assert [r["type"] for r in replies].count("communicationWarning") == (
                MAX_COMMUNICATION_WARNINGS
            )
            warnings = [r for r in caplog.records if "not a valid envelope" in r.getMessage()]
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "ABCDEFGHIJ0123456789" not in caplog.text
    assert "n" * 65 not in caplog.text
    assert len(warnings) == MAX_COMMUNICATION_WARNINGS
    assert "not logged" in warnings[-1].getMessage()
    assert text.count("not json") == 0
    assert text.count("client says hi") == MAX_COMMUNICATION_WARNINGS


# --- Slow and silent sockets, connection cap -----------------------------------------------------


async def test_silent_slow_and_idle_connections_are_closed() -> None:
    # The three bad clients run at once; each only has to be closed eventually.
    async with LocalServer(port=0, header_timeout=2.0, idle_timeout=2.0) as server:
        results: dict[str, bytes] = {}

        async def silent() -> None:
            async with raw_tcp(server) as (reader, _):
                results["silent"] = await closed_by_server(reader)

        async def slow_headers() -> None:
            async with raw_tcp(server) as (reader, writer):
                writer.write(b"GET /lmstudio-greeting HTTP/1.1\r\nHost: x\r\n")  # never finished
                results["slow"] = await closed_by_server(reader)

        async def slow_body() -> None:
            async with raw_tcp(server) as (reader, writer):
                writer.write(
                    b"POST /lmstudio-greeting HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
                    b"only ten b"
                )
                results["body"] = await closed_by_server(reader)

        async def idle_after_a_request() -> None:
            async with raw_tcp(server) as (reader, writer):
                writer.write(b"GET /lmstudio-greeting HTTP/1.1\r\nHost: x\r\n\r\n")
                results["idle"] = await closed_by_server(reader)

        async with anyio.create_task_group() as group:
            for bad_client in (silent, slow_headers, slow_body, idle_after_a_request):
                group.start_soon(bad_client)
        assert results["silent"] == results["slow"] == results["body"] == b""
        assert results["idle"].startswith(b"HTTP/1.1 200")
        assert server.guard.timed_out == 4
        assert server.guard.open_connections == 0


async def test_a_flood_of_silent_sockets_cannot_lock_out_good_clients() -> None:
    async with LocalServer(port=0, max_connections=4, header_timeout=SAFETY * 4) as server:
        floods = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(10)]
        await wait_until(lambda: server.guard.evicted == 6, within=SAFETY)
        assert server.guard.open_connections <= 4
        # A good client is served: it takes the place of the oldest silent socket.
        assert await greeting(server) == 200
        # Busy (authenticated) sockets are never evicted; with all four busy, new ones are refused.
        async with (
            AsyncClient(server.api_host) as good,
            open_socket(server.api_host, "llm") as a,
            open_socket(server.api_host, "embedding") as b,
            open_socket(server.api_host, "system") as c,
        ):
            await good.system.version()
            _, spare = await asyncio.open_connection("127.0.0.1", server.port)
            await wait_until(lambda: server.guard.refused_full >= 1, within=SAFETY)
            spare.close()
            assert (await a.call("listLoaded"))["type"] == "rpcResult"
            assert (await b.call("listLoaded"))["type"] == "rpcResult"
            assert (await c.call("version"))["type"] == "rpcResult"
            await good.system.version()
        for _, writer in floods:
            writer.close()


# --- Deep JSON ----------------------------------------------------------------------


async def test_deeply_nested_json_is_refused_without_breaking_the_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with scripted_server(monkeypatch, test_control=True) as (server, _):
        async with open_socket(server.api_host, "llm", auth=False) as sock:
            await sock.send_text(nested(DEEP))  # before login: skipped
            await sock.send({"authVersion": 1, "clientIdentifier": "deep", "clientPasskey": "k"})
            assert (await sock.receive())["success"] is True
            await sock.send_text(
                f'{{"type":"rpcCall","endpoint":"echo","callId":1,"parameter":{nested(DEEP)}}}'
            )
            warning = await sock.receive(within=SAFETY)
            await sock.send({"type": "channelCreate", "endpoint": "deaf", "channelId": 3})
            await sock.send_text(f'{{"type":"channelSend","channelId":3,"message":{nested(DEEP)}}}')
            second = await sock.receive(within=SAFETY)
            assert (await sock.call("void", call_id=2))["type"] == "rpcResult"
        assert warning["type"] == second["type"] == "communicationWarning"
        assert "nested too deeply" in warning["warning"]
        logged = [entry["message"] for entry in server.state.requests.entries()]
        omitted = [m for m in logged if isinstance(m, dict) and "omitted" in m]
        assert [m["omitted"] for m in omitted] == ["nested too deeply"] * 2
        assert all(m["bytes"] > 2 * DEEP and len(m["start"]) == 200 for m in omitted)


# --- Channels per socket --------------------------------------------------------------------------


async def test_channels_rpcs_finished_ids_and_inboxes_are_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connection_module, "_FINISHED_CHANNELS_KEPT", 8)
    async with scripted_server(monkeypatch, max_channels=4) as (server, seen):
        async with (
            open_socket(server.api_host, "llm") as sock,
            open_socket(server.api_host, "llm") as other,
        ):
            for channel_id in range(1, 5):
                await sock.send(
                    {"type": "channelCreate", "endpoint": "hang", "channelId": channel_id}
                )
            await wait_until(lambda: seen.started_handlers.count("hang_channel") == 4)
            await sock.send({"type": "channelCreate", "endpoint": "hang", "channelId": 5})
            refused = await sock.receive()
            for call_id in range(1, 5):
                await sock.send({"type": "rpcCall", "endpoint": "hang", "callId": call_id})
            await wait_until(lambda: seen.started_handlers.count("hang_rpc") == 4)
            refused_rpc = await sock.call("void", call_id=9)
            # Another socket is served meanwhile.
            assert (await other.call("void"))["type"] == "rpcResult"
        assert refused["type"] == "channelError" and "at most 4" in refused["error"]["title"]
        assert refused_rpc["type"] == "rpcError" and "at most 4" in refused_rpc["error"]["title"]

        async with open_socket(server.api_host, "llm") as sock:
            for channel_id in range(1, 13):
                await sock.send(
                    {"type": "channelCreate", "endpoint": "predict", "channelId": channel_id}
                )
                await sock.receive_until("channelClose")
            # Recent ids are remembered (late packets dropped silently), old ones are forgotten.
            await sock.send({"type": "channelSend", "channelId": 12, "message": {"type": "cancel"}})
            await sock.send({"type": "channelSend", "channelId": 1, "message": {"type": "cancel"}})
            late = await sock.receive()
            assert late["kind"] == "channelUnknown" and "channel 1" in late["warning"]

            await sock.send({"type": "channelCreate", "endpoint": "deaf", "channelId": 20})
            for _ in range(INBOX_SIZE + 1):
                await sock.send(
                    {"type": "channelSend", "channelId": 20, "message": {"type": "cancel"}}
                )
            dropped = await sock.receive(within=SAFETY)
        assert dropped["kind"] == "channelMessageTypeError"
        assert f"{INBOX_SIZE} messages are already waiting" in dropped["warning"]


# --- Heartbeat ----------------------------------------------------------------------


async def test_a_frozen_client_is_dropped_and_its_prediction_cancelled() -> None:
    async with LocalServer(
        port=0, heartbeat=0.5, token_delay=0.02, reply_tokens=(100_000, 100_000)
    ) as server:
        async with AsyncClient(server.api_host) as setup:
            await setup.llm.load_new_instance("llama-3.2-1b-instruct", "frozen")
        [instance] = server.state.models.loaded()
        parameter = PredictParameter(
            model_specifier=QuerySpecifier(query=ModelQuery(identifier="frozen")),
            history=ChatHistoryData(messages=[UserMessage(content=[TextPart(text="hi")])]),
            prediction_config_stack=KVConfigStack(
                layers=[KVConfigStackLayer(layer_name="apiOverride", config=KVConfig(fields=[]))]
            ),
        )
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"ws://{server.api_host}/llm", autoping=False) as ws,
        ):
            await ws.send_json({"authVersion": 1, "clientIdentifier": "ice", "clientPasskey": "k"})
            assert (await ws.receive_json(timeout=SAFETY))["success"] is True
            await ws.send_json(
                {
                    "type": "channelCreate",
                    "endpoint": "predict",
                    "channelId": 1,
                    "creationParameter": msgspec.to_builtins(parameter),
                }
            )
            await wait_until(lambda: instance.busy, within=SAFETY)
            # Frozen: the client reads nothing and answers no ping. The server gives up on it.
            await wait_until(lambda: ws.closed or not instance.busy, within=SAFETY)
            await wait_until(lambda: not instance.busy, within=SAFETY)
        assert not instance.busy


# --- Test-control routes --------------------------------------------------------------------------


async def test_test_control_needs_the_token_and_its_log_is_bounded() -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    async with LocalServer(
        port=0, test_control=True, api_tokens=[TOKEN], request_log_size=5
    ) as server:
        url = f"{server.url}/lmstudio-test/requests"
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"Authorization": "Bearer sk-lm-abcd1234:WRONGWRONGWRONGWRONG"}):
                async with session.get(url, headers=headers) as response:
                    assert response.status == 401
                    assert (await response.json())["error"]["code"] == "invalid_api_key"
            async with session.post(f"{server.url}/lmstudio-test/reset") as response:
                assert response.status == 401
            # Discovery stays open, as in LM Studio.
            assert await greeting(server) == 200

            async with AsyncClient(server.api_host, api_token=TOKEN) as client:
                for _ in range(20):
                    await client.system.version()
            async with open_socket(
                server.api_host, "system", identifier="abcd1234", passkey=TOKEN[15:]
            ) as sock:
                padding = "q" * MAX_LOGGED_FRAME_BYTES
                await sock.send_text(
                    f'{{"type":"rpcCall","endpoint":"version","callId":1,"parameter":"{padding}"}}'
                )
                await sock.receive(within=SAFETY)
            async with session.get(url, headers=bearer) as response:
                assert response.status == 200
                entries = await response.json()
    assert len(entries) == 5
    assert server.state.requests.dropped == 16
    assert entries[-1]["message"]["omitted"] == "larger than the request log keeps"
    assert entries[-1]["message"]["bytes"] > MAX_LOGGED_FRAME_BYTES


def test_well_behaved_clients_answer_the_heartbeat_and_keep_streaming() -> None:
    # At least two ping rounds happen during each prediction (no data comes from the client
    # while it only listens), and both clients answer them on their own.
    args = ("--heartbeat", "3", "--token-delay", "0.05", "--reply-tokens", "150:150")
    with ServerProcess(*args, "--load", "llama-3.2-1b-instruct") as server:
        with lmstudio.Client(server.api_host) as official:
            result = official.llm.model("llama-3.2-1b-instruct").respond("Tell me a story")
        assert result.stats.predicted_tokens_count == 150

        async def ours() -> int | None:
            async with AsyncClient(server.api_host) as client:
                llm = await client.llm.model("llama-3.2-1b-instruct")
                return (await llm.respond("Tell me a story")).stats.predicted_tokens_count

        assert asyncio.run(ours()) == 150


def test_the_request_log_is_bounded_in_bytes_too() -> None:
    log = RequestLog(max_entries=100, max_bytes=3_000)
    for index in range(10):
        log.record("llm", 1, b'{"n": %d, "pad": "%s"}' % (index, b"p" * 980))
    # Each frame is 999 bytes: three fit in 3,000.
    kept = [entry["message"]["n"] for entry in log.entries()]
    assert kept == [7, 8, 9] and log.dropped == 7
