"""Running a ``loadModel`` or ``getOrLoad`` channel to its result, with progress and cancel."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from .callbacks import ProgressReporter
from .errors import LMStudioChannelClosedError, LMStudioValueError
from .protocol import (
    AlreadyLoaded,
    GetOrLoadProgress,
    LoadingPacket,
    LoadProgress,
    LoadSucceeded,
    LoadSuccess,
    ModelInstanceInfo,
    StartLoading,
    UnloadingOtherJITModel,
    lenient_decoder_for,
)

if TYPE_CHECKING:
    from .client import AsyncClient

__all__ = ["run_load_channel", "ttl_to_ms", "DEFAULT_TTL"]

logger = logging.getLogger("lmstudio_async")

#: Idle time-to-live, in seconds, of models this SDK loads, as in the official Python SDK.
DEFAULT_TTL = 3600.0

_LOADING = lenient_decoder_for(LoadingPacket, "model loading")


def ttl_to_ms(ttl: float | None) -> int | None:
    """Seconds (``None``: never expire) to the wire's whole milliseconds."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or math.isnan(ttl):
        raise LMStudioValueError(f"ttl must be a number of seconds or None, not {ttl!r}.")
    if ttl <= 0 or math.isinf(ttl):
        raise LMStudioValueError(
            f"ttl must be a positive, finite number of seconds, not {ttl!r}; "
            "pass ttl=None for a model that never expires."
        )
    return max(1, round(ttl * 1000))


async def run_load_channel(
    client: AsyncClient,
    namespace: str,
    endpoint: str,
    parameter: Any,
    progress: ProgressReporter,
    timeout: float | None,
) -> tuple[ModelInstanceInfo, bool]:
    """The loaded (or already loaded) instance, and whether this call loaded it.

    ``timeout`` bounds the silence between two packets, so a long load that keeps
    reporting progress is fine. Cancelling the awaiting task, or an exception in
    the progress callback, asks the server to stop loading.
    """
    channel = await client._open_channel(namespace, endpoint, parameter, _LOADING, timeout=timeout)
    try:
        async for packet in channel:
            if isinstance(packet, (LoadProgress, GetOrLoadProgress)):
                await progress.report(packet.progress)
            elif isinstance(packet, StartLoading):
                await progress.report(0.0)
            elif isinstance(packet, UnloadingOtherJITModel):
                logger.info("LM Studio is unloading JIT-loaded %r first", packet.info.identifier)
            elif isinstance(packet, (LoadSuccess, LoadSucceeded)):
                await progress.finish()
                return packet.info, True
            elif isinstance(packet, AlreadyLoaded):
                return packet.info, False
        raise LMStudioChannelClosedError(
            f"LM Studio closed the {namespace}/{endpoint} channel without a loaded model. "
            "The load may have failed on the server; check its logs."
        )
    except BaseException:
        channel.cancel_soon()
        raise
    finally:
        channel.close()
