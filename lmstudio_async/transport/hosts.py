"""Where LM Studio is: parsing ``api_host`` and discovering a local server (PROTOCOL.md 1.4)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from ..errors import LMStudioClientError, LMStudioValueError

__all__ = [
    "ApiHost",
    "DISCOVERY_PORTS",
    "FALLBACK_PORT",
    "parse_api_host",
    "probe_api_host",
    "discover_api_host",
]

#: LM Studio's always-on SDK ports, probed in this order of preference.
DISCOVERY_PORTS = (41343, 52993, 16141, 39414, 22931)
#: The default port of LM Studio's user-facing server, which serves the same API.
FALLBACK_PORT = 1234
PROBE_TIMEOUT = 1.0


#: For users without LM Studio at hand (tests, CI): the server bundled with this package.
LOCAL_SERVER_HINT = (
    "To test without LM Studio, run the bundled LM Studio-compatible server: "
    "python -m lmstudio_async.server --port 1234"
)


@dataclass(frozen=True)
class ApiHost:
    """A server address; ``str()`` gives the ``host:port`` form users pass in."""

    host: str
    port: int
    secure: bool = False
    #: A path prefix, for servers behind a reverse proxy ("" for none).
    path: str = ""

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}{self.path}"

    def http_url(self, path: str) -> str:
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self}{path}"

    def ws_url(self, namespace: str) -> str:
        scheme = "wss" if self.secure else "ws"
        return f"{scheme}://{self}/{namespace}"


_SCHEMES = {"ws": False, "http": False, "wss": True, "https": True}


def parse_api_host(api_host: str) -> ApiHost:
    """Parse ``"host:port"`` (optionally with a ws/wss/http/https scheme and a path prefix)."""
    if not isinstance(api_host, str):
        raise LMStudioValueError(
            f"api_host must be a string such as '127.0.0.1:1234', not {type(api_host).__name__} "
            f"({_short_repr(api_host)})."
        )
    text = api_host.strip()
    if not text:
        raise LMStudioValueError("api_host is empty; pass 'host:port', e.g. '127.0.0.1:1234'.")
    if any(char.isspace() or not char.isprintable() for char in text):
        raise LMStudioValueError(
            f"api_host {_short_repr(api_host)} is not of the form 'host:port' "
            "(it contains spaces or control characters)."
        )
    has_scheme = "://" in text
    try:
        parts = urlsplit(text if has_scheme else f"ws://{text}")
        _check_bracketed_host(parts.netloc)
    except ValueError as exc:
        raise LMStudioValueError(
            f"api_host {_short_repr(api_host)} cannot be parsed ({exc}); pass 'host:port', "
            "with an IPv6 address in brackets, e.g. '[::1]:1234'."
        ) from None
    if parts.scheme not in _SCHEMES:
        raise LMStudioValueError(
            f"api_host {_short_repr(api_host)} has scheme {parts.scheme!r}; "
            "use 'host:port' or a ws://, wss://, http:// or https:// URL."
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise LMStudioValueError(
            f"api_host {_short_repr(api_host)} must not contain a query, fragment or user info."
        )
    try:
        port = parts.port
    except ValueError:
        port = None
        valid_port = False
    else:
        valid_port = True
    if not parts.hostname or not valid_port or not _HOSTNAME_CHARACTERS.fullmatch(parts.hostname):
        raise LMStudioValueError(
            f"api_host {_short_repr(api_host)} is not of the form 'host:port' "
            "(e.g. '127.0.0.1:1234' or '[::1]:1234')."
        )
    secure = _SCHEMES[parts.scheme]
    if port is None:
        if not has_scheme:
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            raise LMStudioValueError(
                f"api_host {_short_repr(api_host)} has no port; pass 'host:port', "
                f"e.g. '{host}:1234'."
            )
        port = 443 if secure else 80
    return ApiHost(parts.hostname, port, secure, parts.path.rstrip("/"))


#: Letters, digits and the punctuation of DNS names and IPv4/IPv6 addresses (with zone ids).
_HOSTNAME_CHARACTERS = re.compile(r"[\w.\-:%~]+")
_MAX_REPR = 80


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else f"{text[:_MAX_REPR]}... ({len(text)} characters)"


def _check_bracketed_host(netloc: str) -> None:
    """``[addr]`` must be followed by nothing or by ``:port`` (urlsplit ignores other text)."""
    host_port = netloc.rpartition("@")[2]
    if "[" not in host_port:
        return
    if not host_port.startswith("["):
        raise ValueError("text before '['")
    rest = host_port.partition("]")[2]
    if rest and not rest.startswith(":"):
        raise ValueError(f"unexpected {rest!r} after the bracketed address")


async def probe_api_host(
    session: aiohttp.ClientSession, api_host: ApiHost, timeout: float = PROBE_TIMEOUT
) -> bool:
    """Whether ``GET /lmstudio-greeting`` answers like LM Studio (``{"lmstudio": true}``)."""
    try:
        async with session.get(
            api_host.http_url("/lmstudio-greeting"),
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            if response.status != 200:
                return False
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return False
    return isinstance(body, dict) and body.get("lmstudio") is True


async def discover_api_host(
    session: aiohttp.ClientSession, timeout: float = PROBE_TIMEOUT
) -> ApiHost:
    """Find LM Studio on this machine: its SDK ports (probed at once), then port 1234."""
    candidates = [ApiHost("127.0.0.1", port) for port in DISCOVERY_PORTS]
    answers = await asyncio.gather(*(probe_api_host(session, c, timeout) for c in candidates))
    for candidate, ok in zip(candidates, answers, strict=True):
        if ok:
            return candidate
    fallback = ApiHost("127.0.0.1", FALLBACK_PORT)
    if await probe_api_host(session, fallback, timeout):
        return fallback
    ports = ", ".join(str(p) for p in (*DISCOVERY_PORTS, FALLBACK_PORT))
    raise LMStudioClientError(
        f"LM Studio is not reachable on 127.0.0.1 (tried ports {ports}). "
        "Is LM Studio running, with its server enabled? "
        "If it runs elsewhere, pass api_host='host:port'. "
        f"{LOCAL_SERVER_HINT}"
    )
