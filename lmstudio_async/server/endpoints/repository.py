"""The ``repository`` namespace (PROTOCOL.md 6.6), over the server's hub (see :mod:`..hub`).

Search results are hub repositories (``publisher/repository``, identifier type
``hf``); their download options are its model files, each identified by its
model path. Downloads are carried out by :mod:`..downloads`: real copies into
the llama-cpp engine's models directory, simulated ones for the scripted
engine. A file that is already downloaded reports one complete progress
update and succeeds at once.

Cancelling a download (PROTOCOL.md open question 7) ends the channel with
``channelError``, as a cancelled load does: nothing was downloaded, so there is
no model key to report.
"""

from __future__ import annotations

from ...protocol import (
    CancelPacket,
    DownloadModelParameter,
    DownloadProgressPacket,
    DownloadProgressUpdate,
    DownloadStartFinalizingPacket,
    DownloadSuccessPacket,
    GetModelDownloadOptionsParameter,
    GetModelDownloadOptionsResult,
    LlmInfo,
    ModelDownloadOption,
    ModelInfo,
    ModelSearchResultEntry,
    ModelSearchResultIdentifier,
    SearchModelsParameter,
    SearchModelsResult,
)
from .. import downloads
from ..api import CallContext, ChannelContext, ChannelEndpoint, Namespace, RpcEndpoint, ServerError
from ..hub import HubFile, recommended
from ..state import ServerState

__all__ = ["build_repository_namespace", "MAX_CONCURRENT_DOWNLOADS"]

_DEFAULT_SEARCH_LIMIT = 10
_MAX_SEARCH_LIMIT = 25
_MAX_TERM_LENGTH = 256
MAX_CONCURRENT_DOWNLOADS = 4


def _haystack(repository: str, files: list[HubFile]) -> list[str]:
    texts = [repository.lower()]
    for file in files:
        texts += [
            file.file_name.lower(),
            file.info.model_key.lower(),
            file.info.display_name.lower(),
        ]
    return texts


def _is_exact(term: str, repository: str, files: list[HubFile]) -> bool:
    names = {repository.lower(), repository.rsplit("/", 1)[-1].lower()}
    names.update(file.info.model_key.lower() for file in files)
    names.update(file.info.display_name.lower() for file in files)
    return term in names


async def search_models(ctx: CallContext, parameter: SearchModelsParameter) -> SearchModelsResult:
    opts = parameter.opts
    limit = _DEFAULT_SEARCH_LIMIT if opts.limit is None else opts.limit
    if not 1 <= limit <= _MAX_SEARCH_LIMIT:
        raise ServerError(f"limit must be between 1 and {_MAX_SEARCH_LIMIT}, got {limit}")
    term = (opts.search_term or "").strip().lower()
    if len(term) > _MAX_TERM_LENGTH:
        raise ServerError(f"searchTerm may have at most {_MAX_TERM_LENGTH} characters")
    found: list[ModelSearchResultEntry] = []
    for repository, files in ctx.state.hub.repositories().items():
        if opts.compatibility_types is not None:
            files = [f for f in files if f.info.format in opts.compatibility_types]
        if not files or (term and not any(term in text for text in _haystack(repository, files))):
            continue
        found.append(
            ModelSearchResultEntry(
                name=repository,
                identifier=ModelSearchResultIdentifier(type="hf", identifier=repository),
                exact=bool(term) and _is_exact(term, repository, files),
                staff_pick=False,
            )
        )
    found.sort(key=lambda entry: not entry.exact)
    return SearchModelsResult(results=found[:limit])


def _option(state: ServerState, file: HubFile, best: HubFile) -> ModelDownloadOption:
    info = file.info
    return ModelDownloadOption(
        name=file.file_name,
        size_bytes=file.total_bytes,
        # The llama-cpp engine runs on the CPU; the scripted one claims a GPU.
        fit_estimation="fitWithoutGPU" if state.config.engine == "llama-cpp" else "fullGPUOffload",
        download_identifier=file.path,
        indexed_model_identifier=file.path,
        quantization=info.quantization.name if info.quantization else None,
        recommended=file is best,
        compatibility_type=info.format,
    )


async def get_model_download_options(
    ctx: CallContext, parameter: GetModelDownloadOptionsParameter
) -> GetModelDownloadOptionsResult:
    wanted = parameter.model_search_result_identifier.identifier
    files = ctx.state.hub.options(wanted)
    if not files:
        raise ServerError(
            f"No model in the repository matches {wanted[:200]!r}",
            suggestion="Use an identifier returned by searchModels.",
        )
    best = recommended(files)
    return GetModelDownloadOptionsResult(results=[_option(ctx.state, f, best) for f in files])


def _downloaded(state: ServerState, file: HubFile) -> ModelInfo | None:
    """The listed model of ``file``'s path (the LLM if it is listed in both domains)."""
    listed = [info for info in state.models.list_downloaded() if info.path == file.path]
    return next((i for i in listed if isinstance(i, LlmInfo)), listed[0] if listed else None)


async def _install(ctx: ChannelContext, file: HubFile) -> str:
    state = ctx.state
    engine = state.models.engine

    async def progress(done: int, total: int, speed: float) -> None:
        update = DownloadProgressUpdate(
            downloaded_bytes=done, total_bytes=total, speed_bytes_per_second=speed
        )
        await ctx.send(DownloadProgressPacket(update=update))

    options = {
        "fail_at": state.faults.download_fail_at,
        "speed": state.config.download_speed,
    }
    models_dir = getattr(engine, "models_dir", None)
    add_downloaded = getattr(engine, "add_downloaded", None)
    if file.source is not None and models_dir is not None:
        await downloads.copy_hub_file(file, models_dir, progress, ctx.cancel_requested, **options)
        await ctx.send(DownloadStartFinalizingPacket())
        info = _downloaded(state, file)
        if info is None:
            raise ServerError(
                f"{file.file_name!r} was downloaded but cannot be read as a model",
                cause="The engine does not list the downloaded file.",
            )
        return info.model_key
    if add_downloaded is not None:
        await downloads.simulate_download(file, progress, ctx.cancel_requested, **options)
        await ctx.send(DownloadStartFinalizingPacket())
        added: ModelInfo = add_downloaded(file.info)
        return added.model_key
    raise ServerError(
        f"This server cannot download {file.file_name!r}",
        cause="The llama-cpp engine downloads into its models directory, and none was given.",
        suggestion="Start the server with --models-dir DIR.",
    )


async def download_model(ctx: ChannelContext, parameter: DownloadModelParameter) -> None:
    state = ctx.state
    file = state.hub.file(parameter.download_identifier)
    if file is None:
        raise ServerError(
            f"Nothing to download for {parameter.download_identifier[:200]!r}",
            suggestion="Use a downloadIdentifier returned by getModelDownloadOptions.",
        )
    existing = _downloaded(state, file)
    if existing is not None:
        total = file.total_bytes
        update = DownloadProgressUpdate(
            downloaded_bytes=total, total_bytes=total, speed_bytes_per_second=0.0
        )
        await ctx.send(DownloadProgressPacket(update=update))
        await ctx.send(DownloadStartFinalizingPacket())
        await ctx.send(DownloadSuccessPacket(default_identifier=existing.model_key))
        return
    if file.path in state.downloading:
        raise ServerError(f"{file.file_name!r} is already being downloaded")
    if len(state.downloading) >= MAX_CONCURRENT_DOWNLOADS:
        raise ServerError(
            "Too many downloads at once",
            cause=f"At most {MAX_CONCURRENT_DOWNLOADS} downloads may run at the same time.",
        )
    state.downloading.add(file.path)
    try:
        key = await _install(ctx, file)
    finally:
        state.downloading.discard(file.path)
    await ctx.send(DownloadSuccessPacket(default_identifier=key))


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
