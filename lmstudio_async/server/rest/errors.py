"""Errors of the HTTP APIs, in the shapes clients parse (REST.md 3).

The OpenAI-compatible and ``/api/v0`` routes answer
``{"error": {"message", "type", "param", "code"}}``, which the ``openai`` client
copies onto its exceptions; ``/api/v1`` uses ``{"error": {"type", "message",
"code"?, "param"?}}`` with LM Studio's own ``type`` names. A client mistake is
never a 5xx: the ``openai`` client retries those.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from ...protocol import CODE_DOMAIN_MISMATCH, CODE_NO_MODEL_MATCHING_QUERY, CODE_PATH_NOT_FOUND
from ..api import ServerError

__all__ = [
    "RestError",
    "bad_request",
    "missing_parameter",
    "model_not_found",
    "from_server_error",
    "json_response",
    "unexpected_endpoint",
]

_ENCODE = msgspec.json.Encoder().encode
#: How many model names a "not found" message lists as examples.
_EXAMPLES = 5
#: Codes that are also native v1 error types.
_NATIVE_CODE_TYPES = frozenset({"model_not_found", "job_not_found"})
_NATIVE_TYPES = {"invalid_request_error": "invalid_request", "internal_error": "internal_error"}


class RestError(Exception):
    """An HTTP error answer: status plus OpenAI's four error fields."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code

    def openai_body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def native_body(self) -> dict[str, Any]:
        """The ``/api/v1`` shape: LM Studio's ``type`` names, optional keys left out."""
        error: dict[str, Any] = {
            "type": self.code
            if self.code in _NATIVE_CODE_TYPES
            else _NATIVE_TYPES.get(self.type, self.type),
            "message": self.message,
        }
        if self.code is not None:
            error["code"] = self.code
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}

    def response(self, *, native: bool = False) -> web.Response:
        body = self.native_body() if native else self.openai_body()
        headers = {"x-should-retry": "false"} if self.status >= 500 else None
        return json_response(body, status=self.status, headers=headers)


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> RestError:
    return RestError(400, message, param=param, code=code)


def missing_parameter(name: str) -> RestError:
    return RestError(400, f"'{name}' is required", param=name, code="missing_required_parameter")


def model_not_found(name: str, available: list[str]) -> RestError:
    # LM Studio's wording (REST.md 2), so that apps matching on it keep working.
    examples = ", ".join(available[:_EXAMPLES])
    hint = f" (e.g., {examples})" if examples else ""
    return RestError(
        400,
        f'Invalid model identifier "{name}". Please specify a valid downloaded model{hint}.',
        param="model",
        code="model_not_found",
    )


def from_server_error(exc: ServerError, *, model: str, available: list[str]) -> RestError:
    """The HTTP form of an error the websocket handlers raise for the same request."""
    code = (exc.display_data or {}).get("code")
    if code in (CODE_PATH_NOT_FOUND, CODE_NO_MODEL_MATCHING_QUERY):
        return model_not_found(model, available)
    if code == CODE_DOMAIN_MISMATCH:
        return RestError(400, exc.title, param="model", code="model_not_found")
    # Everything else the handlers raise is about the request (settings, TTL...).
    message = exc.title if exc.cause is None else f"{exc.title}: {exc.cause}"
    return RestError(400, message)


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=_ENCODE(body),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def unexpected_endpoint(request: web.Request) -> web.Response:
    # LM Studio answers unknown routes and methods with HTTP 200 and a string error (REST.md 1);
    # copied so that apps probing routes see what they would see against LM Studio.
    path = request.rel_url.path
    return json_response({"error": f"Unexpected endpoint or method. ({request.method} {path})"})
