"""The fixtures our users get from the pytest plugin."""

from __future__ import annotations

from collections.abc import Callable

import lmstudio
import pytest

from lmstudio_async.testing import ServerProcess

from .wire import open_socket

TOKEN = "sk-lm-abcd1234:" + "x" * 20


def test_plugin_is_registered(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("lmstudio_async")


def test_server_fixture_serves_the_official_client(lmstudio_server: ServerProcess) -> None:
    with lmstudio.Client(lmstudio_server.api_host) as client:
        assert client.list_downloaded_models()
    frames = [entry["message"] for entry in lmstudio_server.requests()]
    assert {"type": "rpcCall", "endpoint": "listDownloadedModels", "callId": 1} in frames


def test_server_fixture_is_reset_between_tests_part_one(lmstudio_server: ServerProcess) -> None:
    lmstudio_server.set_faults(failures={"system/listDownloadedModels": "Down"})
    with (
        lmstudio.Client(lmstudio_server.api_host) as client,
        pytest.raises(lmstudio.LMStudioServerError, match="Down"),
    ):
        client.list_downloaded_models()


def test_server_fixture_is_reset_between_tests_part_two(lmstudio_server: ServerProcess) -> None:
    # Part one left a fault and logged requests; the fixture reset both.
    assert lmstudio_server.requests() == []
    with lmstudio.Client(lmstudio_server.api_host) as client:
        assert client.list_downloaded_models()


def test_clear_faults_and_requests(lmstudio_server: ServerProcess) -> None:
    lmstudio_server.set_faults(failures={"system/listDownloadedModels": "Down"})
    lmstudio_server.clear_faults()
    with lmstudio.Client(lmstudio_server.api_host) as client:
        assert client.list_downloaded_models()
    assert lmstudio_server.requests()
    lmstudio_server.clear_requests()
    assert lmstudio_server.requests() == []


def test_bad_fault_is_reported(lmstudio_server: ServerProcess) -> None:
    with pytest.raises(RuntimeError, match="HTTP 400"):
        lmstudio_server.set_faults(delays={"nonsense": 1.0})


@pytest.mark.anyio
async def test_factory_starts_servers_with_custom_options(
    lmstudio_server_factory: Callable[..., ServerProcess],
) -> None:
    server = lmstudio_server_factory("--api-token", TOKEN)
    async with open_socket(server.api_host, "llm") as guest:
        assert guest.auth_reply["success"] is False
    identifier, passkey = TOKEN.removeprefix("sk-lm-").split(":")
    async with open_socket(
        server.api_host, "llm", identifier=identifier, passkey=passkey
    ) as member:
        assert member.auth_reply == {"success": True}
