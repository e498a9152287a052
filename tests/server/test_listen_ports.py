"""The server listens where LM Studio does: the REST port and the SDK discovery port."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import aiohttp
import lmstudio
import pytest

from lmstudio_async import AsyncClient
from lmstudio_async.server import LocalServer
from lmstudio_async.server.config import DEFAULT_SDK_PORT

STARTUP_TIMEOUT = 30.0


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def cli_server_with_defaults() -> Iterator[subprocess.Popen[str]]:
    """``python -m lmstudio_async.server --port 0``: everything else at its default."""
    if not _port_is_free(DEFAULT_SDK_PORT):
        pytest.skip(f"port {DEFAULT_SDK_PORT} is in use by another program on this machine")
    process = subprocess.Popen(
        [sys.executable, "-m", "lmstudio_async.server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        second = process.stdout.readline()
        if not second:
            _, stderr = process.communicate(timeout=STARTUP_TIMEOUT)
            # Someone took the port between the check above and the server's bind.
            if f"cannot listen on 127.0.0.1:{DEFAULT_SDK_PORT}" in stderr:
                pytest.skip(f"port {DEFAULT_SDK_PORT} was taken by another program meanwhile")
            raise AssertionError(f"the server did not start: {first!r} {stderr}")
        assert "listening on http://127.0.0.1:" in first
        assert second.strip() == f"Also serving the LM Studio SDK port {DEFAULT_SDK_PORT}"
        yield process
    finally:
        process.terminate()
        try:
            process.communicate(timeout=STARTUP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def test_the_official_client_finds_the_server_with_no_arguments(
    cli_server_with_defaults: subprocess.Popen[str],
) -> None:
    assert lmstudio.Client.find_default_local_api_host() == f"127.0.0.1:{DEFAULT_SDK_PORT}"
    with lmstudio.Client() as client:
        keys = {model.model_key for model in client.list_downloaded_models()}
    assert "llama-3.2-1b-instruct" in keys


@pytest.mark.anyio
async def test_both_ports_serve_one_server() -> None:
    async with LocalServer(port=0, sdk_port=0) as server:
        assert server.sdk_port is not None and server.sdk_port != server.port
        async with AsyncClient(server.api_host) as rest_port:
            await rest_port.llm.load_new_instance("llama-3.2-1b-instruct", "shared")
        async with AsyncClient(f"127.0.0.1:{server.sdk_port}") as sdk_port:
            loaded = [model.identifier for model in await sdk_port.llm.list_loaded()]
        assert loaded == ["shared"]


@pytest.mark.anyio
async def test_in_process_servers_take_no_sdk_port_unless_asked() -> None:
    async with LocalServer(port=0) as server:
        assert server.sdk_port is None


def test_a_taken_sdk_port_is_reported_with_the_way_out() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "lmstudio_async.server", "--port", "0", "--sdk-port", str(port)],
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT,
            check=False,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--no-sdk-port" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.anyio
async def test_a_second_server_on_the_same_port_fails_clearly() -> None:
    async with LocalServer(port=0) as first:
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            async with LocalServer(port=first.port):
                pass
        # The first one still serves.
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{first.url}/lmstudio-greeting") as response,
        ):
            assert (await response.json()) == {"lmstudio": True}
