"""LM Studio's ``/api/v0`` REST API: models with their state, and inference with ``stats``."""

from __future__ import annotations

import aiohttp
import pytest

from lmstudio_async import AsyncClient
from lmstudio_async.server import LocalServer

from .conftest import EMBEDDING, HELLO, LLM, post_json, sse_events

pytestmark = pytest.mark.anyio


async def test_models_list_every_downloaded_model_with_its_state(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    async with AsyncClient(server.api_host) as client:
        await client.llm.load_new_instance(LLM, config={"contextLength": 2048})
    async with http.get(f"{server.url}/api/v0/models") as response:
        body = await response.json()
    assert body["object"] == "list"
    entries = {entry["id"]: entry for entry in body["data"]}
    assert set(entries) == {info.model_key for info in server.state.models.list_downloaded()}
    llm = entries[LLM]
    assert llm["state"] == "loaded" and llm["loaded_context_length"] == 2048
    assert llm["type"] == "llm" and llm["compatibility_type"] == "gguf"
    assert llm["arch"] == "llama" and llm["quantization"] == "Q8_0"
    assert "tool_use" in llm["capabilities"]
    embedding = entries[EMBEDDING]
    assert embedding["type"] == "embeddings" and embedding["state"] == "not-loaded"
    assert "loaded_context_length" not in embedding
    assert entries["qwen2-vl-2b-instruct"]["type"] == "vlm"


@pytest.mark.parametrize(
    "name",
    [
        LLM,
        "hugging-quants%2FLlama-3.2-1B-Instruct-Q8_0-GGUF%2Fllama-3.2-1b-instruct-q8_0.gguf",
        "hugging-quants/Llama-3.2-1B-Instruct-Q8_0-GGUF/llama-3.2-1b-instruct-q8_0.gguf",
    ],
)
async def test_one_model_by_key_or_path_encoded_or_not(
    server: LocalServer, http: aiohttp.ClientSession, name: str
) -> None:
    async with http.get(f"{server.url}/api/v0/models/{name}") as response:
        assert response.status == 200
        entry = await response.json()
    assert entry["id"] == LLM and entry["state"] == "not-loaded"


async def test_an_unknown_model_is_404(server: LocalServer, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server.url}/api/v0/models/nope") as response:
        assert response.status == 404
        body = await response.json()
    assert body["error"]["code"] == "model_not_found"


async def test_chat_completion_adds_stats_model_info_and_runtime(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    status, body = await post_json(
        http, f"{server.url}/api/v0/chat/completions", {"model": LLM, "messages": HELLO}
    )
    assert status == 200
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"]
    stats = body["stats"]
    assert stats["stop_reason"] == "eosFound"
    assert stats["tokens_per_second"] >= 0 and stats["time_to_first_token"] >= 0
    assert stats["generation_time"] >= 0
    assert body["model_info"] == {
        "arch": "llama",
        "quant": "Q8_0",
        "format": "gguf",
        "context_length": 4096,
    }
    assert body["runtime"]["supported_formats"] == ["gguf"]
    assert body["usage"]["completion_tokens"] > 0


async def test_max_tokens_shows_as_the_stop_reason(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    _, body = await post_json(
        http,
        f"{server.url}/api/v0/completions",
        {"model": LLM, "prompt": "Once", "max_tokens": 2},
    )
    assert body["object"] == "text_completion"
    assert body["stats"]["stop_reason"] == "maxPredictedTokensReached"
    assert body["choices"][0]["finish_reason"] == "length"


async def test_v0_streams_carry_no_usage_even_when_asked(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    body = {
        "model": LLM,
        "messages": HELLO,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    async with http.post(f"{server.url}/api/v0/chat/completions", json=body) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = await sse_events(response)
    assert events[-1] == (None, "[DONE]")
    assert all('"usage"' not in data and '"stats"' not in data for _, data in events)


async def test_embeddings(server: LocalServer, http: aiohttp.ClientSession) -> None:
    status, body = await post_json(
        http, f"{server.url}/api/v0/embeddings", {"model": EMBEDDING, "input": "hello"}
    )
    assert status == 200
    assert len(body["data"][0]["embedding"]) == 768
