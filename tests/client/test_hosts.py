"""Parsing ``api_host``: what users may pass, and the errors for what they may not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmstudio_async import AsyncClient, LMStudioValueError
from lmstudio_async.transport.hosts import ApiHost, parse_api_host

hostnames = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True)
ports = st.integers(min_value=1, max_value=65535)


@given(host=hostnames, port=ports)
def test_host_port_round_trips(host: str, port: int) -> None:
    parsed = parse_api_host(f"{host}:{port}")
    assert parsed == ApiHost(host, port)
    assert str(parsed) == f"{host}:{port}"
    assert parsed.ws_url("llm") == f"ws://{host}:{port}/llm"
    assert parsed.http_url("/lmstudio-greeting") == f"http://{host}:{port}/lmstudio-greeting"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ws://127.0.0.1:1234", ApiHost("127.0.0.1", 1234)),
        ("http://localhost:1234/", ApiHost("localhost", 1234)),
        ("wss://lm.example.com", ApiHost("lm.example.com", 443, secure=True)),
        (
            "https://proxy.example.com:8443/lmstudio",
            ApiHost("proxy.example.com", 8443, True, "/lmstudio"),
        ),
        ("[::1]:1234", ApiHost("::1", 1234)),
        ("  127.0.0.1:41343  ", ApiHost("127.0.0.1", 41343)),
    ],
)
def test_urls_and_ipv6_are_accepted(text: str, expected: ApiHost) -> None:
    assert parse_api_host(text) == expected


def test_a_secure_host_uses_wss() -> None:
    assert parse_api_host("wss://h:1/p").ws_url("llm") == "wss://h:1/p/llm"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "empty"),
        ("localhost", "no port"),
        ("localhost:99999", "not of the form"),
        ("localhost:http", "not of the form"),
        ("ftp://localhost:21", "scheme 'ftp'"),
        ("ws://localhost:1234/?x=1", "query"),
        ("ws://user:pw@localhost:1234", "user info"),
    ],
)
def test_bad_hosts_fail_at_construction_naming_the_value(text: str, complaint: str) -> None:
    with pytest.raises(LMStudioValueError, match=complaint) as caught:
        AsyncClient(text)
    if text:
        assert repr(text) in str(caught.value)


@pytest.mark.parametrize("timeout", [-1, float("nan"), "5", True])
def test_bad_timeouts_are_rejected(timeout: object) -> None:
    with pytest.raises(LMStudioValueError, match="timeout"):
        AsyncClient("127.0.0.1:1234", timeout=timeout)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ["[::1", "::1]:1234", "[::1]x:1234", "x[::1]:1234", "[not-an-ip]:1234", "http://[::1"],
)
def test_unparsable_bracketed_hosts_are_value_errors_showing_the_ipv6_form(text: str) -> None:
    with pytest.raises(LMStudioValueError, match=r"api_host .*'\[::1\]:1234'") as caught:
        AsyncClient(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize("host", ["lm studio:1234", "host\x00:1234", "ho\tst:1234"])
def test_hosts_with_spaces_or_control_characters_are_refused(host: str) -> None:
    with pytest.raises(LMStudioValueError, match="not of the form 'host:port'"):
        AsyncClient(host)


@pytest.mark.parametrize("value", [b"127.0.0.1:1234", 1234, ("127.0.0.1", 1234)])
def test_a_non_string_api_host_names_its_type(value: object) -> None:
    with pytest.raises(
        LMStudioValueError, match=f"api_host must be a string.*{type(value).__name__}"
    ):
        AsyncClient(value)  # type: ignore[arg-type]


def test_a_huge_bad_host_is_not_echoed_in_full() -> None:
    with pytest.raises(LMStudioValueError) as caught:
        AsyncClient("[" + "x" * 100_000)
    assert len(str(caught.value)) < 400
