"""How a pool hands out work: each host's instances and their parallel slots, failover, revival.

An item goes to the instance with the largest share of free slots among live hosts. A host
whose socket breaks or that cannot be reached leaves the rotation; the item it was running
is marked as moved (it runs elsewhere without using up a retry), and the host is probed
every :data:`PROBE_INTERVAL` seconds until it serves the model again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from ..client import AsyncClient
from ..errors import LMStudioModelNotFoundError
from ..handles import AsyncLLM
from ..prediction import PredictionResult
from .retry import NoHostAvailableError, is_connection_failure
from .scheduler import Attempt
from .targets import PredictionOptions

__all__ = ["PROBE_INTERVAL", "Dispatcher", "Host", "Lane", "PoolRunner", "measure"]

logger = logging.getLogger("lmstudio_async")

#: Seconds between attempts to reach a host that failed.
PROBE_INTERVAL = 1.0


@dataclass(eq=False)
class Lane:
    """One loaded instance on one host, and its parallel slots."""

    host: Host
    llm: AsyncLLM
    limit: int
    busy: int = 0


@dataclass(eq=False)
class Host:
    client: AsyncClient
    address: str
    alive: bool = True
    lanes: list[Lane] = field(default_factory=list)


async def measure(host: Host, model_key: str, timeout: float | None) -> list[Lane]:
    """The host's loaded instances of ``model_key`` and the parallel limit of each."""
    loaded = await host.client.llm.list_loaded(timeout=timeout)
    instances = [llm for llm in loaded if llm.model_key == model_key]
    configs = await asyncio.gather(*(llm.get_load_config(timeout=timeout) for llm in instances))
    return [
        Lane(host, llm, config.max_parallel_predictions or 1)
        for llm, config in zip(instances, configs, strict=True)
    ]


class Dispatcher:
    """Hands out free slots of live hosts, and brings failed hosts back."""

    def __init__(
        self, hosts: list[Host], model_key: str, prepare: Callable[[Host], Awaitable[str]]
    ) -> None:
        self.hosts = hosts
        self._model_key = model_key
        #: Gets the model onto a host (loading it if needed) and measures the host's slots.
        self._prepare = prepare
        self._changed = asyncio.Event()
        self._probes: dict[Host, asyncio.Task[None]] = {}

    @property
    def capacity(self) -> int:
        return sum(lane.limit for host in self.hosts if host.alive for lane in host.lanes)

    async def acquire(self) -> Lane:
        while True:
            lanes = [lane for host in self.hosts if host.alive for lane in host.lanes]
            if not lanes:
                raise NoHostAvailableError(
                    f"None of the pool's hosts serves {self._model_key!r} right now "
                    f"({', '.join(h.address for h in self.hosts)}); they are probed again "
                    f"every {PROBE_INTERVAL:g} s."
                )
            free = [lane for lane in lanes if lane.busy < lane.limit]
            if free:
                lane = max(free, key=lambda lane: (lane.limit - lane.busy) / lane.limit)
                lane.busy += 1
                return lane
            self._changed.clear()
            await self._changed.wait()

    def release(self, lane: Lane) -> None:
        lane.busy -= 1
        self._changed.set()

    def lane_failed(self, lane: Lane, error: BaseException) -> bool:
        """Take the lane's host (or only the lane) out of rotation; True if the item should
        simply run elsewhere."""
        host = lane.host
        if isinstance(error, LMStudioModelNotFoundError):  # that instance was unloaded
            if lane in host.lanes:
                host.lanes.remove(lane)
                self._changed.set()
            return True
        if not is_connection_failure(error):
            return False
        self.host_failed(host, error)
        return True

    def host_failed(self, host: Host, error: BaseException) -> None:
        if host.alive:
            host.alive = False
            logger.warning(
                "Pool host %s failed (%s); moving its work elsewhere", host.address, error
            )
            self._probes[host] = asyncio.get_running_loop().create_task(
                self._revive(host), name=f"lmstudio-async pool probe {host.address}"
            )
            self._changed.set()

    async def _revive(self, host: Host) -> None:
        while True:
            await asyncio.sleep(PROBE_INTERVAL)
            try:
                await self._prepare(host)  # a restarted server may need to load the model
            except Exception as exc:
                logger.debug("Pool host %s is still unavailable: %s", host.address, exc)
                continue
            host.alive = True
            self._probes.pop(host, None)
            slots = sum(lane.limit for lane in host.lanes)
            logger.warning("Pool host %s is back with %d slots", host.address, slots)
            self._changed.set()
            return

    async def aclose(self) -> None:
        probes = list(self._probes.values())
        self._probes.clear()
        for probe in probes:
            probe.cancel()
        with suppress(asyncio.CancelledError):
            await asyncio.gather(*probes, return_exceptions=True)


class PoolRunner:
    def __init__(self, dispatcher: Dispatcher, options: PredictionOptions) -> None:
        self._dispatcher = dispatcher
        self._options = options

    async def run(self, item: Any, attempt: Attempt) -> PredictionResult:
        lane = await self._dispatcher.acquire()
        attempt.host = lane.host.address
        try:
            return await self._options.run(lane.llm, item)
        except BaseException as exc:
            attempt.moved = self._dispatcher.lane_failed(lane, exc)
            raise
        finally:
            self._dispatcher.release(lane)
