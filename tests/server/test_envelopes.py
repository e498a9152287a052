"""Envelope handling after auth: routing, replies, malformed requests, channel lifecycle."""

from __future__ import annotations

import logging

import pytest

from lmstudio_async.server.connection import MAX_COMMUNICATION_WARNINGS

from .scripted import FLOOD_FRAGMENTS, PREDICT_FRAGMENTS, scripted_server
from .wire import open_socket, wait_until

pytestmark = pytest.mark.anyio


async def test_void_result_has_no_result_key(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        assert await sock.call("void", call_id=7) == {"type": "rpcResult", "callId": 7}


async def test_absent_and_null_parameters_are_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        absent = await sock.call("echo")
        await sock.send({"type": "rpcCall", "endpoint": "echo", "callId": 2, "parameter": None})
        null = await sock.receive()
        given = await sock.call("echo", {"title": "hi"}, call_id=3)
    assert absent["result"] == null["result"] == {"got": None}
    assert given["result"] == {"got": "hi"}


async def test_unknown_rpc_endpoint_is_named_with_suggestions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        reply = await sock.call("unloadModl")
    assert reply["type"] == "rpcError"
    assert reply["error"]["title"] == "Unknown RPC endpoint 'unloadModl' in namespace 'llm'"
    assert reply["error"]["suggestion"].startswith("Did you mean 'unloadModel'?")


async def test_rpc_call_to_a_channel_endpoint_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        reply = await sock.call("predict")
    assert "channelCreate" in reply["error"]["suggestion"]


async def test_unknown_channel_endpoint_gets_lm_studios_warning_and_no_channel_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "channelCreate", "endpoint": "predikt", "channelId": 4})
        reply = await sock.receive()
        # The socket still answers, and nothing else came for channel 4 before this reply.
        assert (await sock.call("void", call_id=9))["type"] == "rpcResult"
    assert reply["type"] == "communicationWarning"
    assert reply["kind"] == "channelEndpointUnknown"
    assert "'predikt'" in reply["warning"]
    assert "Did you mean 'predict'?" in reply["warning"]


async def test_endpointless_namespace_answers_unknown_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "plugins") as sock,
    ):
        reply = await sock.call("setGenerator")
    assert reply["error"]["title"] == "Unknown RPC endpoint 'setGenerator' in namespace 'plugins'"


async def test_invalid_parameter_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        wrong_type = await sock.call("unloadModel", {"identifier": 5}, call_id=1)
        missing = await sock.call("unloadModel", {}, call_id=2)
    assert wrong_type["type"] == "rpcError"
    assert "$.identifier" in wrong_type["error"]["title"]
    assert "identifier" in missing["error"]["title"]


async def test_server_error_is_passed_through(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        reply = await sock.call("refuse")
    assert reply["error"] == {
        "title": "Refused on purpose",
        "cause": "because",
        "suggestion": "do not",
        "rootTitle": "Refused on purpose",
    }


async def test_unexpected_exception_becomes_internal_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        with caplog.at_level(logging.ERROR):
            reply = await sock.call("boom")
            await sock.send({"type": "channelCreate", "endpoint": "crash", "channelId": 1})
            channel_reply = await sock.receive()
        # The connection survives.
        assert await sock.call("void", call_id=2) == {"type": "rpcResult", "callId": 2}
    assert reply["error"]["title"] == "Internal server error"
    assert reply["error"]["cause"] == "kaput"
    assert channel_reply["type"] == "channelError"
    assert channel_reply["error"]["cause"] == "channel kaput"
    assert "kaput" in caplog.text


async def test_channel_streams_then_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "channelCreate", "endpoint": "predict", "channelId": 3})
        messages = await sock.receive_until("channelClose")
    packets = [m["message"] for m in messages if m["type"] == "channelSend"]
    assert [p["type"] for p in packets] == ["fragment"] * PREDICT_FRAGMENTS + ["success"]
    assert packets[0]["fragment"]["content"] == "t0"
    assert all(m["channelId"] == 3 for m in messages)
    assert messages[-1] == {"type": "channelClose", "channelId": 3}


async def test_cancel_packet_sets_the_flag_and_is_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "channelCreate", "endpoint": "waitCancel", "channelId": 1})
        assert (await sock.receive())["message"] == {"type": "ready"}
        await sock.send({"type": "channelSend", "channelId": 1, "message": {"type": "cancel"}})
        messages = await sock.receive_until("channelClose")
    assert messages[0]["message"] == {"type": "cancelled", "flag": True}


async def test_cancel_reaches_a_handler_streaming_without_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "channelCreate", "endpoint": "flood", "channelId": 1})
        await sock.receive()
        await sock.send({"type": "channelSend", "channelId": 1, "message": {"type": "cancel"}})
        messages = await sock.receive_until("channelClose", within=30)
    success = messages[-2]["message"]
    assert success["type"] == "success"
    assert success["sent"] < FLOOD_FRAGMENTS


async def test_channel_server_error_is_a_single_channel_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "channelCreate", "endpoint": "fail", "channelId": 1})
        messages = await sock.receive_until("channelError")
        # Nothing follows the channelError: the next frame answers the next request.
        assert await sock.call("void", call_id=9) == {"type": "rpcResult", "callId": 9}
    assert messages[0]["message"] == {"type": "partial"}
    assert messages[1]["error"]["title"] == "Channel failed on purpose"


async def test_reusing_an_open_channel_id_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "channelCreate", "endpoint": "hang", "channelId": 1})
        await sock.send({"type": "channelCreate", "endpoint": "predict", "channelId": 1})
        reply = await sock.receive()
    assert reply["type"] == "channelError"
    assert "already open" in reply["error"]["title"]


async def test_channel_send_to_unknown_channel_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "channelSend", "channelId": 42, "message": {"type": "cancel"}})
        reply = await sock.receive()
    assert reply["type"] == "communicationWarning"
    assert "42" in reply["warning"]
    assert reply["kind"] == "channelUnknown"


async def test_late_packet_for_a_finished_channel_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "channelCreate", "endpoint": "predict", "channelId": 1})
        await sock.receive_until("channelClose")
        await sock.send({"type": "channelSend", "channelId": 1, "message": {"type": "cancel"}})
        assert await sock.call("void", call_id=5) == {"type": "rpcResult", "callId": 5}


async def test_garbage_frames_warn_at_most_five_times(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        garbage = ["not json", '{"type": "noSuchEnvelope"}', "[1, 2]", '{"no": "type"}']
        for index in range(MAX_COMMUNICATION_WARNINGS + 3):
            await sock.send_text(garbage[index % len(garbage)])
        await sock.ws.send_bytes(b"binary")
        warnings = [await sock.receive() for _ in range(MAX_COMMUNICATION_WARNINGS)]
        # Past the limit the server stays quiet but keeps serving.
        assert await sock.call("void", call_id=1) == {"type": "rpcResult", "callId": 1}
    assert all(w["type"] == "communicationWarning" for w in warnings)
    assert "JSON" in warnings[0]["warning"]


async def test_keep_alive_is_acknowledged(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "keepAlive"})
        assert await sock.receive() == {"type": "keepAliveAck"}


async def test_rpcs_run_concurrently(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch) as (server, seen),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "rpcCall", "endpoint": "hang", "callId": 1})
        await seen.wait_started("hang_rpc")
        assert await sock.call("void", call_id=2) == {"type": "rpcResult", "callId": 2}


async def test_disconnect_cancels_the_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    async with scripted_server(monkeypatch) as (server, seen):
        async with open_socket(server.api_host, "llm") as sock:
            await sock.send({"type": "channelCreate", "endpoint": "hang", "channelId": 1})
            await seen.wait_started("hang_channel")
        await wait_until(lambda: bool(seen.cancelled_handlers))
        assert seen.cancelled_handlers == ["hang_channel"]
