"""Ray Data adapter: run a dataset's prompts through a pool of LM Studio servers.

For jobs whose own pre- and post-processing outgrows one process, Ray Data
spreads that work over a cluster; :class:`LMStudioPredictor` is the model step,
a callable class for ``Dataset.map_batches`` (needs the ``ray`` extra)::

    import ray
    from lmstudio_async.batch.ray_data import LMStudioPredictor

    ds = ray.data.read_json("questions.jsonl")  # rows with a "prompt" column
    answered = ds.map_batches(
        LMStudioPredictor,
        fn_constructor_kwargs={"hosts": ["gpu-a:1234", "gpu-b:1234"], "model": "qwen3-8b"},
        concurrency=2,  # actors; each sends its batches through its own ClientPool
        batch_size=64,
    )

Each actor holds one blocking ``ClientPool`` (its own event loop thread), so
a batch's rows run concurrently over the hosts' free slots. Output rows keep
their columns and gain ``reply`` (``None`` if the row failed), ``error``
(``None`` if it succeeded), ``host`` and ``attempts``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["LMStudioPredictor"]


class LMStudioPredictor:
    """The model step of a Ray Data pipeline (see the module docstring).

    ``kind`` is ``"respond"`` (each prompt is a user message; ``system`` adds a
    system prompt) or ``"complete"`` (raw completions). ``config`` is the
    prediction config; ``concurrency`` defaults to the pool's measured slots.
    """

    def __init__(
        self,
        hosts: Sequence[str],
        model: str,
        *,
        prompt_column: str = "prompt",
        output_column: str = "reply",
        kind: str = "respond",
        system: str | None = None,
        config: Mapping[str, Any] | None = None,
        concurrency: int | None = None,
        max_retries: int = 2,
        api_token: str | None = None,
    ) -> None:
        from lmstudio_sync import ClientPool

        from ..errors import LMStudioValueError

        if kind not in ("respond", "complete"):
            raise LMStudioValueError(f"kind must be 'respond' or 'complete', not {kind!r}.")
        self._kind = kind
        self._prompt_column = prompt_column
        self._output_column = output_column
        self._system = system
        self._config = dict(config) if config is not None else None
        self._concurrency = concurrency
        self._max_retries = max_retries
        self._pool = ClientPool(list(hosts), api_token=api_token)
        self._llm = self._pool.llm.model(model)

    def _inputs(self, prompts: list[str]) -> list[Any]:
        if self._kind == "complete" or not self._system:
            return prompts
        from ..chat import Chat

        chats = []
        for prompt in prompts:
            chat = Chat(self._system)
            chat.add_user_message(prompt)
            chats.append(chat)
        return chats

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        import numpy as np

        from ..errors import LMStudioValueError

        if self._prompt_column not in batch:
            raise LMStudioValueError(
                f"The batch has no {self._prompt_column!r} column (it has {sorted(batch)}); "
                "pass prompt_column=..."
            )
        prompts = [str(prompt) for prompt in batch[self._prompt_column]]
        method = self._llm.respond_batch if self._kind == "respond" else self._llm.complete_batch
        results = method(
            self._inputs(prompts),
            concurrency=self._concurrency,
            config=self._config,
            max_retries=self._max_retries,
        )
        out = dict(batch)
        out[self._output_column] = np.array(
            [r.result.content if r.result is not None else None for r in results], dtype=object
        )
        out["error"] = np.array([None if r.ok else str(r.error) for r in results], dtype=object)
        out["host"] = np.array([r.host for r in results], dtype=object)
        out["attempts"] = np.array([r.attempts for r in results])
        return out

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()
