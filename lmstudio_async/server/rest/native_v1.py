"""LM Studio's native REST API v1: ``POST /api/v1/chat`` (REST.md 10.1).

Errors here use the native shape (``{"error": {"type", "message", ...}}``).
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from ...protocol import (
    AssistantMessage,
    ChatHistoryData,
    FilePart,
    SystemMessage,
    TextPart,
    UserMessage,
)
from ..state import ServerState
from .bodies import Sampling, check_count, read_body
from .chat_input import image_part, prediction_stack
from .conversations import Conversation, ConversationStore, new_response_id
from .errors import RestError, bad_request, json_response, missing_parameter
from .running import LoadReport, PredictionListener, PredictionResult, get_model, run_chat
from .sse import ClientGone, EventStream

__all__ = ["v1_chat"]


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


def _user_content(body: ChatRequest) -> list[TextPart | FilePart]:
    if body.input is None:
        raise missing_parameter("input")
    if isinstance(body.input, str):
        return [TextPart(text=body.input)]
    parts: list[TextPart | FilePart] = []
    check_count("input", body.input)
    for index, item in enumerate(body.input):
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
