from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lmstudio_async.server import LocalServer


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    """An in-process server with test control on."""
    async with LocalServer(port=0, test_control=True) as running:
        yield running
