"""The official ``lmstudio`` Python SDK (1.5.0) against our server: models and predictions."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import lmstudio
import pytest

from lmstudio_async.testing.process import ServerProcess
from tests.eventually import eventually_sync

pytestmark = pytest.mark.conformance

LLAMA = "llama-3.2-1b-instruct"
QWEN = "qwen2.5-7b-instruct"
NOMIC = "text-embedding-nomic-embed-text-v1.5"
FAST = ("--load-time", "0.05")


@pytest.fixture
def client(lmstudio_server: ServerProcess) -> Iterator[lmstudio.Client]:
    with lmstudio.Client(lmstudio_server.api_host) as client:
        yield client


@pytest.fixture
def slow_stream_client(
    lmstudio_server_factory: Callable[..., ServerProcess],
) -> Iterator[lmstudio.Client]:
    """A server streaming 200-token replies at 10 ms per token."""
    server = lmstudio_server_factory(*FAST, "--token-delay", "0.01", "--reply-tokens", "200:200")
    with lmstudio.Client(server.api_host) as client:
        yield client


def _loaded(client: lmstudio.Client) -> list[str]:
    return [model.identifier for model in client.list_loaded_models()]


def test_lists_downloaded_models_of_both_domains(client: lmstudio.Client) -> None:
    keys = {model.model_key: model.type for model in client.list_downloaded_models()}
    assert keys[LLAMA] == keys[QWEN] == "llm"
    assert keys[NOMIC] == "embedding"
    assert {model.model_key for model in client.embedding.list_downloaded()} == {NOMIC}


def test_lists_loaded_models(client: lmstudio.Client) -> None:
    assert _loaded(client) == []
    client.llm.load_new_instance(LLAMA)
    client.embedding.load_new_instance(NOMIC)
    assert [model.identifier for model in client.llm.list_loaded()] == [LLAMA]
    assert sorted(_loaded(client)) == sorted([LLAMA, NOMIC])


def test_load_reports_ordered_progress_ending_at_one(client: lmstudio.Client) -> None:
    progress: list[float] = []
    model = client.llm.load_new_instance(QWEN, on_load_progress=progress.append)
    assert model.identifier == QWEN
    assert len(progress) >= 3
    assert progress == sorted(progress)
    assert progress[-1] == 1.0


def test_default_identifiers_count_up_and_explicit_duplicates_fail(
    client: lmstudio.Client,
) -> None:
    first = client.llm.load_new_instance(LLAMA)
    second = client.llm.load_new_instance(LLAMA)
    assert (first.identifier, second.identifier) == (LLAMA, f"{LLAMA}:2")
    with pytest.raises(lmstudio.LMStudioServerError, match="already exists"):
        client.llm.load_new_instance(QWEN, LLAMA)


def test_get_info_and_load_config(client: lmstudio.Client) -> None:
    model = client.llm.load_new_instance(QWEN, "my-qwen", config={"contextLength": 8192})
    info = model.get_info()
    assert info.identifier == "my-qwen"
    assert info.model_key == QWEN
    assert info.path.startswith("lmstudio-community/Qwen2.5-7B-Instruct-GGUF/")
    assert (info.context_length, info.max_context_length) == (8192, 32768)
    assert info.instance_reference
    assert info.trained_for_tool_use
    assert model.get_context_length() == 8192
    assert model.get_load_config().context_length == 8192


def test_a_context_length_beyond_the_model_maximum_is_refused(client: lmstudio.Client) -> None:
    with pytest.raises(lmstudio.LMStudioServerError, match="exceeds the maximum"):
        client.llm.load_new_instance(LLAMA, config={"contextLength": 10_000_000})


def test_loading_an_embedding_model_as_an_llm_is_refused(client: lmstudio.Client) -> None:
    with pytest.raises(lmstudio.LMStudioServerError, match="not an llm model"):
        client.llm.load_new_instance(NOMIC)


def test_respond_is_deterministic_and_reports_stats(client: lmstudio.Client) -> None:
    model = client.llm.load_new_instance(LLAMA)
    result = model.respond("What is the meaning of life?")
    again = model.respond("What is the meaning of life?")
    assert result.content == again.content != ""
    stats = result.stats
    assert stats.stop_reason == "eosFound"
    assert stats.predicted_tokens_count is not None
    assert 8 <= stats.predicted_tokens_count <= 64
    assert stats.prompt_tokens_count == model.count_tokens(
        model.apply_prompt_template(lmstudio.Chat.from_history("What is the meaning of life?"))
    )
    assert result.model_info.model_key == LLAMA
    assert result.load_config.context_length == 4096


def test_respond_stream_yields_the_result_text(client: lmstudio.Client) -> None:
    model = client.llm.load_new_instance(LLAMA)
    prompt_progress: list[float] = []
    stream = model.respond_stream("Hello", on_prompt_processing_progress=prompt_progress.append)
    fragments = [fragment.content for fragment in stream]
    assert len(fragments) >= 8
    assert "".join(fragments) == stream.result().content
    assert prompt_progress[0] == 0.0
    assert prompt_progress[-1] == 1.0


def test_max_tokens_and_stop_strings(client: lmstudio.Client) -> None:
    model = client.llm.load_new_instance(LLAMA)
    capped = model.respond("Hello", config={"maxTokens": 3})
    assert capped.stats.stop_reason == "maxPredictedTokensReached"
    assert capped.stats.predicted_tokens_count == 3
    # Every complete scripted reply ends with a full stop.
    stopped = model.respond("Hello", config={"stopStrings": ["."]})
    assert stopped.stats.stop_reason == "stopStringFound"
    assert "." not in stopped.content


def test_complete_uses_the_raw_prompt(client: lmstudio.Client) -> None:
    model = client.llm.load_new_instance(LLAMA)
    result = model.complete("Once upon a time", config={"maxTokens": 5})
    assert result.stats.prompt_tokens_count == 4
    assert result.stats.predicted_tokens_count == 5
    assert result.content


def test_structured_response_follows_the_schema(client: lmstudio.Client) -> None:
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "year": {"type": "integer"}},
        "required": ["title", "year"],
    }
    result = client.llm.load_new_instance(LLAMA).respond("A book", response_format=schema)
    assert isinstance(result.parsed, dict)
    assert isinstance(result.parsed["title"], str)
    assert isinstance(result.parsed["year"], int)


def test_cancelling_a_stream_stops_it(slow_stream_client: lmstudio.Client) -> None:
    model = slow_stream_client.llm.load_new_instance(LLAMA)
    stream = model.respond_stream("Tell me everything")
    for index, _ in enumerate(stream):
        if index == 2:
            stream.cancel()
    stats = stream.result().stats
    assert stats.stop_reason == "userStopped"
    assert stats.predicted_tokens_count is not None
    assert stats.predicted_tokens_count < 200


def test_unloading_during_a_prediction_ends_it(slow_stream_client: lmstudio.Client) -> None:
    model = slow_stream_client.llm.load_new_instance(LLAMA)
    stream = model.respond_stream("Tell me everything")
    for index, _ in enumerate(stream):
        if index == 2:
            model.unload()
    assert stream.result().stats.stop_reason == "modelUnloaded"


def test_embed_returns_unit_vectors(client: lmstudio.Client) -> None:
    model = client.embedding.load_new_instance(NOMIC)
    cat, dog = model.embed(["cat", "dog"])
    assert len(cat) == len(dog) == 768
    assert math.isclose(sum(x * x for x in cat), 1.0, rel_tol=1e-9)
    assert cat != dog
    assert model.embed("cat") == cat
    assert model.get_load_config().context_length == 2048


def test_tokenize_and_count_tokens(client: lmstudio.Client) -> None:
    model = client.llm.load_new_instance(LLAMA)
    tokens = model.tokenize("Hello, world!")
    assert all(isinstance(token, int) for token in tokens)
    assert len(tokens) == model.count_tokens("Hello, world!") == 4
    assert model.tokenize(["a b", "c"]) == [model.tokenize("a b"), model.tokenize("c")]


def test_unloaded_models_are_not_found(client: lmstudio.Client) -> None:
    model = client.llm.load_new_instance(LLAMA)
    model.unload()
    with pytest.raises(lmstudio.LMStudioModelNotFoundError):
        model.get_info()
    with pytest.raises(lmstudio.LMStudioModelNotFoundError):
        client.llm.unload("no-such-model")


def test_an_idle_model_unloads_after_its_ttl(client: lmstudio.Client) -> None:
    client.llm.load_new_instance(LLAMA, ttl=1)
    client.llm.load_new_instance(QWEN, ttl=None)
    assert sorted(_loaded(client)) == [LLAMA, QWEN]
    eventually_sync(lambda: _loaded(client) == [QWEN])


def test_model_loads_on_demand_and_then_reuses_the_instance(client: lmstudio.Client) -> None:
    progress: list[float] = []
    model = client.llm.model(QWEN, on_load_progress=progress.append)
    assert progress[-1] == 1.0
    assert model.identifier == QWEN
    assert client.llm.model(QWEN).identifier == QWEN
    assert client.llm.model().identifier == QWEN
    assert _loaded(client) == [QWEN]


def test_model_does_not_change_the_ttl_of_a_loaded_instance(client: lmstudio.Client) -> None:
    client.llm.load_new_instance(LLAMA, ttl=None)
    assert client.llm.model(LLAMA, ttl=1).identifier == LLAMA
    time.sleep(1.6)
    assert _loaded(client) == [LLAMA]


def test_jit_loading_evicts_the_previous_jit_model(client: lmstudio.Client) -> None:
    client.embedding.model(NOMIC)
    client.llm.model(LLAMA)
    assert _loaded(client) == [LLAMA]
