"""The model lists: ``GET /v1/models``, ``/api/v0/models[/{model}]``, ``/api/v1/models``.

Just-in-time loading is always on here, so every list holds every downloaded
model (REST.md 2), plus loaded instances whose identifier is not a model key
(``key:2``, custom identifiers), so that clients can address those too.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...protocol import LlmInfo, ModelInfo
from ..models import Instance, domain_of
from ..state import ServerState
from .errors import RestError, json_response

__all__ = ["openai_models", "v0_models", "v0_model", "v1_models", "v1_model_entry"]


def _instances_by_key(state: ServerState) -> dict[str, list[Instance]]:
    by_key: dict[str, list[Instance]] = {}
    for instance in state.models.loaded():
        by_key.setdefault(instance.info.model_key, []).append(instance)
    return by_key


async def openai_models(request: web.Request, state: ServerState) -> web.Response:
    ids = [info.model_key for info in state.models.list_downloaded()]
    ids += [instance.identifier for instance in state.models.loaded()]
    data = [
        {"id": model_id, "object": "model", "owned_by": "organization_owner"}
        for model_id in dict.fromkeys(ids)
    ]
    return json_response({"data": data, "object": "list"})


def _v0_type(info: ModelInfo) -> str:
    if isinstance(info, LlmInfo):
        return "vlm" if info.vision else "llm"
    return "embeddings"


def _v0_entry(info: ModelInfo, instances: list[Instance]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": info.model_key,
        "object": "model",
        "type": _v0_type(info),
        "publisher": info.publisher or "",
        "arch": info.architecture or "",
        "compatibility_type": info.format,
        "quantization": info.quantization.name if info.quantization else "",
        "state": "loaded" if instances else "not-loaded",
        "max_context_length": info.max_context_length,
    }
    if instances:
        entry["loaded_context_length"] = instances[0].model.context_length
    capabilities = []
    if isinstance(info, LlmInfo):
        if info.trained_for_tool_use:
            capabilities.append("tool_use")
        if info.vision:
            capabilities.append("vision")
    entry["capabilities"] = capabilities
    return entry


async def v0_models(request: web.Request, state: ServerState) -> web.Response:
    by_key = _instances_by_key(state)
    data = [
        _v0_entry(info, by_key.get(info.model_key, [])) for info in state.models.list_downloaded()
    ]
    return json_response({"object": "list", "data": data})


async def v0_model(request: web.Request, state: ServerState) -> web.Response:
    # Clients URL-encode the slash of a "publisher/key" name; aiohttp decodes it (REST.md 9.1).
    wanted = request.match_info["model"].strip("/")
    by_key = _instances_by_key(state)
    for info in state.models.list_downloaded():
        names = {info.model_key, info.path, f"{info.publisher}/{info.model_key}"}
        if wanted in names:
            return json_response(_v0_entry(info, by_key.get(info.model_key, [])))
    for instance in state.models.loaded():
        if instance.identifier == wanted:
            return json_response(_v0_entry(instance.info, by_key[instance.info.model_key]))
    # Unknown ids: REST.md 11 leaves this open; a 404 in OpenAI's shape is what clients handle.
    raise RestError(404, f'Model "{wanted}" not found', param="model", code="model_not_found")


def v1_model_entry(info: ModelInfo, instances: list[Instance]) -> dict[str, Any]:
    quantization = (
        {"name": info.quantization.name, "bits_per_weight": info.quantization.bits}
        if info.quantization
        else None
    )
    entry: dict[str, Any] = {
        "type": domain_of(info),
        "publisher": info.publisher or "",
        "key": info.model_key,
        "display_name": info.display_name,
        "architecture": info.architecture,
        "quantization": quantization,
        "size_bytes": info.size_bytes,
        "params_string": info.params_string,
        "loaded_instances": [
            {"id": instance.identifier, "config": {"context_length": instance.model.context_length}}
            for instance in instances
        ],
        "max_context_length": info.max_context_length,
        "format": info.format if info.format in ("gguf", "mlx") else None,
    }
    if isinstance(info, LlmInfo):
        entry["capabilities"] = {
            "vision": info.vision,
            "trained_for_tool_use": info.trained_for_tool_use,
        }
    entry["description"] = None
    if info.variants:
        entry["variants"] = list(info.variants)
        entry["selected_variant"] = info.selected_variant
    return entry


async def v1_models(request: web.Request, state: ServerState) -> web.Response:
    by_key = _instances_by_key(state)
    models = [
        v1_model_entry(info, by_key.get(info.model_key, []))
        for info in state.models.list_downloaded()
    ]
    return json_response({"models": models})
