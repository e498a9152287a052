"""Behaviours as the official SDK's that need a server: the official's error wording where users
match on it, ``.type`` and ``.role`` on what the server returns, ``preset=``, and timeouts that
existing clients follow."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import lmstudio
import pytest

import lmstudio_async
import lmstudio_sync
from lmstudio_async import AsyncClient
from lmstudio_async.testing import ServerProcess

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"
NOMIC = "text-embedding-nomic-embed-text-v1.5"


@pytest.fixture
async def client(lmstudio_server: ServerProcess) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(lmstudio_server.api_host) as client:
        yield client


async def test_a_duplicate_identifier_is_the_officials_model_load_error(
    client: AsyncClient, lmstudio_server: ServerProcess
) -> None:
    await client.llm.load_new_instance(LLAMA, "dup")
    with pytest.raises(lmstudio_async.LMStudioServerError) as ours:
        await client.llm.load_new_instance(LLAMA, "dup")
    with (
        lmstudio.Client(lmstudio_server.api_host) as official_client,
        pytest.raises(lmstudio.LMStudioServerError) as official,
    ):
        official_client.llm.load_new_instance(LLAMA, "dup")
    pattern = r"Model load error:.*already exists"  # what users match on
    assert re.search(pattern, str(official.value), re.S)
    assert re.search(pattern, str(ours.value), re.S)


async def test_infos_and_messages_carry_type_and_role(client: AsyncClient) -> None:
    embedder = await client.embedding.model(NOMIC)
    assert (await embedder.get_info()).type == "embedding"
    llm = await client.llm.model(LLAMA)  # (just-in-time loading may evict the embedder)
    assert (await llm.get_info()).type == "llm"
    assert {m.type for m in await client.list_downloaded_models()} == {"llm", "embedding"}
    assert {m.info.type for m in await client.list_downloaded_models()} == {"llm", "embedding"}
    roles: list[str] = []
    await llm.respond("Hi", config={"maxTokens": 3}, on_message=lambda m: roles.append(m.role))
    assert roles == ["assistant"]


async def test_preset_is_accepted_and_an_unknown_one_is_the_officials_error(
    client: AsyncClient,
) -> None:
    llm = await client.llm.model(LLAMA)
    with pytest.raises(lmstudio_async.LMStudioPresetNotFoundError):
        await llm.respond("Hi", preset="no-such-preset")
    with pytest.raises(lmstudio_async.LMStudioPresetNotFoundError):
        await llm.complete("Hi", preset="no-such-preset")


def test_an_existing_sync_client_follows_the_sync_api_timeout(
    lmstudio_server: ServerProcess,
) -> None:
    before = lmstudio_sync.get_sync_api_timeout()
    with lmstudio_sync.Client(lmstudio_server.api_host) as client:
        try:
            lmstudio_sync.set_sync_api_timeout(None)
            assert client.timeout == float("inf")
            assert client.llm.list_loaded() == []  # no limit still answers
            lmstudio_sync.set_sync_api_timeout(42)
            assert client.timeout == 42
        finally:
            lmstudio_sync.set_sync_api_timeout(before)
