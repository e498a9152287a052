"""The multiplexed transport against a real server process: routing, loss, timeouts, shutdown."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import anyio
import pytest

from lmstudio_async import (
    AsyncClient,
    LMStudioClientError,
    LMStudioRuntimeError,
    LMStudioServerError,
    LMStudioTimeoutError,
    LMStudioWebsocketError,
)
from lmstudio_async.protocol import FragmentPacket
from lmstudio_async.testing import ServerProcess

from .wire import load_llm, open_prediction, predict_text, tokenize

pytestmark = pytest.mark.anyio


def connections_used(server: ServerProcess, namespace: str) -> set[int]:
    return {r["connection"] for r in server.requests() if r["namespace"] == namespace}


async def test_hundreds_of_concurrent_rpcs_share_one_socket_and_get_their_own_answers(
    lmstudio_server: ServerProcess,
) -> None:
    async with AsyncClient(lmstudio_server.api_host) as client:
        identifier = await load_llm(client)
        texts = [f"sample {i} " * (i % 7 + 1) for i in range(300)]
        alone = [await tokenize(client, identifier, t) for t in texts]
        assert len({tuple(r) for r in alone}) > 250  # answers differ, so mis-routing would show
        lmstudio_server.clear_requests()
        together = await asyncio.gather(*(tokenize(client, identifier, t) for t in texts))
        assert together == alone
        calls = [r["message"] for r in lmstudio_server.requests() if r["namespace"] == "llm"]
        assert len(calls) == 300
        assert sorted(c["callId"] for c in calls) == sorted({c["callId"] for c in calls})
    assert len(connections_used(lmstudio_server, "llm")) == 1


async def test_concurrent_streams_each_receive_exactly_their_own_packets(
    lmstudio_server: ServerProcess,
) -> None:
    async with AsyncClient(lmstudio_server.api_host) as client:
        identifier = await load_llm(client)
        prompts = [f"Tell me about topic number {i}" for i in range(60)]
        alone = [await predict_text(client, identifier, p) for p in prompts[:5]]
        together = await asyncio.gather(*(predict_text(client, identifier, p) for p in prompts))
        assert together[:5] == alone
        assert all(together) and len(set(together)) > 1
        conn = client._connections["llm"]
        assert conn.open_channels == 0 and conn.pending_calls == 0


async def test_losing_the_socket_fails_every_pending_call_and_stream_at_once(
    lmstudio_server: ServerProcess,
) -> None:
    async with AsyncClient(lmstudio_server.api_host) as client:
        identifier = await load_llm(client)
        lmstudio_server.set_faults(close_after_fragments=3, delays={"llm/tokenize": 30})
        pending_call = asyncio.ensure_future(tokenize(client, identifier, "never answered"))
        channel = await open_prediction(client, identifier, "a long story")
        seen = 0
        # Failing at once, not timing out: a timeout would raise LMStudioTimeoutError instead.
        with pytest.raises(LMStudioWebsocketError, match="Lost the connection"):
            async for packet in channel:
                seen += isinstance(packet, FragmentPacket)
        with pytest.raises(LMStudioWebsocketError, match="Lost the connection"):
            await pending_call
        assert seen <= 3

        lmstudio_server.clear_faults()
        # The next call reconnects on a fresh socket.
        assert await tokenize(client, identifier, "after the loss")
    assert len(connections_used(lmstudio_server, "llm")) == 2


async def test_a_slow_answer_raises_a_timeout_error_per_call_and_per_client(
    lmstudio_server: ServerProcess,
) -> None:
    lmstudio_server.set_faults(delays={"system/version": 5})
    async with AsyncClient(lmstudio_server.api_host, timeout=0.3) as client:
        # The delayed answers would arrive without error: the errors show the client gave up.
        with pytest.raises(LMStudioTimeoutError, match=r"system/version within 0\.3 s"):
            await client.system.version()
        with pytest.raises(TimeoutError):  # also the built-in class
            await client.system.version(timeout=0.2)
        assert client._connections["system"].pending_calls == 0
        lmstudio_server.clear_faults()
        assert (await client.system.version()).version  # the socket is still usable


async def test_each_call_times_out_on_its_own_deadline_whatever_else_is_waiting(
    lmstudio_server: ServerProcess,
) -> None:
    """One timer serves a socket's calls: a shorter timeout than one already waiting still
    fires on time, without failing the longer one early, which then fires on its own."""
    lmstudio_server.set_faults(delays={"system/version": 12})
    async with AsyncClient(lmstudio_server.api_host) as client:
        await client.list_downloaded_models()  # open the socket first
        longer = asyncio.ensure_future(client.system.version(timeout=5.0))
        await asyncio.sleep(0.05)
        with pytest.raises(LMStudioTimeoutError, match=r"system/version within 0\.3 s"):
            await client.system.version(timeout=0.3)
        assert not longer.done()
        with pytest.raises(LMStudioTimeoutError, match=r"system/version within 5 s"):
            await longer
        assert client._connections["system"].pending_calls == 0


async def test_cancelling_a_waiting_call_frees_it_and_keeps_the_socket(
    lmstudio_server: ServerProcess,
) -> None:
    lmstudio_server.set_faults(delays={"system/version": 1})
    async with AsyncClient(lmstudio_server.api_host) as client:
        await client.list_downloaded_models()  # open the socket first
        task = asyncio.ensure_future(client.system.version())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client._connections["system"].pending_calls == 0
        await asyncio.sleep(1.2)  # the late answer arrives and is dropped quietly
        lmstudio_server.clear_faults()
        assert (await client.system.version()).version


async def test_server_errors_carry_the_servers_words(lmstudio_server: ServerProcess) -> None:
    lmstudio_server.set_faults(failures={"system/version": "The version is on strike"})
    async with AsyncClient(lmstudio_server.api_host) as client:
        with pytest.raises(LMStudioServerError, match="system/version error") as caught:
            await client.system.version()
        assert caught.value.title == "The version is on strike"


async def test_closing_the_client_leaves_no_task_socket_or_session(
    lmstudio_server_factory: Any,
) -> None:
    # A slow reply, so the prediction is surely still running when the client closes.
    server = lmstudio_server_factory("--token-delay", "0.05", "--reply-tokens", "100:100")
    before = asyncio.all_tasks()
    client = AsyncClient(server.api_host)
    async with client:
        identifier = await load_llm(client)
        await client.system.version()
        await client.list_loaded_models()
        channel = await open_prediction(client, identifier, "left unfinished")
        await channel.receive()
        connections = list(client._connections.values())
        assert {c.namespace for c in connections} == {"llm", "embedding", "system"}
    assert asyncio.all_tasks() == before
    assert client._session is None and client._connections == {}
    assert all(not c.is_open for c in connections)
    with pytest.raises(LMStudioWebsocketError, match="client closed"):
        async for _ in channel:  # packets received before the close come first
            pass
    with pytest.raises(LMStudioRuntimeError, match="closed"):
        await client.system.version()


async def test_an_unreachable_host_says_so(unused_port: int) -> None:
    async with AsyncClient(f"127.0.0.1:{unused_port}", connect_timeout=5) as client:
        with pytest.raises(
            LMStudioClientError, match=f"not reachable at 127.0.0.1:{unused_port}"
        ) as caught:
            await client.system.version()
    # A user without LM Studio learns about the bundled server.
    assert "python -m lmstudio_async.server" in str(caught.value)


async def test_a_connect_timeout_is_a_timeout_error_not_unreachable() -> None:
    # A listener that never accepts: TCP connects (the backlog), no HTTP reply ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        async with AsyncClient(f"127.0.0.1:{port}", connect_timeout=0.2) as client:
            with pytest.raises(LMStudioTimeoutError, match=r"took longer than 0\.2 s"):
                await client.system.version()


async def test_a_client_belongs_to_one_event_loop(lmstudio_server: ServerProcess) -> None:
    async with AsyncClient(lmstudio_server.api_host) as client:
        await client.system.version()

        def from_another_loop() -> None:
            asyncio.run(client.system.version())

        with pytest.raises(LMStudioRuntimeError, match="another event loop"):
            await anyio.to_thread.run_sync(from_another_loop)


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_discovery_finds_a_server_on_an_lmstudio_port(lmstudio_server_factory: Any) -> None:
    for port in (41343, 52993, 16141, 39414, 22931):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                break
    else:
        pytest.skip("every LM Studio discovery port is in use on this machine")
    server = lmstudio_server_factory("--port", str(port))

    async def discover() -> str:
        async with AsyncClient() as client:
            assert client.api_host is None
            await client.system.version()
            assert client.api_host is not None
            return client.api_host

    assert asyncio.run(discover()) == server.api_host == f"127.0.0.1:{port}"
