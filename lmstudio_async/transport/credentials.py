"""Client credentials: an API token, or generated guest credentials (PROTOCOL.md 1.5, 2.1)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import LMStudioValueError
from ..protocol import API_TOKEN_FORM, AuthPacket, split_api_token

__all__ = ["Credentials", "resolve_credentials", "TOKEN_ENV_VARS"]


#: Read in this order; ``LMSTUDIO_API_TOKEN`` is what older official SDK releases read.
TOKEN_ENV_VARS = ("LM_API_TOKEN", "LMSTUDIO_API_TOKEN")


@dataclass(frozen=True, repr=False)
class Credentials:
    """The identifier/passkey pair sent on every namespace socket of one client."""

    client_identifier: str
    client_passkey: str
    from_token: bool

    def __repr__(self) -> str:
        kind = "api token" if self.from_token else "guest"
        return f"Credentials({kind}, client_identifier={self.client_identifier!r})"

    def auth_packet(self) -> AuthPacket:
        return AuthPacket(
            client_identifier=self.client_identifier, client_passkey=self.client_passkey
        )

    @classmethod
    def guest(cls) -> Credentials:
        return cls(f"guest:{uuid.uuid4()}", str(uuid.uuid4()), from_token=False)


def _parse_token(token: str, source: str) -> Credentials:
    parts = split_api_token(token)
    if parts is None:
        # Never echo the token itself: it is a secret even when malformed.
        raise LMStudioValueError(
            f"The API token from {source} is not a valid LM Studio API token: "
            f"expected the form {API_TOKEN_FORM} (create one in LM Studio's Developer settings)."
        )
    return Credentials(*parts, from_token=True)


def resolve_credentials(
    api_token: str | None, environ: Mapping[str, str] | None = None
) -> Credentials:
    """Credentials from the argument, else the environment, else a fresh guest identity.

    An explicit empty string means "connect as a guest", ignoring the environment.
    An empty environment variable counts as unset.
    """
    if api_token is not None and not isinstance(api_token, str):
        # The value is a secret even when mistyped: only its type is named.
        raise LMStudioValueError(
            f"api_token must be a string of the form {API_TOKEN_FORM} (or None to read "
            f"LM_API_TOKEN, or '' to connect as a guest), not {type(api_token).__name__}."
        )
    if api_token == "":
        return Credentials.guest()
    if api_token is not None:
        return _parse_token(api_token, "the api_token argument")
    env = os.environ if environ is None else environ
    for name in TOKEN_ENV_VARS:
        value = env.get(name, "")
        if value.strip():
            return _parse_token(value, f"the {name} environment variable")
    return Credentials.guest()
