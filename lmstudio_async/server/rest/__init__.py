"""LM Studio's HTTP APIs on the server's port: OpenAI-compatible ``/v1``, native ``/api/v0``
and ``/api/v1`` (REST.md). Predictions run through the websocket API's handlers (see
:mod:`.running`), so both APIs share loaded models, JIT loading, TTLs and queueing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiohttp import web

from ..api import ServerError
from ..state import ServerState
from .auth import rest_middleware
from .chat_completions import chat_completions
from .completions import completions
from .conversations import ConversationStore
from .embeddings import embeddings
from .errors import RestError, from_server_error
from .model_lists import openai_models, v0_model, v0_models, v1_models
from .native_models import v1_download, v1_download_status, v1_load, v1_unload
from .native_v1 import v1_chat
from .responses import create_response

__all__ = ["add_rest_routes"]

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guarded(handler: Callable[..., Awaitable[web.StreamResponse]], *, native: bool) -> Handler:
    """``handler`` with every failure answered in its API's error shape."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except RestError as exc:
            return exc.response(native=native)
        except ServerError as exc:
            return from_server_error(exc, model="", available=[]).response(native=native)
        except web.HTTPException:
            raise
        except Exception as exc:
            logger.exception("%s %s failed", request.method, request.rel_url.path)
            error = RestError(
                500, f"Internal server error: {type(exc).__name__}", type="internal_error"
            )
            return error.response(native=native)

    return guarded


def add_rest_routes(app: web.Application, state: ServerState) -> None:
    """Serve the HTTP APIs from ``app``; ``--api-token`` tokens are required when set."""
    store = ConversationStore()
    # Outermost: it turns errors of the middlewares inside it (the connection guard reads
    # request bodies) into REST-shaped answers.
    app.middlewares.insert(0, rest_middleware(tuple(state.config.api_tokens)))

    def route(method: str, path: str, handler: Callable[..., Any], **kwargs: Any) -> None:
        native = path.startswith("/api/v1/")
        app.router.add_route(
            method, path, _guarded(partial(handler, state=state, **kwargs), native=native)
        )

    route("GET", "/v1/models", openai_models)
    route("POST", "/v1/chat/completions", chat_completions, v0=False)
    route("POST", "/v1/completions", completions, v0=False)
    route("POST", "/v1/embeddings", embeddings)
    route("POST", "/v1/responses", create_response, store=store)
    route("GET", "/api/v0/models", v0_models)
    route("GET", "/api/v0/models/{model:.+}", v0_model)
    route("POST", "/api/v0/chat/completions", chat_completions, v0=True)
    route("POST", "/api/v0/completions", completions, v0=True)
    route("POST", "/api/v0/embeddings", embeddings)
    route("POST", "/api/v1/chat", v1_chat, store=store)
    route("GET", "/api/v1/models", v1_models)
    route("POST", "/api/v1/models/load", v1_load)
    route("POST", "/api/v1/models/unload", v1_unload)
    route("POST", "/api/v1/models/download", v1_download)
    route("GET", "/api/v1/models/download/status/{job_id}", v1_download_status)
