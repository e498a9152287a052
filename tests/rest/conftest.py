"""Fixtures of the HTTP API tests: an in-process server and the real ``openai`` client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from lmstudio_async.server import LocalServer

LLM = "llama-3.2-1b-instruct"
EMBEDDING = "text-embedding-nomic-embed-text-v1.5"
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer(port=0, load_time=0.0, test_control=True) as running:
        yield running


@pytest.fixture
async def oai(server: LocalServer) -> AsyncIterator[openai.AsyncOpenAI]:
    """The ``openai`` client on the server's ``/v1``; no retries, so a 5xx fails at once."""
    client = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="lm-studio", max_retries=0)
    yield client
    await client.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post_json(
    http: aiohttp.ClientSession, url: str, body: Any, **kwargs: Any
) -> tuple[int, Any]:
    async with http.post(url, json=body, **kwargs) as response:
        return response.status, await response.json()


async def sse_events(response: aiohttp.ClientResponse) -> list[tuple[str | None, str]]:
    """``(event, data)`` of every event of a server-sent-events response, in order."""
    events: list[tuple[str | None, str]] = []
    event: str | None = None
    data: list[str] = []
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if data:
                events.append((event, "\n".join(data)))
            event, data = None, []
        elif line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            data.append(line[len("data: ") :])
    return events
