"""Prediction streams and results (the ``predict`` channel, PROTOCOL.md 6.2 and 10).

``AsyncPredictionStream`` is an async iterable of fragments. Iterating it
returns a fresh async generator, so leaving the loop early in any way (``break``,
an exception, task cancellation) finalises that generator, which cancels the
prediction on the server and frees the channel. ``aclose()`` and ``async with``
do the same explicitly.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from typing_extensions import Self

from .callbacks import Callback, Callback0, ProgressReporter, invoke
from .config import LLM_LOAD_CONFIG, LLM_PREDICTION_CONFIG, LlmLoadModelConfig, LlmPredictionConfig
from .errors import LMStudioCancelledError, LMStudioChannelClosedError, LMStudioPredictionError
from .protocol import (
    AssistantMessage,
    FilePart,
    FragmentPacket,
    FunctionToolCallRequest,
    LlmInstanceInfo,
    LlmPredictionFragment,
    LlmPredictionStats,
    PredictionErrorPacket,
    PredictionSuccess,
    PredictPacket,
    PromptProcessingProgressPacket,
    TextPart,
    ToolCallRequestPart,
)
from .structured import ResponseSchema
from .tools.calls import TOOL_CALL_PACKETS, ToolCallCollector

if TYPE_CHECKING:
    from .transport.channel import Channel

__all__ = ["AsyncPredictionStream", "PredictionResult", "PredictionCallbacks"]

logger = logging.getLogger("lmstudio_async")

_UNPARSED: Any = object()


@dataclass(frozen=True)
class PredictionCallbacks:
    """User callbacks of one prediction; each may be a plain or an async function."""

    on_message: Callback[AssistantMessage] | None = None
    on_first_token: Callback0 | None = None
    on_prediction_fragment: Callback[LlmPredictionFragment] | None = None
    on_prompt_processing_progress: Callback[float] | None = None


@dataclass
class PredictionResult:
    """A finished prediction. ``str(result)`` is its text."""

    content: str
    stats: LlmPredictionStats
    model_info: LlmInstanceInfo
    load_config: LlmLoadModelConfig
    prediction_config: LlmPredictionConfig
    #: Whether structured output was requested (then see :attr:`parsed`).
    structured: bool = False
    #: The tool calls the model requested (when tools were offered), in order, unexecuted.
    tool_call_requests: list[FunctionToolCallRequest] = field(default_factory=list)
    #: One message per tool call the model tried but failed to write correctly.
    tool_call_errors: list[str] = field(default_factory=list)
    _schema: ResponseSchema | None = field(default=None, repr=False, compare=False)
    _parsed: Any = field(default=_UNPARSED, repr=False, compare=False)

    def __str__(self) -> str:
        return self.content

    @property
    def parsed(self) -> Any:
        """The reply decoded per ``response_format``: an instance of the class given, or
        JSON values for a schema dict. Without structured output, the text itself.

        Raises :class:`LMStudioValueError` if the reply does not decode (the text
        stays available as :attr:`content`).
        """
        if self._parsed is _UNPARSED:
            self._parsed = (
                self.content if self._schema is None else self._schema.parse(self.content)
            )
        return self._parsed


class AsyncPredictionStream:
    """A prediction in progress: ``async for fragment in stream``, then ``await stream.result()``.

    The prediction starts on first use (iteration, ``await stream``, ``async with``,
    :meth:`wait_for_result`).
    """

    def __init__(
        self,
        open_channel: Callable[[], Awaitable[Channel[PredictPacket]]],
        *,
        label: str,
        callbacks: PredictionCallbacks,
        schema: ResponseSchema | None,
    ) -> None:
        self._open_channel = open_channel
        self._label = label
        self._callbacks = callbacks
        self._schema = schema
        self._channel: Channel[PredictPacket] | None = None
        self._parts: list[str] = []
        self._result: PredictionResult | None = None
        self._error: BaseException | None = None
        self._iterating = False
        self._cancelled = False
        self._got_first_token = False
        self._tool_calls = ToolCallCollector()
        self._prompt_progress = ProgressReporter(callbacks.on_prompt_processing_progress)

    def __repr__(self) -> str:
        state = "done" if self._result else "running" if self._channel else "not started"
        return f"<AsyncPredictionStream {self._label} {state}>"

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Send the prediction request (done implicitly on first use)."""
        if self._channel is None and self._result is None:
            self._channel = await self._open_channel()

    def __await__(self) -> Generator[Any, None, Self]:
        """``stream = await llm.respond_stream(...)`` starts it, as the official SDK does."""

        async def started() -> Self:
            await self.start()
            return self

        return started().__await__()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the prediction on the server if it is still running, and free its channel."""
        self._abandon()

    def _abandon(self) -> None:
        channel = self._channel
        if channel is not None and self._result is None:
            channel.cancel_soon()
            channel.close()

    async def cancel(self) -> None:
        """Ask the server to stop generating. The stream then ends normally, with
        ``result().stats.stop_reason == "userStopped"`` and the text generated so far."""
        await self.start()
        if self._result is None and self._channel is not None and not self._cancelled:
            self._cancelled = True
            await self._channel.cancel()

    # --- results -------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._result is not None

    async def wait_for_result(self) -> PredictionResult:
        """Run the prediction to its end (callbacks still fire) and return its result."""
        if self._result is None:
            async for _ in self:
                pass
        assert self._result is not None
        return self._result

    async def result(self) -> PredictionResult:
        """The result; if fragments remain unread, they are consumed first."""
        return await self.wait_for_result()

    @property
    def stats(self) -> LlmPredictionStats | None:
        return self._result.stats if self._result is not None else None

    @property
    def model_info(self) -> LlmInstanceInfo | None:
        return self._result.model_info if self._result is not None else None

    # --- iteration ------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[LlmPredictionFragment]:
        if self._iterating:
            raise RuntimeError("This prediction stream is already being iterated.")
        return self._fragments()

    async def _fragments(self) -> AsyncIterator[LlmPredictionFragment]:
        self._iterating = True
        try:
            while fragments := await self.next_batch():
                for fragment in fragments:
                    yield fragment
        except GeneratorExit:  # the consumer left early: break, exception, or aclose()
            self._abandon()
            raise
        finally:
            self._iterating = False

    async def next_batch(self) -> list[LlmPredictionFragment]:
        """Every fragment that has arrived, waiting for at least one; ``[]`` once the
        prediction is over. Callbacks fire as they do during iteration.

        Lets a consumer take many fragments per wake-up (the blocking API pulls
        fragments across threads this way).
        """
        if self._error is not None:
            raise self._error
        if self._result is not None:
            return []
        try:
            await self.start()
            channel = self._channel
            assert channel is not None
            while True:
                batch: list[PredictPacket | None] = [*await channel.receive_batch()]
                fragments = []
                for packet in batch or [None]:
                    fragment = await self._handle(packet)
                    if fragment is not None:
                        fragments.append(fragment)
                if self._result is not None:
                    channel.close()
                    return fragments
                if fragments:
                    return fragments
        except BaseException as exc:
            self._abandon()
            self._error = (
                LMStudioCancelledError(f"The {self._label} was cancelled before it finished.")
                if isinstance(exc, asyncio.CancelledError)
                else exc
            )
            raise

    async def _handle(self, packet: PredictPacket | None) -> LlmPredictionFragment | None:
        """Process one packet; returns the fragment to yield, if any."""
        if type(packet) is FragmentPacket:
            if self._cancelled:
                return None  # the server may still send a few; the user asked to stop
            fragment = packet.fragment
            self._parts.append(fragment.content)
            callbacks = self._callbacks
            if not self._got_first_token:
                self._got_first_token = True
                await self._prompt_progress.finish()
                if callbacks.on_first_token is not None:
                    result = callbacks.on_first_token()
                    if inspect.isawaitable(result):
                        await result
            if callbacks.on_prediction_fragment is not None:
                await invoke(callbacks.on_prediction_fragment, fragment)
            return fragment
        if isinstance(packet, PromptProcessingProgressPacket):
            await self._prompt_progress.report(packet.progress)
        elif isinstance(packet, PredictionSuccess):
            await self._finish(packet)
        elif isinstance(packet, PredictionErrorPacket):
            raise LMStudioPredictionError.from_wire(self._label, packet.error)
        elif isinstance(packet, TOOL_CALL_PACKETS):
            self._tool_calls.handle(packet)
        elif packet is None:
            raise LMStudioChannelClosedError(
                f"LM Studio ended the {self._label} without a result (the prediction failed "
                "on the server; check its logs)."
            )
        return None

    async def _finish(self, success: PredictionSuccess) -> None:
        content = "".join(self._parts)
        self._result = PredictionResult(
            content=content,
            stats=success.stats,
            model_info=success.model_info,
            load_config=LLM_LOAD_CONFIG.from_kv_config(success.load_model_config),
            prediction_config=LLM_PREDICTION_CONFIG.from_kv_config(success.prediction_config),
            structured=self._schema is not None,
            tool_call_requests=self._tool_calls.requests,
            tool_call_errors=self._tool_calls.errors,
            _schema=self._schema,
        )
        if self._callbacks.on_message is not None:
            parts: list[TextPart | FilePart | ToolCallRequestPart] = [TextPart(text=content)]
            parts.extend(
                ToolCallRequestPart(tool_call_request=r) for r in self._tool_calls.requests
            )
            await invoke(self._callbacks.on_message, AssistantMessage(content=parts))
