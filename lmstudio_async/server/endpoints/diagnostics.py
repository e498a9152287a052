"""The ``diagnostics`` namespace (PROTOCOL.md 6.7): live server logs."""

from __future__ import annotations

import anyio

from ...protocol import StreamLogsLogPacket, StreamLogsStopPacket
from ..api import ChannelContext, ChannelEndpoint, Namespace

__all__ = ["build_diagnostics_namespace"]


async def stream_logs(ctx: ChannelContext, _: None) -> None:
    """Forward log events until the client sends ``stop`` (or goes away)."""
    with ctx.state.logs.subscribe() as events:
        async with anyio.create_task_group() as task_group:

            async def forward() -> None:
                async for event in events:
                    await ctx.send(StreamLogsLogPacket(log=event))

            task_group.start_soon(forward)
            while True:
                packet = await ctx.receive()
                if packet is None or isinstance(packet, StreamLogsStopPacket):
                    break
            task_group.cancel_scope.cancel()


def build_diagnostics_namespace() -> Namespace:
    namespace = Namespace("diagnostics")
    namespace.channel(
        ChannelEndpoint("streamLogs", stream_logs, to_server_type=StreamLogsStopPacket)
    )
    return namespace
