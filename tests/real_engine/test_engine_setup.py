"""Choosing the llama-cpp engine: missing dependencies, ``--models-dir``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import lmstudio
import pytest

from lmstudio_async.server.__main__ import build_parser, main
from lmstudio_async.server.config import ServerConfig
from lmstudio_async.server.engines import create_engine
from lmstudio_async.server.engines.llama_cpp import EngineUnavailableError
from lmstudio_async.testing.process import ServerProcess

from .bundled import bundled_gguf_or_skip
from .gguf_files import llm_metadata, write_gguf


def test_without_llama_cpp_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes the import fail
    with pytest.raises(EngineUnavailableError, match=r'pip install -e "\.\[server\]"'):
        create_engine(ServerConfig(engine="llama-cpp"))


def test_models_dir_needs_the_llama_cpp_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["--models-dir", str(tmp_path)])
    assert "--models-dir needs --engine llama-cpp" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--models-dir", str(tmp_path / "missing")])
    assert "no such directory" in capsys.readouterr().err


def test_a_models_directory_is_served(
    tmp_path: Path,
    lmstudio_server_factory: Callable[..., ServerProcess],
) -> None:
    pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")
    bundled = bundled_gguf_or_skip()
    target = tmp_path / "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/smollm2-135m-instruct-q4_1.gguf"
    target.parent.mkdir(parents=True)
    os.symlink(str(bundled), target)
    write_gguf(
        tmp_path / "nomic-ai/nomic-embed-text-v1.5-GGUF/nomic-embed-text-v1.5.Q4_K_M.gguf",
        {"general.architecture": "nomic-bert", "nomic-bert.context_length": 2048},
    )
    write_gguf(tmp_path / "acme/Tiny-GGUF/Tiny-F16.gguf", llm_metadata("Tiny"))
    server = lmstudio_server_factory("--engine", "llama-cpp", "--models-dir", str(tmp_path))
    with lmstudio.Client(server.api_host) as client:
        listed = {model.model_key: model.type for model in client.list_downloaded_models()}
        assert listed == {
            "smollm2-135m-instruct": "llm",
            "text-embedding-nomic-embed-text-v1.5": "embedding",
            "tiny": "llm",
        }
        llm = client.llm.model("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF")
        assert llm.identifier == "smollm2-135m-instruct"
        reply = llm.respond("Hi", config={"temperature": 0, "maxTokens": 3})
        assert reply.stats.predicted_tokens_count == 3
        with pytest.raises(lmstudio.LMStudioServerError, match="Failed to load"):
            client.llm.model("tiny")


_EMBED_QUIETLY = """
import asyncio
from lmstudio_async import AsyncClient
from lmstudio_async.server import LocalServer, ServerConfig

async def main():
    async with LocalServer(ServerConfig(port=0, engine="llama-cpp")) as server:
        async with AsyncClient(server.api_host) as client:
            model = await client.embedding.model("text-embedding-smollm2-135m-instruct")
            print(len(await model.embed("hi")))

asyncio.run(main())
"""


def test_loading_an_embedding_model_prints_no_llama_cpp_notices() -> None:
    pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")
    bundled_gguf_or_skip()
    done = subprocess.run(
        [sys.executable, "-c", _EMBED_QUIETLY],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "576"
    # llama.cpp notes that it was asked for mean pooling: our choice, not the user's concern.
    assert "pooling_type" not in done.stderr
    assert done.stderr == ""
