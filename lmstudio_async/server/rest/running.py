"""Predictions and embeddings for the HTTP APIs, through the websocket API's own handlers.

A REST prediction is the websocket ``llm/predict`` (or ``completeRawText``)
handler run against :class:`RestChannel`, a channel whose packets go to a
:class:`PredictionListener` instead of a socket. So both APIs share one path:
the model manager's JIT loading and TTLs, its activity (busy) tracking and any
queueing it does per instance, stop strings, structured output and tool calls.
A client that disconnects reads as a cancel: the handler stops the prediction.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
from aiohttp import web

from ...protocol import (
    ChatHistoryData,
    CompleteRawTextParameter,
    FragmentPacket,
    FunctionToolCallRequest,
    InstanceReferenceSpecifier,
    KVConfigStack,
    LlmPredictionStats,
    ModelInfo,
    ModelInstanceInfo,
    PredictionErrorPacket,
    PredictionSuccess,
    PredictParameter,
    PromptProcessingProgressPacket,
    ToolCallGenerationArgumentFragmentGenerated,
    ToolCallGenerationEnd,
    ToolCallGenerationFailed,
    ToolCallGenerationNameReceived,
    ToolCallGenerationStart,
)
from ..api import ChannelContext, ClientInfo, ServerError
from ..endpoints import llm
from ..models import Instance, domain_of
from ..state import ServerState
from .errors import RestError, from_server_error
from .sse import client_gone

__all__ = [
    "DEFAULT_JIT_TTL_SECONDS",
    "LoadReport",
    "PredictionListener",
    "PredictionResult",
    "apply_faults",
    "get_model",
    "run_chat",
    "run_raw",
]

#: LM Studio's TTL for models the HTTP APIs load just in time (REST.md 2): one hour.
DEFAULT_JIT_TTL_SECONDS = 3600
#: How often a wait that cannot see the socket checks whether the client is still there.
_GONE_POLL_SECONDS = 0.25
_NO_CONFIG = KVConfigStack(layers=[])


class PredictionListener:
    """Receives what a prediction produces; the defaults collect the reply text."""

    def __init__(self) -> None:
        self.text_parts: list[str] = []
        self.reasoning_parts: list[str] = []
        self.tool_calls: list[FunctionToolCallRequest] = []

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    async def on_text(self, text: str) -> None:
        self.text_parts.append(text)

    async def on_reasoning(self, text: str) -> None:
        self.reasoning_parts.append(text)

    async def on_prompt_progress(self, progress: float) -> None:
        return None

    async def on_tool_call_start(self, call_id: str | None) -> None:
        return None

    async def on_tool_call_name(self, name: str) -> None:
        return None

    async def on_tool_call_arguments(self, fragment: str) -> None:
        return None

    async def on_tool_call(self, request: FunctionToolCallRequest, raw: str | None) -> None:
        self.tool_calls.append(request)

    async def on_tool_call_failed(self, message: str, raw: str | None) -> None:
        # LM Studio puts an unparsable tool call's text in the reply (REST.md 5.4).
        if raw:
            await self.on_text(raw)


class RestChannel(ChannelContext):
    """The channel a websocket prediction handler talks to, for one HTTP request."""

    def __init__(
        self,
        state: ServerState,
        request: web.Request,
        listener: PredictionListener,
        endpoint: str = "predict",
    ) -> None:
        remote = request.remote or "unknown"
        super().__init__(
            state=state, client=ClientInfo(f"http:{remote}"), namespace="llm", endpoint=endpoint
        )
        self._request = request
        self._listener = listener
        self.success: PredictionSuccess | None = None

    async def send(self, packet: Any) -> None:
        listener = self._listener
        kind = type(packet)
        if kind is FragmentPacket:
            fragment = packet.fragment
            if fragment.reasoning_type == "none":
                await listener.on_text(fragment.content)
            elif fragment.reasoning_type == "reasoning":
                await listener.on_reasoning(fragment.content)
            # Reasoning start/end tags are structure, not text.
        elif kind is PromptProcessingProgressPacket:
            await listener.on_prompt_progress(packet.progress)
        elif kind is PredictionSuccess:
            self.success = packet
        elif kind is ToolCallGenerationStart:
            await listener.on_tool_call_start(packet.tool_call_id)
        elif kind is ToolCallGenerationNameReceived:
            await listener.on_tool_call_name(packet.name)
        elif kind is ToolCallGenerationArgumentFragmentGenerated:
            await listener.on_tool_call_arguments(packet.content)
        elif kind is ToolCallGenerationEnd:
            await listener.on_tool_call(packet.tool_call_request, packet.raw_content)
        elif kind is ToolCallGenerationFailed:
            await listener.on_tool_call_failed(packet.error.title, packet.raw_content)
        elif kind is PredictionErrorPacket:
            raise RestError(500, packet.error.title, type="internal_error")

    async def receive(self) -> Any:
        return None

    def cancel_requested(self) -> bool:
        return client_gone(self._request)

    async def wait_cancel_requested(self) -> None:
        # aiohttp has no "client went away" event for a request that is not being read.
        while not client_gone(self._request):  # noqa: ASYNC110
            await anyio.sleep(_GONE_POLL_SECONDS)


@dataclass(frozen=True)
class PredictionResult:
    instance: Instance
    stats: LlmPredictionStats
    #: Seconds this request spent loading the model, if it loaded it.
    load_seconds: float | None


class LoadReport:
    """What :func:`get_model` tells about a just-in-time load (``/api/v1/chat`` streams it)."""

    async def load_started(self, identifier: str) -> None:
        return None

    async def load_progress(self, progress: float) -> None:
        return None

    async def load_finished(self, seconds: float) -> None:
        return None


class _Observer:
    def __init__(self, report: LoadReport) -> None:
        self._report = report

    async def start_loading(self, identifier: str, info: ModelInfo) -> None:
        await self._report.load_started(identifier)

    async def unloading_other(self, info: ModelInstanceInfo) -> None:
        return None

    async def progress(self, progress: float) -> None:
        await self._report.load_progress(progress)


def _available(state: ServerState, domain: str) -> list[str]:
    loaded = [instance.identifier for instance in state.models.loaded(domain)]
    downloaded = [
        info.model_key for info in state.models.list_downloaded() if domain_of(info) == domain
    ]
    return list(dict.fromkeys([*loaded, *downloaded]))


async def get_model(
    state: ServerState,
    name: str,
    domain: str,
    *,
    ttl_seconds: int | None = None,
    report: LoadReport | None = None,
) -> tuple[Instance, float | None]:
    """The instance ``name`` designates, loaded just in time if needed, and the load's duration.

    ``name`` may be a model key, ``key@variant``, a path or a loaded instance identifier
    (``key:2``). ``ttl_seconds`` applies only if this request loads the model.
    """
    if ttl_seconds is not None and ttl_seconds < 1:
        raise RestError(
            400, f"'ttl' must be a positive number of seconds, got {ttl_seconds}", param="ttl"
        )
    ttl = DEFAULT_JIT_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    report = report or LoadReport()
    candidates = [name]
    base, at, _variant = name.partition("@")
    if at and base:
        candidates.append(base)
    started = time.monotonic()
    for index, candidate in enumerate(candidates):
        try:
            instance, loaded = await state.models.get_or_load(
                candidate,
                domain,
                load_config_stack=_NO_CONFIG,
                observer=_Observer(report),
                ttl_ms=ttl * 1000,
            )
        except ServerError as exc:
            if index + 1 < len(candidates):
                continue
            raise from_server_error(exc, model=name, available=_available(state, domain)) from None
        if not loaded:
            return instance, None
        seconds = time.monotonic() - started
        await report.load_finished(seconds)
        return instance, seconds
    raise AssertionError("unreachable")


async def apply_faults(state: ServerState, key: str) -> None:
    """The fault plan's delay and failure for websocket endpoint ``key`` (``llm/predict``...).

    A REST request doing that endpoint's work gets the same faults, so tests of an HTTP app
    can inject them too. An injected failure is an engine failure: HTTP 500, as LM Studio
    reports those (REST.md 3).
    """
    faults = state.faults
    delay = faults.delays.get(key)
    if delay:
        await anyio.sleep(delay)
    title = faults.failures.get(key)
    if title is not None:
        raise RestError(500, title, type="internal_error")


async def _run(
    channel: RestChannel,
    instance: Instance,
    load_seconds: float | None,
    work: Callable[[], Awaitable[None]],
) -> PredictionResult:
    try:
        await apply_faults(channel.state, f"llm/{channel.endpoint}")
        await work()
    except ServerError as exc:
        raise from_server_error(exc, model=instance.identifier, available=[]) from None
    if channel.success is None:
        raise RestError(500, "The prediction ended without a result", type="internal_error")
    return PredictionResult(instance, channel.success.stats, load_seconds)


async def run_chat(
    state: ServerState,
    request: web.Request,
    instance: Instance,
    history: ChatHistoryData,
    stack: KVConfigStack,
    listener: PredictionListener,
    load_seconds: float | None = None,
) -> PredictionResult:
    """Predict the reply to ``history``."""
    channel = RestChannel(state, request, listener)
    parameter = PredictParameter(
        model_specifier=InstanceReferenceSpecifier(instance_reference=instance.reference),
        history=history,
        prediction_config_stack=stack,
    )
    return await _run(channel, instance, load_seconds, partial(llm.predict, channel, parameter))


async def run_raw(
    state: ServerState,
    request: web.Request,
    instance: Instance,
    prompt: str,
    stack: KVConfigStack,
    listener: PredictionListener,
    load_seconds: float | None = None,
) -> PredictionResult:
    """Continue ``prompt`` as-is, with no chat template (``/v1/completions``)."""
    channel = RestChannel(state, request, listener, endpoint="completeRawText")
    parameter = CompleteRawTextParameter(
        model_specifier=InstanceReferenceSpecifier(instance_reference=instance.reference),
        raw_prompt=prompt,
        prediction_config_stack=stack,
    )
    return await _run(
        channel, instance, load_seconds, partial(llm.complete_raw_text, channel, parameter)
    )
