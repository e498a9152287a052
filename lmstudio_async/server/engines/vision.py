"""What a vision-capable engine model takes: the bytes of the images in the chat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .base import LoadedModel, Prediction
from .prediction_settings import PredictionSettings

__all__ = ["AttachedImage", "VisionModel"]


@dataclass(frozen=True)
class AttachedImage:
    name: str
    data: bytes
    #: Attached to the last user message (the question being asked now).
    in_last_message: bool


@runtime_checkable
class VisionModel(LoadedModel, Protocol):
    """A loaded model that can look at images."""

    async def predict_with_images(
        self, prompt: str, settings: PredictionSettings, images: Sequence[AttachedImage]
    ) -> Prediction: ...
