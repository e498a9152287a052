"""LM Studio's native ``/api/v1`` REST API: chat with its event stream, and model management."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from lmstudio_async import AsyncClient
from lmstudio_async.server import LocalServer

from .conftest import EMBEDDING, LLM, post_json, sse_events

pytestmark = pytest.mark.anyio


async def test_models_with_loaded_instances(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    status, loaded = await post_json(
        http, f"{server.url}/api/v1/models/load", {"model": LLM, "context_length": 1024}
    )
    assert status == 200
    async with http.get(f"{server.url}/api/v1/models") as response:
        models = {entry["key"]: entry for entry in (await response.json())["models"]}
    entry = models[LLM]
    assert entry["type"] == "llm" and entry["format"] == "gguf"
    assert entry["quantization"] == {"name": "Q8_0", "bits_per_weight": 8}
    assert entry["loaded_instances"] == [
        {"id": loaded["instance_id"], "config": {"context_length": 1024}}
    ]
    assert entry["capabilities"] == {"vision": False, "trained_for_tool_use": True}
    assert models[EMBEDDING]["type"] == "embedding"
    assert "capabilities" not in models[EMBEDDING]


async def test_load_and_unload_show_in_the_websocket_api(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    status, loaded = await post_json(
        http,
        f"{server.url}/api/v1/models/load",
        {"model": EMBEDDING, "context_length": 512, "echo_load_config": True},
    )
    assert status == 200
    assert loaded["type"] == "embedding" and loaded["status"] == "loaded"
    assert loaded["load_config"] == {"context_length": 512}
    assert loaded["load_time_seconds"] >= 0
    async with AsyncClient(server.api_host) as client:
        (handle,) = await client.embedding.list_loaded()
        assert handle.identifier == loaded["instance_id"]
        # Loaded on request: no TTL.
        assert (await handle.get_info()).ttl_ms is None
        status, unloaded = await post_json(
            http, f"{server.url}/api/v1/models/unload", {"instance_id": handle.identifier}
        )
        assert status == 200 and unloaded == {"instance_id": handle.identifier}
        assert await client.embedding.list_loaded() == []


async def test_management_errors_use_the_native_shape(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("/api/v1/models/load", {}, 400, "invalid_request"),
        ("/api/v1/models/load", {"model": "nope"}, 400, "model_not_found"),
        ("/api/v1/models/unload", {"instance_id": "nope"}, 404, "model_not_found"),
        ("/api/v1/models/download", {"model": "nope"}, 400, "model_not_found"),
        ("/api/v1/chat", {"input": "hi"}, 400, "invalid_request"),
    ]
    for path, body, expected_status, error_type in cases:
        status, reply = await post_json(http, f"{server.url}{path}", body)
        assert status == expected_status, (path, reply)
        assert reply["error"]["type"] == error_type, (path, reply)
        assert reply["error"]["message"]
    _, reply = await post_json(http, f"{server.url}/api/v1/chat", {"input": "hi"})
    assert reply["error"] == {
        "type": "invalid_request",
        "message": '"model" is required',
        "code": "missing_required_parameter",
        "param": "model",
    }


async def test_downloading_a_downloaded_model(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    status, reply = await post_json(http, f"{server.url}/api/v1/models/download", {"model": LLM})
    assert status == 200 and reply == {"status": "already_downloaded"}
    async with http.get(f"{server.url}/api/v1/models/download/status/job_123") as response:
        assert response.status == 404
        assert (await response.json())["error"]["type"] == "job_not_found"


async def test_chat_reply_stats_and_follow_up(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    status, first = await post_json(
        http,
        f"{server.url}/api/v1/chat",
        {"model": LLM, "input": "Pick a prime", "system_prompt": "Be brief."},
    )
    assert status == 200
    assert first["model_instance_id"] == LLM
    (message,) = first["output"]
    assert message["type"] == "message" and message["content"]
    stats = first["stats"]
    assert stats["input_tokens"] > 0 and stats["total_output_tokens"] > 0
    assert "model_load_time_seconds" in stats  # this request JIT-loaded the model
    assert first["response_id"].startswith("resp_")
    _, second = await post_json(
        http,
        f"{server.url}/api/v1/chat",
        {"model": LLM, "input": "Double it", "previous_response_id": first["response_id"]},
    )
    assert "model_load_time_seconds" not in second["stats"]
    assert second["stats"]["input_tokens"] > stats["input_tokens"] + stats["total_output_tokens"]


async def test_chat_without_store_has_no_response_id(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    _, reply = await post_json(
        http,
        f"{server.url}/api/v1/chat",
        {"model": LLM, "input": [{"type": "message", "content": "hi"}], "store": False},
    )
    assert "response_id" not in reply


async def test_chat_stream_events_in_order(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    body = {"model": LLM, "input": [{"type": "text", "content": "hi"}], "stream": True}
    async with http.post(f"{server.url}/api/v1/chat", json=body) as response:
        events = await sse_events(response)
    names = [name for name, _ in events]
    payloads = [json.loads(data) for _, data in events]
    assert all(payload["type"] == name for name, payload in zip(names, payloads, strict=True))
    assert names[0] == "chat.start" and payloads[0]["model_instance_id"] == LLM
    assert names[1:3] == ["model_load.start", "model_load.progress"]
    assert names.index("model_load.end") < names.index("prompt_processing.start")
    assert names.index("prompt_processing.end") < names.index("message.start")
    assert names[-2:] == ["message.end", "chat.end"]
    text = "".join(p["content"] for p in payloads if p["type"] == "message.delta")
    assert payloads[-1]["result"]["output"] == [{"type": "message", "content": text}]
    # A second stream: the model is loaded, so no load events.
    async with http.post(f"{server.url}/api/v1/chat", json=body) as response:
        names = [name for name, _ in await sse_events(response)]
    assert not any(name and name.startswith("model_load") for name in names)


async def test_chat_refuses_what_it_cannot_do(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    for body, param in [
        ({"model": LLM, "input": "x", "integrations": ["mcp/playwright"]}, "integrations"),
        ({"model": LLM, "input": "x", "reasoning": "high"}, "reasoning"),
        ({"model": LLM, "input": "x", "previous_response_id": "abc"}, "previous_response_id"),
        ({"model": LLM}, "input"),
    ]:
        status, reply = await post_json(http, f"{server.url}/api/v1/chat", body)
        assert status == 400 and reply["error"]["param"] == param, reply
