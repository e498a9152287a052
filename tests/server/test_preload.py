"""``--load`` loads models at start-up, so tests can begin with a known set of loaded models."""

from __future__ import annotations

import subprocess
import sys

import lmstudio
import pytest

from lmstudio_async.server import LocalServer
from lmstudio_async.server.preload import PreloadError, PreloadSpec
from lmstudio_async.testing import ServerProcess


def test_load_options_preload_models_of_both_domains_with_their_identifiers() -> None:
    args = ("--load", "llama-3.2-1b-instruct", "--load", "nomic-ai/nomic-embed-text-v1.5=emb")
    with ServerProcess(*args) as server, lmstudio.Client(server.api_host) as client:
        assert [m.identifier for m in client.llm.list_loaded()] == ["llama-3.2-1b-instruct"]
        assert [m.identifier for m in client.embedding.list_loaded()] == ["emb"]


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--load", "no-such-model"], 'No downloaded model matches "no-such-model"'),
        (
            ["--load", "llama-3.2-1b-instruct=x", "--load", "qwen2.5-7b-instruct=x"],
            'identifier "x" already exists',
        ),
    ],
)
def test_a_model_that_cannot_be_preloaded_stops_the_server_with_a_reason(
    args: list[str], complaint: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lmstudio_async.server", "--port", "0", "--no-sdk-port", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert complaint in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_load_option_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lmstudio_async.server", "--load", "llama="],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "expected KEY or KEY=IDENTIFIER" in result.stderr


@pytest.mark.anyio
async def test_in_process_servers_preload_too() -> None:
    async with LocalServer(port=0, preload=[PreloadSpec("qwen2.5-7b-instruct", "q")]) as server:
        assert [i.identifier for i in server.state.models.loaded()] == ["q"]
    with pytest.raises(PreloadError, match="--load nope"):
        async with LocalServer(port=0, preload=[PreloadSpec("nope")]):
            pass
