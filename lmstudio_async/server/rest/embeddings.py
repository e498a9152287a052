"""``POST /v1/embeddings`` and ``/api/v0/embeddings`` (REST.md 7)."""

from __future__ import annotations

import base64
import struct
from typing import Any

from aiohttp import web

from ...protocol import EmbedStringParameter, InstanceReferenceSpecifier
from ..api import CallContext, ClientInfo, ServerError
from ..endpoints.embedding import embed_string
from ..state import ServerState
from .bodies import EmbeddingRequest, check_count, read_body
from .errors import bad_request, from_server_error, json_response, missing_parameter
from .running import apply_faults, get_model

__all__ = ["embeddings"]


def _encoded(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        # Little-endian float32, which the openai client decodes (its default format).
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


async def embeddings(request: web.Request, state: ServerState) -> web.Response:
    body = await read_body(request, EmbeddingRequest)
    if not body.model:
        raise missing_parameter("model")
    inputs = [body.input] if isinstance(body.input, str) else body.input
    check_count("input", inputs)
    if not inputs:
        raise bad_request("'input' must not be empty", param="input")
    encoding = body.encoding_format or "float"
    if encoding not in ("float", "base64"):
        raise bad_request(
            f"'encoding_format' must be 'float' or 'base64', got {encoding!r}",
            param="encoding_format",
        )
    if body.dimensions is not None:
        # The models produce vectors of one fixed size; truncation would change their meaning.
        raise bad_request(
            "'dimensions' is not supported: embeddings have the model's own size",
            param="dimensions",
        )
    instance, _ = await get_model(state, body.model, "embedding", ttl_seconds=body.ttl)
    # The websocket API's own handler, so both APIs share the model manager's path.
    ctx = CallContext(state, ClientInfo(f"http:{request.remote}"), "embedding", "embedString")
    specifier = InstanceReferenceSpecifier(instance_reference=instance.reference)
    data: list[dict[str, Any]] = []
    prompt_tokens = 0
    for index, text in enumerate(inputs):
        await apply_faults(state, "embedding/embedString")
        parameter = EmbedStringParameter(model_specifier=specifier, input_string=text)
        try:
            result = await embed_string(ctx, parameter)
        except ServerError as exc:
            raise from_server_error(exc, model=body.model, available=[]) from None
        prompt_tokens += instance.model.count_tokens(text)
        data.append(
            {
                "object": "embedding",
                "embedding": _encoded(result.embedding, encoding),
                "index": index,
            }
        )
    return json_response(
        {
            "object": "list",
            "data": data,
            "model": instance.identifier,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        }
    )
