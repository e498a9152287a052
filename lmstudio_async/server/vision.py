"""Images attached to a prediction's chat history, and who may see them.

LM Studio refuses images for a model without vision ("Model does not support
images. Please use a model that does."); a vision-capable engine model gets the
attached images' bytes through :class:`VisionModel`.
"""

from __future__ import annotations

from ..protocol import ChatHistoryData, FilePart, LlmInfo, UserMessage
from .api import ServerError
from .engines.vision import NO_VISION_TITLE, AttachedImage, VisionModel
from .filestore import FileStore
from .models import Instance

__all__ = ["AttachedImage", "VisionModel", "NO_VISION_TITLE", "attached_images", "check_vision"]


def attached_images(history: ChatHistoryData, files: FileStore, client: str) -> list[AttachedImage]:
    """The image files of ``history``, in order; an unknown file identifier is an error."""
    last_user = next((m for m in reversed(history.messages) if isinstance(m, UserMessage)), None)
    images: list[AttachedImage] = []
    for message in history.messages:
        for part in message.content:
            if not isinstance(part, FilePart) or part.file_type != "image":
                continue
            stored = files.get(client, part.identifier)
            if stored is None:
                raise ServerError(
                    f"File not found: {part.identifier[:80]!r}",
                    cause="No file with this identifier was uploaded by this client "
                    "(uploads are released when the client disconnects).",
                    suggestion="Upload the image again with prepare_image.",
                )
            images.append(AttachedImage(part.name, stored.data, message is last_user))
    return images


def check_vision(instance: Instance) -> VisionModel:
    """The instance's model, if it can take images; LM Studio's error if not."""
    info = instance.info
    model = instance.model
    if not (isinstance(info, LlmInfo) and info.vision and isinstance(model, VisionModel)):
        raise ServerError(
            NO_VISION_TITLE,
            cause=f"{instance.identifier!r} is not a vision model.",
            suggestion="Load a model with vision support (for LM Studio's GGUF models, the "
            "model file together with its mmproj projector).",
        )
    return model
