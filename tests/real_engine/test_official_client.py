"""The official ``lmstudio`` client (our protocol oracle) against the llama-cpp engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .bundled import bundled_gguf_or_skip

pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")

import lmstudio

from lmstudio_async.testing.process import ServerProcess

from .conftest import EMBEDDING_KEY, LLM_KEY

bundled_gguf_or_skip()

pytestmark = pytest.mark.conformance


@pytest.fixture(scope="module")
def official(llama_server: ServerProcess) -> Iterator[lmstudio.Client]:
    with lmstudio.Client(llama_server.api_host) as client:
        yield client


def test_the_official_client_gets_a_real_reply(official: lmstudio.Client) -> None:
    llm = official.llm.model(LLM_KEY)
    result = llm.respond("Say hello.", config={"temperature": 0, "maxTokens": 12})
    assert result.content.strip()
    assert result.stats.stop_reason in ("eosFound", "maxPredictedTokensReached")
    assert 0 < result.stats.predicted_tokens_count <= 12
    assert result.model_info.architecture == "llama"


def test_the_official_client_gets_real_embeddings(official: lmstudio.Client) -> None:
    embedder = official.embedding.model(EMBEDDING_KEY)
    vector = embedder.embed("Hello")
    assert len(vector) == 576
    assert embedder.embed("Hello") == vector != embedder.embed("Goodbye")
