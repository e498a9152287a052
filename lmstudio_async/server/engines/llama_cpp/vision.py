"""Vision models on llama.cpp: a GGUF model plus its ``mmproj`` projector, through libmtmd.

LM Studio ships a vision model as the model file and an ``mmproj*.gguf``
projector side by side; the catalog pairs them. At load time the projector is
opened with llama-cpp-python's ``MTMDChatHandler`` (libmtmd, which reads every
projector type llama.cpp supports), so a projector that does not fit the model
fails the load rather than the first image. A prediction with images goes
through that handler: the chat history becomes chat-completion messages whose
images are ``data:`` URIs, rendered with the model's own chat template, and the
completion is streamed token by token from the instance's worker thread,
stopping within a token when cancelled.

No small vision GGUF could be obtained on the machine this was written on, so
the generation path is exercised only up to the projector load (see the tests).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from llama_cpp.llama_chat_format import MTMDChatHandler

from ....protocol import ChatHistoryData, FilePart, TextPart, role_of
from ....protocol.files import sniff_image_format
from ...api import ServerError
from ..base import PredictionOutcome
from ..handoff import TextHandoff
from ..prediction_settings import PredictionSettings
from ..vision import AttachedImage
from .generation import WorkerJob
from .sampling import Sampling

__all__ = ["VisionJob", "attach_projector", "chat_messages"]


def attach_projector(llama: Any, projector: Path) -> None:
    """Open ``projector`` for ``llama`` (in its worker thread); a clear error if it does not fit."""
    handler = MTMDChatHandler(clip_model_path=str(projector), verbose=False, use_gpu=False)
    try:
        # Private in llama-cpp-python, which otherwise opens the projector at the first image.
        handler._init_mtmd_context(llama)
    except (ValueError, RuntimeError) as exc:
        raise ServerError(
            f"Failed to load the vision projector {projector.name}",
            cause=str(exc),
            suggestion="Use the mmproj file published with this model.",
        ) from None
    llama.chat_handler = handler


def _data_uri(image: AttachedImage) -> str:
    image_format = sniff_image_format(image.data) or "png"
    return f"data:image/{image_format};base64,{base64.b64encode(image.data).decode('ascii')}"


def chat_messages(
    history: ChatHistoryData, images: Sequence[AttachedImage]
) -> list[dict[str, Any]]:
    """``history`` as chat-completion messages, its image parts replaced by ``images``."""
    pending: Iterator[AttachedImage] = iter(images)
    messages: list[dict[str, Any]] = []
    for message in history.messages:
        content: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                content.append({"type": "text", "text": part.text})
            elif isinstance(part, FilePart) and part.file_type == "image":
                image = next(pending)
                content.append({"type": "image_url", "image_url": {"url": _data_uri(image)}})
            elif hasattr(part, "content"):
                content.append({"type": "text", "text": str(getattr(part, "content", ""))})
        messages.append({"role": role_of(message), "content": content})
    return messages


class VisionJob(WorkerJob):
    """One chat completion with images, run in the model's worker thread."""

    def __init__(
        self,
        llama: Any,
        messages: list[dict[str, Any]],
        sampling: Sampling,
        settings: PredictionSettings,
    ) -> None:
        super().__init__()
        self._llama = llama
        self._messages = messages
        self._sampling = sampling
        self._settings = settings

    def _generate(self, handoff: TextHandoff) -> PredictionOutcome | None:
        if self._stop_requested:
            return self._stopped_outcome
        sampling = self._sampling
        chunks = self._llama.create_chat_completion(
            messages=self._messages,
            stream=True,
            temperature=sampling.temperature,
            top_k=sampling.top_k,
            top_p=sampling.top_p,
            min_p=sampling.min_p,
            repeat_penalty=sampling.repeat_penalty,
            seed=sampling.seed,
            max_tokens=self._settings.max_tokens,
            stop=list(self._settings.stop_strings),
        )
        finish_reason: str | None = None
        try:
            for chunk in chunks:
                if self._stop_requested:
                    return self._stopped_outcome
                choice = chunk["choices"][0]
                text = choice.get("delta", {}).get("content")
                if text:
                    self.predicted_tokens += 1
                    handoff.put(text, 1)
                finish_reason = choice.get("finish_reason") or finish_reason
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        if finish_reason == "length":
            return PredictionOutcome("maxPredictedTokensReached")
        return PredictionOutcome("eosFound")
