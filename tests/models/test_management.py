"""Getting, loading, listing, inspecting and unloading models (``llm``, ``embedding``)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from lmstudio_async import (
    AsyncClient,
    AsyncEmbeddingModel,
    AsyncLLM,
    EmbeddingModelInstanceInfo,
    LlmInstanceInfo,
    LlmLoadModelConfig,
    LMStudioClientError,
    LMStudioModelNotFoundError,
    LMStudioServerError,
    LMStudioValueError,
)
from lmstudio_async.testing import ServerProcess
from tests.eventually import eventually

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"
QWEN = "qwen2.5-7b-instruct"
NOMIC = "text-embedding-nomic-embed-text-v1.5"


@pytest.fixture
async def client(lmstudio_server: ServerProcess) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(lmstudio_server.api_host) as client:
        yield client


def sent(server: ServerProcess, endpoint: str) -> list[dict[str, Any]]:
    """Messages the server received for an endpoint (RPC calls and channel creations)."""
    return [r["message"] for r in server.requests() if r["message"].get("endpoint") == endpoint]


async def loaded_identifiers(client: AsyncClient) -> list[str]:
    return [handle.identifier for handle in await client.llm.list_loaded()]


async def test_two_instances_of_one_model_live_side_by_side(client: AsyncClient) -> None:
    first = await client.llm.load_new_instance(LLAMA)
    second = await client.llm.load_new_instance(LLAMA, "second-llama")
    third = await client.llm.load_new_instance(LLAMA)
    assert (first.identifier, second.identifier) == (LLAMA, "second-llama")
    assert third.identifier == f"{LLAMA}:2"  # the server picked it; the handle carries it
    assert len({first.instance_reference, second.instance_reference, third.instance_reference}) == 3
    assert sorted(await loaded_identifiers(client)) == sorted([LLAMA, "second-llama", f"{LLAMA}:2"])

    await client.llm.unload("second-llama")
    assert sorted(await loaded_identifiers(client)) == sorted([LLAMA, f"{LLAMA}:2"])
    await client.llm.unload(LLAMA)
    await third.unload()
    assert await loaded_identifiers(client) == []


async def test_a_duplicate_identifier_is_the_servers_error(client: AsyncClient) -> None:
    await client.llm.load_new_instance(LLAMA, "mine")
    with pytest.raises(LMStudioServerError, match="already exists") as caught:
        await client.llm.load_new_instance(QWEN, "mine")
    assert not isinstance(caught.value, LMStudioModelNotFoundError)
    assert await loaded_identifiers(client) == ["mine"]


async def test_model_gets_the_loaded_instance_or_loads_one(
    client: AsyncClient, lmstudio_server: ServerProcess
) -> None:
    with pytest.raises(LMStudioClientError, match="No LLM is loaded"):
        await client.llm.model()
    loaded = await client.llm.model(LLAMA)
    assert isinstance(loaded, AsyncLLM) and loaded.identifier == LLAMA
    again = await client.llm.model(LLAMA)
    assert again == loaded  # the same instance, not a second copy
    assert await client.llm.model() == loaded
    assert len(sent(lmstudio_server, "getOrLoad")) == 2 and not sent(lmstudio_server, "loadModel")


async def test_ttl_and_config_apply_only_when_model_actually_loads(client: AsyncClient) -> None:
    first = await client.llm.model(LLAMA, ttl=3600, config={"contextLength": 2048})
    second = await client.llm.model(LLAMA, ttl=1, config={"contextLength": 1024})
    assert second == first
    info = await second.get_info()
    assert info.ttl_ms == 3_600_000 and info.context_length == 2048
    await asyncio.sleep(1.5)  # a TTL of 1 s would have expired by now
    assert await loaded_identifiers(client) == [LLAMA]


async def test_an_idle_model_is_unloaded_when_its_ttl_expires(client: AsyncClient) -> None:
    short = await client.llm.load_new_instance(LLAMA, "short-lived", ttl=1)
    forever = await client.llm.load_new_instance(LLAMA, "forever", ttl=None)
    assert (await short.get_info()).ttl_ms == 1000
    assert (await forever.get_info()).ttl_ms is None

    async def expired() -> bool:
        return await loaded_identifiers(client) == ["forever"]

    await eventually(expired)
    with pytest.raises(LMStudioModelNotFoundError, match="'short-lived' is no longer loaded"):
        await short.get_info()


async def test_using_a_handle_keeps_its_model_alive(client: AsyncClient) -> None:
    llm = await client.llm.load_new_instance(LLAMA, ttl=3)
    for _ in range(8):
        await asyncio.sleep(0.5)
        assert await llm.count_tokens("still here")
    assert await loaded_identifiers(client) == [LLAMA]


async def test_progress_callbacks_see_a_complete_ordered_run(client: AsyncClient) -> None:
    seen_sync: list[float] = []
    await client.llm.load_new_instance(LLAMA, on_load_progress=seen_sync.append)

    seen_async: list[float] = []
    running = 0

    async def slow_callback(progress: float) -> None:
        nonlocal running
        running += 1
        assert running == 1, "an async callback must never run concurrently with itself"
        await asyncio.sleep(0.01)
        seen_async.append(progress)
        running -= 1

    await client.embedding.load_new_instance(NOMIC, on_progress=slow_callback)
    for seen in (seen_sync, seen_async):
        assert len(seen) >= 3
        assert seen == sorted(seen) and seen[0] >= 0.0
        assert seen[-1] == 1.0 and seen.count(1.0) == 1


async def test_model_reports_progress_only_when_it_loads(client: AsyncClient) -> None:
    seen: list[float] = []
    await client.llm.model(LLAMA, on_load_progress=seen.append)
    assert seen[-1] == 1.0
    seen.clear()
    await client.llm.model(LLAMA, on_load_progress=seen.append)
    assert seen == []


async def test_a_failing_progress_callback_cancels_the_load(client: AsyncClient) -> None:
    def explode(progress: float) -> None:
        if progress > 0.3:
            raise RuntimeError("stop right there")

    with pytest.raises(RuntimeError, match="stop right there"):
        await client.llm.load_new_instance(LLAMA, "doomed", on_load_progress=explode)
    await asyncio.sleep(0.5)
    assert "doomed" not in await loaded_identifiers(client)


async def test_cancelling_a_load_cancels_it_on_the_server(lmstudio_server_factory: Any) -> None:
    server = lmstudio_server_factory("--load-time", "3")
    async with AsyncClient(server.api_host) as client:
        task = asyncio.ensure_future(client.llm.load_new_instance(LLAMA, "abandoned"))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

        def cancels() -> list[object]:
            return [
                r["message"]
                for r in server.requests()
                if r["message"].get("type") == "channelSend"
                and r["message"]["message"].get("type") == "cancel"
            ]

        await eventually(lambda: bool(cancels()))
        assert len(cancels()) == 1
        await asyncio.sleep(3)
        assert await loaded_identifiers(client) == []
        assert client._connections["llm"].open_channels == 0


async def test_bad_arguments_fail_before_anything_is_sent(
    client: AsyncClient, lmstudio_server: ServerProcess
) -> None:
    with pytest.raises(LMStudioValueError, match="Did you mean 'contextLength'"):
        await client.llm.load_new_instance(LLAMA, config={"contextLenght": 4096})
    with pytest.raises(LMStudioValueError, match="'contextLength': expected `int` >= 1"):
        await client.llm.model(LLAMA, config={"context_length": 0})
    with pytest.raises(LMStudioValueError, match="ttl must be a positive"):
        await client.llm.load_new_instance(LLAMA, ttl=0)
    with pytest.raises(LMStudioValueError, match="model_key must be a non-empty string"):
        await client.llm.model("")
    with pytest.raises(LMStudioValueError, match="not both"):
        await client.llm.model(LLAMA, on_progress=print, on_load_progress=print)
    assert not sent(lmstudio_server, "loadModel") and not sent(lmstudio_server, "getOrLoad")


async def test_load_config_reaches_the_server_and_reads_back(client: AsyncClient) -> None:
    config = LlmLoadModelConfig(context_length=3000, seed=7, flash_attention=True)
    llm = await client.llm.load_new_instance(LLAMA, config=config)
    assert await llm.get_context_length() == 3000
    back = await llm.get_load_config()
    assert (back.context_length, back.seed, back.flash_attention) == (3000, 7, True)
    snake = await client.llm.load_new_instance(QWEN, config={"context_length": 1234})
    assert await snake.get_context_length() == 1234


async def test_unknown_model_keys_name_the_key_and_suggest_close_ones(client: AsyncClient) -> None:
    typo = "llama-3.2-1b-instrct"
    with pytest.raises(LMStudioModelNotFoundError, match=re.escape(typo)) as caught:
        await client.llm.model(typo)
    assert f"'{LLAMA}'" in str(caught.value)
    with pytest.raises(LMStudioModelNotFoundError, match=r"use client\.embedding"):
        await client.llm.load_new_instance(NOMIC)


async def test_handles_expose_every_instance_info_field(client: AsyncClient) -> None:
    llm = await client.llm.model("qwen2.5-7b-instruct-1m", config={"contextLength": 4096})
    info = await llm.get_info()
    assert isinstance(info, LlmInstanceInfo)
    assert info.model_key == "qwen2.5-7b-instruct-1m" and info.identifier == llm.identifier
    assert info.to_dict()["type"] == "llm"  # the wire form, as LM Studio's docs print it
    assert info.format == "gguf" and info.architecture == "qwen2" and info.params_string == "7B"
    assert info.max_context_length > info.context_length == 4096
    assert info.path.endswith(".gguf") and info.size_bytes > 1_000_000_000
    assert info.display_name and info.instance_reference == llm.instance_reference
    assert info.trained_for_tool_use is True and info.vision is False
    assert info.ttl_ms == 3_600_000
    # lastUsedTime moves with every request; everything else must match.
    for query in (llm.identifier, {"identifier": llm.identifier}):
        again = await client.llm.get_model_info(query)
        assert again.last_used_time >= info.last_used_time  # type: ignore[operator]
        assert msgspec.structs.replace(again, last_used_time=info.last_used_time) == info


async def test_tokenize_and_count_tokens_agree(client: AsyncClient) -> None:
    llm = await client.llm.model(LLAMA)
    one = await llm.tokenize("Hello there, general Kenobi")
    many = await llm.tokenize(["Hello there, general Kenobi", "", "a b c"])
    assert many[0] == one and many[1] == [] and len(many) == 3
    assert await llm.count_tokens("Hello there, general Kenobi") == len(one)
    with pytest.raises(LMStudioValueError, match="input must be a string"):
        await llm.count_tokens(["no"])  # type: ignore[arg-type]


async def test_an_unloaded_handle_says_so_when_used(client: AsyncClient) -> None:
    llm = await client.llm.load_new_instance(LLAMA)
    await client.llm.unload(LLAMA)
    for use in (llm.get_info, llm.get_load_config, llm.unload, lambda: llm.tokenize("x")):
        with pytest.raises(LMStudioModelNotFoundError, match=f"'{LLAMA}' is no longer loaded"):
            await use()
    # Even once another instance takes its identifier, the old handle stays dead.
    replacement = await client.llm.load_new_instance(LLAMA)
    assert replacement.identifier == llm.identifier and replacement != llm
    with pytest.raises(LMStudioModelNotFoundError):
        await llm.get_info()


async def test_unloading_an_unknown_identifier_is_model_not_found(client: AsyncClient) -> None:
    with pytest.raises(LMStudioModelNotFoundError):
        await client.llm.unload("nobody-home")


async def test_downloaded_records_list_and_load_their_models(client: AsyncClient) -> None:
    llms = await client.llm.list_downloaded()
    embeddings = await client.embedding.list_downloaded()
    assert {LLAMA, QWEN, "qwen2.5-7b-instruct-1m"} <= {m.model_key for m in llms}
    assert NOMIC in {m.model_key for m in embeddings}
    assert all(m.type == "llm" for m in llms) and all(m.type == "embedding" for m in embeddings)
    record = next(m for m in llms if m.model_key == LLAMA)
    first = await record.load_new_instance("from-record", ttl=None)
    assert first.identifier == "from-record"
    assert await record.model() == first  # a loaded instance of the key is reused
    nomic = next(m for m in embeddings if m.model_key == NOMIC)
    embedder = await nomic.model()
    assert isinstance(embedder, AsyncEmbeddingModel)
    info = await embedder.get_info()
    assert isinstance(info, EmbeddingModelInstanceInfo) and info.max_context_length == 2048
    everything = await client.list_downloaded_models()
    assert len(everything) == len(llms) + len(embeddings)


async def test_listing_loaded_models_across_namespaces(client: AsyncClient) -> None:
    llm = await client.llm.load_new_instance(LLAMA)
    embedder = await client.embedding.load_new_instance(NOMIC)
    assert await client.list_loaded_models() == [llm, embedder]
    assert await client.list_loaded_models("embedding") == [embedder]
    assert await client.embedding.model() == embedder
    with pytest.raises(LMStudioValueError, match="Did you mean 'embedding'"):
        await client.list_loaded_models("embeddings")  # type: ignore[arg-type]
