"""The batch scheduler's invariants over varied outcomes, with a runner that needs no server."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmstudio_async import (
    LMStudioClientError,
    LMStudioModelNotFoundError,
    LMStudioPredictionError,
    LMStudioTimeoutError,
    LMStudioValueError,
    LMStudioWebsocketError,
)
from lmstudio_async.batch import AsyncBatchResults, RetryPolicy, is_transient
from lmstudio_async.batch.scheduler import Attempt, collect

#: Per item, the outcome of each attempt in turn: "ok", "transient", "permanent", "moved".
Script = list[list[str]]

OUTCOME = st.sampled_from(["ok", "transient", "permanent", "moved"])


class ScriptedRunner:
    """Each attempt of item i takes a few loop steps, then does what the script says."""

    def __init__(self, script: Script, steps: list[int]) -> None:
        self.script = script
        self.steps = steps
        self.calls: dict[int, int] = {}
        self.running = 0
        self.most_running = 0

    async def run(self, item: int, attempt: Attempt) -> Any:
        attempt.host = f"host-{item % 3}"
        outcomes = self.script[item]
        outcome = outcomes[min(self.calls.get(item, 0), len(outcomes) - 1)]
        self.calls[item] = self.calls.get(item, 0) + 1
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            for _ in range(self.steps[item]):
                await asyncio.sleep(0)
        finally:
            self.running -= 1
        if outcome == "transient":
            raise LMStudioTimeoutError("slow")
        if outcome == "permanent":
            raise LMStudioPredictionError("bad")
        if outcome == "moved":
            attempt.moved = True
            raise LMStudioWebsocketError("host died")
        return f"reply {item}"


def _expected(outcomes: list[str], max_retries: int) -> tuple[bool, int]:
    """Whether the item ends ok, and after how many attempts."""
    retries = moves = 0
    attempt = 0
    while True:
        outcome = outcomes[min(attempt, len(outcomes) - 1)]
        attempt += 1
        if outcome == "ok":
            return True, attempt
        if outcome == "moved" and moves < 8:
            moves += 1
            continue
        if outcome in ("transient", "moved") and retries < max_retries:
            retries += 1
            continue
        return False, attempt


@settings(max_examples=60, deadline=None)
@given(
    script=st.lists(st.lists(OUTCOME, min_size=1, max_size=4), min_size=0, max_size=25),
    window=st.integers(1, 6),
    max_retries=st.integers(0, 3),
    data=st.data(),
)
def test_every_item_gets_exactly_one_result_as_its_script_says(
    script: Script, window: int, max_retries: int, data: st.DataObject
) -> None:
    steps = data.draw(st.lists(st.integers(0, 5), min_size=len(script), max_size=len(script)))
    runner = ScriptedRunner(script, steps)
    pulled = 0
    seen: list[int] = []

    def items() -> Any:
        nonlocal pulled
        for index in range(len(script)):
            pulled += 1
            yield index

    def on_result(result: Any) -> None:
        seen.append(result.index)
        assert pulled - len(seen) <= window  # only the window is ever held

    async def main() -> list[Any]:
        batch = AsyncBatchResults(
            items(),
            runner,
            window=window,
            retry=RetryPolicy(max_retries, base_delay=0.0),
            on_result=on_result,
        )
        return await collect(batch)

    results = asyncio.run(main())
    assert [r.index for r in results] == list(range(len(script)))
    assert sorted(seen) == list(range(len(script)))
    assert runner.most_running <= window
    for result, outcomes in zip(results, script, strict=True):
        ok, attempts = _expected(outcomes, max_retries)
        assert (result.ok, result.attempts) == (ok, attempts)
        assert result.host == f"host-{result.index % 3}"
        assert (result.error is None) == ok


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (LMStudioTimeoutError("slow"), True),
        (LMStudioWebsocketError("lost"), True),
        (LMStudioValueError("bad input"), False),
        (LMStudioModelNotFoundError("no such model"), False),
        (LMStudioPredictionError("the model failed"), False),
        (LMStudioClientError("no model loaded"), False),
    ],
)
def test_which_errors_are_transient(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient


def test_unreachable_and_busy_servers_are_transient() -> None:
    unreachable = LMStudioClientError("not reachable")
    unreachable.__cause__ = ConnectionRefusedError()
    assert is_transient(unreachable)
    for status, transient in ((503, True), (429, True), (404, False)):
        refused = LMStudioClientError("refused the websocket")
        refused.__cause__ = aiohttp.WSServerHandshakeError(
            request_info=None,  # type: ignore[arg-type]
            history=(),
            status=status,
        )
        assert is_transient(refused) is transient


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(5, base_delay=0.5, max_delay=2.0)
    delays = [policy.delay(n) for n in range(1, 6)]
    assert 0.25 <= delays[0] <= 0.5
    assert all(0.5 * min(2.0, 0.5 * 2 ** (n - 1)) <= d <= 2.0 for n, d in enumerate(delays, 1))
