"""The ``llm`` namespace (PROTOCOL.md 6.1, 6.2): model management plus predictions."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, nullcontext

from ...protocol import (
    ApplyPromptTemplateParameter,
    ApplyPromptTemplateResult,
    CancelPacket,
    ChatHistoryData,
    CompleteRawTextParameter,
    FragmentPacket,
    GetBasePredictionConfigParameter,
    KVConfig,
    LlmInstanceInfo,
    LlmPredictionFragment,
    LlmPredictionStats,
    PredictionSuccess,
    PredictParameter,
    PreloadDraftModelParameter,
    PromptProcessingDetails,
    PromptProcessingProgressPacket,
)
from ..api import CallContext, ChannelContext, ChannelEndpoint, Namespace, RpcEndpoint
from ..engines.base import GeneratedPiece, Prediction
from ..engines.prediction_settings import (
    PredictionSettings,
    default_prediction_config,
    resolve_prediction_settings,
)
from ..engines.template import TemplateOptions
from ..engines.vision import AttachedImage
from ..models import Instance
from ..reasoning import ReasoningSplitter, splitter_for
from ..vision import attached_images, check_vision
from .base_model import add_base_model_endpoints
from .tool_calls import tool_call_packet

__all__ = ["build_llm_namespace"]

_DOMAIN = "llm"


def _llm_info(instance: Instance) -> LlmInstanceInfo:
    info = instance.to_wire()
    if not isinstance(info, LlmInstanceInfo):
        raise TypeError(f"{instance.identifier} is not an LLM instance")
    return info


def _prompt_progress(progress: float, prompt_tokens: int) -> PromptProcessingProgressPacket:
    processed = round(prompt_tokens * progress)
    details = PromptProcessingDetails(
        cached_token_count=0,
        total_prompt_token_count=prompt_tokens,
        processed_prompt_token_count=processed,
        unprocessed_prompt_token_count=prompt_tokens - processed,
    )
    return PromptProcessingProgressPacket(progress=progress, details=details)


async def _relay(
    ctx: ChannelContext,
    instance: Instance,
    prediction: Prediction,
    splitter: ReasoningSplitter | None = None,
) -> tuple[str | None, float | None]:
    """Send the prediction's pieces; return why the client side stopped it, if it did,
    and when the first piece arrived."""
    send = ctx.send
    cancel_requested = ctx.cancel_requested
    first_piece_at: float | None = None
    try:
        async for piece in prediction:
            if cancel_requested():
                return "userStopped", first_piece_at
            if instance.unloaded:
                return "modelUnloaded", first_piece_at
            if first_piece_at is None:
                first_piece_at = time.monotonic()
            if not isinstance(piece, GeneratedPiece):
                await send(tool_call_packet(piece, ctx.state.faults.tool_calls))
                continue
            if splitter is None:
                fragment = LlmPredictionFragment(
                    content=piece.text, tokens_count=piece.tokens_count
                )
                await send(FragmentPacket(fragment=fragment))
            else:
                await _send_parts(ctx, splitter.feed(piece.text, piece.tokens_count))
        if splitter is not None:
            await _send_parts(ctx, splitter.flush())
    finally:
        await prediction.aclose()
    return None, first_piece_at


async def _send_parts(ctx: ChannelContext, parts: list[tuple[str, str, int]]) -> None:
    for content, reasoning_type, tokens in parts:
        fragment = LlmPredictionFragment(
            content=content, tokens_count=tokens, reasoning_type=reasoning_type
        )
        await ctx.send(FragmentPacket(fragment=fragment))


async def _stream_prediction(
    ctx: ChannelContext,
    instance: Instance,
    prompt: str,
    settings: PredictionSettings,
    images: Sequence[AttachedImage] = (),
    history: ChatHistoryData | None = None,
) -> None:
    """The packets of one prediction: prompt progress, fragments, then ``success``."""
    models = ctx.state.models
    model = instance.model
    ctx.state.logs.publish_prediction_input(instance.info.path, instance.identifier, prompt)
    started = time.monotonic()
    with models.activity(instance, "processingPrompt"):
        prompt_tokens = model.count_tokens(prompt)
        await ctx.send(_prompt_progress(0.0, prompt_tokens))
        if images and history is not None:
            vision = check_vision(instance)
            prediction = await vision.predict_with_images(history, prompt, settings, images)
        else:
            prediction = model.predict(prompt, settings)
        await ctx.send(_prompt_progress(1.0, prompt_tokens))
    generation_started = time.monotonic()
    with models.activity(instance, "generating"):
        stopped_by, first_piece_at = await _relay(
            ctx, instance, prediction, splitter_for(settings.values)
        )
    finished = time.monotonic()

    outcome = prediction.outcome
    stop_reason = stopped_by or (outcome.stop_reason if outcome else "failed")
    predicted = prediction.predicted_tokens
    generation_time = finished - (first_piece_at or generation_started)
    stats = LlmPredictionStats(
        stop_reason=stop_reason,
        stop_string=outcome.stop_string if outcome and not stopped_by else None,
        # Generation speed, as LM Studio reports it: from the first token on (the wait in the
        # instance's queue and prompt processing show in time_to_first_token_sec instead).
        tokens_per_second=predicted / generation_time if generation_time > 0 else 0.0,
        num_gpu_layers=model.gpu_layers,
        time_to_first_token_sec=(first_piece_at or finished) - started,
        total_time_sec=finished - started,
        prompt_tokens_count=prompt_tokens,
        predicted_tokens_count=predicted,
        total_tokens_count=prompt_tokens + predicted,
    )
    await ctx.send(
        PredictionSuccess(
            stats=stats,
            model_info=_llm_info(instance),
            load_model_config=instance.load_settings.kvconfig(),
            prediction_config=settings.kvconfig(),
        )
    )


def _prediction_slot(instance: Instance) -> AbstractAsyncContextManager[None]:
    """One of the instance's parallel slots; predictions beyond its limit wait in order."""
    slots = instance.slots
    return slots.hold() if slots is not None else nullcontext()


async def predict(ctx: ChannelContext, parameter: PredictParameter) -> None:
    stack = ctx.state.presets.apply(
        parameter.fuzzy_preset_identifier, parameter.prediction_config_stack
    )
    instance = ctx.state.models.find(parameter.model_specifier, _DOMAIN)
    settings = resolve_prediction_settings(stack)
    images = attached_images(parameter.history, ctx.state.files, ctx.client.identifier)
    if images:
        check_vision(instance)  # refuse before any packet is sent
    offer = settings.tools
    if offer is not None:
        offer = offer.with_default_choice(ctx.state.config.tool_choice)  # type: ignore[arg-type]
        settings = dataclasses.replace(settings, tools=offer)
    options = TemplateOptions(
        tool_definitions=offer.definitions() if offer and offer.active else ()
    )
    prompt = instance.model.apply_prompt_template(parameter.history, settings, options)
    async with _prediction_slot(instance):
        await _stream_prediction(ctx, instance, prompt, settings, images, parameter.history)


async def complete_raw_text(ctx: ChannelContext, parameter: CompleteRawTextParameter) -> None:
    stack = ctx.state.presets.apply(
        parameter.fuzzy_preset_identifier, parameter.prediction_config_stack
    )
    instance = ctx.state.models.find(parameter.model_specifier, _DOMAIN)
    settings = resolve_prediction_settings(stack)
    async with _prediction_slot(instance):
        await _stream_prediction(ctx, instance, parameter.raw_prompt, settings)


async def apply_prompt_template(
    ctx: CallContext, parameter: ApplyPromptTemplateParameter
) -> ApplyPromptTemplateResult:
    instance = ctx.state.models.find(parameter.specifier, _DOMAIN)
    settings = resolve_prediction_settings(parameter.prediction_config_stack)
    opts = parameter.opts
    options = TemplateOptions(
        omit_bos_token=bool(opts.omit_bos_token),
        omit_eos_token=bool(opts.omit_eos_token),
        tool_definitions=opts.tool_definitions or (),
    )
    formatted = instance.model.apply_prompt_template(parameter.history, settings, options)
    return ApplyPromptTemplateResult(formatted=formatted)


async def preload_draft_model(ctx: CallContext, parameter: PreloadDraftModelParameter) -> None:
    ctx.state.models.find(parameter.specifier, _DOMAIN)
    # The scripted engine has no draft models to warm up; an unknown key is still an error.
    ctx.state.models.resolve_model(parameter.draft_model_key, _DOMAIN)


async def get_base_prediction_config(
    ctx: CallContext, parameter: GetBasePredictionConfigParameter
) -> KVConfig:
    ctx.state.models.find(parameter.specifier, _DOMAIN)
    return default_prediction_config()


def build_llm_namespace() -> Namespace:
    namespace = Namespace(_DOMAIN)
    add_base_model_endpoints(namespace)
    namespace.channel(ChannelEndpoint("predict", predict, PredictParameter, CancelPacket))
    namespace.channel(
        ChannelEndpoint(
            "completeRawText", complete_raw_text, CompleteRawTextParameter, CancelPacket
        )
    )
    namespace.rpc(
        RpcEndpoint("applyPromptTemplate", apply_prompt_template, ApplyPromptTemplateParameter)
    )
    namespace.rpc(RpcEndpoint("preloadDraftModel", preload_draft_model, PreloadDraftModelParameter))
    namespace.rpc(
        RpcEndpoint(
            "getBasePredictionConfig", get_base_prediction_config, GetBasePredictionConfigParameter
        )
    )
    return namespace
