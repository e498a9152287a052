"""Packet-level checks of what our server sends (PROTOCOL.md 6, 10, 11.2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from lmstudio_async.testing.process import ServerProcess

from .raw_socket import RawSocket, history, layers, query

pytestmark = [pytest.mark.conformance, pytest.mark.anyio]

LLAMA = "llama-3.2-1b-instruct"
QWEN = "qwen2.5-7b-instruct"
NOMIC = "text-embedding-nomic-embed-text-v1.5"
INSTANCE_FIELDS = {
    "publisher",
    "indexedModelIdentifier",
    "deviceIdentifier",
    "ttlMs",
    "lastUsedTime",
}


@pytest.fixture
async def llm(lmstudio_server: ServerProcess) -> AsyncIterator[RawSocket]:
    async with RawSocket.connect(lmstudio_server.api_host, "llm") as socket:
        yield socket


async def _load(socket: RawSocket, key: str = LLAMA, **extra: Any) -> dict[str, Any]:
    packets, end = await socket.run(
        "loadModel", {"modelKey": key, "loadConfigStack": layers(), **extra}
    )
    assert end["type"] == "channelClose", end
    info: dict[str, Any] = packets[-1]["info"]
    return info


async def test_load_model_sends_resolved_progress_and_a_complete_success(
    llm: RawSocket,
) -> None:
    packets, end = await llm.run(
        "loadModel", {"modelKey": QWEN, "ttlMs": 60_000, "loadConfigStack": layers()}
    )
    assert end == {"type": "channelClose", "channelId": end["channelId"]}
    kinds = [packet["type"] for packet in packets]
    assert kinds[0] == "resolved"
    assert kinds[-1] == "success"
    progress = [packet["progress"] for packet in packets if packet["type"] == "progress"]
    assert progress == sorted(progress)
    assert progress[-1] == 1
    info = packets[-1]["info"]
    assert info.keys() >= INSTANCE_FIELDS
    assert info["deviceIdentifier"] is None
    assert (info["ttlMs"], info["publisher"], info["identifier"]) == (
        60_000,
        "lmstudio-community",
        QWEN,
    )
    assert info["indexedModelIdentifier"] == info["path"]


async def test_predict_sends_progress_fragments_and_success_in_order(llm: RawSocket) -> None:
    await _load(llm)
    packets, end = await llm.run(
        "predict",
        {
            "modelSpecifier": query(LLAMA),
            "history": history("Hello"),
            "predictionConfigStack": layers({"llm.prediction.temperature": 0.2}),
        },
    )
    assert end["type"] == "channelClose"
    first, second, *fragments, success = packets
    assert (first["type"], first["progress"], second["type"], second["progress"]) == (
        "promptProcessingProgress",
        0,
        "promptProcessingProgress",
        1,
    )
    total = first["details"]["totalPromptTokenCount"]
    assert second["details"] == {
        "cachedTokenCount": 0,
        "totalPromptTokenCount": total,
        "processedPromptTokenCount": total,
        "unprocessedPromptTokenCount": 0,
    }
    assert fragments
    for packet in fragments:
        assert packet["type"] == "fragment"
        assert packet["fragment"].keys() == {
            "content",
            "tokensCount",
            "containsDrafted",
            "reasoningType",
            "isStructural",
        }
    assert success["type"] == "success"
    stats = success["stats"]
    assert stats["stopReason"] == "eosFound"
    assert stats["predictedTokensCount"] == sum(p["fragment"]["tokensCount"] for p in fragments)
    assert stats["totalTokensCount"] == total + stats["predictedTokensCount"]
    assert {
        "tokensPerSecond",
        "timeToFirstTokenSec",
        "totalTimeSec",
        "numGpuLayers",
    } <= stats.keys()
    assert success["modelInfo"].keys() >= INSTANCE_FIELDS
    load_config = {f["key"]: f["value"] for f in success["loadModelConfig"]["fields"]}
    assert load_config["llm.load.contextLength"] == 4096
    prediction_config = {f["key"]: f["value"] for f in success["predictionConfig"]["fields"]}
    assert prediction_config["llm.prediction.temperature"] == 0.2


async def test_complete_raw_text_predicts_from_the_raw_prompt(llm: RawSocket) -> None:
    await _load(llm)
    parameter = {
        "modelSpecifier": query(),
        "rawPrompt": "Once upon a time",
        "predictionConfigStack": layers(),
    }
    packets, end = await llm.run("completeRawText", parameter)
    assert end["type"] == "channelClose"
    assert packets[0]["details"]["totalPromptTokenCount"] == 4
    assert packets[-1]["type"] == "success"


async def test_cancelling_a_load_ends_the_channel_with_an_error(llm: RawSocket) -> None:
    channel = await llm.open("loadModel", {"modelKey": LLAMA, "loadConfigStack": layers()})
    assert (await llm.next_envelope(channel))["message"]["type"] == "resolved"
    await llm.cancel(channel)
    _, end = await llm.finish(channel)
    assert end["type"] == "channelError"
    assert end["error"]["title"] == "Model loading was cancelled"
    assert await llm.result("listLoaded") == []


async def test_get_or_load_packets(llm: RawSocket, lmstudio_server: ServerProcess) -> None:
    async with RawSocket.connect(lmstudio_server.api_host, "embedding") as embedding:
        packets, _ = await embedding.run(
            "getOrLoad", {"identifier": NOMIC, "loadTtlMs": 5000, "loadConfigStack": layers()}
        )
    kinds = [packet["type"] for packet in packets]
    assert kinds[0] == "startLoading"
    assert packets[0]["identifier"] == NOMIC
    assert set(kinds[1:-1]) == {"loadProgress"}
    assert kinds[-1] == "loadSuccess"
    assert packets[-1]["info"]["ttlMs"] == 5000

    packets, _ = await llm.run("getOrLoad", {"identifier": LLAMA, "loadConfigStack": layers()})
    assert [p["type"] for p in packets[:2]] == ["startLoading", "unloadingOtherJITModel"]
    assert packets[1]["info"]["type"] == "embedding"
    packets, _ = await llm.run("getOrLoad", {"identifier": LLAMA, "loadConfigStack": layers()})
    assert [p["type"] for p in packets] == ["alreadyLoaded"]


async def test_get_model_info_without_throwing_returns_void(llm: RawSocket) -> None:
    reply = await llm.call("getModelInfo", {"specifier": query("nope"), "throwIfNotFound": False})
    assert reply == {"type": "rpcResult", "callId": reply["callId"]}
    reply = await llm.call("getModelInfo", {"specifier": query("nope"), "throwIfNotFound": True})
    assert reply["type"] == "rpcError"
    assert reply["error"]["displayData"]["code"] == "generic.noModelMatchingQuery"


async def test_unknown_models_are_path_not_found(llm: RawSocket) -> None:
    _, end = await llm.run("loadModel", {"modelKey": "lama-3.2-1b", "loadConfigStack": layers()})
    assert end["type"] == "channelError"
    display = end["error"]["displayData"]
    assert display["code"] == "generic.pathNotFound"
    assert display["path"] == "lama-3.2-1b"
    assert display["totalModels"] == len(display["availablePathsSample"]) == 4
    assert LLAMA in end["error"]["suggestion"]


async def test_instance_references_stop_working_after_unload(llm: RawSocket) -> None:
    info = await _load(llm)
    specifier = {"type": "instanceReference", "instanceReference": info["instanceReference"]}
    counted = await llm.result("countTokens", {"specifier": specifier, "inputString": "a b"})
    assert counted == {"tokenCount": 2}
    assert await llm.result("unloadModel", {"identifier": LLAMA}) is None
    reply = await llm.call("tokenize", {"specifier": specifier, "inputString": "a b"})
    assert reply["error"]["displayData"]["code"] == "generic.specificModelUnloaded"


async def test_newer_base_model_endpoints(llm: RawSocket) -> None:
    await _load(llm)
    state = await llm.result(
        "getInstanceProcessingState", {"specifier": query(), "throwIfNotFound": True}
    )
    assert state == {"status": "idle", "queued": 0}
    base = await llm.result("getBasePredictionConfig", {"specifier": query()})
    keys = {field["key"] for field in base["fields"]}
    assert {"llm.prediction.temperature", "llm.prediction.maxPredictedTokens"} <= keys
    assert (
        await llm.result("preloadDraftModel", {"specifier": query(), "draftModelKey": QWEN}) is None
    )
    template = await llm.result(
        "applyPromptTemplate",
        {
            "specifier": query(),
            "history": history("Hi"),
            "predictionConfigStack": {"layers": []},
            "opts": {"omitBosToken": True},
        },
    )
    assert template == {"formatted": "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"}


async def test_bad_requests_get_specific_errors(llm: RawSocket) -> None:
    await _load(llm)
    base = {"modelSpecifier": query(), "history": history("Hi")}
    _, end = await llm.run("predict", {**base, "predictionConfigStack": layers(name="oops")})
    assert end["error"]["title"] == "Unknown config layer name 'oops'"
    assert "apiOverride" in end["error"]["suggestion"]
    _, end = await llm.run(
        "predict", {**base, "predictionConfigStack": layers(), "fuzzyPresetIdentifier": "fast"}
    )
    assert end["error"]["displayData"]["code"] == "generic.presetNotFound"
    _, end = await llm.run("loadModel", {"modelKey": NOMIC, "loadConfigStack": layers()})
    assert end["error"]["displayData"]["code"] == "generic.domainMismatch"


async def test_embed_string_with_an_empty_query(lmstudio_server: ServerProcess) -> None:
    async with RawSocket.connect(lmstudio_server.api_host, "embedding") as embedding:
        await _load(embedding, NOMIC)
        result = await embedding.result(
            "embedString", {"modelSpecifier": query(), "inputString": "hello"}
        )
    assert len(result["embedding"]) == 768
