"""``llm.act()``: the tool-use loop, run by the client as LM Studio's SDKs run it.

Each round is one prediction offering the tools. The model's tool calls are
checked, run, and recorded in a private copy of the chat as an assistant
message (its text plus the calls) and one ``tool`` message (the results, in
call order); then the next round starts. The loop ends after a round without
tool calls. With ``max_prediction_rounds`` the last round offers no tools, so
the model has to answer.

Running tools:

* async functions are awaited on the event loop; plain functions run in a
  worker thread (so the loop keeps serving other work). In the blocking API
  plain functions run in the thread that called ``act()``, one at a time.
* up to ``max_parallel_tool_calls`` calls of a round run at once (``None``: all).
* a tool's result goes back as JSON (``json.dumps``, non-ASCII kept; dataclasses,
  msgspec Structs and pydantic models are converted first). A tool that raises,
  or runs past its timeout (the tool's own, else ``tool_timeout``), answers with
  the error message, so the model can react, as in the official SDK.
* invalid requests (an unknown tool, arguments that do not fit the schema) go
  to ``handle_invalid_tool_request(error, request)``: it may return the text
  the model gets instead of the default message, or raise to stop ``act()``.
  A tool call the model failed to write (no request at all) and a tool call in
  the final round stop ``act()`` with :class:`LMStudioPredictionError` after the
  handler was told (as in the official SDK).

Cancelling ``act()`` cancels the running prediction on the server and every
running tool task (a plain function already running in a thread finishes on its
own; its result is dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import math
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio
import msgspec

from ..chat import Chat, ChatHistoryInput
from ..errors import LMStudioPredictionError, LMStudioValueError
from ..prediction import PredictionCallbacks
from .definitions import ClientTool, ToolProvider, resolve_tools, tools_setting
from .results import ActResult, PredictionRoundResult, ToolCallRequest, ToolCallResultData

if TYPE_CHECKING:
    from ..handles import AsyncLLM
    from ..predict_request import PredictionConfigInput

__all__ = ["run_act", "encode_tool_result"]

InvalidRequestHandler = Callable[[LMStudioPredictionError, ToolCallRequest | None], Any]


async def _call(callback: Callable[..., Any] | None, *args: Any) -> Any:
    if callback is None:
        return None
    result = callback(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


def _to_jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump") and callable(value.model_dump):
        return value.model_dump(mode="json")
    try:
        return msgspec.to_builtins(value)
    except TypeError:
        return str(value)


def encode_tool_result(value: Any) -> str:
    """A tool's return value as the model sees it."""
    return json.dumps(value, ensure_ascii=False, default=_to_jsonable)


class _Round:
    """Runs the tool calls of one round."""

    def __init__(
        self,
        tools: dict[str, ClientTool],
        handler: InvalidRequestHandler | None,
        default_timeout: float | None,
    ) -> None:
        self._tools = tools
        self._handler = handler
        self._default_timeout = default_timeout

    async def invalid(
        self, message: str, request: ToolCallRequest | None, exc: BaseException | None = None
    ) -> str:
        """The text for an invalid request (the handler's, if it gives one)."""
        if self._handler is not None:
            error = LMStudioPredictionError(message)
            error.__cause__ = exc
            replacement = await _call(self._handler, error, request)
            if isinstance(replacement, str):
                message = replacement
        if request is None:
            raise LMStudioPredictionError(message)
        return message

    async def run(self, request: ToolCallRequest) -> ToolCallResultData:
        def answer(content: str) -> ToolCallResultData:
            return ToolCallResultData(content=content, tool_call_id=request.id)

        tool = self._tools.get(request.name)
        if tool is None or tool.implementation is None:
            return answer(
                await self.invalid(f"Cannot find tool with name {request.name}.", request)
            )
        try:
            arguments = tool.check(request.arguments)
        except ValueError as exc:
            message = f"Failed to parse arguments for tool {request.name}: {exc}"
            return answer(await self.invalid(message, request, exc))
        limit = tool.timeout if tool.timeout is not None else self._default_timeout
        try:
            with anyio.fail_after(limit if limit is not None else math.inf):
                value = await tool.call(arguments)
            return answer(encode_tool_result(value))
        except TimeoutError as exc:
            message = f"Tool {request.name} did not finish within {limit} seconds."
            return answer(json.dumps(await self.invalid(message, request, exc), ensure_ascii=False))
        except Exception as exc:  # the tool's error goes back to the model
            message = f"Unhandled Python exception: {exc!r}"
            return answer(json.dumps(await self.invalid(message, request, exc), ensure_ascii=False))

    async def run_all(
        self, requests: list[ToolCallRequest], parallel: int | None
    ) -> list[ToolCallResultData]:
        results: list[ToolCallResultData | None] = [None] * len(requests)
        limiter = asyncio.Semaphore(parallel or len(requests))

        async def run_one(index: int) -> None:
            async with limiter:
                results[index] = await self.run(requests[index])

        tasks = [asyncio.ensure_future(run_one(index)) for index in range(len(requests))]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # A handler raised, or act() was cancelled: no tool task outlives the round.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [result for result in results if result is not None]


async def _open_tools(
    tools: Iterable[Any], stack: contextlib.AsyncExitStack
) -> dict[str, ClientTool]:
    if isinstance(tools, (str, bytes)) or callable(tools):
        raise LMStudioValueError("act() takes a list of tools.")
    plain: list[Any] = []
    for tool in tools:
        if isinstance(tool, ToolProvider):
            plain.extend(await stack.enter_async_context(tool.open_tools()))
        else:
            plain.append(tool)
    resolved = resolve_tools(plain)
    if not resolved:
        raise LMStudioValueError("act() needs at least one tool.")
    return resolved


def _check_limits(max_prediction_rounds: int | None, max_parallel_tool_calls: int | None) -> None:
    for name, value in (
        ("max_prediction_rounds", max_prediction_rounds),
        ("max_parallel_tool_calls", max_parallel_tool_calls),
    ):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise LMStudioValueError(f"{name} must be an integer >= 1 or None, not {value!r}.")


async def run_act(
    llm: AsyncLLM,
    chat: ChatHistoryInput,
    tools: Iterable[Any],
    *,
    max_prediction_rounds: int | None,
    max_parallel_tool_calls: int | None,
    config: PredictionConfigInput,
    preset: str | None,
    on_message: Callable[[Any], Any] | None,
    on_first_token: Callable[[int], Any] | None,
    on_prediction_fragment: Callable[[Any, int], Any] | None,
    on_round_start: Callable[[int], Any] | None,
    on_round_end: Callable[[int], Any] | None,
    on_prediction_completed: Callable[[PredictionRoundResult], Any] | None,
    on_prompt_processing_progress: Callable[[float, int], Any] | None,
    handle_invalid_tool_request: InvalidRequestHandler | None,
    tool_timeout: float | None,
    packet_timeout: float | None,
) -> ActResult:
    started = time.perf_counter()
    _check_limits(max_prediction_rounds, max_parallel_tool_calls)
    if tool_timeout is not None and not tool_timeout > 0:
        raise LMStudioValueError(f"tool_timeout must be > 0 seconds, not {tool_timeout!r}.")
    agent_chat = Chat.from_history(chat)
    final_round = -1 if max_prediction_rounds is None else max_prediction_rounds - 1
    round_index = 0

    def per_round(callback: Callable[..., Any] | None) -> Callable[..., Any] | None:
        if callback is None:
            return None
        return lambda *args: callback(*args, round_index)

    callbacks = PredictionCallbacks(
        on_first_token=per_round(on_first_token),
        on_prediction_fragment=per_round(on_prediction_fragment),
        on_prompt_processing_progress=per_round(on_prompt_processing_progress),
    )
    async with contextlib.AsyncExitStack() as stack:
        toolbox = await _open_tools(tools, stack)
        setting = tools_setting(toolbox.values())
        runner = _Round(toolbox, handle_invalid_tool_request, tool_timeout)
        rounds = (
            itertools.count() if max_prediction_rounds is None else range(max_prediction_rounds)
        )
        for round_index in rounds:
            await _call(on_round_start, round_index)
            final = round_index == final_round
            stream = llm._chat_stream(
                agent_chat,
                config,
                None,
                callbacks,
                packet_timeout,
                tools=None if final else setting,
                preset=preset,
            )
            result = await stream.wait_for_result()
            await _call(
                on_prediction_completed, PredictionRoundResult.from_result(result, round_index)
            )
            for error in result.tool_call_errors:
                await runner.invalid(error, None)
            requests = result.tool_call_requests
            if requests:
                answers = await runner.run_all(requests, max_parallel_tool_calls)
                requests_message = agent_chat.add_assistant_response(result.content, requests)
                results_message = agent_chat.add_tool_results(answers)
                await _call(on_message, requests_message)
                await _call(on_message, results_message)
            else:
                await _call(on_message, agent_chat.add_assistant_response(result.content))
            await _call(on_round_end, round_index)
            if not requests:
                break
            if final:
                await runner.invalid("Model requested tool use on final prediction round.", None)
    return ActResult(rounds=round_index + 1, total_time_seconds=time.perf_counter() - started)
