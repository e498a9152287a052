"""Loading, model info, tokens, embeddings and unloading with the llama-cpp engine."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .bundled import bundled_gguf_or_skip

pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")

from lmstudio_async import AsyncClient, LMStudioServerError
from lmstudio_async.testing.process import ServerProcess

from .conftest import EMBEDDING_KEY, GREEDY, LLM_KEY, resident_memory

bundled_gguf_or_skip()

pytestmark = pytest.mark.anyio

_MIB = 1024 * 1024
STORY = "Write a long story about a lighthouse keeper."


@pytest.fixture(scope="module")
def reference_embedder(bundled_gguf: Path) -> Iterator[Any]:
    """llama-cpp-python's own mean-pooled embeddings of the model."""
    import llama_cpp

    llama = llama_cpp.Llama(
        str(bundled_gguf),
        embedding=True,
        pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
        n_ctx=512,
        n_batch=512,
        n_ubatch=512,
        verbose=False,
    )
    yield llama
    llama.close()


@pytest.fixture(scope="module")
def bundled_size(bundled_gguf: Path) -> int:
    return bundled_gguf.stat().st_size


async def test_loading_reports_llama_cpp_progress_ending_at_one(client: AsyncClient) -> None:
    progress: list[float] = []
    llm = await client.llm.load_new_instance(LLM_KEY, "progress", on_load_progress=progress.append)
    try:
        assert progress == sorted(set(progress))
        assert progress[-1] == 1.0 and progress.count(1.0) == 1
        # Weight loading reports several steps before the final one.
        assert len([value for value in progress if 0 < value < 1]) >= 2
    finally:
        await llm.unload()


async def test_model_info_comes_from_the_gguf(
    client: AsyncClient, reference: Any, bundled_size: int
) -> None:
    llm = await client.llm.load_new_instance(
        LLM_KEY, "info-probe", ttl=None, config={"contextLength": 2048}
    )
    try:
        info = await llm.get_info()
    finally:
        await llm.unload()
    metadata = reference.metadata
    assert info.architecture == metadata["general.architecture"] == "llama"
    assert info.max_context_length == int(metadata["llama.context_length"]) == 8192
    # general.name is "Smollm2 135M 8k Lc100K Mix1 Ep2", made up by the converter.
    assert info.display_name == "SmolLM2 135M Instruct"
    assert info.params_string == metadata["general.size_label"] == "135M"
    assert info.size_bytes == bundled_size
    assert info.quantization is not None and info.quantization.name == "Q4_1"
    assert not info.vision and not info.trained_for_tool_use
    assert (info.identifier, info.context_length) == ("info-probe", 2048)


async def test_the_bundled_model_is_listed_in_both_domains(client: AsyncClient) -> None:
    downloaded = await client.list_downloaded_models()
    assert {(model.model_key, model.type) for model in downloaded} == {
        (LLM_KEY, "llm"),
        (EMBEDDING_KEY, "embedding"),
    }
    assert len({model.path for model in downloaded}) == 1


async def test_tokens_are_llama_cpp_pythons(client: AsyncClient, reference: Any) -> None:
    llm = await client.llm.model(LLM_KEY, ttl=None)
    text = "Hello, world! <|im_start|>user\nHow many llamas? 🦙 Ünïcödé"
    expected = reference.tokenize(text.encode(), add_bos=True, special=True)
    assert await llm.tokenize(text) == expected
    assert await llm.count_tokens(text) == len(expected)
    # Special tokens written as text are the model's special tokens.
    assert reference.token_bos() in expected


async def test_embeddings_are_normalised_mean_pooled_hidden_states(
    client: AsyncClient, reference_embedder: Any
) -> None:
    embedder = await client.embedding.model(EMBEDDING_KEY, ttl=None)
    texts = ["The cat sat on the mat.", "Quantum chromodynamics"]
    vectors = [await embedder.embed(text) for text in texts]
    assert all(len(vector) == reference_embedder.n_embd() == 576 for vector in vectors)
    assert all(math.isclose(math.hypot(*vector), 1.0) for vector in vectors)
    assert await embedder.embed(texts[0]) == vectors[0]
    assert vectors[0] != vectors[1]
    for text, vector in zip(texts, vectors, strict=True):
        expected = reference_embedder.embed(text, normalize=True)
        assert max(abs(a - b) for a, b in zip(vector, expected, strict=True)) < 1e-4


async def test_an_empty_text_has_no_embedding(client: AsyncClient) -> None:
    embedder = await client.embedding.model(EMBEDDING_KEY, ttl=None)
    with pytest.raises(LMStudioServerError, match="empty text"):
        await embedder.embed("")
    assert len(await embedder.embed("still working")) == 576


async def test_instances_of_one_model_are_independent(client: AsyncClient) -> None:
    first = await client.llm.load_new_instance(LLM_KEY, ttl=None)
    second = await client.llm.load_new_instance(LLM_KEY, ttl=None)
    try:
        loaded = [model.identifier for model in await client.llm.list_loaded()]
        assert first.identifier != second.identifier
        assert {first.identifier, second.identifier} <= set(loaded)
        config = {**GREEDY, "maxTokens": 12}
        replies = await asyncio.gather(
            first.respond("Name a color.", config=config),
            second.respond("Name a color.", config=config),
        )
        assert replies[0].content == replies[1].content
    finally:
        await first.unload()
        await second.unload()


async def test_unloading_frees_the_instance_memory(
    client: AsyncClient, llama_server: ServerProcess
) -> None:
    before = resident_memory(llama_server.pid)
    llm = await client.llm.load_new_instance(
        LLM_KEY, "memory-probe", ttl=None, config={"contextLength": 8192}
    )
    await llm.respond("Hi", config={**GREEDY, "maxTokens": 4})
    loaded = resident_memory(llama_server.pid)
    await llm.unload()
    assert "memory-probe" not in [model.identifier for model in await client.llm.list_loaded()]
    after = resident_memory(llama_server.pid)
    # An 8192-token KV cache alone is 180 MiB for this model.
    assert loaded - before > 150 * _MIB
    assert loaded - after > 0.9 * (loaded - before)


async def test_unloading_stops_a_running_prediction(client: AsyncClient) -> None:
    llm = await client.llm.load_new_instance(LLM_KEY, "doomed", ttl=None)
    stream = llm.respond_stream(STORY, config={**GREEDY, "maxTokens": 2000})
    unloaded = False
    async for _fragment in stream:
        if not unloaded:
            await llm.unload()
            unloaded = True
    result = stream.result()
    assert result.stats.stop_reason == "modelUnloaded"
    # Unloading stopped the generation (a few tokens in flight), not waited for its end.
    assert (result.stats.predicted_tokens_count or 0) < 20


async def test_generation_stops_when_the_context_is_full(client: AsyncClient) -> None:
    llm = await client.llm.load_new_instance(
        LLM_KEY, "small-context", ttl=None, config={"contextLength": 64}
    )
    try:
        result = await llm.complete("Once upon a time", config=GREEDY)
        stats = result.stats
        assert stats.stop_reason == "contextLengthReached"
        assert (stats.prompt_tokens_count, stats.total_tokens_count) == (4, 64)
        with pytest.raises(LMStudioServerError, match="does not fit"):
            await llm.respond("word " * 100, config=GREEDY)
    finally:
        await llm.unload()
