"""``stream.result()`` in the blocking API after a stream is left early, or run to its end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

import lmstudio_sync as lms
from lmstudio_async.testing import ServerProcess

from .test_runtime import LLAMA, cancels


@pytest.fixture
def slow(lmstudio_server_factory: Any) -> Iterator[tuple[lms.LLM, ServerProcess]]:
    server = lmstudio_server_factory("--token-delay", "0.01", "--reply-tokens", "200:200")
    with lms.Client(server.api_host) as client:
        yield client.llm.model(LLAMA), server


def test_cancel_then_break_leaves_the_text_so_far_in_result(
    slow: tuple[lms.LLM, ServerProcess],
) -> None:
    llm, server = slow
    stream = llm.respond_stream("A very long story")
    seen = []
    for fragment in stream:
        seen.append(fragment.content)
        if len(seen) == 4:
            stream.cancel()
            break
    result = stream.result()
    assert result.stats.stop_reason == "userStopped"
    assert result.content.startswith("".join(seen))
    assert (result.stats.predicted_tokens_count or 0) < 200
    time.sleep(0.2)
    assert len(cancels(server)) == 1


def test_cancel_inside_the_loop_ends_it_with_the_result(
    slow: tuple[lms.LLM, ServerProcess],
) -> None:
    llm, _ = slow
    stream = llm.respond_stream("Stop, then finish the loop")
    seen = []
    for fragment in stream:
        seen.append(fragment.content)
        if len(seen) == 4:
            stream.cancel()
    assert stream.result().stats.stop_reason == "userStopped"
    assert stream.result().content.startswith("".join(seen))


def test_result_without_iterating_waits_for_the_end(lmstudio_server: ServerProcess) -> None:
    """As the official documentation's example calls it: no loop before ``result()``."""
    with lms.Client(lmstudio_server.api_host) as client:
        llm = client.llm.model(LLAMA)
        iterated = llm.respond_stream("Answer me")
        text = "".join(fragment.content for fragment in iterated)
        assert iterated.result().content == text
        assert llm.respond_stream("Answer me").result().content == text
        assert llm.respond_stream("Answer me").wait_for_result().content == text
