"""Batch jobs: many predictions in one call, over one server or a pool of them.

* ``await llm.respond_batch(chats)`` / ``complete_batch(prompts)``: results in input
  order, with per-item errors and retries of transient failures;
  ``respond_as_completed`` / ``complete_as_completed`` yield them as they complete.
* :class:`AsyncClientPool` spreads a batch over several LM Studio servers.
* ``python -m lmstudio_async.batch INPUT.jsonl OUTPUT.jsonl --model KEY``: a resumable
  job runner (see :mod:`.cli`).
* :mod:`.ray_data`: a Ray Data adapter (the ``ray`` extra).
"""

from .pool import AsyncClientPool, AsyncPooledLLM, AsyncPoolLLMNamespace
from .results import BatchResult
from .retry import RetryPolicy, is_transient
from .scheduler import AsyncBatchResults

__all__ = [
    "AsyncBatchResults",
    "AsyncClientPool",
    "AsyncPoolLLMNamespace",
    "AsyncPooledLLM",
    "BatchResult",
    "RetryPolicy",
    "is_transient",
]
