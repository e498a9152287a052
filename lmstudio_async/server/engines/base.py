"""What the model manager needs from an inference engine.

An engine knows which models are downloaded and turns one of them into a
:class:`LoadedModel`. The scripted simulator implements this today; a llama.cpp
engine is meant to implement the same interface later. Engines know nothing of
identifiers, TTLs or the wire protocol's channels: the model manager and the
endpoint handlers own those.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ...protocol import ChatHistoryData, ModelInfo
from .load_settings import LoadSettings
from .template import TemplateOptions

if TYPE_CHECKING:
    # Not imported at run time: prediction_settings -> tools imports this module.
    from .prediction_settings import PredictionSettings
    from .tools import ToolCallEvent

__all__ = [
    "ProgressCallback",
    "GeneratedPiece",
    "PredictionOutcome",
    "TemplateOptions",
    "Prediction",
    "LoadedModel",
    "Engine",
]

#: Receives load progress in [0, 1]; the last call of a successful load passes 1.0.
ProgressCallback = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class GeneratedPiece:
    """Text released by the engine and how many generated tokens produced it."""

    text: str
    tokens_count: int


@dataclass(frozen=True)
class PredictionOutcome:
    """Why a prediction that ran to its own end stopped (a wire ``stopReason``)."""

    stop_reason: str
    stop_string: str | None = None


class Prediction(Protocol):
    """One running generation: iterate it for pieces, then read :attr:`outcome`.

    When the settings offer tools, the iterator may also yield the tool-call
    events of :mod:`.tools` (``PredictionEvent`` is the union); the outcome is
    then ``toolCalls``.

    The caller may stop iterating early (cancel, model unloaded); it then calls
    :meth:`aclose` and reports its own stop reason.
    """

    @property
    def predicted_tokens(self) -> int:
        """Tokens generated so far, including any a stop string consumed."""
        ...

    @property
    def outcome(self) -> PredictionOutcome | None:
        """Set once the iterator is exhausted; ``None`` before that."""
        ...

    def __aiter__(self) -> AsyncIterator[GeneratedPiece | ToolCallEvent]: ...

    async def aclose(self) -> None: ...


class LoadedModel(Protocol):
    """A model in memory, with the context length it was loaded with."""

    @property
    def context_length(self) -> int: ...

    @property
    def gpu_layers(self) -> int:
        """How many layers are offloaded to the GPU (reported in prediction stats)."""
        ...

    def tokenize(self, text: str) -> list[int]: ...

    def count_tokens(self, text: str) -> int: ...

    def apply_prompt_template(
        self,
        history: ChatHistoryData,
        settings: PredictionSettings,
        options: TemplateOptions,
    ) -> str:
        """The prompt text the model would see for ``history``."""
        ...

    def predict(self, prompt: str, settings: PredictionSettings) -> Prediction:
        """Start generating a continuation of ``prompt`` (already templated)."""
        ...

    async def embed(self, text: str) -> list[float]:
        """An L2-normalised embedding of ``text`` (embedding models only).

        Async so that an engine can compute it off the event loop.
        """
        ...

    async def unload(self) -> None:
        """Free the model; no other method is called afterwards."""
        ...


class Engine(Protocol):
    name: str
    #: How many predictions one instance can run at once (``None``: no limit of its own);
    #: caps the load config's ``maxParallelPredictions``.
    max_parallel_predictions: int | None

    def list_models(self) -> list[ModelInfo]:
        """Every downloaded model this engine can load (all domains)."""
        ...

    async def load(
        self, info: ModelInfo, settings: LoadSettings, progress: ProgressCallback
    ) -> LoadedModel:
        """Load ``info`` with ``settings``, reporting progress while it happens.

        Cancelling the awaiting task abandons the load without leaking memory.
        """
        ...

    async def aclose(self) -> None:
        """Release engine-wide resources (after every model was unloaded)."""
        ...
