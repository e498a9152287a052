"""The command-line server: listening line, clean stop, argument errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lmstudio_async.testing import ServerProcess, ServerStartError


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lmstudio_async.server", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_prints_the_listening_line_and_stops_cleanly_on_sigterm() -> None:
    server = ServerProcess().start()
    try:
        host, port = server.api_host.rsplit(":", 1)
        assert host == "127.0.0.1"
        with socket.create_connection((host, int(port)), timeout=5):
            pass
    finally:
        code = server.stop()
    assert code == 0
    # stop() closed its log; a clean stop leaves no traceback behind either way.


def test_listening_line_is_exact() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "lmstudio_async.server", "--port", "0", "--no-sdk-port"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(
            "LM Studio-compatible server (engine: scripted) listening on http://127.0.0.1:"
        )
        assert line.rstrip("\n").rsplit(":", 1)[1].isdigit()
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--port", "70000"], "between 0 and 65535"),
        (["--fault", "delay:version=1"], "NAMESPACE/ENDPOINT"),
        (["--api-token", "sk-lm-short:x"], "API token must look like"),
        (["--reply-tokens", "5"], "MIN:MAX"),
        (["--token-delay", "-1"], ">= 0"),
        (["--engine", "gpt"], "invalid choice"),
        (["--catalog", "/no/such/catalog.json"], "no such file"),
        (["--hub-dir", "/no/such/hub"], "no such directory"),
        (["--download-speed", "0"], "greater than 0"),
        (["--fault", "download-fail-at=2"], "from 0 to 1"),
        (["--sdk-port", "x"], "not a port number"),
        (["--max-connections", "0"], "at least 1"),
        (["--heartbeat", "0"], "> 0"),
    ],
)
def test_bad_arguments_are_explained(args: list[str], complaint: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert complaint in result.stderr


def test_busy_port_is_reported_without_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cli("--port", str(taken.getsockname()[1]), "--no-sdk-port")
    assert result.returncode == 1
    assert "cannot listen on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_start_failure_includes_the_server_stderr() -> None:
    with pytest.raises(ServerStartError, match="invalid choice"):
        ServerProcess("--engine", "gpt").start()


def test_invalid_catalog_is_reported_as_a_usage_error(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text("{not json", encoding="utf-8")
    result = run_cli("--catalog", str(catalog))
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_hub_and_download_options_reach_the_server(tmp_path: Path) -> None:
    from lmstudio_async.server.__main__ import _config, build_parser

    args = build_parser().parse_args(["--hub-dir", str(tmp_path), "--download-speed", "5e6"])
    config = _config(args)
    assert (config.hub_dir, config.download_speed) == (tmp_path, 5e6)
