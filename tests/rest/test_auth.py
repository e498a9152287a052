"""With ``--api-token``, every HTTP API route needs ``Authorization: Bearer <token>``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import openai
import pytest

from lmstudio_async.server import LocalServer

from .conftest import HELLO, LLM

pytestmark = pytest.mark.anyio

TOKEN = "sk-lm-abcd1234:" + "k" * 20
OTHER = "sk-lm-abcd1234:" + "z" * 20
ROUTES = [
    ("GET", "/v1/models"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/completions"),
    ("POST", "/v1/embeddings"),
    ("POST", "/v1/responses"),
    ("GET", "/api/v0/models"),
    ("GET", "/api/v0/models/llama-3.2-1b-instruct"),
    ("POST", "/api/v0/chat/completions"),
    ("POST", "/api/v0/completions"),
    ("POST", "/api/v0/embeddings"),
    ("POST", "/api/v1/chat"),
    ("GET", "/api/v1/models"),
    ("POST", "/api/v1/models/load"),
    ("POST", "/api/v1/models/unload"),
    ("POST", "/api/v1/models/download"),
    ("GET", "/api/v1/models/download/status/job_1"),
    ("GET", "/v1/no-such-route"),
]


@pytest.fixture
async def guarded() -> AsyncIterator[LocalServer]:
    async with LocalServer(port=0, load_time=0.0, api_tokens=[TOKEN]) as running:
        yield running


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer", f"Bearer {OTHER}", "Bearer lm-studio", f"Basic {TOKEN}"]
)
async def test_every_route_refuses_a_missing_or_wrong_token(
    guarded: LocalServer, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"{guarded.url}{path}", json={}, headers=headers) as response,
    ):
        assert response.status == 401
        body = await response.json()
    assert body["error"]["code"] == "invalid_api_key"
    assert body["error"]["type"] == "invalid_request"
    assert TOKEN not in await response.text()


async def test_the_openai_client_with_the_token_works(guarded: LocalServer) -> None:
    client = openai.AsyncOpenAI(base_url=f"{guarded.url}/v1", api_key=TOKEN, max_retries=0)
    try:
        reply = await client.chat.completions.create(model=LLM, messages=HELLO)
        assert reply.choices[0].message.content
    finally:
        await client.close()


async def test_the_openai_client_without_it_gets_an_authentication_error(
    guarded: LocalServer,
) -> None:
    client = openai.AsyncOpenAI(base_url=f"{guarded.url}/v1", api_key="lm-studio", max_retries=0)
    try:
        with pytest.raises(openai.AuthenticationError) as caught:
            await client.models.list()
        assert caught.value.code == "invalid_api_key"
    finally:
        await client.close()


async def test_without_tokens_any_authorization_passes(server: LocalServer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/v1/models", headers={"Authorization": "Bearer x"}) as response,
    ):
        assert response.status == 200


async def test_the_websocket_probe_is_not_a_rest_route(guarded: LocalServer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{guarded.url}/lmstudio-greeting") as response,
    ):
        assert response.status == 200
