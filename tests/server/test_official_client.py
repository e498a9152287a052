"""The official ``lmstudio`` 1.5.0 client works against our server."""

from __future__ import annotations

import anyio
import lmstudio
import pytest

from lmstudio_async.server import LocalServer

pytestmark = pytest.mark.conformance


@pytest.mark.anyio
async def test_official_client_lists_downloaded_models(server: LocalServer) -> None:
    def list_models() -> list[str]:
        with lmstudio.Client(server.api_host) as client:
            return [model.model_key for model in client.list_downloaded_models()]

    keys = await anyio.to_thread.run_sync(list_models)
    assert keys == [info.model_key for info in server.state.models.list_downloaded()]
