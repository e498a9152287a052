"""``client.llm`` and ``client.embedding``: get, load, list, inspect and unload models."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from .callbacks import ProgressCallback, ProgressReporter
from .config import (
    EMBEDDING_LOAD_CONFIG,
    LLM_LOAD_CONFIG,
    EmbeddingLoadModelConfig,
    LlmLoadModelConfig,
)
from .config.mapping import ConfigSchema
from .downloaded import AsyncDownloadedEmbeddingModel, AsyncDownloadedLlm
from .errors import (
    LMStudioClientError,
    LMStudioModelNotFoundError,
    LMStudioServerError,
    LMStudioValueError,
)
from .handles import AsyncEmbeddingModel, AsyncLLM
from .listing import ModelNamespaceName, decode_each
from .loading import DEFAULT_TTL, run_load_channel, ttl_to_ms
from .protocol import (
    CODE_DOMAIN_MISMATCH,
    EmbeddingModelInfo,
    EmbeddingModelInstanceInfo,
    GetModelInfoParameter,
    GetOrLoadParameter,
    LlmInfo,
    LlmInstanceInfo,
    LoadModelParameter,
    UnloadModelParameter,
)
from .specifiers import ModelSpecifierInput, to_specifier
from .validation import check_text

if TYPE_CHECKING:
    from .client import AsyncClient

__all__ = ["AsyncModelNamespace", "AsyncLLMNamespace", "AsyncEmbeddingNamespace"]

HandleT = TypeVar("HandleT", AsyncLLM, AsyncEmbeddingModel)
DownloadedT = TypeVar("DownloadedT", AsyncDownloadedLlm, AsyncDownloadedEmbeddingModel)
InfoT = TypeVar("InfoT", LlmInstanceInfo, EmbeddingModelInstanceInfo)
ConfigT = TypeVar("ConfigT", LlmLoadModelConfig, EmbeddingLoadModelConfig)


class AsyncModelNamespace(Generic[HandleT, DownloadedT, InfoT, ConfigT]):
    """Model management shared by the LLM and embedding namespaces."""

    namespace: ClassVar[ModelNamespaceName]
    kind: ClassVar[str]
    _handle_type: ClassVar[type[Any]]
    _downloaded_type: ClassVar[type[Any]]
    _info_type: ClassVar[type[Any]]
    _downloaded_info_type: ClassVar[type[Any]]
    _config_schema: ClassVar[ConfigSchema[Any]]

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    # --- getting handles ------------------------------------------------------------

    async def model(
        self,
        model_key: str | None = None,
        /,
        *,
        ttl: float | None = DEFAULT_TTL,
        config: ConfigT | Mapping[str, Any] | None = None,
        on_load_progress: ProgressCallback | None = None,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> HandleT:
        """A handle to a loaded model, loading it first if needed ("just in time").

        Without ``model_key``: any loaded model of this namespace (nothing is loaded
        for you). With it: the loaded instance matching the key (an identifier, a
        model key or a path), else a new instance. ``ttl`` (idle seconds before
        auto-unload; ``None`` for never) and ``config`` apply only if this call
        actually loads: an instance that is already loaded keeps its own.
        ``on_load_progress`` (or its alias ``on_progress``) receives floats from
        0.0 to 1.0 while loading; it may be a plain or an async function.
        """
        progress = ProgressReporter(_progress_callback(on_load_progress, on_progress))
        if model_key is None:
            loaded = await self.list_loaded(timeout=timeout)
            if not loaded:
                raise LMStudioClientError(
                    f"No {self.kind} is loaded. Load one with "
                    f"client.{self.namespace}.model('model-key'), or load it in LM Studio."
                )
            return loaded[0]
        key = _check_text(model_key, "model_key")
        parameter = GetOrLoadParameter(
            identifier=key,
            load_ttl_ms=ttl_to_ms(ttl),
            load_config_stack=self._config_schema.to_stack(self._config_schema.parse(config)),
        )
        return await self._load("getOrLoad", key, parameter, progress, timeout)

    async def load_new_instance(
        self,
        model_key: str,
        instance_identifier: str | None = None,
        *,
        ttl: float | None = DEFAULT_TTL,
        config: ConfigT | Mapping[str, Any] | None = None,
        on_load_progress: ProgressCallback | None = None,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> HandleT:
        """Load a new instance of a downloaded model, even if one is already loaded.

        Without ``instance_identifier`` the server picks one (the model key, then
        ``key:2``, ``key:3``...) and the returned handle carries it. An identifier
        that is already in use is an :class:`LMStudioServerError`.
        """
        progress = ProgressReporter(_progress_callback(on_load_progress, on_progress))
        key = _check_text(model_key, "model_key")
        identifier = (
            None
            if instance_identifier is None
            else _check_text(instance_identifier, "instance_identifier")
        )
        parameter = LoadModelParameter(
            model_key=key,
            identifier=identifier,
            ttl_ms=ttl_to_ms(ttl),
            load_config_stack=self._config_schema.to_stack(self._config_schema.parse(config)),
        )
        return await self._load("loadModel", key, parameter, progress, timeout)

    async def _load(
        self,
        endpoint: str,
        key: str,
        parameter: Any,
        progress: ProgressReporter,
        timeout: float | None,
    ) -> HandleT:
        try:
            info, _ = await run_load_channel(
                self._client, self.namespace, endpoint, parameter, progress, timeout
            )
        except LMStudioServerError as exc:
            # A key of the other domain is, for this namespace, just as missing.
            if isinstance(exc, LMStudioModelNotFoundError) or exc.code == CODE_DOMAIN_MISMATCH:
                raise await self._not_found(key, exc) from exc
            raise
        handle: HandleT = self._handle_type(self._client, info)
        return handle

    async def _not_found(self, key: str, cause: LMStudioServerError) -> LMStudioModelNotFoundError:
        """Say which downloaded models the user may have meant."""
        try:
            downloaded = await self._client.system.list_downloaded_models()
        except LMStudioClientError:
            downloaded = []
        mine = [m.model_key for m in downloaded if isinstance(m.info, self._downloaded_info_type)]
        others = {m.model_key: m for m in downloaded if m.model_key not in mine}
        if key in others:
            other = "embedding" if self.namespace == "llm" else "llm"
            hint = f" {key!r} is not of this kind; use client.{other} for it."
        else:
            close = difflib.get_close_matches(key, mine, n=3, cutoff=0.4)
            hint = f" Closest downloaded: {', '.join(map(repr, close))}." if close else ""
        return cause.restated(
            f"No downloaded {self.kind} matches {key!r}.{hint} "
            f"See client.{self.namespace}.list_downloaded() for what is available.",
            LMStudioModelNotFoundError,
        )

    # --- listing and inspecting -----------------------------------------------------------

    async def list_loaded(self, *, timeout: float | None = None) -> list[HandleT]:
        """Handles to every loaded instance of this namespace."""
        raw = await self._client._call_raw(self.namespace, "listLoaded", timeout=timeout)
        infos = decode_each(raw, self._info_type, f"{self.namespace}/listLoaded")
        return [self._handle_type(self._client, info) for info in infos]

    async def list_downloaded(self, *, timeout: float | None = None) -> list[DownloadedT]:
        """Every downloaded model of this namespace, each loadable from its record."""
        models = await self._client.system.list_downloaded_models(self.namespace, timeout=timeout)
        return [m for m in models if isinstance(m, self._downloaded_type)]

    async def get_model_info(
        self, model_specifier: ModelSpecifierInput, *, timeout: float | None = None
    ) -> InfoT:
        """Information about the loaded instance an identifier or query selects."""
        parameter = GetModelInfoParameter(
            specifier=to_specifier(model_specifier), throw_if_not_found=True
        )
        info: InfoT = await self._client._call(
            self.namespace, "getModelInfo", parameter, self._info_type, timeout=timeout
        )
        return info

    async def unload(self, model_identifier: str, *, timeout: float | None = None) -> None:
        """Unload the instance with this identifier (no handle needed)."""
        parameter = UnloadModelParameter(
            identifier=_check_text(model_identifier, "model_identifier")
        )
        await self._client._call_raw(self.namespace, "unloadModel", parameter, timeout=timeout)


def _check_text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LMStudioValueError(f"{name} must be a non-empty string, not {value!r}.")
    return check_text(value, name)


def _progress_callback(
    on_load_progress: ProgressCallback | None, on_progress: ProgressCallback | None
) -> ProgressCallback | None:
    if on_load_progress is not None and on_progress is not None:
        raise LMStudioValueError("Pass on_load_progress or on_progress (its alias), not both.")
    callback = on_load_progress if on_load_progress is not None else on_progress
    if callback is not None and not callable(callback):
        raise LMStudioValueError(f"on_load_progress must be callable, not {callback!r}.")
    return callback


class AsyncLLMNamespace(
    AsyncModelNamespace[AsyncLLM, AsyncDownloadedLlm, LlmInstanceInfo, LlmLoadModelConfig]
):
    """``client.llm``: large language models."""

    namespace = "llm"
    kind = "LLM"
    _handle_type = AsyncLLM
    _downloaded_type = AsyncDownloadedLlm
    _info_type = LlmInstanceInfo
    _downloaded_info_type = LlmInfo
    _config_schema = LLM_LOAD_CONFIG


class AsyncEmbeddingNamespace(
    AsyncModelNamespace[
        AsyncEmbeddingModel,
        AsyncDownloadedEmbeddingModel,
        EmbeddingModelInstanceInfo,
        EmbeddingLoadModelConfig,
    ]
):
    """``client.embedding``: embedding models."""

    namespace = "embedding"
    kind = "embedding model"
    _handle_type = AsyncEmbeddingModel
    _downloaded_type = AsyncDownloadedEmbeddingModel
    _info_type = EmbeddingModelInstanceInfo
    _downloaded_info_type = EmbeddingModelInfo
    _config_schema = EMBEDDING_LOAD_CONFIG
