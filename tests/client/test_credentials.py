"""API tokens: where they come from, how they are validated, and that they never leak."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmstudio_async import AsyncClient, LMStudioValueError
from lmstudio_async.transport.credentials import resolve_credentials

ALNUM = string.ascii_letters + string.digits
VALID = "sk-lm-abcd1234:ABCDEFGHIJ0123456789"


@given(
    ident=st.text(ALNUM, min_size=8, max_size=8),
    key=st.text(ALNUM, min_size=20, max_size=20),
    pad=st.sampled_from(["", " ", "\n", "  \t"]),
)
def test_a_valid_token_splits_into_identifier_and_passkey(ident: str, key: str, pad: str) -> None:
    creds = resolve_credentials(f"{pad}sk-lm-{ident}:{key}{pad}", environ={})
    assert (creds.client_identifier, creds.client_passkey, creds.from_token) == (ident, key, True)


@given(st.text(min_size=1).filter(lambda t: t.strip() and not t.strip().startswith("sk-lm-")))
def test_anything_else_is_rejected_before_connecting(token: str) -> None:
    with pytest.raises(LMStudioValueError, match="not a valid LM Studio API token"):
        resolve_credentials(token, environ={})


@pytest.mark.parametrize(
    "token",
    [
        "sk-lm-abcd123:ABCDEFGHIJ0123456789",  # identifier one short
        "sk-lm-abcd1234:ABCDEFGHIJ012345678",  # passkey one short
        "sk-lm-abcd1234-ABCDEFGHIJ0123456789",  # wrong separator
        "sk-lm-abcd12!4:ABCDEFGHIJ0123456789",  # not alphanumeric
    ],
)
def test_near_misses_are_rejected_without_echoing_the_secret(token: str) -> None:
    with pytest.raises(LMStudioValueError) as caught:
        resolve_credentials(token, environ={})
    message = str(caught.value)
    assert "sk-lm-<8 letters or digits>:<20 letters or digits>" in message
    assert token not in message and "ABCDEFGHIJ" not in message


def test_the_environment_is_read_in_order_and_empty_counts_as_unset() -> None:
    other = "sk-lm-zzzz9999:ZZZZZZZZZZ9999999999"
    both = {"LM_API_TOKEN": VALID, "LMSTUDIO_API_TOKEN": other}
    assert resolve_credentials(None, environ=both).client_identifier == "abcd1234"
    fallback = {"LM_API_TOKEN": "  ", "LMSTUDIO_API_TOKEN": other}
    assert resolve_credentials(None, environ=fallback).client_identifier == "zzzz9999"
    assert not resolve_credentials(None, environ={"LM_API_TOKEN": ""}).from_token


def test_the_argument_beats_the_environment_and_empty_string_means_guest() -> None:
    env = {"LM_API_TOKEN": "sk-lm-zzzz9999:ZZZZZZZZZZ9999999999"}
    assert resolve_credentials(VALID, environ=env).client_identifier == "abcd1234"
    guest = resolve_credentials("", environ=env)
    assert not guest.from_token and guest.client_identifier.startswith("guest:")


def test_a_bad_token_in_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LM_API_TOKEN", "not-a-token")
    with pytest.raises(LMStudioValueError, match="LM_API_TOKEN environment variable"):
        AsyncClient("127.0.0.1:1234")


def test_guests_get_fresh_identities() -> None:
    a, b = resolve_credentials(None, environ={}), resolve_credentials(None, environ={})
    assert a.client_identifier != b.client_identifier
    assert a.client_passkey != b.client_passkey


def test_secrets_never_appear_in_reprs() -> None:
    client = AsyncClient("127.0.0.1:1234", api_token=VALID)
    creds = resolve_credentials(VALID, environ={})
    for text in (repr(client), str(client), repr(creds), repr(creds.auth_packet())):
        assert "ABCDEFGHIJ0123456789" not in text
    assert "api token" in repr(client)


@pytest.mark.parametrize("token", [b"sk-lm-abcd1234:ABCDEFGHIJ0123456789", 42, ["sk-lm-"]])
def test_a_non_string_api_token_is_a_value_error_that_does_not_echo_it(token: object) -> None:
    with pytest.raises(LMStudioValueError, match="api_token must be a string") as caught:
        AsyncClient("127.0.0.1:1234", api_token=token)  # type: ignore[arg-type]
    assert "ABCDEFGHIJ" not in str(caught.value)
    assert type(token).__name__ in str(caught.value)
