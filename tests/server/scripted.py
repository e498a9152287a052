"""A namespace of test-only endpoints, served in place of ``llm`` to exercise the websocket layer.

It stands in for ``llm`` (not a namespace of its own) because the
close-after-fragments fault applies to ``llm/predict`` only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

import lmstudio_async.server.app as app_module
from lmstudio_async.protocol import (
    CancelPacket,
    FragmentPacket,
    LlmPredictionFragment,
    NotifyParameter,
    UnloadModelParameter,
)
from lmstudio_async.server import LocalServer, ServerError
from lmstudio_async.server.api import (
    CallContext,
    ChannelContext,
    ChannelEndpoint,
    Namespace,
    RpcEndpoint,
)

from .wire import wait_until

PREDICT_FRAGMENTS = 10
FLOOD_FRAGMENTS = 1_000_000


@dataclass
class Observations:
    """What the scripted handlers saw, for assertions."""

    started_handlers: list[str] = field(default_factory=list)
    cancelled_handlers: list[str] = field(default_factory=list)

    async def wait_started(self, *names: str) -> None:
        await wait_until(lambda: set(names) <= set(self.started_handlers))


def scripted_namespace(seen: Observations) -> Namespace:
    async def void(ctx: CallContext, _: None) -> None:
        return None

    async def echo(ctx: CallContext, parameter: NotifyParameter | None) -> Any:
        return {"got": None if parameter is None else parameter.title}

    async def unload(ctx: CallContext, parameter: UnloadModelParameter) -> str:
        return parameter.identifier

    async def boom(ctx: CallContext, _: None) -> None:
        raise RuntimeError("kaput")

    async def refuse(ctx: CallContext, _: None) -> None:
        raise ServerError("Refused on purpose", cause="because", suggestion="do not")

    async def hang_rpc(ctx: CallContext, _: None) -> None:
        try:
            seen.started_handlers.append("hang_rpc")
            await anyio.sleep_forever()
        finally:
            seen.cancelled_handlers.append("hang_rpc")

    async def predict(ctx: ChannelContext, _: None) -> None:
        for index in range(PREDICT_FRAGMENTS):
            if ctx.cancel_requested():
                break
            fragment = LlmPredictionFragment(content=f"t{index}")
            await ctx.send(FragmentPacket(fragment=fragment))
        await ctx.send({"type": "success"})

    async def flood(ctx: ChannelContext, _: None) -> None:
        packet = FragmentPacket(fragment=LlmPredictionFragment(content="x"))
        sent = 0
        while sent < FLOOD_FRAGMENTS and not ctx.cancel_requested():
            await ctx.send(packet)
            sent += 1
        await ctx.send({"type": "success", "sent": sent})

    async def wait_cancel(ctx: ChannelContext, _: None) -> None:
        await ctx.send({"type": "ready"})
        await ctx.wait_cancel_requested()
        assert isinstance(await ctx.receive(), CancelPacket)
        await ctx.send({"type": "cancelled", "flag": ctx.cancel_requested()})

    async def fail_channel(ctx: ChannelContext, _: None) -> None:
        await ctx.send({"type": "partial"})
        raise ServerError("Channel failed on purpose")

    async def crash_channel(ctx: ChannelContext, _: None) -> None:
        raise ValueError("channel kaput")

    async def hang_channel(ctx: ChannelContext, _: None) -> None:
        try:
            seen.started_handlers.append("hang_channel")
            await anyio.sleep_forever()
        finally:
            seen.cancelled_handlers.append("hang_channel")

    async def deaf_channel(ctx: ChannelContext, _: None) -> None:
        # Accepts cancel packets, never reads them.
        await anyio.sleep_forever()

    namespace = Namespace("llm")
    namespace.rpc(RpcEndpoint("void", void))
    namespace.rpc(RpcEndpoint("echo", echo, NotifyParameter | None))
    namespace.rpc(RpcEndpoint("unloadModel", unload, UnloadModelParameter))
    namespace.rpc(RpcEndpoint("boom", boom))
    namespace.rpc(RpcEndpoint("refuse", refuse))
    namespace.rpc(RpcEndpoint("hang", hang_rpc))
    namespace.channel(ChannelEndpoint("predict", predict, to_server_type=CancelPacket))
    namespace.channel(ChannelEndpoint("flood", flood, to_server_type=CancelPacket))
    namespace.channel(ChannelEndpoint("waitCancel", wait_cancel, to_server_type=CancelPacket))
    namespace.channel(ChannelEndpoint("fail", fail_channel))
    namespace.channel(ChannelEndpoint("crash", crash_channel))
    namespace.channel(ChannelEndpoint("hang", hang_channel))
    namespace.channel(ChannelEndpoint("deaf", deaf_channel, to_server_type=CancelPacket))
    return namespace


@asynccontextmanager
async def scripted_server(
    monkeypatch: pytest.MonkeyPatch, **config: Any
) -> AsyncIterator[tuple[LocalServer, Observations]]:
    seen = Observations()
    real = app_module.build_namespaces

    def with_scripted_llm() -> dict[str, Namespace]:
        return {**real(), "llm": scripted_namespace(seen)}

    monkeypatch.setattr(app_module, "build_namespaces", with_scripted_llm)
    async with LocalServer(port=0, **config) as server:
        yield server, seen
