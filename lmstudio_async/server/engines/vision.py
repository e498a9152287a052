"""What a vision-capable engine model takes: the bytes of the images in the chat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ...protocol import ChatHistoryData
from .base import LoadedModel, Prediction
from .prediction_settings import PredictionSettings

__all__ = ["AttachedImage", "NO_VISION_TITLE", "VisionModel"]

#: LM Studio's error for images sent to a model without vision.
NO_VISION_TITLE = "Model does not support images. Please use a model that does."


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
        self,
        history: ChatHistoryData,
        prompt: str,
        settings: PredictionSettings,
        images: Sequence[AttachedImage],
    ) -> Prediction:
        """Start generating a reply to ``history`` (templated as ``prompt``), which holds
        ``images`` (its image file parts, in order)."""
        ...
