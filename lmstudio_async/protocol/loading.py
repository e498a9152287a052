"""``loadModel`` and ``getOrLoad`` channels (PROTOCOL.md 6.1).

The two channels report the same events under different packet names; clients
must accept both families in both channels.
"""

from __future__ import annotations

from .base import WireStruct
from .kvconfig import KVConfigStack
from .models import ModelInfo, ModelInstanceInfo

__all__ = [
    "LoadModelParameter",
    "GetOrLoadParameter",
    "CancelPacket",
    "LoadResolved",
    "LoadProgress",
    "LoadSuccess",
    "AlreadyLoaded",
    "StartLoading",
    "UnloadingOtherJITModel",
    "GetOrLoadProgress",
    "LoadSucceeded",
    "LoadModelPacket",
    "GetOrLoadPacket",
    "LoadingPacket",
]


class LoadModelParameter(WireStruct, kw_only=True):
    model_key: str
    load_config_stack: KVConfigStack
    identifier: str | None = None
    ttl_ms: int | None = None


class GetOrLoadParameter(WireStruct, kw_only=True):
    identifier: str
    load_config_stack: KVConfigStack
    load_ttl_ms: int | None = None


class CancelPacket(WireStruct, tag_field="type", tag="cancel", kw_only=True):
    """Client to server, in any channel that can be cancelled."""


# loadModel family
class LoadResolved(WireStruct, tag_field="type", tag="resolved", kw_only=True):
    info: ModelInfo
    ambiguous: list[str] | None = None


class LoadProgress(WireStruct, tag_field="type", tag="progress", kw_only=True):
    progress: float


class LoadSuccess(WireStruct, tag_field="type", tag="success", kw_only=True):
    info: ModelInstanceInfo


# getOrLoad family
class AlreadyLoaded(WireStruct, tag_field="type", tag="alreadyLoaded", kw_only=True):
    info: ModelInstanceInfo


class StartLoading(WireStruct, tag_field="type", tag="startLoading", kw_only=True):
    identifier: str
    info: ModelInfo


class UnloadingOtherJITModel(
    WireStruct, tag_field="type", tag="unloadingOtherJITModel", kw_only=True
):
    # May be an instance of the other domain (cross-domain auto-evict).
    info: ModelInstanceInfo


class GetOrLoadProgress(WireStruct, tag_field="type", tag="loadProgress", kw_only=True):
    progress: float


class LoadSucceeded(WireStruct, tag_field="type", tag="loadSuccess", kw_only=True):
    info: ModelInstanceInfo


LoadModelPacket = LoadResolved | LoadProgress | LoadSuccess
GetOrLoadPacket = (
    AlreadyLoaded | StartLoading | UnloadingOtherJITModel | GetOrLoadProgress | LoadSucceeded
)
#: What a client accepts in either loading channel.
LoadingPacket = (
    LoadResolved
    | LoadProgress
    | LoadSuccess
    | AlreadyLoaded
    | StartLoading
    | UnloadingOtherJITModel
    | GetOrLoadProgress
    | LoadSucceeded
)
