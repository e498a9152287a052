"""Command-line options for the SDK port and the limits against hostile clients."""

from __future__ import annotations

import argparse
from typing import Any

from .cli_types import port_number, positive_count, positive_seconds
from .config import DEFAULT_SDK_PORT, ServerConfig

__all__ = ["add_listen_and_limit_options", "listen_and_limit_settings"]


def add_listen_and_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sdk-port",
        type=port_number,
        default=DEFAULT_SDK_PORT,
        metavar="PORT",
        help="also listen here, where official clients' Client() looks first "
        "(default: %(default)s, as LM Studio)",
    )
    parser.add_argument(
        "--no-sdk-port",
        dest="sdk_port",
        action="store_const",
        const=None,
        help="listen on --port only",
    )
    limits = parser.add_argument_group("limits against misbehaving clients")
    defaults = ServerConfig()
    limits.add_argument(
        "--max-connections",
        type=positive_count,
        default=defaults.max_connections,
        metavar="N",
        help="open TCP connections at most (default: %(default)s)",
    )
    limits.add_argument(
        "--header-timeout",
        type=positive_seconds,
        default=defaults.header_timeout,
        metavar="SECONDS",
        help="time a new connection has to send its request headers (default: %(default)s)",
    )
    limits.add_argument(
        "--idle-timeout",
        type=positive_seconds,
        default=defaults.idle_timeout,
        metavar="SECONDS",
        help="time an HTTP keep-alive connection may stay idle (default: %(default)s)",
    )
    limits.add_argument(
        "--heartbeat",
        type=positive_seconds,
        default=defaults.heartbeat,
        metavar="SECONDS",
        help="websocket ping interval; no pong within half of it drops the client "
        "(default: %(default)s)",
    )
    limits.add_argument(
        "--max-channels",
        type=positive_count,
        default=defaults.max_channels,
        metavar="N",
        help="open channels, and RPCs in progress, per socket at most (default: %(default)s)",
    )


def listen_and_limit_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`ServerConfig` fields set by :func:`add_listen_and_limit_options`."""
    return {
        "sdk_port": args.sdk_port,
        "max_connections": args.max_connections,
        "header_timeout": args.header_timeout,
        "idle_timeout": args.idle_timeout,
        "heartbeat": args.heartbeat,
        "max_channels": args.max_channels,
    }
