"""``client.repository``: find models to download, and download them (PROTOCOL.md 6.6).

``search_models`` returns :class:`AsyncModelSearchResult` entries; each has
download options (one per file, e.g. per quantization), and
:meth:`AsyncModelDownloadOption.download` fetches one onto the server's disk,
returning the model key to load it with. Progress reaches ``on_progress`` as
non-decreasing byte counts with a total; ``on_finalize`` is called once when
the server starts finalizing. Cancelling the awaiting task, or an exception in
a callback, cancels the download on the server.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, get_args

from .callbacks import Callback0, invoke
from .errors import LMStudioChannelClosedError, LMStudioValueError
from .protocol import (
    DownloadModelParameter,
    DownloadProgressPacket,
    DownloadProgressUpdate,
    DownloadStartFinalizingPacket,
    DownloadSuccessPacket,
    GetModelDownloadOptionsParameter,
    GetModelDownloadOptionsResult,
    ModelCompatibilityType,
    ModelSearchOpts,
    SearchModelsParameter,
    SearchModelsResult,
    lenient_decoder_for,
)
from .protocol import ModelDownloadOption as ModelSearchResultDownloadOptionData
from .protocol import ModelSearchResultEntry as ModelSearchResultEntryData

if TYPE_CHECKING:
    from .client import AsyncClient

__all__ = [
    "AsyncRepositoryNamespace",
    "AsyncModelSearchResult",
    "AsyncModelDownloadOption",
    "DownloadProgressUpdate",
    "DownloadProgressCallback",
    "DownloadFinalizedCallback",
    "ModelSearchResultEntryData",
    "ModelSearchResultDownloadOptionData",
    "MAX_SEARCH_LIMIT",
]

#: Receives each :class:`DownloadProgressUpdate` (plain or async function).
DownloadProgressCallback = Callable[[DownloadProgressUpdate], object]
#: Called once, with no argument, when the download starts finalizing.
DownloadFinalizedCallback = Callback0
#: Most results one search may ask for.
MAX_SEARCH_LIMIT = 25

_COMPATIBILITY_TYPES = frozenset(get_args(ModelCompatibilityType))
_DOWNLOAD_PACKET = lenient_decoder_for(
    DownloadProgressPacket | DownloadStartFinalizingPacket | DownloadSuccessPacket,
    "model download",
)


def _search_opts(
    search_term: str | None, limit: int | None, compatibility_types: Sequence[str] | None
) -> ModelSearchOpts:
    if search_term is not None and not isinstance(search_term, str):
        raise LMStudioValueError(f"search_term must be a string, not {search_term!r}.")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SEARCH_LIMIT
    ):
        raise LMStudioValueError(
            f"limit must be an integer from 1 to {MAX_SEARCH_LIMIT}, not {limit!r}."
        )
    types: list[str] | None = None
    if compatibility_types is not None:
        if isinstance(compatibility_types, str):
            raise LMStudioValueError(
                f"compatibility_types must be a list, e.g. [{compatibility_types!r}]."
            )
        types = list(compatibility_types)
        unknown = [t for t in types if t not in _COMPATIBILITY_TYPES]
        if unknown:
            valid = ", ".join(sorted(_COMPATIBILITY_TYPES))
            raise LMStudioValueError(
                f"Unknown compatibility types {unknown!r}; valid ones are {valid}."
            )
    return ModelSearchOpts(search_term=search_term or None, limit=limit, compatibility_types=types)


class AsyncRepositoryNamespace:
    """Endpoints of the ``repository`` websocket."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def search_models(
        self,
        search_term: str | None = None,
        limit: int | None = None,
        compatibility_types: Sequence[ModelCompatibilityType] | None = None,
        *,
        timeout: float | None = None,
    ) -> list[AsyncModelSearchResult]:
        """Models the server can download whose name matches ``search_term`` (all if omitted).

        ``limit`` caps the number of results (1 to 25); ``compatibility_types``
        keeps only some formats (e.g. ``["gguf"]``).
        """
        parameter = SearchModelsParameter(
            opts=_search_opts(search_term, limit, compatibility_types)
        )
        found = await self._client._call(
            "repository", "searchModels", parameter, SearchModelsResult, timeout=timeout
        )
        return [AsyncModelSearchResult(self._client, entry) for entry in found.results]


class AsyncModelSearchResult:
    """A model found by ``search_models``; :meth:`get_download_options` lists its files."""

    def __init__(self, client: AsyncClient, entry: ModelSearchResultEntryData) -> None:
        self._client = client
        self.search_result: ModelSearchResultEntryData = entry

    def __repr__(self) -> str:
        return f"<ModelSearchResult name={self.name!r} exact={self.exact}>"

    @property
    def name(self) -> str:
        return self.search_result.name

    @property
    def exact(self) -> bool:
        """The name matched the search term exactly."""
        return bool(self.search_result.exact)

    @property
    def staff_pick(self) -> bool:
        return bool(self.search_result.staff_pick)

    async def get_download_options(
        self, *, timeout: float | None = None
    ) -> list[AsyncModelDownloadOption]:
        """The files of this model that can be downloaded (recommended ones first)."""
        parameter = GetModelDownloadOptionsParameter(
            model_search_result_identifier=self.search_result.identifier
        )
        result = await self._client._call(
            "repository",
            "getModelDownloadOptions",
            parameter,
            GetModelDownloadOptionsResult,
            timeout=timeout,
        )
        options = [AsyncModelDownloadOption(self._client, info) for info in result.results]
        options.sort(key=lambda option: not option.recommended)
        return options


class AsyncModelDownloadOption:
    """One downloadable file of a model; :meth:`download` fetches it."""

    def __init__(self, client: AsyncClient, info: ModelSearchResultDownloadOptionData) -> None:
        self._client = client
        self.info: ModelSearchResultDownloadOptionData = info

    def __repr__(self) -> str:
        return (
            f"<ModelDownloadOption name={self.name!r} size_bytes={self.size_bytes} "
            f"quantization={self.quantization!r} recommended={self.recommended}>"
        )

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def size_bytes(self) -> int:
        return self.info.size_bytes

    @property
    def quantization(self) -> str | None:
        return self.info.quantization

    @property
    def recommended(self) -> bool:
        return bool(self.info.recommended)

    @property
    def download_identifier(self) -> str:
        return self.info.download_identifier

    async def download(
        self,
        on_progress: DownloadProgressCallback | None = None,
        on_finalize: DownloadFinalizedCallback | None = None,
        *,
        timeout: float | None = None,
    ) -> str:
        """Download this file to the server; returns the model key to load it with.

        ``timeout`` bounds the silence between two progress reports, not the
        whole download.
        """
        progress = _ProgressFilter(on_progress)
        parameter = DownloadModelParameter(download_identifier=self.info.download_identifier)
        channel = await self._client._open_channel(
            "repository", "downloadModel", parameter, _DOWNLOAD_PACKET, timeout=timeout
        )
        finalizing = False
        try:
            async for packet in channel:
                if isinstance(packet, DownloadProgressPacket):
                    await progress.report(packet.update)
                elif isinstance(packet, DownloadStartFinalizingPacket):
                    if not finalizing and on_finalize is not None:
                        finalizing = True
                        result = on_finalize()
                        if inspect.isawaitable(result):
                            await result
                    finalizing = True
                elif isinstance(packet, DownloadSuccessPacket):
                    await progress.finish()
                    return packet.default_identifier
            raise LMStudioChannelClosedError(
                f"LM Studio closed the download of {self.name!r} without finishing it."
            )
        except BaseException:
            channel.cancel_soon()
            raise
        finally:
            channel.close()


class _ProgressFilter:
    """Feeds ``on_progress`` non-decreasing byte counts, ending with one complete update."""

    __slots__ = ("_callback", "_done", "_last")

    def __init__(self, callback: DownloadProgressCallback | None) -> None:
        self._callback = callback
        self._last: DownloadProgressUpdate | None = None
        self._done = False

    async def report(self, update: DownloadProgressUpdate) -> None:
        last = self._last
        if self._done or (last is not None and update.downloaded_bytes <= last.downloaded_bytes):
            return
        if last is not None and update.total_bytes != last.total_bytes:
            return  # a total that changes mid-way is not a progress the user can follow
        self._last = update
        self._done = update.downloaded_bytes >= update.total_bytes
        if self._callback is not None:
            await invoke(self._callback, update)

    async def finish(self) -> None:
        """Report the complete download once, if the server never said it was complete."""
        last = self._last
        if self._done or last is None:
            return
        await self.report(
            DownloadProgressUpdate(
                downloaded_bytes=last.total_bytes,
                total_bytes=last.total_bytes,
                speed_bytes_per_second=last.speed_bytes_per_second,
            )
        )
