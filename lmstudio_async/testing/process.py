"""A handle on the local server running as a separate process (stdlib only)."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from types import TracebackType
from typing import IO, Any

__all__ = ["ServerProcess", "ServerStartError"]

_LISTENING = re.compile(r"listening on http://(\S+)\s*$")
_CONTROL_TIMEOUT = 30.0


class ServerStartError(RuntimeError):
    """The server process exited or did not report its address in time."""


class ServerProcess:
    """Runs ``python -m lmstudio_async.server --port 0 --no-sdk-port --test-control [args...]``.

    Usable from sync and async tests alike: the control methods are plain
    blocking HTTP calls to the server's ``/lmstudio-test/*`` routes. Example::

        with ServerProcess("--token-delay", "0.01") as server:
            client = lmstudio.Client(server.api_host)
            server.set_faults(delays={"llm/predict": 1.0})
            ...
            assert server.requests()[0]["message"]["type"] == "rpcCall"

    ``args`` are extra command-line options of the server (see
    ``python -m lmstudio_async.server --help``).
    """

    def __init__(
        self,
        *args: str,
        startup_timeout: float = 120.0,
        env: dict[str, str] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.args: tuple[str, ...] = args
        self.startup_timeout = startup_timeout
        self._env = env
        self._python = python
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._api_host: str | None = None
        self._pump: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------

    @property
    def command(self) -> list[str]:
        # No SDK port unless asked for (a later --sdk-port wins): test servers never compete
        # for LM Studio's discovery port.
        base = [
            self._python,
            "-m",
            "lmstudio_async.server",
            "--port",
            "0",
            "--no-sdk-port",
            "--test-control",
        ]
        return [*base, *self.args]

    def start(self) -> ServerProcess:
        """Start the process and wait until it accepts connections."""
        if self._process is not None:
            raise RuntimeError("this server process was already started")
        # Lives as long as the process; closed by stop().
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
        env = {**os.environ, **(self._env or {})}
        self._process = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            encoding="utf-8",
        )
        try:
            self._api_host = self._wait_for_address()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_address(self) -> str:
        assert self._process is not None
        assert self._process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        self._pump = threading.Thread(
            target=_pump_lines, args=(self._process.stdout, lines), daemon=True
        )
        self._pump.start()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerStartError(
                    f"the server did not report its address within {self.startup_timeout} s"
                    f"{self._stderr_excerpt()}"
                )
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                self._process.wait()
                raise ServerStartError(
                    f"the server exited with code {self._process.returncode} before listening"
                    f"{self._stderr_excerpt()}"
                )
            match = _LISTENING.search(line)
            if match is not None:
                return match.group(1)

    def _stderr_excerpt(self) -> str:
        text = self.stderr()
        return f"; its stderr:\n{text[-4000:]}" if text else " (its stderr was empty)"

    def stderr(self) -> str:
        """What the server wrote to stderr so far (its log)."""
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the server (SIGTERM, then kill after ``timeout``); returns its exit code."""
        process, self._process = self._process, None
        self._api_host = None
        code: int | None = None
        if process is not None:
            if process.poll() is None:
                if sys.platform == "win32":
                    process.terminate()
                else:
                    process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            code = process.returncode
        if self._pump is not None:
            # The pipe reaches end-of-file once the process is gone; the pump then closes it.
            self._pump.join(timeout)
            self._pump = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        return code

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the server process is not running")
        return self._process.pid

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- addresses ----------------------------------------------------------------

    @property
    def api_host(self) -> str:
        """``host:port`` to give clients, e.g. ``lmstudio.Client(server.api_host)``."""
        if self._api_host is None:
            raise RuntimeError("the server process is not running; call start() first")
        return self._api_host

    @property
    def port(self) -> int:
        return int(self.api_host.rsplit(":", 1)[1])

    @property
    def url(self) -> str:
        return f"http://{self.api_host}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.api_host}"

    # --- test control -------------------------------------------------------------

    def reset(self) -> None:
        """Unload every model, clear faults and the request log."""
        self._control("POST", "/lmstudio-test/reset")

    def set_faults(
        self,
        close_after_fragments: int | None = None,
        delays: dict[str, float] | None = None,
        failures: dict[str, str] | None = None,
        download_fail_at: float | None = None,
        tool_calls: str | None = None,
    ) -> None:
        """Replace the fault plan. Endpoints are named ``"namespace/endpoint"``.

        ``close_after_fragments``: drop the socket after that many fragments of each
        ``llm/predict`` channel. ``delays``: seconds to wait before an endpoint runs.
        ``failures``: make an endpoint fail with an error of the given title.
        ``download_fail_at``: fail model downloads once that fraction (0..1) arrived.
        ``tool_calls``: ``"malformed"`` or ``"unknown-tool"`` corrupts every tool call
        a model produces.
        """
        body = {
            "closeAfterFragments": close_after_fragments,
            "delays": delays or {},
            "failures": failures or {},
            "downloadFailAt": download_fail_at,
            "toolCalls": tool_calls,
        }
        self._control("POST", "/lmstudio-test/faults", body)

    def clear_faults(self) -> None:
        self._control("DELETE", "/lmstudio-test/faults")

    def requests(self) -> list[dict[str, Any]]:
        """Every frame clients sent after authenticating, oldest first.

        Each entry is ``{"namespace": str, "connection": int, "message": <JSON>}``;
        ``connection`` numbers one websocket.
        """
        result: list[dict[str, Any]] = self._control("GET", "/lmstudio-test/requests")
        return result

    def clear_requests(self) -> None:
        self._control("DELETE", "/lmstudio-test/requests")

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=_CONTROL_TIMEOUT) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise RuntimeError(f"{method} {path} failed with HTTP {exc.code}: {detail}") from None


def _pump_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    # Keeps reading after the address line, so the server never blocks on a full stdout pipe.
    with stream:
        for line in stream:
            lines.put(line)
    lines.put(None)
