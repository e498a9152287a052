"""Plain HTTP routes: discovery probe, status, and what non-websocket requests get."""

from __future__ import annotations

import aiohttp
import pytest

from lmstudio_async import __version__
from lmstudio_async.server import LocalServer

pytestmark = pytest.mark.anyio


async def test_greeting_identifies_lm_studio(server: LocalServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.url}/lmstudio-greeting") as response,
    ):
        assert response.status == 200
        assert await response.json() == {"lmstudio": True}


async def test_status_names_the_package(server: LocalServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.url}/lms-status") as response,
    ):
        assert await response.json() == {"package": "lmstudio-async", "version": __version__}


async def test_unknown_namespace_is_not_found(server: LocalServer) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await session.ws_connect(f"ws://{server.api_host}/nonsense")
    assert caught.value.status == 404


async def test_namespace_without_upgrade_explains_itself(server: LocalServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.url}/llm") as response,
    ):
        assert response.status == 426
        assert "websocket" in await response.text()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/lmstudio-test/faults"),
        ("DELETE", "/lmstudio-test/faults"),
        ("GET", "/lmstudio-test/requests"),
        ("DELETE", "/lmstudio-test/requests"),
        ("POST", "/lmstudio-test/reset"),
    ],
)
async def test_control_routes_are_absent_without_test_control(method: str, path: str) -> None:
    async with (
        LocalServer(port=0) as plain,
        aiohttp.ClientSession() as session,
        session.request(method, plain.url + path, json={}) as response,
    ):
        assert response.status == 404
