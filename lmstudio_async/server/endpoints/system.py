"""The ``system`` namespace (PROTOCOL.md 6.4): catalog, version, liveness, notifications."""

from __future__ import annotations

import logging
import os

import anyio

from ...protocol import (
    ListDownloadedModelVariantsParameter,
    ModelInfo,
    NotifyParameter,
    SetExperimentFlagParameter,
    SystemInfoResult,
    VersionResult,
)
from ..api import CallContext, ChannelContext, ChannelEndpoint, Namespace, RpcEndpoint, ServerError

__all__ = ["build_system_namespace"]

logger = logging.getLogger(__name__)


async def list_downloaded_models(ctx: CallContext, _: None) -> list[ModelInfo]:
    return ctx.state.models.list_downloaded()


async def list_downloaded_model_variants(
    ctx: CallContext, parameter: ListDownloadedModelVariantsParameter
) -> list[ModelInfo]:
    variants = [
        info for info in ctx.state.models.list_downloaded() if info.model_key == parameter.model_key
    ]
    if not variants:
        raise ServerError(
            f"No downloaded model has the key {parameter.model_key!r}",
            suggestion="List the downloaded models with listDownloadedModels.",
        )
    return variants


async def version(ctx: CallContext, _: None) -> VersionResult:
    config = ctx.state.config
    return VersionResult(version=config.lmstudio_version, build=config.lmstudio_build)


async def info(ctx: CallContext, _: None) -> SystemInfoResult:
    return SystemInfoResult(
        pid=os.getpid(), is_daemon=False, version=ctx.state.config.lmstudio_version
    )


async def alive(ctx: ChannelContext, _: None) -> None:
    # Never ends by itself: the client learns the server went away when this channel breaks.
    await anyio.sleep_forever()


async def notify(ctx: CallContext, parameter: NotifyParameter) -> None:
    logger.info(
        "Notification from client %r: %s%s",
        ctx.client.identifier,
        parameter.title,
        f" - {parameter.description}" if parameter.description else "",
    )


async def set_experiment_flag(ctx: CallContext, parameter: SetExperimentFlagParameter) -> None:
    if parameter.value:
        ctx.state.experiment_flags.add(parameter.code)
    else:
        ctx.state.experiment_flags.discard(parameter.code)


async def get_experiment_flags(ctx: CallContext, _: None) -> list[str]:
    return sorted(ctx.state.experiment_flags)


def build_system_namespace() -> Namespace:
    namespace = Namespace("system")
    namespace.rpc(RpcEndpoint("listDownloadedModels", list_downloaded_models))
    namespace.rpc(
        RpcEndpoint(
            "listDownloadedModelVariants",
            list_downloaded_model_variants,
            ListDownloadedModelVariantsParameter,
        )
    )
    namespace.rpc(RpcEndpoint("version", version))
    namespace.rpc(RpcEndpoint("info", info))
    namespace.rpc(RpcEndpoint("notify", notify, NotifyParameter))
    namespace.rpc(RpcEndpoint("setExperimentFlag", set_experiment_flag, SetExperimentFlagParameter))
    namespace.rpc(RpcEndpoint("getExperimentFlags", get_experiment_flags))
    namespace.channel(ChannelEndpoint("alive", alive))
    return namespace
