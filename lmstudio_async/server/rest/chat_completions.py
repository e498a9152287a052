"""``POST /v1/chat/completions`` and ``/api/v0/chat/completions`` (REST.md 5, 9.2)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from aiohttp import web

from ...protocol import FunctionToolCallRequest
from ..state import ServerState
from .bodies import ChatCompletionRequest, read_body
from .chat_input import chat_history, prediction_stack
from .errors import RestError, json_response, missing_parameter
from .results import finish_reason, new_id, now, usage, v0_extras
from .running import PredictionListener, get_model, run_chat
from .sse import ClientGone, EventStream

__all__ = ["chat_completions", "tool_call_json"]

_ENCODE = msgspec.json.Encoder().encode


def tool_call_json(request: FunctionToolCallRequest, fallback_id: str) -> dict[str, Any]:
    """An engine's tool call as an OpenAI ``tool_calls`` entry (arguments as a JSON string)."""
    return {
        "id": request.id or fallback_id,
        "type": "function",
        "function": {
            "name": request.name,
            "arguments": json.dumps(request.arguments or {}, ensure_ascii=False),
        },
    }


class _ChunkWriter(PredictionListener):
    """Streams the prediction as ``chat.completion.chunk`` events.

    The envelope of a text chunk is the same for the whole stream, so it is encoded
    once; each chunk then costs one string encode.
    """

    def __init__(self, stream: EventStream, header: dict[str, Any]) -> None:
        super().__init__()
        self._stream = stream
        self._header = header
        envelope = _ENCODE({**header, "choices": []})[:-3]  # drop '[]}'
        self._text_prefix = (
            b"data: " + envelope + b'[{"index":0,"delta":{"role":"assistant","content":'
        )
        self._reasoning_prefix = (
            b"data: " + envelope + b'[{"index":0,"delta":{"role":"assistant","reasoning_content":'
        )
        self._suffix = b'},"logprobs":null,"finish_reason":null}]}\n\n'
        self._call_index = -1
        self._call_id: str | None = None
        self._arguments_streamed = False

    async def on_text(self, text: str) -> None:
        if text:
            await self._stream.write_raw(self._text_prefix + _ENCODE(text) + self._suffix)

    async def on_reasoning(self, text: str) -> None:
        if text:
            await self._stream.write_raw(self._reasoning_prefix + _ENCODE(text) + self._suffix)

    async def delta(self, delta: dict[str, Any], reason: str | None = None) -> None:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
        await self._stream.data({**self._header, "choices": [choice]})

    async def _call_delta(self, fragment: dict[str, Any]) -> None:
        await self.delta({"role": "assistant", "tool_calls": [fragment]})

    async def on_tool_call_start(self, call_id: str | None) -> None:
        self._call_index += 1
        self._call_id = call_id or new_id("call_", 9)
        self._arguments_streamed = False

    async def on_tool_call_name(self, name: str) -> None:
        await self._call_delta(
            {
                "index": self._call_index,
                "id": self._call_id,
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
        )

    async def on_tool_call_arguments(self, fragment: str) -> None:
        if fragment:
            self._arguments_streamed = True
            await self._call_delta({"index": self._call_index, "function": {"arguments": fragment}})

    async def on_tool_call(self, request: FunctionToolCallRequest, raw: str | None) -> None:
        await super().on_tool_call(request, raw)
        if self._call_id is None:
            # An engine that reports only finished calls: send each in one piece.
            await self.on_tool_call_start(request.id)
            await self.on_tool_call_name(request.name)
        if not self._arguments_streamed:
            arguments = json.dumps(request.arguments or {}, ensure_ascii=False)
            await self._call_delta(
                {"index": self._call_index, "function": {"arguments": arguments}}
            )
        self._call_id = None


def _header(completion_id: str, model: str) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": now(),
        "model": model,
        "system_fingerprint": model,
    }


async def chat_completions(
    request: web.Request, state: ServerState, *, v0: bool
) -> web.StreamResponse:
    body = await read_body(request, ChatCompletionRequest)
    if not body.model:
        raise missing_parameter("model")
    history = chat_history(body.messages)
    stack = prediction_stack(body)
    instance, load_seconds = await get_model(state, body.model, "llm", ttl_seconds=body.ttl)
    model = instance.identifier
    completion_id = new_id("chatcmpl-")
    if not body.stream:
        listener = PredictionListener()
        result = await run_chat(state, request, instance, history, stack, listener, load_seconds)
        calls = [tool_call_json(call, new_id("call_", 9)) for call in listener.tool_calls]
        message: dict[str, Any] = {"role": "assistant", "content": listener.text}
        if listener.reasoning_parts:
            message["reasoning_content"] = "".join(listener.reasoning_parts)
        if calls:
            message["content"] = listener.text or None
            message["tool_calls"] = calls
        reply: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion",
            "created": now(),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "logprobs": None,
                    "finish_reason": finish_reason(result.stats, bool(calls)),
                    "message": message,
                }
            ],
            "usage": usage(result.stats),
            "system_fingerprint": model,
        }
        if v0:
            reply.update(v0_extras(state, result))
        return json_response(reply)

    stream = EventStream(request)
    await stream.open()
    header = _header(completion_id, model)
    writer = _ChunkWriter(stream, header)
    try:
        try:
            result = await run_chat(state, request, instance, history, stack, writer, load_seconds)
        except RestError as exc:
            # Once the stream is open, errors travel in it (REST.md 3); the client raises them.
            await stream.data(exc.openai_body())
            return stream.response
        await writer.delta({}, finish_reason(result.stats, bool(writer.tool_calls)))
        include_usage = body.stream_options is not None and body.stream_options.include_usage
        if include_usage and not v0:
            await stream.data({**header, "choices": [], "usage": usage(result.stats)})
        await stream.done()
        await stream.close()
    except ClientGone:
        pass
    return stream.response
