"""One generation on a llama.cpp model, run in the model's worker thread.

Tokens come from ``Llama.generate`` (prompt prefix caching, sampling, grammar).
Each token is turned into text once, through llama.cpp's ``token_to_piece`` and
an incremental UTF-8 decoder (a character may span tokens), checked against
the stop strings and handed to the event loop. Between two tokens the job looks
at its stop flag, so a cancelled or unloaded prediction stops within a token.

The job ends on the first of: an end-of-generation token (not counted as
predicted), a stop string, ``maxPredictedTokens``, or a full context (prompt
plus generated tokens reach the loaded context length; the ``truncateMiddle``
and ``rollingWindow`` overflow policies are not implemented, so every policy
stops there).
"""

from __future__ import annotations

import codecs
import ctypes
from collections.abc import Callable
from typing import Any

import llama_cpp

from ..base import PredictionOutcome
from ..handoff import TextHandoff
from ..stopping import StopStringFilter
from .sampling import Sampling

__all__ = ["GenerationJob", "WorkerJob"]

_PIECE_BUFFER = 64


class WorkerJob:
    """What every job of a model's worker thread shares: a stop flag and an outcome."""

    def __init__(self) -> None:
        self._stop_requested = False
        self._stopped_outcome: PredictionOutcome | None = None
        #: Tokens generated so far (read from the event loop while the job runs).
        self.predicted_tokens = 0
        #: Why the job ended; ``None`` when it was stopped by the consumer.
        self.outcome: PredictionOutcome | None = None

    def stop(self, outcome: PredictionOutcome | None = None) -> None:
        """Stop before the next token (from any thread); ``outcome`` becomes the job's."""
        self._stopped_outcome = outcome
        self._stop_requested = True

    def run(self, handoff: TextHandoff) -> None:
        """Generate, putting text into ``handoff`` and finishing it (worker thread)."""
        try:
            self.outcome = self._generate(handoff)
        except Exception as exc:
            handoff.finish(exc)
        else:
            handoff.finish()

    def _generate(self, handoff: TextHandoff) -> PredictionOutcome | None:
        raise NotImplementedError


class GenerationJob(WorkerJob):
    def __init__(
        self,
        llama: Any,
        prompt_tokens: list[int],
        sampling: Sampling,
        *,
        context_length: int,
        max_tokens: int | None,
        stop_strings: tuple[str, ...],
        grammar: Any = None,
    ) -> None:
        super().__init__()
        self._llama = llama
        self._prompt = prompt_tokens
        self._sampling = sampling
        self._context_length = context_length
        self._max_tokens = max_tokens
        self._stop_strings = stop_strings
        self._grammar = grammar

    def _tokens(self) -> Any:
        llama = self._llama
        sampling = self._sampling
        llama.set_seed(llama_cpp.LLAMA_DEFAULT_SEED if sampling.seed is None else sampling.seed)
        llama_cpp.llama_set_n_threads(llama.ctx, sampling.threads, sampling.threads)
        return llama.generate(
            self._prompt,
            temp=sampling.temperature,
            top_k=sampling.top_k,
            top_p=sampling.top_p,
            min_p=sampling.min_p,
            repeat_penalty=sampling.repeat_penalty,
            grammar=self._grammar,
        )

    def _piece_reader(self) -> Callable[[int], bytes]:
        """A function giving the bytes of a token's text (special tokens give none)."""
        vocab = llama_cpp.llama_model_get_vocab(self._llama.model)
        to_piece = llama_cpp.llama_token_to_piece
        buffer = ctypes.create_string_buffer(_PIECE_BUFFER)

        def piece(token: int) -> bytes:
            size: int = to_piece(vocab, token, buffer, _PIECE_BUFFER, 0, False)
            if size >= 0:
                return buffer.raw[:size]
            larger = ctypes.create_string_buffer(-size)
            return larger.raw[: to_piece(vocab, token, larger, -size, 0, False)]

        return piece

    def _generate(self, handoff: TextHandoff) -> PredictionOutcome | None:
        if self._stop_requested:
            return self._stopped_outcome
        if self._max_tokens == 0:
            return PredictionOutcome("maxPredictedTokensReached")
        vocab = llama_cpp.llama_model_get_vocab(self._llama.model)
        is_end = llama_cpp.llama_vocab_is_eog
        piece = self._piece_reader()
        decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        stops = StopStringFilter(self._stop_strings)
        limit = self._max_tokens
        room = self._context_length - len(self._prompt)
        count = unreported = 0
        outcome: PredictionOutcome | None = None
        tokens = self._tokens()
        try:
            for token in tokens:
                if self._stop_requested:
                    return self._stopped_outcome
                if is_end(vocab, token):
                    outcome = PredictionOutcome("eosFound")
                    break
                count += 1
                self.predicted_tokens = count
                unreported += 1
                text = stops.feed(decode(piece(token)))
                if text:
                    handoff.put(text, unreported)
                    unreported = 0
                if stops.matched is not None:
                    return PredictionOutcome("stopStringFound", stops.matched)
                if count == limit:
                    outcome = PredictionOutcome("maxPredictedTokensReached")
                    break
                if count >= room:
                    outcome = PredictionOutcome("contextLengthReached")
                    break
        finally:
            tokens.close()
        rest = stops.feed(decode(b"", True)) + stops.flush()
        if rest:
            handoff.put(rest, unreported)
        return outcome
