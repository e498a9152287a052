"""Module-level shortcuts on the default client (``await lmstudio_async.llm()`` ...).

Each function is the same call on :func:`get_default_client`'s client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .callbacks import ProgressCallback
from .config import EmbeddingLoadModelConfig, LlmLoadModelConfig
from .default_client import get_default_client
from .downloaded import AsyncDownloadedEmbeddingModel, AsyncDownloadedLlm
from .files import FileHandle, LocalFileInput
from .handles import AsyncEmbeddingModel, AsyncLLM
from .listing import ModelNamespaceName
from .loading import DEFAULT_TTL

__all__ = [
    "llm",
    "embedding_model",
    "list_loaded_models",
    "list_downloaded_models",
    "prepare_image",
    "prepare_file",
]


async def llm(
    model_key: str | None = None,
    /,
    *,
    ttl: float | None = DEFAULT_TTL,
    config: LlmLoadModelConfig | Mapping[str, Any] | None = None,
    on_load_progress: ProgressCallback | None = None,
    on_progress: ProgressCallback | None = None,
    timeout: float | None = None,
) -> AsyncLLM:
    """A handle to an LLM on the default client (see ``client.llm.model``)."""
    return await get_default_client().llm.model(
        model_key,
        ttl=ttl,
        config=config,
        on_load_progress=on_load_progress,
        on_progress=on_progress,
        timeout=timeout,
    )


async def embedding_model(
    model_key: str | None = None,
    /,
    *,
    ttl: float | None = DEFAULT_TTL,
    config: EmbeddingLoadModelConfig | Mapping[str, Any] | None = None,
    on_load_progress: ProgressCallback | None = None,
    on_progress: ProgressCallback | None = None,
    timeout: float | None = None,
) -> AsyncEmbeddingModel:
    """A handle to an embedding model on the default client (see ``client.embedding.model``)."""
    return await get_default_client().embedding.model(
        model_key,
        ttl=ttl,
        config=config,
        on_load_progress=on_load_progress,
        on_progress=on_progress,
        timeout=timeout,
    )


async def list_loaded_models(
    namespace: ModelNamespaceName | None = None, *, timeout: float | None = None
) -> list[AsyncLLM | AsyncEmbeddingModel]:
    """Handles to the models loaded on the default client's server."""
    return await get_default_client().list_loaded_models(namespace, timeout=timeout)


async def list_downloaded_models(
    namespace: ModelNamespaceName | None = None, *, timeout: float | None = None
) -> list[AsyncDownloadedLlm | AsyncDownloadedEmbeddingModel]:
    """The models downloaded on the default client's server."""
    return await get_default_client().list_downloaded_models(namespace, timeout=timeout)


async def prepare_image(
    src: LocalFileInput, name: str | None = None, *, timeout: float | None = None
) -> FileHandle:
    """Upload an image with the default client (see ``client.files.prepare_image``)."""
    return await get_default_client().files.prepare_image(src, name, timeout=timeout)


async def prepare_file(
    src: LocalFileInput, name: str | None = None, *, timeout: float | None = None
) -> FileHandle:
    """Upload a file with the default client (see ``client.files.prepare_file``)."""
    return await get_default_client().files.prepare_file(src, name, timeout=timeout)
