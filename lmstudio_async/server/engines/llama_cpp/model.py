"""A loaded llama.cpp model instance: the engine's ``LoadedModel``.

Each instance owns a ``Llama`` and one worker thread. Everything that uses the
llama.cpp context (loading, generating, freeing) runs on that thread, one job
at a time, so predictions on one instance queue in arrival order (no parallel
slots). Tokenizing only reads the vocabulary and runs on the caller's thread.

Prompts are tokenized with special tokens parsed (chat templates write them as
text) and with the BOS token the model's tokenizer config asks for, dropping a
second one when the template already wrote it. ``tokenize`` and
``countTokens`` use the same rule, so prompt token counts are the real ones.

An embedding instance is a separate ``Llama`` in embedding mode; :meth:`embed`
returns its pooled vector, L2-normalised, computed on the instance's worker
thread (so embeddings queue like predictions, and the event loop never waits).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import count
from typing import TYPE_CHECKING, Any
from weakref import WeakSet

from ....protocol import ChatHistoryData
from ...api import ServerError
from ..base import PredictionOutcome
from ..prediction_settings import PredictionSettings
from ..template import TemplateOptions
from ..tokenizer import stable_hash
from ..tools import ToolCallParser
from ..vision import NO_VISION_TITLE, AttachedImage
from .generation import GenerationJob
from .grammar import grammar_for
from .prediction import LlamaPrediction
from .sampling import sampling_for
from .template import ChatTemplate
from .tool_calling import tool_call_grammar

if TYPE_CHECKING:
    from .vision import VisionJob

__all__ = ["LlamaCppModel"]


def _token_text(llama: Any, token: int) -> str:
    if token < 0:
        return ""
    text: bytes = llama.detokenize([token], special=True)
    return text.decode("utf-8", "replace")


class LlamaCppModel:
    def __init__(
        self,
        llama: Any,
        worker: ThreadPoolExecutor,
        *,
        context_length: int,
        embedding: bool,
        load_seed: int | None,
        vision: bool = False,
    ) -> None:
        self._llama = llama
        self._vision = vision
        self._worker = worker
        self._embedding = embedding
        self._load_seed = load_seed
        self._bos: int = llama.token_bos()
        # llama.cpp may round its context up; the instance keeps to the length asked for.
        self._context_length = context_length
        self._template = ChatTemplate(
            llama.metadata.get("tokenizer.chat_template"),
            _token_text(llama, self._bos),
            _token_text(llama, llama.token_eos()),
        )
        self._jobs: WeakSet[GenerationJob | VisionJob] = WeakSet()

    @property
    def context_length(self) -> int:
        return self._context_length

    @property
    def gpu_layers(self) -> int:
        return 0

    def tokenize(self, text: str) -> list[int]:
        tokens = list(self._llama.tokenize(text.encode("utf-8"), add_bos=True, special=True))
        if len(tokens) > 1 and tokens[0] == tokens[1] == self._bos:
            del tokens[0]
        return tokens

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def apply_prompt_template(
        self, history: ChatHistoryData, settings: PredictionSettings, options: TemplateOptions
    ) -> str:
        return self._template.render(history, settings, options)

    def predict(self, prompt: str, settings: PredictionSettings) -> LlamaPrediction:
        tokens = self.tokenize(prompt) or ([self._bos] if self._bos >= 0 else [])
        if not tokens:
            raise ServerError("Cannot predict from an empty prompt")
        if len(tokens) >= self._context_length:
            raise ServerError(
                "The prompt does not fit in the context",
                cause=f"The prompt has {len(tokens)} tokens; the model was loaded with a "
                f"context length of {self._context_length}.",
                suggestion="Load the model with a longer context length, or shorten the chat.",
            )
        offer = settings.tools if settings.tools is not None and settings.tools.active else None
        job = GenerationJob(
            self._llama,
            tokens,
            sampling_for(settings, self._load_seed),
            context_length=self._context_length,
            max_tokens=settings.max_tokens,
            stop_strings=settings.stop_strings,
            grammar=tool_call_grammar(offer) if offer else grammar_for(self._llama, settings),
        )
        self._jobs.add(job)
        if offer is None:
            return LlamaPrediction(job, self._worker)
        call_ids = (str(stable_hash("tool call", prompt, str(i)) % 10**9) for i in count())
        return LlamaPrediction(job, self._worker, ToolCallParser(lambda: next(call_ids)))

    async def predict_with_images(
        self,
        history: ChatHistoryData,
        prompt: str,
        settings: PredictionSettings,
        images: Sequence[AttachedImage],
    ) -> LlamaPrediction:
        """A reply that looks at ``images``, through the vision projector (see :mod:`.vision`)."""
        if not self._vision:
            raise ServerError(NO_VISION_TITLE, cause="This instance has no vision projector.")
        from .vision import VisionJob, chat_messages

        job = VisionJob(
            self._llama,
            chat_messages(history, images),
            sampling_for(settings, self._load_seed),
            settings,
        )
        self._jobs.add(job)
        return LlamaPrediction(job, self._worker)

    async def embed(self, text: str) -> list[float]:
        return await asyncio.get_running_loop().run_in_executor(
            self._worker, self._embed_here, text
        )

    def _embed_here(self, text: str) -> list[float]:
        if not self._embedding:
            raise TypeError("this instance was loaded as an LLM, not as an embedding model")
        # Decoding nothing fails in llama.cpp and leaves the context unsafe to free.
        if not self._llama.tokenize(text.encode("utf-8"), add_bos=True, special=False):
            raise ServerError("Cannot embed an empty text", cause="The text has no tokens.")
        try:
            vector = [float(x) for x in self._llama.embed(text)]
        except (RuntimeError, ValueError) as exc:
            raise ServerError("Failed to compute the embedding", cause=str(exc)) from None
        norm = math.sqrt(math.fsum(x * x for x in vector))
        return [x / norm for x in vector] if norm > 0 else vector

    async def unload(self) -> None:
        for job in list(self._jobs):
            job.stop(PredictionOutcome("modelUnloaded"))
        loop = asyncio.get_running_loop()
        try:
            # Queued behind any running job, which the stop above ends within a token.
            await loop.run_in_executor(self._worker, self._llama.close)
        finally:
            self._worker.shutdown(wait=False)
