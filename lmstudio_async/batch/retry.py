"""Which failures of a prediction are worth another attempt, and how long to wait first.

Transient: the socket was lost, the server did not answer in time, the server
could not be reached or refused the connection as busy (HTTP 429/503 at the
websocket handshake), or it ended the prediction without a result. Everything
else (invalid input, a model that is not loaded, a failure the server reports
for the prediction itself) is permanent: sending it again would fail again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import aiohttp

from ..errors import (
    LMStudioChannelClosedError,
    LMStudioClientError,
    LMStudioTimeoutError,
    LMStudioWebsocketError,
)

__all__ = ["NoHostAvailableError", "RetryPolicy", "is_transient", "is_connection_failure"]

_BUSY_STATUSES = frozenset({429, 503})


class NoHostAvailableError(LMStudioClientError):
    """Every host of a pool is unreachable for now (they are probed again)."""


def is_connection_failure(error: BaseException) -> bool:
    """The server could not be reached, or the connection to it broke."""
    if isinstance(error, LMStudioWebsocketError):
        return True
    if isinstance(error, LMStudioClientError):
        cause = error.__cause__
        if isinstance(cause, aiohttp.WSServerHandshakeError):
            return cause.status in _BUSY_STATUSES
        return isinstance(cause, (aiohttp.ClientError, OSError))
    return False


def is_transient(error: BaseException) -> bool:
    """Whether the same request may succeed if sent again."""
    transient = (LMStudioTimeoutError, LMStudioChannelClosedError, NoHostAvailableError)
    return isinstance(error, transient) or (is_connection_failure(error))


@dataclass(frozen=True)
class RetryPolicy:
    """Up to ``max_retries`` further attempts, after exponentially growing, jittered waits."""

    max_retries: int = 2
    base_delay: float = 0.25
    max_delay: float = 4.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (from 1)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return ceiling * random.uniform(0.5, 1.0)
