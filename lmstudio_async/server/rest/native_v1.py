"""LM Studio's native REST API v1: ``/api/v1/chat`` and model management (REST.md 10).

Errors here use the native shape (``{"error": {"type", "message", ...}}``).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from aiohttp import web

from ...protocol import (
    CODE_DOMAIN_MISMATCH,
    AssistantMessage,
    ChatHistoryData,
    FilePart,
    KVConfig,
    KVConfigField,
    KVConfigStack,
    KVConfigStackLayer,
    ModelInfo,
    SystemMessage,
    TextPart,
    UserMessage,
)
from ..api import ServerError
from ..models import domain_of
from ..state import ServerState
from .bodies import Sampling, read_body
from .chat_input import image_part, prediction_stack
from .conversations import Conversation, ConversationStore, new_response_id
from .errors import RestError, bad_request, from_server_error, json_response, missing_parameter
from .running import LoadReport, PredictionListener, PredictionResult, get_model, run_chat
from .sse import ClientGone, EventStream

__all__ = ["v1_chat", "v1_load", "v1_unload", "v1_download", "v1_download_status"]


class InputItem(msgspec.Struct, kw_only=True):
    # The docs example says "text", the reference "message"; both are accepted (REST.md 10.1).
    type: str
    content: str | None = None
    data_url: str | None = None


class ChatRequest(msgspec.Struct, kw_only=True):
    model: str | None = None
    input: str | list[InputItem] | None = None
    system_prompt: str | None = None
    integrations: list[Any] | None = None
    stream: bool = False
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    repeat_penalty: float | None = None
    max_output_tokens: int | None = None
    reasoning: str | None = None
    context_length: int | None = None
    store: bool = True
    previous_response_id: str | None = None


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


def _user_content(body: ChatRequest) -> list[TextPart | FilePart]:
    if body.input is None:
        raise missing_parameter("input")
    if isinstance(body.input, str):
        return [TextPart(text=body.input)]
    parts: list[TextPart | FilePart] = []
    for index, item in enumerate(body.input[:4096]):
        where = f"input[{index}]"
        if item.type in ("message", "text") and item.content is not None:
            parts.append(TextPart(text=item.content))
        elif item.type == "image" and item.data_url is not None:
            parts.append(image_part(item.data_url, where))
        else:
            raise bad_request(
                f"{where}: expected {{'type': 'message', 'content'}} or {{'type': 'image', "
                f"'data_url'}}, got type {item.type!r}",
                param=where,
            )
    return parts


def _history(
    conversation: Conversation | None, system: str | None, user: list[TextPart | FilePart]
) -> ChatHistoryData:
    messages: list[Any] = []
    system = system if system is not None else (conversation.system if conversation else None)
    if system:
        messages.append(SystemMessage(content=[TextPart(text=system)]))
    messages.extend(conversation.messages if conversation else ())
    messages.append(UserMessage(content=user))
    return ChatHistoryData(messages=messages)


def _sampling(body: ChatRequest) -> Sampling:
    return Sampling(
        temperature=body.temperature,
        top_p=body.top_p,
        top_k=body.top_k,
        min_p=body.min_p,
        repeat_penalty=body.repeat_penalty,
        max_tokens=body.max_output_tokens,
    )


class _ChatEvents(PredictionListener, LoadReport):
    """The ``/api/v1/chat`` event stream, opened when the model is known."""

    def __init__(self, request: web.Request, streaming: bool) -> None:
        super().__init__()
        self._request = request
        self._streaming = streaming
        self.stream: EventStream | None = None
        self._message_started = False

    async def _event(self, name: str, **fields: Any) -> None:
        if self.stream is not None:
            await self.stream.event(name, {"type": name, **fields})

    async def start(self, identifier: str) -> None:
        if self._streaming and self.stream is None:
            self.stream = EventStream(self._request)
            await self.stream.open()
            await self._event("chat.start", model_instance_id=identifier)

    async def load_started(self, identifier: str) -> None:
        await self.start(identifier)
        await self._event("model_load.start", model_instance_id=identifier)

    async def load_progress(self, progress: float) -> None:
        await self._event("model_load.progress", progress=progress)

    async def load_finished(self, seconds: float) -> None:
        await self._event("model_load.end", load_time_seconds=seconds)

    async def on_prompt_progress(self, progress: float) -> None:
        if progress == 0.0:
            await self._event("prompt_processing.start")
        await self._event("prompt_processing.progress", progress=progress)
        if progress >= 1.0:
            await self._event("prompt_processing.end")

    async def on_text(self, text: str) -> None:
        await super().on_text(text)
        if self.stream is None or not text:
            return
        if not self._message_started:
            self._message_started = True
            await self._event("message.start")
        await self._event("message.delta", content=text)

    async def end_message(self) -> None:
        if self._message_started:
            await self._event("message.end")


def _result(
    result: PredictionResult, listener: _ChatEvents, response_id: str | None
) -> dict[str, Any]:
    stats = result.stats
    out: dict[str, Any] = {
        "input_tokens": stats.prompt_tokens_count or 0,
        "total_output_tokens": stats.predicted_tokens_count or 0,
        "reasoning_output_tokens": 0,
        "tokens_per_second": stats.tokens_per_second or 0.0,
        "time_to_first_token_seconds": stats.time_to_first_token_sec or 0.0,
    }
    if result.load_seconds is not None:
        out["model_load_time_seconds"] = result.load_seconds
    body: dict[str, Any] = {
        "model_instance_id": result.instance.identifier,
        "output": [{"type": "message", "content": listener.text}],
        "stats": out,
    }
    if response_id is not None:
        body["response_id"] = response_id
    return body


async def v1_chat(
    request: web.Request, state: ServerState, store: ConversationStore
) -> web.StreamResponse:
    body = await read_body(request, ChatRequest)
    if not body.model:
        raise RestError(
            400, '"model" is required', param="model", code="missing_required_parameter"
        )
    if body.integrations:
        raise RestError(
            400,
            "Integrations (plugins and MCP servers) are not supported by this server",
            type="not_implemented",
            param="integrations",
        )
    if body.reasoning not in (None, "off"):
        raise bad_request(
            f"This server's models do not support reasoning (got {body.reasoning!r}); "
            "use 'off' or leave 'reasoning' out",
            param="reasoning",
        )
    conversation = None
    if body.previous_response_id is not None:
        if not body.previous_response_id.startswith("resp_"):
            raise bad_request(
                "'previous_response_id' must start with 'resp_'", param="previous_response_id"
            )
        conversation = store.get(body.previous_response_id)
    user = _user_content(body)
    history = _history(conversation, body.system_prompt, user)
    stack = prediction_stack(_sampling(body))
    events = _ChatEvents(request, body.stream)
    instance, load_seconds = await get_model(state, body.model, "llm", report=events)
    try:
        await events.start(instance.identifier)
        try:
            result = await run_chat(state, request, instance, history, stack, events, load_seconds)
        except RestError as exc:
            if events.stream is None:
                raise
            await events.stream.event("error", {"type": "error", **exc.native_body()})
            await events.stream.event("chat.end", {"type": "chat.end", "result": None})
            return events.stream.response
        response_id = None
        if body.store:
            response_id = new_response_id()
            reply_message = AssistantMessage(content=[TextPart(text=events.text)])
            earlier = [m for m in history.messages if not isinstance(m, SystemMessage)]
            system = (
                body.system_prompt
                if body.system_prompt is not None
                else (conversation.system if conversation else None)
            )
            store.put(response_id, Conversation(system, (*earlier, reply_message)))
        reply = _result(result, events, response_id)
        if events.stream is None:
            return json_response(reply)
        await events.end_message()
        await events.stream.event("chat.end", {"type": "chat.end", "result": reply})
        await events.stream.close()
        return events.stream.response
    except ClientGone:
        assert events.stream is not None
        return events.stream.response


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
