"""The default client behind the module-level convenience functions: one per event loop.

An ``AsyncClient`` belongs to the event loop it first runs in, so each loop gets
its own default client, created on first use from the settings given to
:func:`configure_default_client`. Close it with :func:`close_default_client`
before the loop ends (e.g. at the end of the coroutine passed to ``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import threading
import weakref

from .client import AsyncClient
from .errors import LMStudioClientError
from .transport.hosts import parse_api_host

__all__ = ["configure_default_client", "get_default_client", "close_default_client"]

_lock = threading.Lock()
_settings: tuple[str | None, str | None] = (None, None)
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def configure_default_client(api_host: str | None = None, api_token: str | None = None) -> None:
    """Where default clients connect, and with which API token.

    Applies to default clients created from now on; raises if one is already in use.
    """
    global _settings
    if api_host is not None:
        parse_api_host(api_host)  # validate now, not at first use
    with _lock:
        if any(not client.closed for client in _clients.values()):
            raise LMStudioClientError(
                "Default client is already created, cannot set its API host. Configure it "
                "before first use, or close it first with close_default_client()."
            )
        _settings = (api_host, api_token)


def get_default_client(api_host: str | None = None) -> AsyncClient:
    """This event loop's default client (created on first use).

    ``api_host`` here is a shortcut for :func:`configure_default_client` before
    the client exists; once it exists, a different host is an error.
    """
    loop = asyncio.get_running_loop()
    with _lock:
        client = _clients.get(loop)
        if client is not None and not client.closed:
            if api_host is not None and client.api_host not in (
                None,
                str(parse_api_host(api_host)),
            ):
                raise LMStudioClientError(
                    f"The default client already connects to {client.api_host}, not {api_host}."
                )
            return client
        host, token = _settings
        client = _clients[loop] = AsyncClient(api_host or host, api_token=token)
        return client


async def close_default_client() -> None:
    """Close this event loop's default client, if it has one."""
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()
