"""Wire parity with the official client (lmstudio 1.5.0) for model management.

For each operation both clients run against the same server from the same
state; the messages they send must name the same endpoints with equivalent
payloads. Ids are normalised, and so is one deliberate difference: our handles
address their instance by ``instanceReference`` (so a handle never silently
switches to another instance that later takes its identifier), where the
official SDK sends an identifier query. Other deliberate differences have
tests of their own below.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lmstudio_async import AsyncClient
from lmstudio_async.testing import ServerProcess

from .recording import Case, normalise, record_official, record_ours

LLAMA = "llama-3.2-1b-instruct"
NOMIC = "text-embedding-nomic-embed-text-v1.5"
LOADED_LLAMA = (("llm", LLAMA),)
LOADED_NOMIC = (("embedding", NOMIC),)
CONFIG = {"contextLength": 4096, "seed": 3, "flashAttention": True}

CASES = [
    Case("list loaded", lambda c, _: c.llm.list_loaded(), lambda c, _: c.llm.list_loaded()),
    Case(
        "list downloaded",
        lambda c, _: c.list_downloaded_models(),
        lambda c, _: c.list_downloaded_models(),
    ),
    Case(
        "model() with nothing to pick",
        lambda c, _: c.llm.model(),
        lambda c, _: c.llm.model(),
        LOADED_LLAMA,
    ),
    Case("model(key) loads", lambda c, _: c.llm.model(LLAMA), lambda c, _: c.llm.model(LLAMA)),
    Case(
        "model(key) with ttl and config",
        lambda c, _: c.llm.model(LLAMA, ttl=7200, config=CONFIG),
        lambda c, _: c.llm.model(LLAMA, ttl=7200, config=CONFIG),
    ),
    Case(
        "model(key) of a loaded model",
        lambda c, _: c.llm.model(LLAMA),
        lambda c, _: c.llm.model(LLAMA),
        LOADED_LLAMA,
    ),
    Case(
        "load_new_instance",
        lambda c, _: c.llm.load_new_instance(LLAMA),
        lambda c, _: c.llm.load_new_instance(LLAMA),
    ),
    Case(
        "load_new_instance with identifier, ttl and config",
        lambda c, _: c.llm.load_new_instance(LLAMA, "second-llama", ttl=120, config=CONFIG),
        lambda c, _: c.llm.load_new_instance(LLAMA, "second-llama", ttl=120, config=CONFIG),
    ),
    Case(
        "load_new_instance without ttl",
        lambda c, _: c.llm.load_new_instance(LLAMA, ttl=None),
        lambda c, _: c.llm.load_new_instance(LLAMA, ttl=None),
    ),
    Case(
        "embedding model(key)",
        lambda c, _: c.embedding.model(NOMIC, config={"contextLength": 1024}),
        lambda c, _: c.embedding.model(NOMIC, config={"contextLength": 1024}),
    ),
    Case(
        "unload by identifier",
        lambda c, _: c.llm.unload(LLAMA),
        lambda c, _: c.llm.unload(LLAMA),
        LOADED_LLAMA,
    ),
    Case(
        "get_model_info by identifier",
        lambda c, _: c.llm.get_model_info(LLAMA),
        lambda c, _: c.llm.get_model_info(LLAMA),
        LOADED_LLAMA,
    ),
    Case(
        "handle.get_info", lambda c, h: h.get_info(), lambda c, h: h.get_info(), LOADED_LLAMA, "llm"
    ),
    Case(
        "handle.get_load_config",
        lambda c, h: h.get_load_config(),
        lambda c, h: h.get_load_config(),
        LOADED_LLAMA,
        "llm",
    ),
    Case(
        "handle.get_context_length",
        lambda c, h: h.get_context_length(),
        lambda c, h: h.get_context_length(),
        LOADED_LLAMA,
        "llm",
    ),
    Case(
        "handle.tokenize",
        lambda c, h: h.tokenize("Hi there"),
        lambda c, h: h.tokenize("Hi there"),
        LOADED_LLAMA,
        "llm",
    ),
    Case(
        "handle.count_tokens",
        lambda c, h: h.count_tokens("Hi there"),
        lambda c, h: h.count_tokens("Hi there"),
        LOADED_LLAMA,
        "llm",
    ),
    Case("handle.unload", lambda c, h: h.unload(), lambda c, h: h.unload(), LOADED_LLAMA, "llm"),
    Case(
        "embedding handle.tokenize",
        lambda c, h: h.tokenize("embed me"),
        lambda c, h: h.tokenize("embed me"),
        LOADED_NOMIC,
        "embedding",
    ),
]


@pytest.mark.conformance
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_we_send_what_the_official_client_sends(lmstudio_server: ServerProcess, case: Case) -> None:
    ours, references = record_ours(lmstudio_server, case)
    official = record_official(lmstudio_server, case)
    assert ours, "the operation sent nothing"
    assert normalise(ours, references) == normalise(official, {})


@pytest.mark.conformance
def test_tokenizing_several_texts_sends_one_call_per_text_like_the_official_client(
    lmstudio_server: ServerProcess,
) -> None:
    texts = ["one", "two", "three"]
    case = Case(
        "tokenize many",
        lambda c, h: h.tokenize(texts),
        lambda c, h: h.tokenize(texts),
        LOADED_LLAMA,
        "llm",
    )
    ours, references = record_ours(lmstudio_server, case)
    official = record_official(lmstudio_server, case)

    def by_text(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(messages, key=lambda m: m["parameter"]["inputString"])  # sent concurrently

    assert by_text(normalise(ours, references)) == by_text(normalise(official, {}))


@pytest.mark.conformance
def test_a_ratio_only_gpu_setting_leaves_the_servers_gpu_split_alone(
    lmstudio_server: ServerProcess,
) -> None:
    """Deliberate difference: the official SDK also sends a default ``load.gpuSplitConfig``
    whenever ``gpu`` is set at all, overriding the server's split; we send only what was set."""
    config = {"gpu": {"ratio": 0.5}}
    case = Case(
        "gpu ratio",
        lambda c, _: c.llm.load_new_instance(LLAMA, config=config),
        lambda c, _: c.llm.load_new_instance(LLAMA, config=config),
    )
    ours, _ = record_ours(lmstudio_server, case)
    official = record_official(lmstudio_server, case)

    def keys(messages: list[dict[str, Any]]) -> set[str]:
        layer = messages[0]["creationParameter"]["loadConfigStack"]["layers"][0]
        return {field["key"] for field in layer["config"]["fields"]}

    assert keys(ours) == {"llm.load.llama.acceleration.offloadRatio"}
    assert keys(official) == keys(ours) | {"load.gpuSplitConfig"}


def test_ids_are_per_connection_and_never_reused(lmstudio_server: ServerProcess) -> None:
    async def run() -> None:
        async with AsyncClient(lmstudio_server.api_host) as client:
            llm = await client.llm.load_new_instance(LLAMA)
            for _ in range(3):
                await llm.tokenize(["a", "b"])
                await client.llm.load_new_instance(LLAMA)

    lmstudio_server.clear_requests()
    asyncio.run(run())
    llm_messages = [r["message"] for r in lmstudio_server.requests() if r["namespace"] == "llm"]
    call_ids = [m["callId"] for m in llm_messages if m["type"] == "rpcCall"]
    channel_ids = [m["channelId"] for m in llm_messages if m["type"] == "channelCreate"]
    assert sorted(call_ids) == list(range(1, len(call_ids) + 1))
    assert channel_ids == list(range(1, len(channel_ids) + 1))
