"""``client.system``: server-wide endpoints (version, downloaded models, notifications)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .downloaded import AsyncDownloadedEmbeddingModel, AsyncDownloadedLlm, downloaded_record
from .listing import ModelNamespaceName, check_model_namespace, decode_each, filter_by_namespace
from .protocol import ModelInfo, NotifyParameter, VersionResult

if TYPE_CHECKING:
    from .client import AsyncClient

__all__ = ["AsyncSystemNamespace"]


class AsyncSystemNamespace:
    """Endpoints of the ``system`` websocket."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def version(self, *, timeout: float | None = None) -> VersionResult:
        """The server's LM Studio version and build number."""
        return await self._client._call("system", "version", None, VersionResult, timeout=timeout)

    async def list_downloaded_models(
        self, namespace: ModelNamespaceName | None = None, *, timeout: float | None = None
    ) -> list[AsyncDownloadedLlm | AsyncDownloadedEmbeddingModel]:
        """Every model on the server's disk, or those of one namespace (``llm``/``embedding``)."""
        namespaces = check_model_namespace(namespace)
        raw = await self._client._call_raw("system", "listDownloadedModels", timeout=timeout)
        infos: list[ModelInfo] = decode_each(raw, ModelInfo, "system/listDownloadedModels")
        return [downloaded_record(self._client, i) for i in filter_by_namespace(infos, namespaces)]

    async def notify(
        self,
        title: str,
        description: str | None = None,
        *,
        no_auto_dismiss: bool = False,
        timeout: float | None = None,
    ) -> None:
        """Show a notification in the LM Studio app."""
        parameter = NotifyParameter(
            title=title, description=description, no_auto_dismiss=no_auto_dismiss or None
        )
        await self._client._call_raw("system", "notify", parameter, timeout=timeout)
