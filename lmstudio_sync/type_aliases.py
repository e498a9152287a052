"""The official SDK's names for blocking handle and downloaded-model types.

Hand-written twin of :mod:`lmstudio_async.type_aliases` (whose names are re-exported
unchanged) for the names that differ in the blocking API.
"""

from __future__ import annotations

from typing import TypeAlias

from .downloaded import DownloadedEmbeddingModel, DownloadedLlm
from .handles import ModelHandle

__all__ = ["SyncModelHandle", "AnyDownloadedModel"]

#: ``lmstudio.SyncModelHandle``: a handle to a loaded model of either kind.
SyncModelHandle = ModelHandle
#: A downloaded model of either kind.
AnyDownloadedModel: TypeAlias = DownloadedLlm | DownloadedEmbeddingModel
