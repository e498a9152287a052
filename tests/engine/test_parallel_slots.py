"""An instance's parallel prediction slots: the limit, the order of the queue, the report."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from lmstudio_async.server.api import ServerError
from lmstudio_async.server.config import ServerConfig
from lmstudio_async.server.models import ModelManager
from lmstudio_async.server.slots import PARALLEL_KEY, PredictionSlots

from .helpers import ProgressLog, stack

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"


async def _occupy(
    slots: PredictionSlots, name: str, log: list[str], release: asyncio.Event
) -> None:
    async with slots.hold():
        log.append(name)
        await release.wait()


async def _spin() -> None:
    """Let every ready task run (a released slot is handed over within a few steps)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_slots_admit_the_limit_and_queue_the_rest_in_arrival_order() -> None:
    slots = PredictionSlots(2)
    log: list[str] = []
    releases = {name: asyncio.Event() for name in "abcde"}
    tasks = []
    for name in "abcde":
        tasks.append(asyncio.create_task(_occupy(slots, name, log, releases[name])))
        await asyncio.sleep(0)  # each request arrives before the next
    await asyncio.sleep(0)
    assert log == ["a", "b"]
    assert (slots.running, slots.queued) == (2, 3)
    releases["b"].set()
    await _spin()
    assert log == ["a", "b", "c"]
    releases["a"].set()
    await _spin()
    assert log == ["a", "b", "c", "d"]
    for release in releases.values():
        release.set()
    await asyncio.gather(*tasks)
    assert (slots.running, slots.queued) == (0, 0)


async def test_a_cancelled_waiter_leaves_the_queue_without_taking_a_slot() -> None:
    slots = PredictionSlots(1)
    log: list[str] = []
    release = asyncio.Event()
    first = asyncio.create_task(_occupy(slots, "first", log, release))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(_occupy(slots, "cancelled", log, release))
    last = asyncio.create_task(_occupy(slots, "last", log, release))
    await asyncio.sleep(0)
    assert slots.queued == 2
    waiting.cancel()
    await asyncio.sleep(0)
    assert slots.queued == 1
    release.set()
    await asyncio.gather(first, last)
    assert log == ["first", "last"]
    assert (slots.running, slots.queued) == (0, 0)


@pytest.fixture
async def manager() -> AsyncIterator[ModelManager]:
    models = ModelManager(ServerConfig(load_time=0.0))
    await models.start()
    yield models
    await models.aclose()


async def test_the_load_config_sets_the_limit_and_the_instance_reports_it(
    manager: ModelManager,
) -> None:
    info, _ = manager.resolve_model(LLAMA, "llm")
    default = await manager.load(info, load_config_stack=stack(), progress=ProgressLog())
    two = await manager.load(
        info, load_config_stack=stack({PARALLEL_KEY: 2}), progress=ProgressLog()
    )
    assert default.slots is not None and two.slots is not None
    assert (default.slots.limit, two.slots.limit) == (4, 2)
    assert dict(two.load_settings.values)[PARALLEL_KEY] == 2
    for bad in (0, 1024, "4", True):
        with pytest.raises(ServerError, match="parallel predictions"):
            await manager.load(
                info, load_config_stack=stack({PARALLEL_KEY: bad}), progress=ProgressLog()
            )


async def test_an_engine_that_runs_one_prediction_at_a_time_caps_and_reports_the_limit(
    manager: ModelManager,
) -> None:
    manager.engine.max_parallel_predictions = 1  # as the llama.cpp engine declares
    info, _ = manager.resolve_model(LLAMA, "llm")
    instance = await manager.load(
        info, load_config_stack=stack({PARALLEL_KEY: 8}), progress=ProgressLog()
    )
    assert instance.slots is not None and instance.slots.limit == 1
    assert dict(instance.load_settings.values)[PARALLEL_KEY] == 1
