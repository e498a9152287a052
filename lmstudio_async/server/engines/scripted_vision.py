"""What the scripted engine's vision models "see": facts decoded from the images.

A reply describes the images attached to the last user message (or, if it
has none, every image in the chat), one sentence each, for example::

    The image cat.png is a 640x480 PNG; its dominant colour is orange (#f09030).

Format and size always come from the image; the colour only when its pixels
could be decoded (see :mod:`..imaging`), otherwise the sentence says so.
Replies therefore change with the image's real content, so an app can check its
image plumbing end to end.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from ..imaging import ImageError, describe_image
from .vision import AttachedImage

__all__ = ["describe_images"]


def _sentence(image: AttachedImage) -> str:
    try:
        facts = describe_image(image.data)
    except ImageError as exc:
        return f"The file {image.name} is not an image I can read ({exc})."
    kind = f"{facts.width}x{facts.height} {facts.format.upper()}"
    if facts.dominant_colour is None:
        return f"The image {image.name} is a {kind}; I cannot make out its colours."
    return (
        f"The image {image.name} is a {kind}; its dominant colour is "
        f"{facts.dominant_colour_name} ({facts.dominant_colour_hex})."
    )


def _describe(images: Sequence[AttachedImage]) -> str:
    current = [image for image in images if image.in_last_message] or list(images)
    return " ".join(_sentence(image) for image in current)


async def describe_images(images: Sequence[AttachedImage]) -> str:
    """The scripted reply for ``images``; decoding runs in a worker thread."""
    return await anyio.to_thread.run_sync(_describe, images)
