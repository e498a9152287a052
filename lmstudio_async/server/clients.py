"""Who may connect: the first-come-first-served client registry and API-token checks.

The first socket that authenticates with a ``clientIdentifier`` registers its
passkey; later sockets with that identifier must present the same passkey. An
entry lives as long as at least one of its sockets is open; releasing the last
one releases the client's resources (see :meth:`ClientRegistry.release`).

Passkeys and tokens never appear in logs or error messages.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from ..protocol import split_api_token

__all__ = ["ClientRegistry", "AuthRefused", "parse_api_token"]

TOKEN_REQUIRED_MESSAGE = (
    "This server requires an API token, and the client did not present a valid one. "
    "Pass a token of the form sk-lm-XXXXXXXX:YYYYYYYYYYYYYYYYYYYY with the LM_API_TOKEN "
    "environment variable or the api_token= argument of the client."
)


class AuthRefused(Exception):
    """Authentication failed; the message is the plain-string ``error`` of the auth reply."""


def parse_api_token(token: str) -> tuple[str, str]:
    """Split ``sk-lm-<identifier>:<passkey>`` into its two parts; ``ValueError`` if malformed."""
    parts = split_api_token(token)
    if parts is None:
        raise ValueError(
            "an API token must look like sk-lm-XXXXXXXX:YYYYYYYYYYYYYYYYYYYY "
            "(8 then 20 ASCII letters or digits)"
        )
    return parts


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@dataclass
class _Entry:
    passkey: str
    sockets: int


class ClientRegistry:
    """Validates auth packets and counts each client's open sockets."""

    def __init__(
        self,
        api_tokens: list[str] | None = None,
        on_released: Callable[[str], None] | None = None,
    ) -> None:
        self._tokens = [parse_api_token(token) for token in api_tokens or ()]
        self._entries: dict[str, _Entry] = {}
        self._on_released = on_released

    @property
    def token_required(self) -> bool:
        return bool(self._tokens)

    def acquire(self, identifier: str, passkey: str) -> None:
        """Count one more socket for ``identifier``; :class:`AuthRefused` if it may not connect."""
        if self._tokens and not self._matches_a_token(identifier, passkey):
            raise AuthRefused(TOKEN_REQUIRED_MESSAGE)
        entry = self._entries.get(identifier)
        if entry is None:
            self._entries[identifier] = _Entry(passkey=passkey, sockets=1)
            return
        if not _same(entry.passkey, passkey):
            raise AuthRefused(
                f'Failed to validate client: Invalid client passkey for client "{identifier}"'
            )
        entry.sockets += 1

    def release(self, identifier: str) -> None:
        """One socket of ``identifier`` closed; forget the client after its last one."""
        entry = self._entries.get(identifier)
        if entry is None:
            return
        entry.sockets -= 1
        if entry.sockets <= 0:
            del self._entries[identifier]
            if self._on_released is not None:
                self._on_released(identifier)

    def accepts_token(self, token: str) -> bool:
        """Whether ``token`` (``sk-lm-<id>:<passkey>``) is one this server accepts."""
        parts = split_api_token(token)
        return parts is not None and self._matches_a_token(*parts)

    def is_connected(self, identifier: str) -> bool:
        return identifier in self._entries

    def _matches_a_token(self, identifier: str, passkey: str) -> bool:
        # Every token and both parts are compared, so timing says nothing about which part is wrong.
        found = False
        for token_identifier, token_passkey in self._tokens:
            identifier_ok = _same(token_identifier, identifier)
            passkey_ok = _same(token_passkey, passkey)
            found |= identifier_ok & passkey_ok
        return found
