"""Loading in the engine itself: a cancelled load stops and leaves nothing in memory."""

from __future__ import annotations

import asyncio
import threading

import pytest

from .bundled import bundled_gguf_or_skip

pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")

from lmstudio_async.protocol import (
    KVConfig,
    KVConfigField,
    KVConfigStack,
    KVConfigStackLayer,
    LlmInfo,
)
from lmstudio_async.server.config import ServerConfig
from lmstudio_async.server.engines.llama_cpp import LlamaCppEngine
from lmstudio_async.server.engines.load_settings import resolve_load_settings

from .conftest import resident_memory

bundled_gguf_or_skip()

pytestmark = pytest.mark.anyio

_MIB = 1024 * 1024


def _loading_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("llama-cpp")]


async def test_a_cancelled_load_is_abandoned_and_freed() -> None:
    engine = LlamaCppEngine(ServerConfig(engine="llama-cpp"))
    (info,) = [info for info in engine.list_models() if isinstance(info, LlmInfo)]
    layer = KVConfigStackLayer(
        layer_name="apiOverride",
        config=KVConfig(fields=[KVConfigField(key="llm.load.contextLength", value=8192)]),
    )
    settings = resolve_load_settings(info, KVConfigStack(layers=[layer]))
    before = resident_memory()
    progress: list[float] = []

    async def cancel_at_first_progress(value: float) -> None:
        progress.append(value)
        task = asyncio.current_task()
        assert task is not None
        task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await engine.load(info, settings, cancel_at_first_progress)
    for thread in _loading_threads():
        await asyncio.to_thread(thread.join, 10)
    assert not _loading_threads()
    assert len(progress) == 1 and progress[0] < 1.0
    # A finished load would hold the weights plus a 180 MiB KV cache.
    assert resident_memory() - before < 60 * _MIB
