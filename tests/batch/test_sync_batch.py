"""The blocking twins of the batch API: same results, callbacks in the calling thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

import lmstudio_sync as lms
from lmstudio_async.testing import ServerProcess

LLAMA = "llama-3.2-1b-instruct"


def test_respond_batch_and_as_completed_on_the_blocking_api(
    lmstudio_server: ServerProcess,
) -> None:
    threads: set[threading.Thread] = set()

    def on_result(result: lms.BatchResult) -> None:
        threads.add(threading.current_thread())

    with lms.Client(lmstudio_server.api_host) as client:
        llm = client.llm.model(LLAMA)
        results = llm.respond_batch((f"p{i}" for i in range(10)), on_result=on_result)
        assert [r.index for r in results] == list(range(10)) and all(r.ok for r in results)
        assert threads == {threading.current_thread()}
        stream = llm.complete_as_completed((f"q{i}" for i in range(1000)), concurrency=3)
        for count, result in enumerate(stream, 1):
            assert result.ok
            if count == 5:
                break
        assert stream.in_flight == 0  # leaving the loop cancelled the rest
        assert stream.pulled <= stream.completed + 3  # never more than the window ahead


def test_a_blocking_client_pool(lmstudio_server_factory: Callable[..., ServerProcess]) -> None:
    servers = [lmstudio_server_factory() for _ in range(2)]
    with lms.ClientPool([s.api_host for s in servers]) as pool:
        llm = pool.llm.model(LLAMA)
        assert llm.capacity == 8
        results = llm.respond_batch([f"z{i}" for i in range(20)])
    assert all(r.ok for r in results)
    assert {r.host for r in results} == {s.api_host for s in servers}
