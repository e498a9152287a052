"""``POST /v1/completions`` and ``/api/v0/completions``: the prompt as-is (REST.md 6)."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from ..state import ServerState
from .bodies import CompletionRequest, read_body
from .chat_input import prediction_stack
from .errors import RestError, bad_request, json_response, missing_parameter
from .results import finish_reason, new_id, now, usage, v0_extras
from .running import PredictionListener, get_model, run_raw
from .sse import ClientGone, EventStream

__all__ = ["completions"]

_ENCODE = msgspec.json.Encoder().encode


class _TextChunks(PredictionListener):
    def __init__(self, stream: EventStream, header: dict[str, Any]) -> None:
        super().__init__()
        self._stream = stream
        self._header = header
        envelope = _ENCODE({**header, "choices": []})[:-3]  # drop '[]}'
        self._prefix = b"data: " + envelope + b'[{"index":0,"text":'
        self._suffix = b',"logprobs":null,"finish_reason":null}]}\n\n'

    async def on_text(self, text: str) -> None:
        if text:
            await self._stream.write_raw(self._prefix + _ENCODE(text) + self._suffix)

    async def finish(self, reason: str) -> None:
        choice = {"index": 0, "text": "", "logprobs": None, "finish_reason": reason}
        await self._stream.data({**self._header, "choices": [choice]})


def _prompt(body: CompletionRequest) -> str:
    if isinstance(body.prompt, str):
        return body.prompt
    # One completion per request: a list must hold exactly one prompt.
    if len(body.prompt) != 1:
        raise bad_request(
            f"'prompt' must be a string or a list of one string, got {len(body.prompt)} prompts",
            param="prompt",
        )
    return body.prompt[0]


async def completions(request: web.Request, state: ServerState, *, v0: bool) -> web.StreamResponse:
    body = await read_body(request, CompletionRequest)
    if not body.model:
        raise missing_parameter("model")
    prompt = _prompt(body)
    stack = prediction_stack(body)
    instance, load_seconds = await get_model(state, body.model, "llm", ttl_seconds=body.ttl)
    model = instance.identifier
    header = {"id": new_id("cmpl-"), "object": "text_completion", "created": now(), "model": model}
    if not body.stream:
        listener = PredictionListener()
        result = await run_raw(state, request, instance, prompt, stack, listener, load_seconds)
        choice = {
            "index": 0,
            "text": listener.text,
            "logprobs": None,
            "finish_reason": finish_reason(result.stats, False),
        }
        reply: dict[str, Any] = {**header, "choices": [choice], "usage": usage(result.stats)}
        if v0:
            reply.update(v0_extras(state, result))
        return json_response(reply)

    stream = EventStream(request)
    await stream.open()
    writer = _TextChunks(stream, header)
    try:
        try:
            result = await run_raw(state, request, instance, prompt, stack, writer, load_seconds)
        except RestError as exc:
            await stream.data(exc.openai_body())
            return stream.response
        await writer.finish(finish_reason(result.stats, False))
        if body.stream_options is not None and body.stream_options.include_usage and not v0:
            await stream.data({**header, "choices": [], "usage": usage(result.stats)})
        await stream.done()
        await stream.close()
    except ClientGone:
        pass
    return stream.response
