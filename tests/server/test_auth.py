"""The auth handshake: first-come-first-served registry, API tokens, timeout."""

from __future__ import annotations

import base64

import pytest

from lmstudio_async.server import LocalServer
from lmstudio_async.server.clients import AuthRefused, ClientRegistry

from .wire import guest_identifier, open_socket, wait_until

pytestmark = pytest.mark.anyio

IDENTIFIER = "abcd1234"
PASSKEY = "A" * 20
TOKEN = f"sk-lm-{IDENTIFIER}:{PASSKEY}"


async def test_guest_is_accepted(server: LocalServer) -> None:
    async with open_socket(server.api_host, "system") as sock:
        assert sock.auth_reply == {"success": True}
        reply = await sock.call("version")
        assert reply["result"]["version"] == server.config.lmstudio_version


async def test_bare_uuid_identifier_is_accepted(server: LocalServer) -> None:
    # lmstudio 1.5.0 sends a uuid4 without the "guest:" prefix.
    async with open_socket(server.api_host, "llm", identifier="6c3e1d2e-4c1f-4b7b") as sock:
        assert sock.auth_reply == {"success": True}


async def test_second_socket_must_present_the_registered_passkey(server: LocalServer) -> None:
    identifier = guest_identifier()
    async with open_socket(server.api_host, "llm", identifier=identifier, passkey="first"):
        async with open_socket(
            server.api_host, "system", identifier=identifier, passkey="first"
        ) as same:
            assert same.auth_reply == {"success": True}
        async with open_socket(
            server.api_host, "system", identifier=identifier, passkey="other"
        ) as wrong:
            assert wrong.auth_reply["success"] is False
            assert "Invalid client passkey" in wrong.auth_reply["error"]
            assert "other" not in wrong.auth_reply["error"]
            await wrong.expect_closed()


async def test_identifier_is_released_with_its_last_socket(server: LocalServer) -> None:
    identifier = guest_identifier()
    async with open_socket(server.api_host, "llm", identifier=identifier, passkey="first"):
        assert server.state.clients.is_connected(identifier)
    await wait_until(lambda: not server.state.clients.is_connected(identifier))
    async with open_socket(server.api_host, "llm", identifier=identifier, passkey="new") as sock:
        assert sock.auth_reply == {"success": True}


async def test_uploaded_files_are_released_with_the_client(server: LocalServer) -> None:
    identifier = guest_identifier()
    content = base64.b64encode(b"hello").decode()
    async with open_socket(server.api_host, "files", identifier=identifier) as sock:
        reply = await sock.call("uploadFileBase64", {"name": "a.txt", "contentBase64": content})
        assert reply["type"] == "rpcResult"
        assert len(server.state.files.files_of(identifier)) == 1
    await wait_until(lambda: not server.state.files.files_of(identifier))


async def test_token_mode_refuses_guests_and_says_how_to_pass_a_token() -> None:
    async with (
        LocalServer(port=0, api_tokens=[TOKEN]) as server,
        open_socket(server.api_host, "llm") as sock,
    ):
        assert sock.auth_reply["success"] is False
        assert "requires an API token" in sock.auth_reply["error"]
        assert "LM_API_TOKEN" in sock.auth_reply["error"]
        await sock.expect_closed()


async def test_token_mode_refuses_a_wrong_passkey() -> None:
    async with (
        LocalServer(port=0, api_tokens=[TOKEN]) as server,
        open_socket(server.api_host, "llm", identifier=IDENTIFIER, passkey="B" * 20) as sock,
    ):
        assert sock.auth_reply["success"] is False
        assert PASSKEY not in sock.auth_reply["error"]


async def test_token_mode_accepts_a_configured_token() -> None:
    async with (
        LocalServer(port=0, api_tokens=[TOKEN]) as server,
        open_socket(server.api_host, "llm", identifier=IDENTIFIER, passkey=PASSKEY) as sock,
    ):
        assert sock.auth_reply == {"success": True}


async def test_auth_times_out() -> None:
    async with (
        LocalServer(port=0, auth_timeout=0.2) as server,
        open_socket(server.api_host, "llm", auth=False) as sock,
    ):
        reply = await sock.receive()
        assert reply == {"success": False, "error": "Authentication timed out"}
        await sock.expect_closed()


async def test_frames_before_a_valid_auth_packet_are_ignored(server: LocalServer) -> None:
    async with open_socket(server.api_host, "system", auth=False) as sock:
        await sock.send_text("not json")
        await sock.send({"type": "rpcCall", "endpoint": "version", "callId": 1})
        await sock.send({"authVersion": 1, "clientIdentifier": "x", "clientPasskey": "y"})
        assert await sock.receive() == {"success": True}


async def test_unsupported_auth_version_is_refused(server: LocalServer) -> None:
    async with open_socket(server.api_host, "system", auth=False) as sock:
        await sock.send({"authVersion": 2, "clientIdentifier": "x", "clientPasskey": "y"})
        reply = await sock.receive()
        assert reply["success"] is False
        assert "authVersion 2" in reply["error"]


def test_registry_accepts_any_configured_token_and_counts_sockets() -> None:
    released: list[str] = []
    other = f"sk-lm-zzzz9999:{'Z' * 20}"
    registry = ClientRegistry([TOKEN, other], on_released=released.append)
    registry.acquire("zzzz9999", "Z" * 20)
    registry.acquire("zzzz9999", "Z" * 20)
    with pytest.raises(AuthRefused):
        registry.acquire("zzzz9999", PASSKEY)
    registry.release("zzzz9999")
    assert released == []
    registry.release("zzzz9999")
    assert released == ["zzzz9999"]
    assert not registry.is_connected("zzzz9999")
