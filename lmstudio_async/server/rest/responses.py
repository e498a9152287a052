"""``POST /v1/responses``: OpenAI's Responses API, as LM Studio serves it (REST.md 8).

Streams emit OpenAI's full event order (REST.md 8.3 [I]), each event with its
``sequence_number``; the ``openai`` client's ``responses.stream()`` helper
rebuilds the response from them. Stored responses live in memory
(:mod:`.conversations`).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from aiohttp import web

from ...protocol import (
    AssistantMessage,
    ChatHistoryData,
    ChatMessage,
    FilePart,
    FunctionToolCallRequest,
    SystemMessage,
    TextPart,
    ToolCallRequestPart,
)
from ..state import ServerState
from .bodies import (
    read_body,
)
from .chat_input import prediction_stack
from .conversations import Conversation, ConversationStore, new_response_id
from .errors import RestError, json_response, missing_parameter
from .responses_input import ResponseRequest, as_chat_request, input_messages
from .results import STOP_REASONS_AS_LENGTH, new_id, now
from .running import PredictionListener, PredictionResult, get_model, run_chat
from .sse import ClientGone, EventStream

__all__ = ["create_response"]


class _Output(PredictionListener):
    """Builds the ``output`` items; when streaming, emits the events for each."""

    def __init__(self, stream: EventStream | None) -> None:
        super().__init__()
        self._stream = stream
        self.items: list[dict[str, Any]] = []
        self._sequence = 0
        self._message: dict[str, Any] | None = None
        self._message_text: list[str] = []

    async def emit(self, event_type: str, **fields: Any) -> None:
        if self._stream is None:
            return
        payload = {"type": event_type, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        await self._stream.event(event_type, payload)

    async def on_text(self, text: str) -> None:
        await super().on_text(text)
        if not text:
            return
        if self._message is None:
            await self._close_message()
            self._message = {
                "id": new_id("msg_"),
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            }
            self.items.append(self._message)
            index = len(self.items) - 1
            await self.emit("response.output_item.added", output_index=index, item=self._message)
            part = {"type": "output_text", "text": "", "annotations": []}
            await self.emit(
                "response.content_part.added",
                item_id=self._message["id"],
                output_index=index,
                content_index=0,
                part=part,
            )
        self._message_text.append(text)
        await self.emit(
            "response.output_text.delta",
            item_id=self._message["id"],
            output_index=len(self.items) - 1,
            content_index=0,
            delta=text,
            logprobs=[],
        )

    async def _close_message(self) -> None:
        message = self._message
        if message is None:
            return
        self._message = None
        index = self.items.index(message)
        text = "".join(self._message_text)
        self._message_text = []
        part = {"type": "output_text", "text": text, "annotations": []}
        await self.emit(
            "response.output_text.done",
            item_id=message["id"],
            output_index=index,
            content_index=0,
            text=text,
            logprobs=[],
        )
        await self.emit(
            "response.content_part.done",
            item_id=message["id"],
            output_index=index,
            content_index=0,
            part=part,
        )
        message["content"] = [part]
        message["status"] = "completed"
        await self.emit("response.output_item.done", output_index=index, item=message)

    async def on_tool_call(self, request: FunctionToolCallRequest, raw: str | None) -> None:
        await super().on_tool_call(request, raw)
        await self._close_message()
        arguments = json.dumps(request.arguments or {}, ensure_ascii=False)
        item = {
            "id": new_id("fc_"),
            "type": "function_call",
            "status": "in_progress",
            "call_id": request.id or new_id("call_", 9),
            "name": request.name,
            "arguments": "",
        }
        self.items.append(item)
        index = len(self.items) - 1
        await self.emit("response.output_item.added", output_index=index, item=dict(item))
        await self.emit(
            "response.function_call_arguments.delta",
            item_id=item["id"],
            output_index=index,
            delta=arguments,
        )
        await self.emit(
            "response.function_call_arguments.done",
            item_id=item["id"],
            output_index=index,
            arguments=arguments,
            name=request.name,
        )
        item["arguments"] = arguments
        item["status"] = "completed"
        await self.emit("response.output_item.done", output_index=index, item=item)

    async def finish(self) -> None:
        await self._close_message()


def _response(
    response_id: str,
    body: ResponseRequest,
    model: str,
    created: int,
    output: list[dict[str, Any]],
    result: PredictionResult | None,
) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": "in_progress",
        "model": model,
        "output": output,
        "error": None,
        "incomplete_details": None,
        "instructions": body.instructions,
        "max_output_tokens": body.max_output_tokens,
        "parallel_tool_calls": True,
        "previous_response_id": body.previous_response_id,
        "store": body.store,
        "temperature": body.temperature,
        "top_p": body.top_p,
        "tool_choice": body.tool_choice if body.tool_choice is not None else "auto",
        "tools": [msgspec.to_builtins(tool) for tool in body.tools or ()],
        "text": {"format": {"type": "text"}}
        if body.text is None
        else msgspec.to_builtins(body.text),
        "usage": None,
    }
    if result is not None:
        stats = result.stats
        prompt = stats.prompt_tokens_count or 0
        completion = stats.predicted_tokens_count or 0
        reply["usage"] = {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        }
        if stats.stop_reason in STOP_REASONS_AS_LENGTH:
            reply["status"] = "incomplete"
            reply["incomplete_details"] = {"reason": "max_output_tokens"}
        else:
            reply["status"] = "completed"
    return reply


def _reply_messages(listener: _Output) -> list[ChatMessage]:
    content: list[TextPart | FilePart | ToolCallRequestPart] = []
    if listener.text:
        content.append(TextPart(text=listener.text))
    content.extend(ToolCallRequestPart(tool_call_request=call) for call in listener.tool_calls)
    return [AssistantMessage(content=content)]


async def create_response(
    request: web.Request, state: ServerState, store: ConversationStore
) -> web.StreamResponse:
    body = await read_body(request, ResponseRequest)
    if not body.model:
        raise missing_parameter("model")
    earlier: tuple[ChatMessage, ...] = ()
    if body.previous_response_id is not None:
        earlier = store.get(body.previous_response_id).messages
    new_messages = input_messages(body)
    system = (
        [SystemMessage(content=[TextPart(text=body.instructions)])] if body.instructions else []
    )
    history = ChatHistoryData(messages=[*system, *earlier, *new_messages])
    stack = prediction_stack(as_chat_request(body))
    instance, load_seconds = await get_model(state, body.model, "llm", ttl_seconds=body.ttl)
    response_id = new_response_id()
    created = now()
    model = instance.identifier
    stream = EventStream(request) if body.stream else None
    output = _Output(stream)
    try:
        if stream is not None:
            await stream.open()
            snapshot = _response(response_id, body, model, created, [], None)
            await output.emit("response.created", response=snapshot)
            await output.emit("response.in_progress", response=snapshot)
        try:
            result = await run_chat(state, request, instance, history, stack, output, load_seconds)
        except RestError as exc:
            if stream is None:
                raise
            await output.emit("error", code=exc.code, message=exc.message, param=exc.param)
            return stream.response
        await output.finish()
        if body.store:
            stored = (*earlier, *new_messages, *_reply_messages(output))
            store.put(response_id, Conversation(None, stored))
        reply = _response(response_id, body, model, created, output.items, result)
        if stream is None:
            return json_response(reply)
        # Always "response.completed", even for an incomplete response (OpenAI would send
        # "response.incomplete"): LM Studio documents only this end event, and the openai
        # client's stream helper needs it to return the final response.
        await output.emit("response.completed", response=reply)
        await stream.close()
        return stream.response
    except ClientGone:
        assert stream is not None
        return stream.response
