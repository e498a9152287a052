"""LM Studio's native REST API v1, model management: ``/api/v1/models/{load,unload,download}``.

Errors here use the native shape (REST.md 10.3).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from aiohttp import web

from ...protocol import (
    CODE_DOMAIN_MISMATCH,
    KVConfig,
    KVConfigField,
    KVConfigStack,
    KVConfigStackLayer,
    ModelInfo,
)
from ..api import ServerError
from ..models import domain_of
from ..state import ServerState
from .bodies import read_body
from .errors import RestError, from_server_error, json_response

__all__ = ["v1_load", "v1_unload", "v1_download", "v1_download_status"]


class LoadRequest(msgspec.Struct, kw_only=True):
    model: str | None = None
    context_length: int | None = None
    eval_batch_size: int | None = None
    flash_attention: bool | None = None
    num_experts: int | None = None
    offload_kv_cache_to_gpu: bool | None = None
    echo_load_config: bool = False


class UnloadRequest(msgspec.Struct, kw_only=True):
    instance_id: str | None = None


class DownloadRequest(msgspec.Struct, kw_only=True):
    model: str | None = None
    quantization: str | None = None


def _resolve_any_domain(state: ServerState, name: str) -> ModelInfo:
    try:
        return state.models.resolve_model(name, "llm")[0]
    except ServerError as exc:
        code = (exc.display_data or {}).get("code")
        if code != CODE_DOMAIN_MISMATCH:
            available = [info.model_key for info in state.models.list_downloaded()]
            raise from_server_error(exc, model=name, available=available) from None
    return state.models.resolve_model(name, "embedding")[0]


def _load_stack(domain: str, body: LoadRequest) -> KVConfigStack:
    prefix = f"{domain}.load."
    values: dict[str, Any] = {}
    if body.context_length is not None:
        values[prefix + "contextLength"] = body.context_length
    if body.eval_batch_size is not None:
        values[prefix + "llama.evalBatchSize"] = body.eval_batch_size
    if domain == "llm":
        if body.flash_attention is not None:
            values["llm.load.llama.flashAttention"] = body.flash_attention
        if body.num_experts is not None:
            values["llm.load.numExperts"] = body.num_experts
        if body.offload_kv_cache_to_gpu is not None:
            values["llm.load.offloadKVCacheToGpu"] = body.offload_kv_cache_to_gpu
    fields = [KVConfigField(key=k, value=v) for k, v in values.items()]
    return KVConfigStack(
        layers=[KVConfigStackLayer(layer_name="apiOverride", config=KVConfig(fields=fields))]
    )


async def v1_load(request: web.Request, state: ServerState) -> web.Response:
    body = await read_body(request, LoadRequest)
    if not body.model:
        raise RestError(
            400, '"model" is required', param="model", code="missing_required_parameter"
        )
    info = _resolve_any_domain(state, body.model)
    domain = domain_of(info)
    started = time.monotonic()

    async def progress(_: float) -> None:
        return None

    try:
        # Loaded on request: no TTL, as with ``lms load`` (REST.md 2).
        instance = await state.models.load(
            info, load_config_stack=_load_stack(domain, body), progress=progress
        )
    except ServerError as exc:
        raise from_server_error(exc, model=body.model, available=[]) from None
    reply: dict[str, Any] = {
        "type": domain,
        "instance_id": instance.identifier,
        "load_time_seconds": time.monotonic() - started,
        "status": "loaded",
    }
    if body.echo_load_config:
        settings = instance.load_settings.kvconfig().as_dict()
        prefix = f"{domain}.load."
        config = {"context_length": instance.model.context_length}
        names = {
            "llama.evalBatchSize": "eval_batch_size",
            "llama.flashAttention": "flash_attention",
            "numExperts": "num_experts",
            "offloadKVCacheToGpu": "offload_kv_cache_to_gpu",
        }
        for key, name in names.items():
            if prefix + key in settings and getattr(body, name) is not None:
                config[name] = settings[prefix + key]
        reply["load_config"] = config
    return json_response(reply)


async def v1_unload(request: web.Request, state: ServerState) -> web.Response:
    body = await read_body(request, UnloadRequest)
    if not body.instance_id:
        raise RestError(
            400, '"instance_id" is required', param="instance_id", code="missing_required_parameter"
        )
    instance = next((i for i in state.models.loaded() if i.identifier == body.instance_id), None)
    if instance is None:
        loaded = ", ".join(i.identifier for i in state.models.loaded()) or "none"
        raise RestError(
            404,
            f'No loaded model instance has the id "{body.instance_id}" (loaded: {loaded})',
            param="instance_id",
            code="model_not_found",
        )
    await state.models.unload(instance.identifier, instance.domain)
    return json_response({"instance_id": instance.identifier})


async def v1_download(request: web.Request, state: ServerState) -> web.Response:
    body = await read_body(request, DownloadRequest)
    if not body.model:
        raise RestError(
            400, '"model" is required', param="model", code="missing_required_parameter"
        )
    # The engines' catalogs are fixed: a model either is downloaded already or cannot be had
    # (this server never goes to the network).
    _resolve_any_domain(state, body.model)
    return json_response({"status": "already_downloaded"})


async def v1_download_status(request: web.Request, state: ServerState) -> web.Response:
    job_id = request.match_info["job_id"]
    # No download job is ever started (see v1_download), so no id is known.
    raise RestError(
        404, f'No download job has the id "{job_id[:100]}"', param="job_id", code="job_not_found"
    )
