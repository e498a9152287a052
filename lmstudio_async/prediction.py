"""Prediction streams (the ``predict`` channel, PROTOCOL.md 6.2 and 10).

``AsyncPredictionStream`` is an async iterable of fragments. Iterating it
returns a fresh async generator, so leaving the loop early in any way (``break``,
an exception, task cancellation) finalises that generator, which cancels the
prediction on the server and frees the channel. ``aclose()`` and ``async with``
do the same explicitly. ``await stream.cancel()`` instead stops the prediction
and waits for its end, so that ``stream.result()`` then holds the text so far.
"""

# The hot path is AsyncPredictionStream.next_batch: it takes every packet the channel
# has received at once, collects plain fragments inline, and hands every other packet
# to AsyncPredictionStream._handle, the one place where each packet type is dealt with.

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from typing_extensions import Self

from .callbacks import ProgressReporter, invoke
from .errors import (
    LMStudioCancelledError,
    LMStudioChannelClosedError,
    LMStudioPredictionError,
    LMStudioRuntimeError,
)
from .prediction_result import PredictionCallbacks, PredictionResult
from .protocol import (
    AssistantMessage,
    FilePart,
    FragmentPacket,
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

#: Iteration decodes at most this many frames at a time (a bound on the memory a backlog's
#: decoded packets take). Fragments and their packets are not GC-capable (``gc=False``):
#: alive in thousands they would otherwise count towards the cyclic GC's next collection,
#: which a bare one-at-a-time loop never sets off. Fewer, larger pulls are cheaper: with
#: 64 frames per pull, a client-bound stream cost about 5% more CPU per fragment.
_ITERATION_BATCH = 1024


class AsyncPredictionStream:
    """A prediction in progress: ``async for fragment in stream``, then ``stream.result()``.

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
        #: Dropped once the channel is open: it holds the whole request, which a stream
        #: need not keep alive (with a thousand streams, fewer live objects is less GC).
        self._open_channel: Callable[[], Awaitable[Channel[PredictPacket]]] | None = open_channel
        self._label = label
        self._callbacks = callbacks
        self._schema = schema
        self._channel: Channel[PredictPacket] | None = None
        self._parts: list[str] = []
        self._result: PredictionResult | None = None
        self._error: BaseException | None = None
        #: The task taking packets from the channel right now, if any (only one may).
        self._puller: asyncio.Task[Any] | None = None
        #: Resolved when the puller lets go or the prediction ends, for tasks waiting on it.
        self._changed: asyncio.Future[None] | None = None
        self._cancelled = False
        self._got_first_token = False
        #: Made on the first tool-call packet (most predictions have none).
        self._tool_calls: ToolCallCollector | None = None
        #: Fragments need nothing but collecting (no callback, first token seen, not cancelled).
        self._plain_fragments = False
        on_progress = callbacks.on_prompt_processing_progress
        self._prompt_progress = None if on_progress is None else ProgressReporter(on_progress)

    def __repr__(self) -> str:
        state = "done" if self._result else "running" if self._channel else "not started"
        return f"<AsyncPredictionStream {self._label} {state}>"

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Send the prediction request (done implicitly on first use)."""
        open_channel = self._open_channel
        if open_channel is not None and self._result is None and self._error is None:
            self._open_channel = None
            try:
                self._channel = await open_channel()
            except BaseException:
                self._open_channel = open_channel  # not sent: a later use may try again
                raise

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
            if self._error is None:
                self._error = LMStudioCancelledError(
                    f"The {self._label} was stopped before it finished, so it has no result. "
                    "To stop early and keep the text so far, `await stream.cancel()` first."
                )
            self._wake_waiters()

    def _wake_waiters(self) -> None:
        changed = self._changed
        if changed is not None and not changed.done():
            changed.set_result(None)

    async def cancel(self) -> None:
        """Ask the server to stop generating, and wait until it has: afterwards
        ``stream.result()`` holds the text generated so far, with
        ``stats.stop_reason == "userStopped"``. Fragments the server still sends are
        dropped; if the loop is not left, it then ends normally."""
        await self.start()
        channel = self._channel
        if self._result is not None or self._error is not None or channel is None:
            return
        if not self._cancelled:
            self._cancelled = True
            self._plain_fragments = False
            await channel.cancel()
        if self._puller is asyncio.current_task():
            return  # called from a callback of this very stream: its pull ends it
        await self._settle()

    async def _settle(self) -> None:
        """Run the prediction to its end (sharing the pulling with any other task)."""
        while await self.next_batch():
            pass

    # --- results -------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._result is not None

    async def wait_for_result(self) -> PredictionResult:
        """Run the prediction to its end (callbacks still fire) and return its result.

        Fragments not iterated yet are consumed (if the stream is being iterated
        elsewhere at the same time, the two take turns).
        """
        if self._puller is not None and self._puller is asyncio.current_task():
            raise LMStudioRuntimeError(
                f"wait_for_result() was called from inside the {self._label} (from one of "
                "its callbacks); the stream cannot wait for its own end."
            )
        await self.start()
        await self._settle()
        return self.result()

    def result(self) -> PredictionResult:
        """The result of the finished prediction (a plain call, as in the official SDK).

        Available once the stream was iterated to its end, after
        ``await stream.cancel()``, or from ``await stream.wait_for_result()``.
        Raises the prediction's error if it failed.

        It never waits: before the end it raises :class:`LMStudioRuntimeError`.
        """
        if self._result is not None:
            return self._result
        if self._error is not None:
            raise self._error
        if self._channel is None:
            raise LMStudioRuntimeError(
                f"The {self._label} has not started, so it has no result yet: iterate it, "
                "or use `await stream.wait_for_result()`."
            )
        raise LMStudioRuntimeError(
            f"The {self._label} has not finished yet: iterate it to the end, stop it with "
            "`await stream.cancel()`, or use `await stream.wait_for_result()`."
        )

    @property
    def stats(self) -> LlmPredictionStats | None:
        return self._result.stats if self._result is not None else None

    @property
    def model_info(self) -> LlmInstanceInfo | None:
        return self._result.model_info if self._result is not None else None

    # --- iteration ------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[LlmPredictionFragment]:
        return self._fragments()

    async def _fragments(self) -> AsyncIterator[LlmPredictionFragment]:
        try:
            while batch := await self._pull(_ITERATION_BATCH):
                for fragment in batch:
                    yield fragment
                del batch  # not kept alive while the next one is awaited
        except GeneratorExit:  # the consumer left early: break, exception, or aclose()
            # Unless someone took over (e.g. `await stream.wait_for_result()` right after
            # the break, before this generator was finalised), stop the prediction.
            if self._puller is None:
                self._abandon()
            raise

    async def next_batch(self) -> list[LlmPredictionFragment]:
        """Every fragment that has arrived, waiting for at least one; ``[]`` once the
        prediction is over. Callbacks fire as they do during iteration.

        Lets a consumer take many fragments per wake-up (the blocking API iterates
        this way, a blocking call per batch). One task at a time may pull.
        """
        return await self._pull(None)

    async def _pull(self, limit: int | None) -> list[LlmPredictionFragment]:
        """:meth:`next_batch`, decoding at most ``limit`` frames."""
        if self._error is not None:
            raise self._error
        if self._result is not None:
            return []
        task = asyncio.current_task()
        while self._puller is not None:
            if self._puller is task:
                raise LMStudioRuntimeError(
                    f"The {self._label} is already being iterated here: a callback of a "
                    "stream cannot pull fragments from that same stream."
                )
            # Another task is pulling (e.g. iterating while this one cancels): take turns.
            if self._changed is None or self._changed.done():
                self._changed = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._changed)
            if self._error is not None:
                raise self._error
            if self._result is not None:
                return []
        self._puller = task
        try:
            if self._channel is None:
                await self.start()
            channel = self._channel
            assert channel is not None
            parts = self._parts
            while True:
                if not channel.has_packets:
                    if channel.ended:
                        channel.take()  # raises the channel's error, if it failed
                        await self._handle(None)  # ended without a result: raises
                    await channel.wait()
                    continue
                packets = channel.take(limit)
                fragments: list[LlmPredictionFragment] = []
                plain = self._plain_fragments
                for packet in packets:
                    if plain and type(packet) is FragmentPacket:
                        fragment = packet.fragment
                        parts.append(fragment.content)
                        fragments.append(fragment)
                        continue
                    handled = await self._handle(packet)
                    if handled is not None:
                        fragments.append(handled)
                    plain = self._plain_fragments
                if self._result is not None:
                    channel.close()
                    return fragments
                if fragments:
                    return fragments
        except BaseException as exc:
            if self._result is None and self._error is None:
                self._error = (
                    LMStudioCancelledError(f"The {self._label} was cancelled before it finished.")
                    if isinstance(exc, asyncio.CancelledError)
                    else exc
                )
            self._abandon()
            raise
        finally:
            self._puller = None
            if self._changed is not None:
                self._wake_waiters()

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
                self._plain_fragments = callbacks.on_prediction_fragment is None
                if self._prompt_progress is not None:
                    await self._prompt_progress.finish()
                if callbacks.on_first_token is not None:
                    result = callbacks.on_first_token()
                    if inspect.isawaitable(result):
                        await result
            if callbacks.on_prediction_fragment is not None:
                await invoke(callbacks.on_prediction_fragment, fragment)
            return fragment
        if isinstance(packet, PromptProcessingProgressPacket):
            if self._prompt_progress is not None:
                await self._prompt_progress.report(packet.progress)
        elif isinstance(packet, PredictionSuccess):
            await self._finish(packet)
        elif isinstance(packet, PredictionErrorPacket):
            raise LMStudioPredictionError.from_wire(self._label, packet.error)
        elif isinstance(packet, TOOL_CALL_PACKETS):
            if self._tool_calls is None:
                self._tool_calls = ToolCallCollector()
            self._tool_calls.handle(packet)
        elif packet is None:
            raise LMStudioChannelClosedError(
                f"LM Studio ended the {self._label} without a result (the prediction failed "
                "on the server; check its logs)."
            )
        return None

    async def _finish(self, success: PredictionSuccess) -> None:
        content = "".join(self._parts)
        tool_calls = ToolCallCollector() if self._tool_calls is None else self._tool_calls
        self._result = PredictionResult(
            content=content,
            stats=success.stats,
            model_info=success.model_info,
            _load_kv=success.load_model_config,
            _prediction_kv=success.prediction_config,
            structured=self._schema is not None,
            tool_call_requests=tool_calls.requests,
            tool_call_errors=tool_calls.errors,
            _schema=self._schema,
        )
        if self._callbacks.on_message is not None:
            parts: list[TextPart | FilePart | ToolCallRequestPart] = [TextPart(text=content)]
            parts.extend(ToolCallRequestPart(tool_call_request=r) for r in tool_calls.requests)
            await invoke(self._callbacks.on_message, AssistantMessage(content=parts))
