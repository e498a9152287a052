"""Endpoints that ``llm`` and ``embedding`` share (PROTOCOL.md 6.1).

Every handler works on the models of its own namespace: the namespace name is
the model domain (``llm`` or ``embedding``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import suppress
from typing import Any, TypeVar

from ...protocol import (
    AlreadyLoaded,
    CancelPacket,
    CountTokensResult,
    GetInstanceProcessingStateParameter,
    GetModelInfoParameter,
    GetOrLoadParameter,
    GetOrLoadProgress,
    InstanceProcessingState,
    KVConfig,
    LoadModelParameter,
    LoadProgress,
    LoadResolved,
    LoadSucceeded,
    LoadSuccess,
    ModelInfo,
    ModelInstanceInfo,
    SpecifierParameter,
    StartLoading,
    TokenizeParameter,
    TokenizeResult,
    UnloadingOtherJITModel,
    UnloadModelParameter,
)
from ..api import CallContext, ChannelContext, ChannelEndpoint, Namespace, RpcEndpoint, ServerError

__all__ = ["add_base_model_endpoints", "LOAD_CANCELLED_TITLE"]

T = TypeVar("T")

# PROTOCOL.md open question 7: what LM Studio does when a load is cancelled is unknown. We
# stop loading and end the channel with channelError: a result packet would claim a model
# that does not exist, and a bare channelClose reads as a server failure to both SDKs.
LOAD_CANCELLED_TITLE = "Model loading was cancelled"


async def _unless_cancelled(ctx: ChannelContext, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``, abandoning it if the client sends ``cancel`` first."""
    task = asyncio.create_task(work)
    cancel = asyncio.ensure_future(ctx.wait_cancel_requested())
    try:
        await asyncio.wait({task, cancel}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        cancel.cancel()
        if not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        raise ServerError(LOAD_CANCELLED_TITLE)
    return task.result()


def _check_ttl(ttl_ms: int | None) -> int | None:
    if ttl_ms is not None and ttl_ms < 1:
        raise ServerError(f"Invalid TTL {ttl_ms} ms", cause="A TTL must be at least 1 ms.")
    return ttl_ms


async def load_model(ctx: ChannelContext, parameter: LoadModelParameter) -> None:
    models = ctx.state.models
    info, ambiguous = models.resolve_model(parameter.model_key, ctx.namespace)
    ttl_ms = _check_ttl(parameter.ttl_ms)
    await ctx.send(LoadResolved(info=info, ambiguous=ambiguous or None))

    async def progress(value: float) -> None:
        await ctx.send(LoadProgress(progress=value))

    loading = models.load(
        info,
        load_config_stack=parameter.load_config_stack,
        progress=progress,
        identifier=parameter.identifier,
        ttl_ms=ttl_ms,
    )
    instance = await _unless_cancelled(ctx, loading)
    await ctx.send(LoadSuccess(info=instance.to_wire()))


class _GetOrLoadReporter:
    """Forwards what ``getOrLoad`` does as the channel's packets."""

    def __init__(self, ctx: ChannelContext) -> None:
        self._ctx = ctx

    async def start_loading(self, identifier: str, info: ModelInfo) -> None:
        await self._ctx.send(StartLoading(identifier=identifier, info=info))

    async def unloading_other(self, info: ModelInstanceInfo) -> None:
        await self._ctx.send(UnloadingOtherJITModel(info=info))

    async def progress(self, progress: float) -> None:
        await self._ctx.send(GetOrLoadProgress(progress=progress))


async def get_or_load(ctx: ChannelContext, parameter: GetOrLoadParameter) -> None:
    getting = ctx.state.models.get_or_load(
        parameter.identifier,
        ctx.namespace,
        load_config_stack=parameter.load_config_stack,
        observer=_GetOrLoadReporter(ctx),
        ttl_ms=_check_ttl(parameter.load_ttl_ms),
    )
    instance, loaded = await _unless_cancelled(ctx, getting)
    info = instance.to_wire()
    await ctx.send(LoadSucceeded(info=info) if loaded else AlreadyLoaded(info=info))


async def unload_model(ctx: CallContext, parameter: UnloadModelParameter) -> None:
    await ctx.state.models.unload(parameter.identifier, ctx.namespace)


async def list_loaded(ctx: CallContext, _: None) -> list[ModelInstanceInfo]:
    return [instance.to_wire() for instance in ctx.state.models.loaded(ctx.namespace)]


async def get_model_info(
    ctx: CallContext, parameter: GetModelInfoParameter
) -> ModelInstanceInfo | None:
    models = ctx.state.models
    specifier = parameter.specifier
    if not parameter.throw_if_not_found and models.find_or_none(specifier, ctx.namespace) is None:
        return None
    return models.find(specifier, ctx.namespace).to_wire()


async def get_load_config(ctx: CallContext, parameter: SpecifierParameter) -> KVConfig:
    return ctx.state.models.find(parameter.specifier, ctx.namespace).load_settings.kvconfig()


async def tokenize(ctx: CallContext, parameter: TokenizeParameter) -> TokenizeResult:
    instance = ctx.state.models.find(parameter.specifier, ctx.namespace)
    return TokenizeResult(tokens=instance.model.tokenize(parameter.input_string))


async def count_tokens(ctx: CallContext, parameter: TokenizeParameter) -> CountTokensResult:
    instance = ctx.state.models.find(parameter.specifier, ctx.namespace)
    return CountTokensResult(token_count=instance.model.count_tokens(parameter.input_string))


async def get_instance_processing_state(
    ctx: CallContext, parameter: GetInstanceProcessingStateParameter
) -> InstanceProcessingState | None:
    models = ctx.state.models
    # A status query is not a use of the model, so it leaves the idle timer alone.
    instance = models.find_or_none(parameter.specifier, ctx.namespace)
    if instance is None:
        if not parameter.throw_if_not_found:
            return None
        instance = models.find(parameter.specifier, ctx.namespace)
    # Predictions beyond the instance's parallel limit wait in its queue (see ..slots).
    queued = instance.slots.queued if instance.slots is not None else 0
    return InstanceProcessingState(status=instance.status, queued=queued)


def add_base_model_endpoints(namespace: Namespace) -> None:
    namespace.channel(ChannelEndpoint("loadModel", load_model, LoadModelParameter, CancelPacket))
    namespace.channel(ChannelEndpoint("getOrLoad", get_or_load, GetOrLoadParameter, CancelPacket))
    namespace.rpc(RpcEndpoint("unloadModel", unload_model, UnloadModelParameter))
    namespace.rpc(RpcEndpoint("listLoaded", list_loaded))
    namespace.rpc(RpcEndpoint("getModelInfo", get_model_info, GetModelInfoParameter))
    namespace.rpc(RpcEndpoint("getLoadConfig", get_load_config, SpecifierParameter))
    namespace.rpc(RpcEndpoint("tokenize", tokenize, TokenizeParameter))
    namespace.rpc(RpcEndpoint("countTokens", count_tokens, TokenizeParameter))
    namespace.rpc(
        RpcEndpoint(
            "getInstanceProcessingState",
            get_instance_processing_state,
            GetInstanceProcessingStateParameter,
        )
    )
