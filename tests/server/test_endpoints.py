"""The system, files, repository and diagnostics namespaces."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import anyio
import pytest

from lmstudio_async.server import LocalServer
from lmstudio_async.server.filestore import detect_file_type

from .real_llm import load, predict_request
from .wire import RawSocket, open_socket, wait_until

pytestmark = pytest.mark.anyio


async def result_of(sock: RawSocket, endpoint: str, parameter: Any = None) -> Any:
    reply = await sock.call(endpoint, parameter)
    assert reply["type"] == "rpcResult", reply
    return reply.get("result")


# --- system -------------------------------------------------------------------------------


async def test_list_downloaded_models_is_the_catalog(server: LocalServer) -> None:
    async with open_socket(server.api_host, "system") as sock:
        models = await result_of(sock, "listDownloadedModels")
    expected = [info.to_dict() for info in server.state.models.list_downloaded()]
    assert models == expected
    assert {model["type"] for model in models} == {"llm", "embedding"}


async def test_version_and_info(server: LocalServer) -> None:
    async with open_socket(server.api_host, "system") as sock:
        version = await result_of(sock, "version")
        info = await result_of(sock, "info")
    config = server.config
    assert version == {"version": config.lmstudio_version, "build": config.lmstudio_build}
    assert info["version"] == config.lmstudio_version
    assert isinstance(info["pid"], int)


async def test_experiment_flags_round_trip(server: LocalServer) -> None:
    async with open_socket(server.api_host, "system") as sock:
        assert await result_of(sock, "setExperimentFlag", {"code": "b", "value": True}) is None
        await result_of(sock, "setExperimentFlag", {"code": "a", "value": True})
        assert await result_of(sock, "getExperimentFlags") == ["a", "b"]
        await result_of(sock, "setExperimentFlag", {"code": "a", "value": False})
        assert await result_of(sock, "getExperimentFlags") == ["b"]


async def test_notify_is_void(server: LocalServer) -> None:
    async with open_socket(server.api_host, "system") as sock:
        reply = await sock.call("notify", {"title": "Hi", "description": "there"})
    assert reply == {"type": "rpcResult", "callId": 1}


async def test_model_variants(server: LocalServer) -> None:
    key = server.state.models.list_downloaded()[0].model_key
    async with open_socket(server.api_host, "system") as sock:
        variants = await result_of(sock, "listDownloadedModelVariants", {"modelKey": key})
        missing = await sock.call("listDownloadedModelVariants", {"modelKey": "nope"}, call_id=2)
    assert [variant["modelKey"] for variant in variants] == [key]
    assert missing["type"] == "rpcError"


# --- files --------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


async def test_upload_returns_a_unique_handle(server: LocalServer) -> None:
    content = base64.b64encode(PNG).decode()
    async with open_socket(server.api_host, "files") as sock:
        first = await result_of(
            sock, "uploadFileBase64", {"name": "cat.png", "contentBase64": content}
        )
        second = await result_of(
            sock, "uploadFileBase64", {"name": "cat.png", "contentBase64": content}
        )
    assert first["fileType"] == "image"
    assert first["sizeBytes"] == len(PNG)
    assert first["identifier"] != second["identifier"]


async def test_upload_rejects_bad_base64(server: LocalServer) -> None:
    async with open_socket(server.api_host, "files") as sock:
        reply = await sock.call("uploadFileBase64", {"name": "x.txt", "contentBase64": "@@@"})
    assert reply["type"] == "rpcError"
    assert "base64" in reply["error"]["title"]


@pytest.mark.parametrize(
    ("name", "data", "file_type"),
    [
        ("photo.bin", b"\xff\xd8\xff\xe0rest", "image"),
        ("anim", b"GIF89a....", "image"),
        ("pic.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image"),
        ("paper", b"%PDF-1.7\n", "application/pdf"),
        ("letter.docx", b"PK\x03\x04rest", "application/word"),
        ("notes.txt", "héllo".encode(), "text/plain"),
        ("README", b"plain words", "text/plain"),
        ("main.py", b"print('hi')\n", "text/other"),
        ("blob.bin", b"\x00\x01\x02\xff", "unknown"),
        ("broken.png", b"\x00\x01", "image"),
    ],
)
def test_file_type_detection(name: str, data: bytes, file_type: str) -> None:
    assert detect_file_type(name, data) == file_type


# --- repository ------------------------------------------------------------------------


async def test_search_download_options_and_download(server: LocalServer) -> None:
    repository = "lmstudio-community/SmolLM2-135M-Instruct-GGUF"
    async with open_socket(server.api_host, "repository") as sock:
        found = await result_of(sock, "searchModels", {"opts": {"searchTerm": "SmolLM2"}})
        (entry,) = found["results"]
        assert entry["identifier"] == {"type": "hf", "identifier": repository}
        assert entry["name"] == repository
        options = await result_of(
            sock, "getModelDownloadOptions", {"modelSearchResultIdentifier": entry["identifier"]}
        )
        option = options["results"][0]
        assert option["downloadIdentifier"] == f"{repository}/SmolLM2-135M-Instruct-Q4_K_M.gguf"
        assert option["compatibilityType"] == "gguf"
        assert option["recommended"] is True
        await sock.send(
            {
                "type": "channelCreate",
                "endpoint": "downloadModel",
                "channelId": 1,
                "creationParameter": {"downloadIdentifier": option["downloadIdentifier"]},
            }
        )
        messages = await sock.receive_until("channelClose")
    packets = [m["message"] for m in messages[:-1]]
    progress = [p["update"]["downloadedBytes"] for p in packets if p["type"] == "downloadProgress"]
    assert progress == sorted(progress)
    assert progress[-1] == option["sizeBytes"]
    assert [p["type"] for p in packets[-2:]] == ["startFinalizing", "success"]
    assert packets[-1]["defaultIdentifier"] == "smollm2-135m-instruct"
    assert "smollm2-135m-instruct" in [m.model_key for m in server.state.models.list_downloaded()]


async def test_search_filters_and_limits(server: LocalServer) -> None:
    catalog = server.state.models.list_downloaded()
    async with open_socket(server.api_host, "repository") as sock:
        limited = await result_of(sock, "searchModels", {"opts": {"limit": 1}})
        nothing = await result_of(sock, "searchModels", {"opts": {"searchTerm": "zzz-no-match"}})
        wrong_format = await result_of(
            sock, "searchModels", {"opts": {"compatibilityTypes": ["onnx"]}}
        )
        too_many = await sock.call("searchModels", {"opts": {"limit": 99}}, call_id=9)
    assert len(limited["results"]) == 1
    assert nothing["results"] == []
    assert [r["name"] for r in wrong_format["results"]] == [
        m.path.rsplit("/", 1)[0] for m in catalog if m.format == "onnx"
    ]
    assert too_many["type"] == "rpcError"


async def test_download_of_unknown_identifier_fails(server: LocalServer) -> None:
    async with open_socket(server.api_host, "repository") as sock:
        await sock.send(
            {
                "type": "channelCreate",
                "endpoint": "downloadModel",
                "channelId": 1,
                "creationParameter": {"downloadIdentifier": "nobody/nothing"},
            }
        )
        reply = await sock.receive()
    assert reply["type"] == "channelError"
    assert "nobody/nothing" in reply["error"]["title"]


# --- diagnostics ----------------------------------------------------------------------


async def test_stream_logs_reports_predictions_until_stopped() -> None:
    async with (
        LocalServer(port=0, load_time=0.0, reply_tokens=(2, 2)) as server,
        open_socket(server.api_host, "diagnostics") as logs,
        open_socket(server.api_host, "llm") as llm,
    ):
        await logs.send({"type": "channelCreate", "endpoint": "streamLogs", "channelId": 1})
        await wait_until(lambda: server.state.logs.has_subscribers)
        identifier = await load(llm)
        await llm.send(predict_request(identifier, channel_id=2, text="Tell me a story"))
        await llm.receive_until("channelClose")
        log = await logs.receive()
        await logs.send({"type": "channelSend", "channelId": 1, "message": {"type": "stop"}})
        closed = await logs.receive()
    assert log["message"]["type"] == "log"
    data = log["message"]["log"]["data"]
    assert data["type"] == "llm.prediction.input"
    assert data["modelIdentifier"] == identifier
    assert "Tell me a story" in data["input"]
    assert closed == {"type": "channelClose", "channelId": 1}


# --- real predict under the close-after-fragments fault ------------------------------------


async def test_real_prediction_is_cut_after_the_configured_fragments() -> None:
    async with (
        LocalServer(port=0, load_time=0.0, reply_tokens=(30, 30), test_control=True) as server,
        aiohttp.ClientSession() as session,
    ):
        async with open_socket(server.api_host, "llm") as llm:
            identifier = await load(llm)
        async with session.post(
            f"{server.url}/lmstudio-test/faults", json={"closeAfterFragments": 4}
        ) as response:
            assert response.status == 200
        async with open_socket(server.api_host, "llm") as llm:
            await llm.send(predict_request(identifier, channel_id=1))
            fragments = 0
            with anyio.fail_after(5):
                while True:
                    message = await llm.ws.receive()
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        break
                    packet = message.json()["message"]
                    assert packet["type"] != "success"
                    fragments += packet["type"] == "fragment"
    assert fragments == 4
