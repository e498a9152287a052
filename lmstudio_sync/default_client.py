"""The process-wide default client behind ``lmstudio_sync.llm()`` and friends.

Hand-written twin of :mod:`lmstudio_async.default_client`: the blocking default
client is one per process (its event loop runs in its own thread), where the
async one is one per event loop.
"""

from __future__ import annotations

import math
import threading

from lmstudio_async.defaults import get_default_timeout, set_default_timeout
from lmstudio_async.errors import LMStudioClientError
from lmstudio_async.transport.hosts import parse_api_host

from .client import Client

__all__ = [
    "configure_default_client",
    "get_default_client",
    "close_default_client",
    "get_sync_api_timeout",
    "set_sync_api_timeout",
]

_lock = threading.Lock()
_settings: tuple[str | None, str | None] = (None, None)
_client: Client | None = None


def configure_default_client(api_host: str | None = None, api_token: str | None = None) -> None:
    """Where the default client connects, and with which API token.

    Call it before the first convenience call; raises once the client is in use.
    """
    global _settings
    if api_host is not None:
        parse_api_host(api_host)  # validate now, not at first use
    with _lock:
        if _client is not None:
            raise LMStudioClientError(
                "Default client is already created, cannot set its API host. Configure it "
                "before first use, or close it first with close_default_client()."
            )
        _settings = (api_host, api_token)


def get_default_client(api_host: str | None = None) -> Client:
    """The default client (created on first use; closed at interpreter exit).

    ``api_host`` here is a shortcut for :func:`configure_default_client` before
    the client exists; once it exists, a different host is an error.
    """
    global _client
    with _lock:
        if _client is not None:
            wanted = None if api_host is None else str(parse_api_host(api_host))
            if wanted is not None and _client.api_host not in (None, wanted):
                raise LMStudioClientError(
                    f"The default client already connects to {_client.api_host}, not {api_host}."
                )
            return _client
        host, token = _settings
        _client = Client(api_host or host, api_token=token)
        return _client


def close_default_client() -> None:
    """Close the default client, if one was created (a later call creates a new one)."""
    global _client
    with _lock:
        client, _client = _client, None
    if client is not None:
        client.close()


def get_sync_api_timeout() -> float | None:
    """Seconds clients without a ``timeout`` of their own wait for the server; ``None``
    for no limit (the official SDK's name; shared with the async API)."""
    timeout = get_default_timeout()
    return None if math.isinf(timeout) else timeout


def set_sync_api_timeout(timeout: float | None) -> None:
    """Set how long clients without a ``timeout`` of their own, existing ones included,
    wait for the server (``None``: no limit; ``0``: no waiting)."""
    set_default_timeout(timeout)
