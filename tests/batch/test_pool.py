"""AsyncClientPool over several real server processes: slots, spreading, a host dying."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections import Counter
from collections.abc import Callable

import pytest

from lmstudio_async import AsyncClient, AsyncClientPool, BatchResult, LMStudioValueError
from lmstudio_async.testing import ServerProcess

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"
ServerFactory = Callable[..., ServerProcess]


def _predicted_instances(server: ServerProcess) -> Counter[str]:
    """How many predictions each instance reference of ``server`` was sent."""
    return Counter(
        r["message"]["creationParameter"]["modelSpecifier"]["instanceReference"]
        for r in server.requests()
        if r["message"].get("type") == "channelCreate" and r["message"]["endpoint"] == "predict"
    )


@pytest.fixture
def free_address() -> str:
    """A loopback address where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"127.0.0.1:{port}"


async def test_the_pool_measures_slots_and_uses_every_instance_of_every_host(
    lmstudio_server_factory: ServerFactory,
) -> None:
    one = lmstudio_server_factory("--token-delay", "0.002")
    two = lmstudio_server_factory("--token-delay", "0.002")
    async with AsyncClient(one.api_host) as client:
        await client.llm.load_new_instance(LLAMA, config={"maxParallelPredictions": 2})
        await client.llm.load_new_instance(LLAMA, config={"maxParallelPredictions": 3})
    async with AsyncClient(two.api_host) as client:
        await client.llm.load_new_instance(LLAMA, config={"maxParallelPredictions": 1})
    async with AsyncClientPool([one.api_host, two.api_host]) as pool:
        llm = await pool.llm.model(LLAMA)
        assert llm.capacity == 2 + 3 + 1
        assert sorted(llm.hosts) == sorted([one.api_host, two.api_host])
        results = await llm.respond_batch([f"spread {i}" for i in range(40)])
    assert [r.index for r in results] == list(range(40))
    assert all(r.ok for r in results)
    hosts = Counter(r.host for r in results)
    assert set(hosts) == {one.api_host, two.api_host}
    assert len(_predicted_instances(one)) == 2  # both instances of the first host served
    assert sum(_predicted_instances(one).values()) + sum(_predicted_instances(two).values()) == 40


async def test_a_host_killed_mid_job_loses_nothing_and_duplicates_nothing(
    lmstudio_server_factory: ServerFactory,
) -> None:
    servers = [
        lmstudio_server_factory("--token-delay", "0.01", "--reply-tokens", "20:40")
        for _ in range(3)
    ]
    victim = servers[0]
    done_before_kill: set[int] = set()
    seen: Counter[int] = Counter()
    killed = False

    def on_result(result: BatchResult) -> None:
        nonlocal killed
        seen[result.index] += 1
        if not killed:
            done_before_kill.add(result.index)
            if len(seen) >= 10:
                os.kill(victim.pid, signal.SIGKILL)
                killed = True

    async with AsyncClientPool([s.api_host for s in servers]) as pool:
        llm = await pool.llm.model(LLAMA)
        assert llm.capacity == 12  # three hosts, four slots each by default
        results = await llm.respond_batch(
            [f"job {i}" for i in range(80)], on_result=on_result, max_retries=0
        )
        assert victim.api_host not in llm.hosts
    assert killed
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert [r.index for r in results] == list(range(80))
    assert set(seen.values()) == {1}  # every item completed exactly once
    after_kill = [r for r in results if r.index not in done_before_kill]
    assert after_kill and all(r.host != victim.api_host for r in after_kill)
    # The victim had work in flight when it died; those items ran again elsewhere.
    assert any(r.attempts > 1 for r in after_kill)


async def test_a_host_that_comes_back_gets_work_again(
    lmstudio_server_factory: ServerFactory,
) -> None:
    steady = lmstudio_server_factory()
    flaky = lmstudio_server_factory()
    port = flaky.port
    async with AsyncClientPool([steady.api_host, flaky.api_host]) as pool:
        llm = await pool.llm.model(LLAMA)
        os.kill(flaky.pid, signal.SIGKILL)
        results = await llm.respond_batch([f"a{i}" for i in range(12)], max_retries=0)
        assert all(r.ok and r.host == steady.api_host for r in results)
        assert llm.hosts == [steady.api_host]
        # The same address answers again (a restarted server, nothing loaded yet).
        lmstudio_server_factory("--port", str(port))
        for _ in range(600):  # a safety net: probes run every second
            if len(llm.hosts) == 2:
                break
            await asyncio.sleep(0.05)
        assert sorted(llm.hosts) == sorted([steady.api_host, flaky.api_host])
        results = await llm.respond_batch([f"b{i}" for i in range(24)])
    assert {r.host for r in results} == {steady.api_host, flaky.api_host}


async def test_an_unreachable_host_is_left_out_and_the_batch_runs_on_the_rest(
    lmstudio_server: ServerProcess, free_address: str
) -> None:
    async with AsyncClientPool([free_address, lmstudio_server.api_host]) as pool:
        llm = await pool.llm.model(LLAMA)
        assert llm.hosts == [lmstudio_server.api_host]
        results = await llm.complete_batch(["a", "b", "c"], config={"maxTokens": 3})
    assert all(r.ok and r.host == lmstudio_server.api_host for r in results)


async def test_a_pool_of_only_unreachable_hosts_says_so(free_address: str) -> None:
    async with AsyncClientPool([free_address]) as pool:
        with pytest.raises(Exception, match="not reachable"):
            await pool.llm.model(LLAMA)


def test_pool_arguments_are_checked() -> None:
    with pytest.raises(LMStudioValueError, match="at least one"):
        AsyncClientPool([])
    with pytest.raises(LMStudioValueError, match="list of"):
        AsyncClientPool("localhost:1234")
    with pytest.raises(LMStudioValueError, match="more than once"):
        AsyncClientPool(["localhost:1234", "localhost:1234"])


async def test_as_completed_over_a_pool(lmstudio_server_factory: ServerFactory) -> None:
    servers = [lmstudio_server_factory() for _ in range(2)]
    async with AsyncClientPool([s.api_host for s in servers]) as pool:
        llm = await pool.llm.model(LLAMA)
        indexes = [r.index async for r in llm.respond_as_completed(f"x{i}" for i in range(10))]
    assert sorted(indexes) == list(range(10))
