"""The main job, ``python -m lmstudio_async.demo``, as a new user runs it."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from lmstudio_async.testing import ServerProcess


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lmstudio_async.demo", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_the_demo_streams_a_reply_and_its_stats(lmstudio_server: ServerProcess) -> None:
    done = _demo("--host", lmstudio_server.api_host, "--model", "llama-3.2-1b-instruct")
    assert done.returncode == 0, done.stderr
    assert "Assistant: " in done.stdout
    for line in ("Predicted tokens:", "Time to first token:", "Stop reason:         eosFound"):
        assert line in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "no-such-model"], "error: No downloaded LLM matches 'no-such-model'"),
        (["--host", f"127.0.0.1:{_unused_port()}"], "error: LM Studio is not reachable"),
    ],
)
def test_user_errors_are_one_clear_line(
    args: list[str], message: str, lmstudio_server: ServerProcess
) -> None:
    if "--host" not in args:
        args = ["--host", lmstudio_server.api_host, *args]
    done = _demo(*args)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().startswith(message)
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_unknown_engine_is_refused_with_the_valid_ones() -> None:
    done = _demo("--engine", "bogus")
    assert done.returncode == 2
    assert "invalid choice: 'bogus' (choose from 'llama-cpp', 'scripted')" in done.stderr
    assert "Traceback" not in done.stderr
