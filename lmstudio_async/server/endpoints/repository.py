"""The ``repository`` namespace (PROTOCOL.md 6.6), over the server's own model catalog.

Searching finds downloaded models; "downloading" one of them again simulates a
transfer, so clients can exercise their progress reporting.
"""

from __future__ import annotations

import anyio

from ...protocol import (
    CancelPacket,
    DownloadModelParameter,
    DownloadProgressPacket,
    DownloadProgressUpdate,
    DownloadStartFinalizingPacket,
    DownloadSuccessPacket,
    GetModelDownloadOptionsParameter,
    GetModelDownloadOptionsResult,
    ModelDownloadOption,
    ModelInfo,
    ModelSearchResultEntry,
    ModelSearchResultIdentifier,
    SearchModelsParameter,
    SearchModelsResult,
)
from ..api import CallContext, ChannelContext, ChannelEndpoint, Namespace, RpcEndpoint, ServerError
from ..state import ServerState

__all__ = ["build_repository_namespace"]

_DEFAULT_SEARCH_LIMIT = 10
_MAX_SEARCH_LIMIT = 25
_DOWNLOAD_STEPS = 8
_DOWNLOAD_STEP_SECONDS = 0.02


def _download_identifier(info: ModelInfo) -> str:
    return info.indexed_model_identifier or info.path


def _catalog(state: ServerState) -> list[ModelInfo]:
    return state.models.list_downloaded()


def _matches(info: ModelInfo, term: str) -> bool:
    haystack = (info.model_key, info.display_name, info.publisher or "", info.path)
    return any(term in text.lower() for text in haystack)


async def search_models(ctx: CallContext, parameter: SearchModelsParameter) -> SearchModelsResult:
    opts = parameter.opts
    limit = _DEFAULT_SEARCH_LIMIT if opts.limit is None else opts.limit
    if not 1 <= limit <= _MAX_SEARCH_LIMIT:
        raise ServerError(f"limit must be between 1 and {_MAX_SEARCH_LIMIT}, got {limit}")
    term = (opts.search_term or "").strip().lower()
    found: list[ModelSearchResultEntry] = []
    for info in _catalog(ctx.state):
        if term and not _matches(info, term):
            continue
        if opts.compatibility_types is not None and info.format not in opts.compatibility_types:
            continue
        found.append(
            ModelSearchResultEntry(
                name=info.model_key,
                identifier=ModelSearchResultIdentifier(type="catalog", identifier=info.model_key),
                exact=term in (info.model_key.lower(), info.display_name.lower()),
                staff_pick=False,
            )
        )
    found.sort(key=lambda entry: not entry.exact)
    return SearchModelsResult(results=found[:limit])


async def get_model_download_options(
    ctx: CallContext, parameter: GetModelDownloadOptionsParameter
) -> GetModelDownloadOptionsResult:
    wanted = parameter.model_search_result_identifier.identifier
    options = [
        ModelDownloadOption(
            name=info.path.rsplit("/", 1)[-1],
            size_bytes=info.size_bytes,
            fit_estimation="fullGPUOffload",
            download_identifier=_download_identifier(info),
            indexed_model_identifier=_download_identifier(info),
            quantization=info.quantization.name if info.quantization else None,
            recommended=True,
            compatibility_type=info.format,
        )
        for info in _catalog(ctx.state)
        if wanted in (info.model_key, _download_identifier(info), info.path)
    ]
    if not options:
        raise ServerError(
            f"No model in the catalog matches {wanted!r}",
            suggestion="Use an identifier returned by searchModels.",
        )
    return GetModelDownloadOptionsResult(results=options)


async def download_model(ctx: ChannelContext, parameter: DownloadModelParameter) -> None:
    wanted = parameter.download_identifier
    matches = [info for info in _catalog(ctx.state) if _download_identifier(info) == wanted]
    if not matches:
        raise ServerError(
            f"Nothing to download for {wanted!r}",
            suggestion="Use a downloadIdentifier returned by getModelDownloadOptions.",
        )
    info = matches[0]
    total = info.size_bytes
    speed = total / (_DOWNLOAD_STEPS * _DOWNLOAD_STEP_SECONDS)
    for step in range(1, _DOWNLOAD_STEPS + 1):
        if ctx.cancel_requested():
            raise ServerError(f"Download of {info.model_key!r} was cancelled")
        await anyio.sleep(_DOWNLOAD_STEP_SECONDS)
        update = DownloadProgressUpdate(
            downloaded_bytes=total * step // _DOWNLOAD_STEPS,
            total_bytes=total,
            speed_bytes_per_second=speed,
        )
        await ctx.send(DownloadProgressPacket(update=update))
    await ctx.send(DownloadStartFinalizingPacket())
    await ctx.send(DownloadSuccessPacket(default_identifier=info.model_key))


def build_repository_namespace() -> Namespace:
    namespace = Namespace("repository")
    namespace.rpc(RpcEndpoint("searchModels", search_models, SearchModelsParameter))
    namespace.rpc(
        RpcEndpoint(
            "getModelDownloadOptions", get_model_download_options, GetModelDownloadOptionsParameter
        )
    )
    namespace.channel(
        ChannelEndpoint(
            "downloadModel", download_model, DownloadModelParameter, to_server_type=CancelPacket
        )
    )
    return namespace
