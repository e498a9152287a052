"""Searching the server's repository and downloading models (scripted engine: simulated)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import anyio
import lmstudio
import pytest

import lmstudio_sync
from lmstudio_async import (
    AsyncClient,
    AsyncModelDownloadOption,
    Chat,
    DownloadProgressUpdate,
    LMStudioServerError,
    LMStudioValueError,
)
from lmstudio_async.server import LocalServer
from lmstudio_async.testing.images import png

pytestmark = pytest.mark.anyio

SMOLLM = "lmstudio-community/SmolLM2-135M-Instruct-GGUF"
GEMMA = "lmstudio-community/gemma-3-4b-it-GGUF"


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer(port=0) as running:
        yield running


@pytest.fixture
async def slow_server() -> AsyncIterator[LocalServer]:
    """Downloads crawl (about 1 MB/s), so that there is time to interrupt them."""
    async with LocalServer(port=0, download_speed=1_000_000) as running:
        yield running


@pytest.fixture
async def client(server: LocalServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.api_host) as client:
        yield client


async def _option(client: AsyncClient, term: str, repository: str) -> AsyncModelDownloadOption:
    results = await client.repository.search_models(term)
    (result,) = [r for r in results if r.name == repository]
    return (await result.get_download_options())[0]


def _listed_keys(server: LocalServer) -> list[str]:
    return [info.model_key for info in server.state.models.list_downloaded()]


async def test_search_download_load_predict(client: AsyncClient, server: LocalServer) -> None:
    results = await client.repository.search_models("smollm2")
    assert [r.name for r in results] == [SMOLLM]
    options = await results[0].get_download_options()
    assert [o.quantization for o in options] == ["Q4_K_M", "Q8_0"]
    assert options[0].recommended and not options[1].recommended
    updates: list[DownloadProgressUpdate] = []
    finalized: list[bool] = []
    key = await options[0].download(
        on_progress=updates.append, on_finalize=lambda: finalized.append(True)
    )
    assert key == "smollm2-135m-instruct"
    done = [u.downloaded_bytes for u in updates]
    assert done == sorted(set(done)) and len(done) > 2
    assert {u.total_bytes for u in updates} == {options[0].size_bytes}
    assert [u.downloaded_bytes == u.total_bytes for u in updates].count(True) == 1
    assert done[-1] == options[0].size_bytes
    assert finalized == [True]
    assert key in _listed_keys(server)  # listed at once
    downloaded = [m.model_key for m in await client.list_downloaded_models("llm")]
    assert key in downloaded
    model = await client.llm.model(key)
    assert (await model.respond("Hello")).content
    # The other quantization gets a key of its own.
    assert await options[1].download() == "smollm2-135m-instruct@q8_0"


async def test_a_downloaded_vision_model_sees_images(client: AsyncClient) -> None:
    option = await _option(client, "gemma", GEMMA)
    key = await option.download()
    handle = await client.files.prepare_image(png(4, 4, (250, 250, 250)), name="white.png")
    chat = Chat()
    chat.add_user_message("What is it?", images=[handle])
    reply = await (await client.llm.model(key)).respond(chat)
    assert "white.png is a 4x4 PNG" in reply.content and "white" in reply.content


async def test_downloading_a_model_that_is_already_there_finishes_at_once(
    client: AsyncClient,
) -> None:
    option = await _option(client, "llama-3.2-1b", "hugging-quants/Llama-3.2-1B-Instruct-Q8_0-GGUF")
    updates: list[DownloadProgressUpdate] = []
    assert await option.download(on_progress=updates.append) == "llama-3.2-1b-instruct"
    assert [(u.downloaded_bytes, u.total_bytes) for u in updates] == [
        (option.size_bytes, option.size_bytes)
    ]


async def test_search_options_filter_and_limit(client: AsyncClient) -> None:
    everything = await client.repository.search_models()
    assert len(everything) > 3
    assert len(await client.repository.search_models(limit=2)) == 2
    assert await client.repository.search_models("zzz-nothing") == []
    assert (
        await client.repository.search_models("smollm2", compatibility_types=["safetensors"]) == []
    )
    exact = await client.repository.search_models("gemma-3-4b-it")
    assert exact[0].exact and exact[0].name == GEMMA


async def test_bad_search_arguments_fail_before_sending(client: AsyncClient) -> None:
    for kwargs in ({"limit": 0}, {"limit": 26}, {"limit": True}, {"limit": 2.5}):
        with pytest.raises(LMStudioValueError, match="limit"):
            await client.repository.search_models("x", **kwargs)
    with pytest.raises(LMStudioValueError, match="must be a list"):
        await client.repository.search_models("x", compatibility_types="gguf")  # type: ignore[arg-type]
    with pytest.raises(LMStudioValueError, match="Unknown compatibility types"):
        await client.repository.search_models("x", compatibility_types=["exe"])  # type: ignore[list-item]
    with pytest.raises(LMStudioValueError, match="search_term"):
        await client.repository.search_models(3)  # type: ignore[arg-type]
    assert "repository" not in client._connections


async def _wait_for_downloads_to_end(server: LocalServer) -> None:
    with anyio.fail_after(10):
        while server.state.downloading:  # noqa: ASYNC110  # server state has no event
            await anyio.sleep(0.01)


async def test_cancelling_the_task_stops_the_download(slow_server: LocalServer) -> None:
    async with AsyncClient(slow_server.api_host) as client:
        option = await _option(client, "smollm2", SMOLLM)
        started = asyncio.Event()
        task = asyncio.create_task(option.download(on_progress=lambda _: started.set()))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _wait_for_downloads_to_end(slow_server)
        assert "smollm2-135m-instruct" not in _listed_keys(slow_server)
        assert client._connections["repository"].open_channels == 0


async def test_an_exception_in_a_callback_stops_the_download(slow_server: LocalServer) -> None:
    class Enough(Exception):
        pass

    def stop(update: DownloadProgressUpdate) -> None:
        raise Enough(update.downloaded_bytes)

    async with AsyncClient(slow_server.api_host) as client:
        option = await _option(client, "smollm2", SMOLLM)
        with pytest.raises(Enough):
            await option.download(on_progress=stop)
        await _wait_for_downloads_to_end(slow_server)
        assert "smollm2-135m-instruct" not in _listed_keys(slow_server)


async def test_an_injected_failure_mid_download(server: LocalServer, client: AsyncClient) -> None:
    server.state.faults.download_fail_at = 0.5
    option = await _option(client, "smollm2", SMOLLM)
    updates: list[DownloadProgressUpdate] = []
    with pytest.raises(LMStudioServerError, match="failed") as caught:
        await option.download(on_progress=updates.append)
    assert "download-fail-at" in (caught.value.cause or "")
    assert updates and updates[-1].downloaded_bytes < option.size_bytes
    assert updates[-1].downloaded_bytes >= option.size_bytes // 2 - option.size_bytes // 40
    assert "smollm2-135m-instruct" not in _listed_keys(server)
    server.state.faults.clear()
    assert await option.download() == "smollm2-135m-instruct"


async def test_unknown_download_identifiers_are_refused(client: AsyncClient) -> None:
    option = await _option(client, "smollm2", SMOLLM)
    option.info.download_identifier = "nobody/nothing/none.gguf"
    with pytest.raises(LMStudioServerError, match="Nothing to download"):
        await option.download()


async def test_the_blocking_api_downloads_with_progress(server: LocalServer) -> None:
    def run() -> tuple[str, int, int]:
        finalized = []
        with lmstudio_sync.Client(server.api_host) as client:
            (result,) = client.repository.search_models("smollm2")
            option = result.get_download_options()[0]
            updates: list[DownloadProgressUpdate] = []
            key = option.download(
                on_progress=updates.append, on_finalize=lambda: finalized.append(1)
            )
            return key, updates[-1].downloaded_bytes - option.size_bytes, len(finalized)

    assert await anyio.to_thread.run_sync(run) == ("smollm2-135m-instruct", 0, 1)


async def test_the_official_client_searches_and_downloads(server: LocalServer) -> None:
    def run() -> tuple[str, list[int], int]:
        finalized = []
        with lmstudio.Client(server.api_host) as client:
            results = client.repository.search_models("smollm2")
            option = results[0].get_download_options()[0]
            done: list[int] = []
            key = option.download(
                on_progress=lambda update: done.append(update.downloaded_bytes),
                on_finalize=lambda: finalized.append(1),
            )
            return key, done, option.info.size_bytes

    key, done, size = await anyio.to_thread.run_sync(run)
    assert key == "smollm2-135m-instruct"
    assert done == sorted(done) and done[-1] == size


async def test_a_test_control_reset_forgets_simulated_downloads() -> None:
    async with (
        LocalServer(port=0, test_control=True) as server,
        AsyncClient(server.api_host) as client,
    ):
        key = await (await _option(client, "smollm2", SMOLLM)).download()
        assert key in _listed_keys(server)
        async with aiohttp.ClientSession() as session:
            reset = await session.post(f"{server.url}/lmstudio-test/reset")
            assert reset.status == 200
        assert key not in _listed_keys(server)
        assert "llama-3.2-1b-instruct" in _listed_keys(server)
