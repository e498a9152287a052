"""Bad requests get OpenAI's error shape and a 4xx status, which the ``openai`` client maps."""

from __future__ import annotations

from typing import Any

import aiohttp
import openai
import pytest

from lmstudio_async.server import LocalServer

from .conftest import EMBEDDING, HELLO, LLM, post_json

pytestmark = pytest.mark.anyio


def _assert_openai_error(body: Any, *, code: str | None, param: str | None) -> None:
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["code"] == code and error["param"] == param
    assert error["message"]


async def test_unknown_model_is_model_not_found(oai: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await oai.chat.completions.create(model="o4-mini", messages=HELLO)
    assert caught.value.status_code == 400
    assert caught.value.code == "model_not_found" and caught.value.param == "model"
    assert '"o4-mini"' in caught.value.message and LLM in caught.value.message


async def test_unknown_model_is_not_found_for_every_route(oai: openai.AsyncOpenAI) -> None:
    calls = [
        oai.completions.create(model="nope", prompt="x"),
        oai.embeddings.create(model="nope", input="x"),
        oai.responses.create(model="nope", input="x"),
    ]
    for call in calls:
        with pytest.raises(openai.BadRequestError) as caught:
            await call
        assert caught.value.code == "model_not_found"


async def test_an_embedding_model_cannot_chat(oai: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await oai.chat.completions.create(model=EMBEDDING, messages=HELLO)
    assert caught.value.param == "model" and "embedding" in caught.value.message


async def test_a_variant_suffix_names_the_model(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.chat.completions.create(model=f"{LLM}@q8_0", messages=HELLO)
    assert reply.model == LLM


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"model": LLM}, "missing_required_parameter", "messages"),
        ({"messages": HELLO}, "missing_required_parameter", "model"),
        (
            {"model": LLM, "messages": [{"content": "hi"}]},
            "missing_required_parameter",
            "messages[0].role",
        ),
        ({"model": LLM, "messages": "hi"}, None, "messages"),
        ({"model": LLM, "messages": []}, None, "messages"),
        (
            {"model": LLM, "messages": [{"role": "wizard", "content": "hi"}]},
            None,
            "messages[0].role",
        ),
        ({"model": LLM, "messages": HELLO, "max_tokens": 0}, None, "max_tokens"),
        ({"model": LLM, "messages": HELLO, "stop": ["x"] * 17}, None, "stop"),
        (
            {"model": LLM, "messages": HELLO, "response_format": {"type": "json_object"}},
            None,
            "response_format.type",
        ),
        (
            {"model": LLM, "messages": HELLO, "response_format": {"type": "json_schema"}},
            "missing_required_parameter",
            "response_format.json_schema.schema",
        ),
        ({"model": LLM, "messages": HELLO, "ttl": 0}, None, "ttl"),
        (
            {
                "model": LLM,
                "messages": HELLO,
                "tools": [{"type": "retrieval", "function": {"name": "x"}}],
            },
            None,
            "tools[0].type",
        ),
        (
            {
                "model": LLM,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image_url",
                                "image_url": {"url": "https://example.com/cat.png"},
                            }
                        ],
                    }
                ],
            },
            None,
            "messages[0].content[0]",
        ),
    ],
)
async def test_invalid_chat_bodies_are_400(
    server: LocalServer,
    http: aiohttp.ClientSession,
    body: dict[str, Any],
    code: str | None,
    param: str | None,
) -> None:
    status, reply = await post_json(http, f"{server.url}/v1/chat/completions", body)
    assert status == 400, reply
    _assert_openai_error(reply, code=code, param=param)
    # A request refused for its body loads nothing.
    assert server.state.models.loaded() == []


async def test_malformed_json_is_400(server: LocalServer, http: aiohttp.ClientSession) -> None:
    async with http.post(
        f"{server.url}/v1/chat/completions",
        data=b'{"model": "x", "messages": [',
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
        body = await response.json()
    _assert_openai_error(body, code=None, param=None)
    assert "JSON" in body["error"]["message"]


async def test_the_openai_client_raises_bad_request_for_a_missing_field(
    oai: openai.AsyncOpenAI,
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await oai.chat.completions.create(model=LLM, messages=[])
    assert caught.value.param == "messages"


async def test_embedding_input_bounds_and_formats(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    url = f"{server.url}/v1/embeddings"
    for body, param in [
        ({"model": EMBEDDING, "input": []}, "input"),
        ({"model": EMBEDDING, "input": ["x"] * 5000}, "input"),
        ({"model": EMBEDDING, "input": "x", "encoding_format": "hex"}, "encoding_format"),
        ({"model": EMBEDDING, "input": "x", "dimensions": 8}, "dimensions"),
        ({"model": EMBEDDING}, "input"),
    ]:
        status, reply = await post_json(http, url, body)
        assert status == 400, (body, reply)
        assert reply["error"]["param"] == param


async def test_a_body_too_large_is_413(server: LocalServer, http: aiohttp.ClientSession) -> None:
    huge = {"model": LLM, "messages": [{"role": "user", "content": "x" * (2 * 1024 * 1024)}]}
    status, reply = await post_json(http, f"{server.url}/v1/chat/completions", huge)
    assert status == 413
    assert set(reply["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/chat/completion"),
        ("GET", "/v1/chat/completions"),
        ("GET", "/v1/models/llama-3.2-1b-instruct"),
        ("DELETE", "/api/v1/models"),
        ("GET", "/api/v0/nothing"),
    ],
)
async def test_unknown_endpoints_answer_like_lm_studio(
    server: LocalServer, http: aiohttp.ClientSession, method: str, path: str
) -> None:
    async with http.request(method, f"{server.url}{path}") as response:
        assert response.status == 200
        assert await response.json() == {
            "error": f"Unexpected endpoint or method. ({method} {path})"
        }


async def test_paths_outside_the_rest_apis_still_404(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{server.url}/nothing-here") as response:
        assert response.status == 404


async def test_injected_failures_are_engine_errors_not_retried(
    server: LocalServer, oai: openai.AsyncOpenAI, http: aiohttp.ClientSession
) -> None:
    server.state.faults.failures["llm/predict"] = "The engine crashed"
    with pytest.raises(openai.InternalServerError) as caught:
        await oai.chat.completions.create(model=LLM, messages=HELLO)
    assert caught.value.status_code == 500 and "The engine crashed" in caught.value.message
    async with http.post(
        f"{server.url}/v1/chat/completions", json={"model": LLM, "messages": HELLO}
    ) as response:
        assert response.status == 500
        assert response.headers["x-should-retry"] == "false"
    # The raw-completion endpoint has its own fault key, as over the websocket.
    reply = await oai.completions.create(model=LLM, prompt="x", max_tokens=2)
    assert reply.choices[0].text
    server.state.faults.failures["embedding/embedString"] = "No vectors today"
    with pytest.raises(openai.InternalServerError):
        await oai.embeddings.create(model=EMBEDDING, input="x")


async def test_a_failure_mid_stream_travels_in_the_stream(
    server: LocalServer, oai: openai.AsyncOpenAI
) -> None:
    server.state.faults.failures["llm/predict"] = "The engine crashed"
    stream = await oai.chat.completions.create(model=LLM, messages=HELLO, stream=True)
    with pytest.raises(openai.APIError, match="The engine crashed"):
        async for _chunk in stream:
            pass
