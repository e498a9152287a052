"""Settings of the local server, shared by the CLI, the in-process server and the pytest fixture."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .preload import PreloadSpec

__all__ = ["ServerConfig", "DEFAULT_HOST", "DEFAULT_PORT", "DEFAULT_SDK_PORT"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1234
#: The first port the official SDKs probe when no host is given (PROTOCOL.md 1.4).
DEFAULT_SDK_PORT = 41343


@dataclass
class ServerConfig:
    host: str = DEFAULT_HOST
    #: 0 picks a free port.
    port: int = DEFAULT_PORT
    engine: str = "scripted"
    #: Full ``sk-lm-<id>:<passkey>`` tokens; when any is given, guests are refused.
    api_tokens: list[str] = field(default_factory=list)
    #: JSON file of extra downloaded models for the scripted engine's catalog.
    catalog: Path | None = None
    #: GGUF models of the llama-cpp engine, as ``<publisher>/<repository>/<file>.gguf``.
    models_dir: Path | None = None
    #: Models offered for download, as ``<publisher>/<repository>/<file>.gguf`` (default: the
    #: bundled SmolLM2 for the llama-cpp engine, simulated files for the scripted one).
    hub_dir: Path | None = None
    #: Cap on download speed in bytes/second (``None``: as fast as possible).
    download_speed: float | None = None
    #: Reply length range (inclusive) of scripted predictions, in tokens.
    reply_tokens: tuple[int, int] = (8, 64)
    #: The tool choice of predictions that offer tools without a ``toolChoice``: ``auto``
    #: (the model decides) or ``required`` (it must call a tool).
    tool_choice: str = "auto"
    #: Delay between scripted tokens, in seconds (0 streams as fast as possible).
    token_delay: float = 0.0
    #: How long a scripted model load takes, in seconds (progress is spread over it).
    load_time: float = 0.3
    #: Unload previous JIT-loaded models when ``getOrLoad`` JIT-loads another (LM Studio's default).
    jit_auto_evict: bool = True
    #: Serve ``/lmstudio-test/*`` routes (fault injection, request log). Off by default.
    test_control: bool = False
    #: How long a socket may take to send its auth packet, in seconds.
    auth_timeout: float = 10.0
    #: A second port serving the same app, where official clients look first; ``None``: none.
    #: The CLI listens on :data:`DEFAULT_SDK_PORT` unless told otherwise; in-process servers
    #: (tests) do not, so that they never compete for it.
    sdk_port: int | None = None
    # -- limits against hostile clients (README "Security and limits") --
    #: Open TCP connections at most, over both ports.
    max_connections: int = 512
    #: Seconds a new connection may take to send its request headers.
    header_timeout: float = 10.0
    #: Seconds an HTTP keep-alive connection may stay idle between requests.
    idle_timeout: float = 60.0
    #: Seconds between websocket pings; a client that does not answer within half of it is
    #: dropped, and its predictions are cancelled.
    heartbeat: float = 30.0
    #: Open channels per socket, and RPCs in progress per socket, at most (each).
    max_channels: int = 1024
    #: Frames kept by the test-control request log (the oldest are dropped).
    request_log_size: int = 10_000
    #: JSON file of named prediction presets (see ``presets.py``).
    presets: Path | None = None
    #: Models loaded at start-up, in order (CLI ``--load``).
    preload: list[PreloadSpec] = field(default_factory=list)
    #: Version reported by ``system/version``.
    lmstudio_version: str = "0.3.31"
    lmstudio_build: int = 1
