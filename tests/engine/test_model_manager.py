from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from lmstudio_async.protocol import (
    CODE_DOMAIN_MISMATCH,
    CODE_NO_MODEL_MATCHING_QUERY,
    CODE_PATH_NOT_FOUND,
    InstanceReferenceSpecifier,
    ModelInfo,
    ModelInstanceInfo,
    ModelQuery,
    QuerySpecifier,
)
from lmstudio_async.server.api import ServerError
from lmstudio_async.server.config import ServerConfig
from lmstudio_async.server.models import Instance, ModelManager
from tests.eventually import eventually

from .helpers import ProgressLog, stack

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"
QWEN = "qwen2.5-7b-instruct"
NOMIC = "text-embedding-nomic-embed-text-v1.5"


@pytest.fixture
async def manager() -> AsyncIterator[ModelManager]:
    models = ModelManager(ServerConfig(load_time=0.0))
    await models.start()
    yield models
    await models.aclose()


async def _load(models: ModelManager, key: str, domain: str = "llm", **kwargs: Any) -> Instance:
    info, _ = models.resolve_model(key, domain)
    return await models.load(info, load_config_stack=stack(), progress=ProgressLog(), **kwargs)


class Recorder:
    """A getOrLoad observer that records events in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    async def start_loading(self, identifier: str, info: ModelInfo) -> None:
        self.events.append(("start", identifier))

    async def unloading_other(self, info: ModelInstanceInfo) -> None:
        self.events.append(("evict", info.identifier))

    async def progress(self, progress: float) -> None:
        self.events.append(("progress", progress))


def _error_code(error: ServerError) -> object:
    return (error.display_data or {}).get("code")


async def test_default_identifiers_count_up_and_reuse_freed_ones(manager: ModelManager) -> None:
    first, second, third = [await _load(manager, LLAMA) for _ in range(3)]
    assert [first.identifier, second.identifier, third.identifier] == [
        LLAMA,
        f"{LLAMA}:2",
        f"{LLAMA}:3",
    ]
    assert len({first.reference, second.reference, third.reference}) == 3
    await manager.unload(f"{LLAMA}:2", "llm")
    assert (await _load(manager, LLAMA)).identifier == f"{LLAMA}:2"


async def test_an_explicit_duplicate_identifier_is_refused(manager: ModelManager) -> None:
    await _load(manager, LLAMA, identifier="mine")
    with pytest.raises(ServerError, match='identifier "mine" already exists') as caught:
        await _load(manager, QWEN, identifier="mine")
    # LM Studio's title alone.
    error = caught.value
    assert (error.cause, error.suggestion, error.display_data) == (None, None, None)


async def test_concurrent_loads_never_share_an_identifier(manager: ModelManager) -> None:
    instances = await asyncio.gather(*(_load(manager, LLAMA) for _ in range(4)))
    assert len({instance.identifier for instance in instances}) == 4


@pytest.mark.parametrize(
    "name",
    [
        QWEN,
        "QWEN2.5-7B-INSTRUCT",
        "lmstudio-community/Qwen2.5-7B-Instruct-GGUF",
        "lmstudio-community/Qwen2.5-7B-Instruct-GGUF/Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        f"lmstudio-community/{QWEN}",
    ],
)
async def test_a_model_is_found_by_key_path_or_repository(manager: ModelManager, name: str) -> None:
    info, ambiguous = manager.resolve_model(name, "llm")
    assert (info.model_key, ambiguous) == (QWEN, [])


@pytest.mark.parametrize(
    ("name", "domain", "key"),
    [
        ("hugging-quants/llama-3.2-1b-instruct", "llm", LLAMA),
        ("nomic-ai/nomic-embed-text-v1.5", "embedding", NOMIC),
        ("nomic-ai/nomic-embed-text-v1.5-GGUF", "embedding", NOMIC),
        ("lmstudio-community/Qwen2.5-7B-Instruct-GGUF/Qwen2.5-7B-Instruct", "llm", QWEN),
    ],
)
async def test_publisher_model_names_and_path_prefixes_resolve_as_in_lm_studio(
    manager: ModelManager, name: str, domain: str, key: str
) -> None:
    info, _ = manager.resolve_model(name, domain)
    assert info.model_key == key


async def test_instance_queries_accept_every_name_of_the_loaded_model(
    manager: ModelManager,
) -> None:
    llama = await _load(manager, LLAMA)
    mine = await _load(manager, QWEN, identifier="mine")
    nomic = await _load(manager, NOMIC, "embedding")

    def find(domain: str = "llm", **query: Any) -> Instance:
        return manager.find(QuerySpecifier(query=ModelQuery(**query)), domain)

    assert find(identifier="hugging-quants/llama-3.2-1b-instruct") is llama
    assert find(identifier=QWEN) is mine
    assert find(identifier="mine") is mine
    assert find("embedding", identifier="nomic-ai/nomic-embed-text-v1.5") is nomic
    assert find(path="hugging-quants/llama-3.2-1b-instruct") is llama
    with pytest.raises(ServerError):
        find(identifier="someone-else/llama-3.2-1b-instruct")


async def test_an_exact_identifier_wins_over_a_model_name(manager: ModelManager) -> None:
    # The first instance is named after another model's key; the query means the identifier.
    decoy = await _load(manager, LLAMA, identifier=QWEN)
    qwen = await _load(manager, QWEN)
    assert qwen.identifier == f"{QWEN}:2"
    found = manager.find(QuerySpecifier(query=ModelQuery(identifier=QWEN)), "llm")
    assert found is decoy


async def test_unknown_and_wrong_domain_models_have_classified_errors(
    manager: ModelManager,
) -> None:
    with pytest.raises(ServerError) as missing:
        manager.resolve_model("qwen2.5-7b-instruc", "llm")
    assert _error_code(missing.value) == CODE_PATH_NOT_FOUND
    assert missing.value.suggestion is not None
    assert QWEN in missing.value.suggestion
    with pytest.raises(ServerError) as mismatch:
        manager.resolve_model(NOMIC, "llm")
    assert _error_code(mismatch.value) == CODE_DOMAIN_MISMATCH
    assert (mismatch.value.display_data or {})["actualDomain"] == "embedding"


async def test_queries_select_loaded_models_of_the_namespace(manager: ModelManager) -> None:
    llama = await _load(manager, LLAMA)
    nomic = await _load(manager, NOMIC, "embedding")
    vision = await _load(manager, "qwen2-vl-2b-instruct")

    def find(domain: str = "llm", **query: Any) -> Instance:
        return manager.find(QuerySpecifier(query=ModelQuery(**query)), domain)

    assert find() is llama
    assert find("embedding") is nomic
    assert find(vision=True) is vision
    assert find(path="lmstudio-community/Qwen2-VL-2B-Instruct-GGUF") is vision
    assert manager.find(InstanceReferenceSpecifier(instance_reference=nomic.reference), "embedding")
    with pytest.raises(ServerError) as wrong_domain:
        find(identifier=NOMIC)
    assert _error_code(wrong_domain.value) == CODE_NO_MODEL_MATCHING_QUERY
    display = wrong_domain.value.display_data or {}
    assert display["query"] == {"identifier": NOMIC}
    assert display["totalLoadedModels"] == 2


async def test_unloading_an_unknown_identifier_is_a_not_found_error(
    manager: ModelManager,
) -> None:
    await _load(manager, LLAMA)
    with pytest.raises(ServerError) as caught:
        await manager.unload("llama-3.2-1b-instrct", "llm")
    assert _error_code(caught.value) == CODE_NO_MODEL_MATCHING_QUERY
    assert caught.value.suggestion == f'Did you mean "{LLAMA}"?'


async def test_an_idle_instance_expires_after_its_ttl(manager: ModelManager) -> None:
    short = await _load(manager, LLAMA, ttl_ms=100)
    kept = await _load(manager, QWEN)
    await eventually(lambda: manager.loaded() == [kept])
    assert short.unloaded


async def test_use_resets_the_idle_timer_and_busy_instances_do_not_expire(
    manager: ModelManager,
) -> None:
    instance = await _load(manager, LLAMA, ttl_ms=400)
    specifier = QuerySpecifier(query=ModelQuery(identifier=LLAMA))
    for _ in range(6):
        await anyio.sleep(0.1)
        manager.find(specifier, "llm")
    assert manager.loaded() == [instance]
    with manager.activity(instance, "generating"):
        await anyio.sleep(0.6)
        assert manager.loaded() == [instance]
        assert instance.status == "generating"
    assert instance.status == "idle"
    await eventually(lambda: manager.loaded() == [])


async def test_get_or_load_matches_identifier_then_key_then_path(manager: ModelManager) -> None:
    named = await _load(manager, LLAMA, identifier="my-llama")
    recorder = Recorder()
    for name in ("my-llama", LLAMA, "hugging-quants/llama-3.2-1b-instruct"):
        found, loaded = await manager.get_or_load(
            name, "llm", load_config_stack=stack(), observer=recorder
        )
        assert (found, loaded) == (named, False)
    assert recorder.events == []


async def test_get_or_load_keeps_the_ttl_of_an_existing_instance(manager: ModelManager) -> None:
    existing = await _load(manager, LLAMA, ttl_ms=60_000)
    found, _ = await manager.get_or_load(
        LLAMA, "llm", load_config_stack=stack(), observer=Recorder(), ttl_ms=1000
    )
    assert found is existing
    assert existing.ttl_ms == 60_000


async def test_jit_loads_evict_previous_jit_instances_of_any_domain(
    manager: ModelManager,
) -> None:
    manual = await _load(manager, QWEN)
    nomic, loaded = await manager.get_or_load(
        NOMIC, "embedding", load_config_stack=stack(), observer=Recorder(), ttl_ms=5000
    )
    assert loaded
    assert nomic.jit
    assert nomic.ttl_ms == 5000
    recorder = Recorder()
    llama, loaded = await manager.get_or_load(
        LLAMA, "llm", load_config_stack=stack(), observer=recorder
    )
    assert loaded
    assert recorder.events[:2] == [("start", LLAMA), ("evict", NOMIC)]
    assert [value for kind, value in recorder.events[2:] if kind == "progress"][-1] == 1.0
    assert manager.loaded() == [manual, llama]


async def test_without_auto_evict_jit_instances_accumulate() -> None:
    models = ModelManager(ServerConfig(load_time=0.0, jit_auto_evict=False))
    await models.start()
    try:
        for key in (LLAMA, QWEN):
            await models.get_or_load(key, "llm", load_config_stack=stack(), observer=Recorder())
        assert len(models.loaded()) == 2
    finally:
        await models.aclose()


async def test_concurrent_get_or_load_calls_load_the_model_once(manager: ModelManager) -> None:
    results = await asyncio.gather(
        *(
            manager.get_or_load(LLAMA, "llm", load_config_stack=stack(), observer=Recorder())
            for _ in range(3)
        )
    )
    assert len({id(instance) for instance, _ in results}) == 1
    assert sorted(loaded for _, loaded in results) == [False, False, True]


async def test_reset_unloads_everything(manager: ModelManager) -> None:
    instance = await _load(manager, LLAMA)
    await manager.reset()
    assert manager.loaded() == []
    assert instance.unloaded


async def test_cancelling_a_load_frees_its_identifier() -> None:
    models = ModelManager(ServerConfig(load_time=10.0))
    await models.start()
    try:
        for _ in range(2):
            # The second round would fail at once with "already exists" if the first leaked.
            task = asyncio.create_task(_load(models, LLAMA, identifier="slow"))
            await anyio.sleep(0.05)
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert models.loaded() == []
    finally:
        await models.aclose()
