"""Recording what a client sends, and normalising it so two clients can be compared.

The server's request log holds every frame clients send after authenticating.
Normalisation drops what legitimately differs between two runs of the same
operation: call and channel ids, the order of config fields, and how a
specifier names an instance (see :func:`normalise`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import lmstudio

from lmstudio_async import AsyncClient
from lmstudio_async.testing import ServerProcess

Messages = list[dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One operation, written for both clients.

    ``preload`` models are loaded (unrecorded) before the operation; with
    ``handle`` set to a namespace, each side first fetches (unrecorded) a handle
    to the loaded model of that namespace and the action receives it.
    """

    name: str
    ours: Callable[[AsyncClient, Any], Awaitable[object]]
    official: Callable[[lmstudio.Client, Any], object]
    preload: tuple[tuple[str, str], ...] = ()
    handle: str | None = None


def normalise(messages: Messages, identifiers: dict[str, str]) -> Messages:
    """Comparable forms of recorded messages.

    ``identifiers`` maps instance references to instance identifiers: our handles
    address an instance by its ``instanceReference`` where the official Python SDK
    uses an identifier query; both name the same instance.
    """
    return [_normalise(message, identifiers) for message in messages]


def _normalise(value: Any, identifiers: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_normalise(item, identifiers) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get("type") == "instanceReference":
        identifier = identifiers[value["instanceReference"]]
        return {"type": "query", "query": {"identifier": identifier}}
    result = {
        key: _normalise(item, identifiers)
        for key, item in value.items()
        if key not in ("callId", "channelId")
    }
    if isinstance(result.get("fields"), list):
        result["fields"] = sorted(result["fields"], key=lambda field: field["key"])
    return result


async def _preload(server: ServerProcess, case: Case) -> None:
    async with AsyncClient(server.api_host) as client:
        for namespace, key in case.preload:
            await getattr(client, namespace).load_new_instance(key)


def record_ours(server: ServerProcess, case: Case) -> tuple[Messages, dict[str, str]]:
    """Our client's messages for the case, and the instance references it may name."""

    async def run() -> tuple[Messages, dict[str, str]]:
        await _preload(server, case)
        async with AsyncClient(server.api_host) as client:
            loaded = await client.list_loaded_models()
            handle = await getattr(client, case.handle).model() if case.handle else None
            server.clear_requests()
            await case.ours(client, handle)
            messages = [r["message"] for r in server.requests()]
            known = {h.instance_reference: h.identifier for h in loaded}
            known.update(
                {h.instance_reference: h.identifier for h in await client.list_loaded_models()}
            )
            return messages, known

    server.reset()
    return asyncio.run(run())


def record_official(server: ServerProcess, case: Case) -> Messages:
    """The official client's messages for the case."""
    server.reset()
    asyncio.run(_preload(server, case))
    with lmstudio.Client(server.api_host) as client:
        handle = getattr(client, case.handle).model() if case.handle else None
        server.clear_requests()
        case.official(client, handle)
        return [r["message"] for r in server.requests()]
