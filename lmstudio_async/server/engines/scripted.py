"""A deterministic stand-in for an inference engine, for tests and demos.

Replies are pseudo-random English-like text whose content depends only on the
prompt and the seed, and whose length is drawn from the prompt within the
server's ``reply_tokens`` range. When a prediction offers tools, the model calls
them by the rule of :mod:`.scripted_tools`. Timing comes from the server config: loads
take ``load_time`` seconds, each token ``token_delay`` seconds.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import TYPE_CHECKING

import msgspec

from ...protocol import ChatHistoryData, EmbeddingModelInfo, ModelInfo
from ..api import ServerError
from ..config import ServerConfig
from .base import GeneratedPiece, PredictionOutcome, ProgressCallback
from .catalog import DEFAULT_EMBEDDING_DIMENSIONS, CatalogEntry, build_catalog
from .gbnf import GrammarError
from .json_schema import generate_json
from .load_settings import LoadSettings
from .prediction_settings import PredictionSettings
from .scripted_tools import plan_tool_use
from .scripted_vision import describe_images
from .stopping import StopStringFilter
from .template import TemplateOptions, render_prompt
from .tokenizer import count_tokens, split_tokens, stable_hash, tokenize
from .tools import TOOL_CALLS_STOP_REASON, ToolCallArgumentsFragment, ToolCallEvent

if TYPE_CHECKING:
    from .vision import AttachedImage

__all__ = ["ScriptedEngine", "ScriptedModel", "ScriptedPrediction"]

_LOAD_STEPS = 5
_LAYER_COUNT = 32
#: The special tokens an embedding model's tokenizer adds around every text (BERT's ids).
_CLS_ID = 101
_SEP_ID = 102
#: With no per-token delay, let the event loop run (e.g. to read a cancel) this often.
_YIELD_EVERY = 64

_WORDS = (
    "the", "model", "answer", "light", "river", "simple", "question", "time", "world",
    "small", "idea", "story", "garden", "careful", "number", "quiet", "system", "open",
    "bright", "path", "stone", "window", "gentle", "signal", "morning", "paper", "music",
    "clear", "forest", "language", "pattern", "moment", "quick", "water", "map", "friendly",
    "detail", "silver", "harbor", "reason", "winter", "field", "curious", "bridge", "note",
    "steady", "cloud", "measure", "voice", "travel", "and", "of", "to", "in", "with", "is",
    "a", "for", "on", "that", "we", "can", "it", "as", "each", "every", "more", "than",
)  # fmt: skip


def _reply_pieces(rng: random.Random, count: int) -> list[str]:
    """``count`` tokens of sentence-like text; a complete reply ends with a full stop."""
    words = rng.choices(_WORDS, k=count)
    pieces: list[str] = []
    left_in_sentence = 0
    sentences = 0
    for index, word in enumerate(words):
        if index == count - 1 and count > 1 and pieces[-1] not in (".", ","):
            pieces.append(".")
        elif left_in_sentence == 0 and pieces:
            pieces.append(".")
            left_in_sentence = -1
        elif left_in_sentence <= 0:
            separator = "" if not pieces else ("\n\n" if sentences % 4 == 3 else " ")
            pieces.append(separator + word.capitalize())
            left_in_sentence = rng.randint(5, 14)
            sentences += 1
        elif left_in_sentence > 2 and rng.random() < 0.08:
            pieces.append(",")
        else:
            pieces.append(" " + word)
            left_in_sentence -= 1
    return pieces


def _with_reasoning(rng: random.Random, reply: list[str]) -> list[str]:
    """The reply of a reasoning model: its thoughts in tags, a blank line, then the answer.

    The thoughts take about a third of the tokens (at least two), so that the total
    length stays within the server's ``reply_tokens`` range whenever it has room.
    """
    thought_tokens = max(2, (len(reply) - 3) // 3)
    answer = reply[: max(1, len(reply) - thought_tokens - 3)]
    thoughts = _reply_pieces(rng, thought_tokens)
    return ["<think>", *thoughts, "</think>", "\n\n", *answer]


class ScriptedPrediction:
    """Streams precomputed pieces, honouring stop strings and the per-token delay."""

    def __init__(
        self,
        pieces: list[str],
        exhausted_reason: str,
        stop_strings: tuple[str, ...],
        delay: float,
        tool_events: list[ToolCallEvent] | None = None,
    ) -> None:
        self._pieces = pieces
        #: Emitted after the pieces, each argument fragment counting as a token.
        self._tool_events = tool_events or []
        self._exhausted_reason = exhausted_reason
        self._filter = StopStringFilter(stop_strings)
        self._delay = delay
        self.predicted_tokens = 0
        self.outcome: PredictionOutcome | None = None
        self._stream = self._generate()

    def __aiter__(self) -> AsyncIterator[GeneratedPiece | ToolCallEvent]:
        return self._stream

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def _generate(self) -> AsyncGenerator[GeneratedPiece | ToolCallEvent, None]:
        stop_filter = self._filter
        delay = self._delay
        unreported = 0
        for index, piece in enumerate(self._pieces):
            if delay > 0:
                await asyncio.sleep(delay)
            elif index % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)
            self.predicted_tokens += 1
            unreported += 1
            text = stop_filter.feed(piece)
            if text:
                yield GeneratedPiece(text, unreported)
                unreported = 0
            if stop_filter.matched is not None:
                self.outcome = PredictionOutcome("stopStringFound", stop_filter.matched)
                return
        rest = stop_filter.flush()
        if rest:
            yield GeneratedPiece(rest, unreported)
        for event in self._tool_events:
            if isinstance(event, ToolCallArgumentsFragment):
                if delay > 0:
                    await asyncio.sleep(delay)
                self.predicted_tokens += 1
            yield event
        self.outcome = PredictionOutcome(self._exhausted_reason)


class ScriptedModel:
    def __init__(self, entry: CatalogEntry, settings: LoadSettings, config: ServerConfig) -> None:
        self._entry = entry
        self._settings = settings
        self._reply_tokens = config.reply_tokens
        self._token_delay = config.token_delay

    @property
    def context_length(self) -> int:
        return self._settings.context_length

    @property
    def gpu_layers(self) -> int:
        return round(self._settings.offload_ratio * _LAYER_COUNT)

    def tokenize(self, text: str) -> list[int]:
        if self._entry.embedding_dimensions is not None:
            # Like LM Studio with a BERT-style embedding model: [CLS] text [SEP].
            return [_CLS_ID, *tokenize(text), _SEP_ID]
        return tokenize(text)

    def count_tokens(self, text: str) -> int:
        specials = 2 if self._entry.embedding_dimensions is not None else 0
        return count_tokens(text) + specials

    def apply_prompt_template(
        self, history: ChatHistoryData, settings: PredictionSettings, options: TemplateOptions
    ) -> str:
        return render_prompt(
            history,
            settings.prompt_template,
            raw_completion=settings.raw_completion,
            options=options,
        )

    async def predict_with_images(
        self,
        history: ChatHistoryData,
        prompt: str,
        settings: PredictionSettings,
        images: Sequence[AttachedImage],
    ) -> ScriptedPrediction:
        """A reply describing the images (vision models only; see :mod:`.scripted_vision`)."""
        if not getattr(self._entry.info, "vision", False):
            raise TypeError(f"{self._entry.info.model_key} is not a vision model")
        pieces = split_tokens(await describe_images(images))
        return self._limited(pieces, prompt, settings)

    def predict(self, prompt: str, settings: PredictionSettings) -> ScriptedPrediction:
        seed = settings.seed if settings.seed is not None else self._settings.seed
        rng = random.Random(stable_hash("reply", prompt, str(seed)))
        tool_plan = plan_tool_use(prompt, settings.tools, seed or 0)
        if tool_plan.events:
            return ScriptedPrediction(
                [], TOOL_CALLS_STOP_REASON, (), self._token_delay, tool_plan.events
            )
        if settings.gbnf is not None:
            pieces = split_tokens(self._sentence_of(settings, rng.getrandbits(64)))
        elif settings.json_schema is not None:
            document = generate_json(settings.json_schema, rng.getrandbits(64))
            pieces = split_tokens(json.dumps(document, ensure_ascii=False))
        else:
            low, high = self._reply_tokens
            span = max(0, high - low) + 1
            pieces = _reply_pieces(rng, low + stable_hash("length", prompt) % span)
            if self._entry.reasoning:
                pieces = _with_reasoning(rng, pieces)
            if tool_plan.reply_prefix:
                pieces = split_tokens(tool_plan.reply_prefix) + pieces
        return self._limited(pieces, prompt, settings)

    def _limited(
        self, pieces: list[str], prompt: str, settings: PredictionSettings
    ) -> ScriptedPrediction:
        reason = "eosFound"
        if settings.max_tokens is not None and settings.max_tokens < len(pieces):
            pieces, reason = pieces[: settings.max_tokens], "maxPredictedTokensReached"
        if settings.stop_at_context_limit:
            room = max(0, self.context_length - count_tokens(prompt))
            if room < len(pieces):
                pieces, reason = pieces[:room], "contextLengthReached"
        return ScriptedPrediction(pieces, reason, settings.stop_strings, self._token_delay)

    @staticmethod
    def _sentence_of(settings: PredictionSettings, seed: int) -> str:
        assert settings.gbnf is not None
        try:
            return settings.gbnf.generate(seed)
        except GrammarError as exc:
            raise ServerError(f"Cannot generate from the GBNF grammar: {exc}") from None

    async def embed(self, text: str) -> list[float]:
        dimensions = self._entry.embedding_dimensions
        if dimensions is None:
            raise TypeError(f"{self._entry.info.model_key} is not an embedding model")
        rng = random.Random(stable_hash("embedding", self._entry.info.model_key, text))
        vector = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
        norm = math.sqrt(math.fsum(x * x for x in vector))
        return [x / norm for x in vector]

    async def unload(self) -> None:
        # Nothing to free: the scripted model holds no resources.
        return None


class ScriptedEngine:
    name = "scripted"
    max_parallel_predictions: int | None = None

    def __init__(self, config: ServerConfig) -> None:
        self._config = config
        self._entries = {entry.info.model_key: entry for entry in build_catalog(config.catalog)}
        self._initial_keys = frozenset(self._entries)

    def list_models(self) -> list[ModelInfo]:
        return [entry.info for entry in self._entries.values()]

    def forget_downloads(self) -> None:
        """Drop the models added by downloads (a test-control reset)."""
        for key in set(self._entries) - self._initial_keys:
            del self._entries[key]

    def add_downloaded(self, info: ModelInfo) -> ModelInfo:
        """Add a model whose (simulated) download finished; its key is made unique."""
        key = info.model_key
        if key in self._entries:
            quantization = info.quantization.name.lower() if info.quantization else "copy"
            key = f"{key}@{quantization}"
            suffix = 2
            while key in self._entries:
                key = f"{info.model_key}@{quantization}-{suffix}"
                suffix += 1
            info = msgspec.structs.replace(info, model_key=key)
        embedding = isinstance(info, EmbeddingModelInfo)
        dimensions = DEFAULT_EMBEDDING_DIMENSIONS if embedding else None
        self._entries[key] = CatalogEntry(info, embedding_dimensions=dimensions)
        return info

    async def load(
        self, info: ModelInfo, settings: LoadSettings, progress: ProgressCallback
    ) -> ScriptedModel:
        entry = self._entries.get(info.model_key)
        if entry is None:
            raise ValueError(f"{info.model_key!r} is not in the scripted engine's catalog")
        for step in range(1, _LOAD_STEPS + 1):
            await asyncio.sleep(self._config.load_time / _LOAD_STEPS)
            await progress(step / _LOAD_STEPS)
        return ScriptedModel(entry, settings, self._config)

    async def aclose(self) -> None:
        return None
