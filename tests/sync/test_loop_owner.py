"""A blocking call runs the client's loop in its own thread when the loop is free, hands
itself to the loop's thread otherwise, and an idle client still keeps its connection."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

import lmstudio_sync as lms
from lmstudio_sync import _steward
from lmstudio_sync._runtime import Portal
from tests.client.test_transport import connections_used

from .test_runtime import LLAMA


async def _thread_ident() -> int:
    return threading.get_ident()


def test_a_call_runs_the_loop_in_the_calling_thread_when_the_loop_is_free() -> None:
    portal = Portal()
    try:
        assert portal.call(_thread_ident) == threading.get_ident()
        seen: list[int] = []
        worker = threading.Thread(target=lambda: seen.append(portal.call(_thread_ident)))
        worker.start()
        worker.join()
        assert seen == [worker.ident]
    finally:
        portal.stop()
    assert not portal.running


def test_calls_from_another_thread_during_a_long_call_are_handed_over_and_complete(
    lmstudio_server_factory: Any,
) -> None:
    server = lmstudio_server_factory("--token-delay", "0.01", "--reply-tokens", "150:150")
    with lms.Client(server.api_host) as client:
        llm = client.llm.model(LLAMA)
        texts = [f"text number {n}" for n in range(20)]
        alone = [llm.tokenize(t) for t in texts]
        streaming = threading.Event()
        during: list[Any] = []

        def other_thread() -> None:
            streaming.wait(60)
            for t in texts:
                during.append(llm.tokenize(t))

        worker = threading.Thread(target=other_thread)
        worker.start()
        result = llm.respond("Long", on_first_token=streaming.set)
        worker.join(60)
        assert during == alone
        assert result.stats.predicted_tokens_count == 150
        assert len(result.content.split()) >= 100  # the long call was not disturbed


def test_a_task_a_call_leaves_behind_runs_on_while_the_caller_does_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Work a call starts and does not wait for (a cancel frame, say) must not wait for the
    next call: the steward runs the loop for it (idle slices are switched off here)."""
    monkeypatch.setattr(_steward, "SERVICE_INTERVAL", 3600.0)
    finished = threading.Event()

    async def start_and_return() -> None:
        async def later() -> None:
            await asyncio.sleep(0.05)
            finished.set()

        asyncio.get_running_loop().create_task(later())

    portal = Portal()
    try:
        portal.call(start_and_return)
        assert finished.wait(30), "the task waited for the next call"  # a safety net only
    finally:
        portal.stop()


def test_callbacks_may_make_blocking_calls_and_iterate_streams(lms_llm: lms.LLM) -> None:
    seen: dict[str, Any] = {}

    def on_message(message: Any) -> None:
        seen["tokens"] = lms_llm.tokenize("hello")
        seen["nested"] = "".join(f.content for f in lms_llm.respond_stream("nested"))
        seen["thread"] = threading.get_ident()

    outer = lms_llm.respond("outer", on_message=on_message)
    assert seen["tokens"] == lms_llm.tokenize("hello")
    assert seen["nested"] == lms_llm.respond("nested").content
    assert seen["thread"] == threading.get_ident()
    assert outer.content


def test_an_idle_client_keeps_answering_heartbeats_and_keeps_its_socket(
    lmstudio_server_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server drops a socket whose client misses a pong by half the heartbeat (1.5 s);
    # between calls, the steward services the loop every 0.1 s here (every 5 s by default,
    # against LM Studio's and our server's default of 30 s).
    monkeypatch.setattr(_steward, "SERVICE_INTERVAL", 0.1)
    server = lmstudio_server_factory("--heartbeat", "3")
    with lms.Client(server.api_host) as client:
        llm = client.llm.model(LLAMA)
        before = client._async._connections["llm"]
        llm.tokenize("before")
        time.sleep(7.5)  # idle for more than two heartbeats
        llm.tokenize("after")
        assert client._async._connections["llm"] is before and before.is_open
    assert len(connections_used(server, "llm")) == 1


@pytest.fixture
def lms_llm(lmstudio_server: Any) -> Any:
    with lms.Client(lmstudio_server.api_host) as client:
        yield client.llm.model(LLAMA)
