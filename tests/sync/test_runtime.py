"""How the blocking API behaves: threads, callbacks, batching, timeouts, Ctrl-C, cleanup."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import lmstudio_async
import lmstudio_sync as lms
from lmstudio_async import LMStudioRuntimeError, LMStudioTimeoutError, LMStudioValueError
from lmstudio_async.testing import ServerProcess
from lmstudio_async.testing.images import png
from lmstudio_sync._runtime import Portal
from lmstudio_sync._steward import LoopSteward
from tests.eventually import eventually_sync

LLAMA = "llama-3.2-1b-instruct"


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("lmstudio-sync")]


def cancels(server: ServerProcess) -> list[dict[str, Any]]:
    return [
        r["message"]
        for r in server.requests()
        if r["message"].get("type") == "channelSend" and r["message"]["message"]["type"] == "cancel"
    ]


@pytest.fixture
def client(lmstudio_server: ServerProcess) -> Iterator[lms.Client]:
    with lms.Client(lmstudio_server.api_host) as client:
        yield client


def test_callbacks_run_in_the_calling_thread(client: lms.Client) -> None:
    for caller in ("main", "worker"):
        threads: set[str] = set()

        def note(*_: object) -> None:
            threads.add(threading.current_thread().name)  # noqa: B023 - used within the iteration

        def use() -> None:
            llm = client.llm.load_new_instance(LLAMA, on_load_progress=note)
            llm.respond(
                "Hi",
                on_message=note,
                on_first_token=note,
                on_prediction_fragment=note,
                on_prompt_processing_progress=note,
            )
            for _ in llm.respond_stream("Again", on_prediction_fragment=note):
                pass
            llm.unload()

        if caller == "main":
            use()
            assert threads == {threading.current_thread().name}
        else:
            worker = threading.Thread(target=use, name="my-worker")
            worker.start()
            worker.join()
            assert threads == {"my-worker"}


def test_async_callbacks_are_refused_with_a_clear_error(client: lms.Client) -> None:
    async def on_fragment(fragment: Any) -> None:
        pass

    llm = client.llm.model(LLAMA)
    with pytest.raises(LMStudioValueError, match="async function"):
        llm.respond("Hi", on_prediction_fragment=on_fragment)


def test_a_stream_iterated_where_the_loop_is_free_crosses_no_threads(
    lmstudio_server_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch is a blocking call that runs the loop in the iterating thread: nothing
    is handed to another thread, let alone once per fragment."""
    server = lmstudio_server_factory("--reply-tokens", "3000:3000")
    hand_overs = 0
    original = LoopSteward.hand_over

    def counting(self: LoopSteward, callback: Any) -> None:
        nonlocal hand_overs
        hand_overs += 1
        original(self, callback)

    with lms.Client(server.api_host) as client:
        llm = client.llm.model(LLAMA)
        monkeypatch.setattr(LoopSteward, "hand_over", counting)
        fragments = sum(1 for _ in llm.respond_stream("A long one"))
    assert fragments == 3000
    assert hand_overs == 0


def test_every_batch_arrives_even_when_the_producer_finishes_first() -> None:
    """The loop side may finish long before this thread has taken its batches."""
    portal = Portal()
    batches = iter([[n, n + 1] for n in range(0, 2000, 2)] + [[]])

    async def fetch() -> list[int]:
        return next(batches)

    try:
        received = []
        for item in portal.iterate(fetch):
            if item % 500 == 0:
                time.sleep(0.01)  # a slow consumer: the producer is done by now
            received.append(item)
        assert received == list(range(2000))
    finally:
        portal.stop()


def test_fifty_clients_opened_and_closed_leave_no_threads(lmstudio_server: ServerProcess) -> None:
    before = set(threading.enumerate())
    for _ in range(50):
        with lms.Client(lmstudio_server.api_host) as client:
            assert client.system.version().version
    assert set(threading.enumerate()) == before
    assert loop_threads() == []


def test_a_client_that_is_never_closed_is_cleaned_up_when_dropped(
    lmstudio_server: ServerProcess,
) -> None:
    client = lms.Client(lmstudio_server.api_host)
    client.list_loaded_models()
    assert len(loop_threads()) == 1
    del client
    gc.collect()
    assert loop_threads() == []


def test_a_handle_keeps_its_client_alive(lmstudio_server: ServerProcess) -> None:
    llm = lms.Client(lmstudio_server.api_host).llm.model(LLAMA)  # no reference to the client
    gc.collect()
    assert llm.respond("Still connected?").content
    del llm
    gc.collect()
    assert loop_threads() == []


def test_clients_never_closed_are_closed_at_interpreter_exit(
    lmstudio_server: ServerProcess,
) -> None:
    script = textwrap.dedent(
        f"""
        import lmstudio_sync as lms
        keep = lms.Client({lmstudio_server.api_host!r})
        keep.llm.model({LLAMA!r}).respond("Hi")
        lms.llm().respond("Hello")   # the default client, never closed either
        print("done")
        """
    )
    done = subprocess.run(  # a hang at exit would end in TimeoutExpired
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "LM_API_HOST": lmstudio_server.api_host},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
    assert "Unclosed" not in done.stderr and "Traceback" not in done.stderr


def test_leaving_a_stream_early_cancels_it_on_the_server(lmstudio_server_factory: Any) -> None:
    server = lmstudio_server_factory("--token-delay", "0.01", "--reply-tokens", "300:300")
    with lms.Client(server.api_host) as client:
        llm = client.llm.model(LLAMA)
        for _ in llm.respond_stream("Stop me"):
            break
        with llm.respond_stream("Stop me too") as stream:
            next(iter(stream))
        eventually_sync(lambda: len(cancels(server)) >= 2)
        assert len(cancels(server)) == 2
        assert llm.respond("Still fine?", config={"maxTokens": 3}).content


def test_a_stalled_server_times_out_per_client_and_by_default(
    lmstudio_server: ServerProcess,
) -> None:
    lmstudio_server.set_faults(delays={"system/version": 10})
    # The delayed answer would arrive without error: the timeout error shows the client gave up.
    with (
        lms.Client(lmstudio_server.api_host, timeout=0.3) as client,
        pytest.raises(LMStudioTimeoutError, match="system/version"),
    ):
        client.system.version()
    previous = lms.get_sync_api_timeout()
    lms.set_sync_api_timeout(0.3)
    try:
        with lms.Client(lmstudio_server.api_host) as client, pytest.raises(TimeoutError):
            client.system.version()
    finally:
        lms.set_sync_api_timeout(previous)


def test_the_blocking_api_works_inside_a_running_event_loop(lmstudio_server: ServerProcess) -> None:
    """As in a Jupyter cell: the caller's loop is busy, the client's loop is its own."""

    async def cell() -> str:
        with lms.Client(lmstudio_server.api_host) as client:
            return client.llm.model(LLAMA).respond("From inside a loop").content

    assert asyncio.run(cell())


def test_a_closed_client_says_so(lmstudio_server: ServerProcess) -> None:
    client = lms.Client(lmstudio_server.api_host)
    client.system.version()
    client.close()
    client.close()  # idempotent
    with pytest.raises(LMStudioRuntimeError, match="closed"):
        client.system.version()


def test_the_default_client_and_module_functions(lmstudio_server: ServerProcess) -> None:
    lms.close_default_client()
    lms.configure_default_client(lmstudio_server.api_host)
    try:
        llm = lms.llm(LLAMA, ttl=120)
        assert llm.get_info().ttl_ms == 120_000
        assert lms.llm() == llm
        assert [m.identifier for m in lms.list_loaded_models("llm")] == [LLAMA]
        assert LLAMA in {m.model_key for m in lms.list_downloaded_models()}
        assert lms.embedding_model("text-embedding-nomic-embed-text-v1.5").embed("x")
        handle = lms.prepare_image(png(2, 2, (0, 0, 0)), name="black.png")
        assert (handle.name, handle.file_type) == ("black.png", "image")
        assert lms.prepare_file(b"text", name="a.txt").file_type == "text/plain"
        with pytest.raises(lmstudio_async.LMStudioClientError, match="already created"):
            lms.configure_default_client("127.0.0.1:9")
        with pytest.raises(lmstudio_async.LMStudioClientError, match="already connects"):
            lms.get_default_client("127.0.0.1:9")
    finally:
        lms.close_default_client()
        lms.configure_default_client(None)
    assert loop_threads() == []


def test_the_async_module_functions_use_a_per_loop_default_client(
    lmstudio_server: ServerProcess,
) -> None:
    lmstudio_async.configure_default_client(lmstudio_server.api_host)

    async def main() -> str:
        try:
            llm = await lmstudio_async.llm(LLAMA)
            assert await lmstudio_async.list_loaded_models() == [llm]
            image = await lmstudio_async.prepare_image(png(3, 1, (9, 9, 9)), name="dot.png")
            assert image.size_bytes > 0 and image.name == "dot.png"
            return (await llm.respond("Hi")).content
        finally:
            await lmstudio_async.close_default_client()

    try:
        assert asyncio.run(main())
        assert asyncio.run(main())  # a new loop gets a new client
    finally:
        lmstudio_async.configure_default_client(None)


# Each script first restores Python's Ctrl-C handler: a test runner started in the
# background (as CI jobs may be) passes SIGINT on as ignored, and an interactive program
# is what these tests stand for.
CTRL_C_STREAM = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
import lmstudio_sync as lms
with lms.Client({host!r}) as client:
    llm = client.llm.model({model!r})
    for fragment in llm.respond_stream("An endless story"):
        print("fragment", flush=True)
"""

CTRL_C_LOAD = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
import lmstudio_sync as lms
with lms.Client({host!r}) as client:
    print("loading", flush=True)
    client.llm.load_new_instance({model!r}, "interrupted")
"""


@pytest.mark.parametrize(
    ("script", "endpoint"), [(CTRL_C_STREAM, "predict"), (CTRL_C_LOAD, "loadModel")]
)
def test_ctrl_c_cancels_the_server_side_work_and_raises_keyboard_interrupt(
    lmstudio_server_factory: Any, script: str, endpoint: str
) -> None:
    server = lmstudio_server_factory(
        "--token-delay", "0.02", "--reply-tokens", "5000:5000", "--load-time", "10"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script.format(host=server.api_host, model=LLAMA)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()  # it is streaming (or loading) now
    time.sleep(0.5)
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode != 0
    assert "KeyboardInterrupt" in stderr
    created = [r["message"] for r in server.requests() if r["message"].get("endpoint") == endpoint]
    assert len(created) == 1
    assert [c["channelId"] for c in cancels(server)] == [created[0]["channelId"]]
    with lms.Client(server.api_host) as check:
        assert "interrupted" not in {m.identifier for m in check.llm.list_loaded()}
