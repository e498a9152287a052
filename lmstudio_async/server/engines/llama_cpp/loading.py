"""Loading a GGUF model with llama-cpp-python, reporting llama.cpp's own progress.

The load config maps onto ``Llama`` options: context length (``n_ctx``), eval
batch size (``n_batch``), seed, flash attention, mmap, ``keepModelInMemory``
(mlock), RoPE frequency base and scale, and the KV cache's type (f16, or f32
without ``useFp16ForKVCache``, or the K/V cache quantization types). The GPU
offload ratio is accepted and ignored: this engine runs on the CPU (no layers
offloaded). Embedding instances evaluate their whole context in one batch (as
encoders need) and mean-pool models that do not define a pooling of their own.

Progress is real: llama.cpp calls the model-params progress callback as it
loads the weights, and that fraction is reported scaled to 0..0.9; the context
allocation that follows ends the load with exactly one 1.0. llama-cpp-python
takes no such callback, but it stores the model params it builds in
``Llama.model_params`` just before loading the weights, where
:class:`_ReportingLlama` adds the callback. Returning False from the callback
makes llama.cpp abandon a load whose task was cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from functools import partial
from pathlib import Path
from typing import Any

import llama_cpp

from ...api import ServerError
from ..base import ProgressCallback
from ..kv_schema import checked_value
from ..load_settings import LoadSettings
from ..prediction_settings import default_cpu_threads
from .native_log import route_native_log

route_native_log()

__all__ = ["llama_options", "load_llama"]

#: Share of the progress bar given to reading weights; the rest is the context allocation.
_WEIGHTS_SHARE = 0.9
#: Smallest progress step worth waking the event loop for.
_STEP = 0.01
_KV_CACHE_TYPES = ("f32", "f16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")


def _positive_int(values: Mapping[str, Any], key: str) -> int:
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ServerError(f"Invalid {key} {value!r}", cause=f"{key} must be a positive integer.")
    return value


def _optional_number(values: Mapping[str, Any], key: str) -> float | None:
    value = checked_value(values[key])
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return float(value)


def _cache_type(values: Mapping[str, Any], key: str, default: int) -> int:
    name = checked_value(values[key])
    if name is None:
        return default
    if name not in _KV_CACHE_TYPES:
        raise ServerError(
            f"Invalid KV cache type {name!r}", cause=f"{key} must be one of {_KV_CACHE_TYPES}."
        )
    return int(getattr(llama_cpp, f"GGML_TYPE_{name.upper()}"))


def llama_options(settings: LoadSettings, *, embedding: bool, own_pooling: bool) -> dict[str, Any]:
    """``Llama`` keyword arguments for ``settings`` (an LLM's or an embedding model's)."""
    values = settings.values
    prefix = "embedding.load" if embedding else "llm.load"
    threads = default_cpu_threads()
    options: dict[str, Any] = {
        "n_ctx": settings.context_length,
        "n_batch": _positive_int(values, f"{prefix}.llama.evalBatchSize"),
        "n_gpu_layers": 0,
        "n_threads": threads,
        "n_threads_batch": threads,
        "use_mmap": bool(values[f"{prefix}.llama.tryMmap"]),
        "use_mlock": bool(values[f"{prefix}.llama.keepModelInMemory"]),
        "verbose": False,
    }
    if settings.seed is not None and settings.seed >= 0:
        options["seed"] = settings.seed
    for option, key in (("rope_freq_base", "Base"), ("rope_freq_scale", "Scale")):
        value = _optional_number(values, f"{prefix}.llama.ropeFrequency{key}")
        if value is not None:
            options[option] = value
    if embedding:
        options.update(embedding=True, n_batch=settings.context_length)
        options["n_ubatch"] = settings.context_length
        if not own_pooling:
            options["pooling_type"] = llama_cpp.LLAMA_POOLING_TYPE_MEAN
        return options
    default_cache = (
        llama_cpp.GGML_TYPE_F16
        if values["llm.load.llama.useFp16ForKVCache"]
        else llama_cpp.GGML_TYPE_F32
    )
    options["flash_attn"] = bool(values["llm.load.llama.flashAttention"])
    options["type_k"] = _cache_type(values, "llm.load.llama.kCacheQuantizationType", default_cache)
    options["type_v"] = _cache_type(values, "llm.load.llama.vCacheQuantizationType", default_cache)
    return options


class _ReportingLlama(llama_cpp.Llama):  # type: ignore[misc]  # llama_cpp is untyped for mypy
    """A ``Llama`` whose weight loading calls ``on_progress(fraction)``; False aborts it."""

    def __init__(self, path: str, on_progress: Callable[[float], bool], **options: Any) -> None:
        # Referenced for as long as llama.cpp may call it.
        self._progress_callback = llama_cpp.llama_progress_callback(
            lambda fraction, _user_data: on_progress(fraction)
        )
        super().__init__(model_path=path, **options)

    @property
    def model_params(self) -> Any:
        return self.__dict__["_model_params"]

    @model_params.setter
    def model_params(self, params: Any) -> None:
        params.progress_callback = self._progress_callback
        self.__dict__["_model_params"] = params


class _ProgressRelay:
    """The loading thread's latest progress, announced to the event loop in small steps."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.changed = asyncio.Event()
        self.fraction = 0.0
        self._announced = 0.0
        self.abandoned = False

    def report(self, fraction: float) -> bool:
        """Called by llama.cpp in the loading thread; False makes it stop loading."""
        self.fraction = fraction
        if fraction - self._announced >= _STEP:
            self._announced = fraction
            self._loop.call_soon_threadsafe(self.changed.set)
        return not self.abandoned


def _close_loaded(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()


async def load_llama(
    file: Path, options: Mapping[str, Any], executor: Executor, progress: ProgressCallback
) -> Any:
    """A ``Llama`` for ``file``, loaded in ``executor``; cancelling abandons the load."""
    loop = asyncio.get_running_loop()
    relay = _ProgressRelay(loop)
    loading = loop.run_in_executor(
        executor, partial(_ReportingLlama, str(file), relay.report, **options)
    )
    reported = 0.0
    try:
        while not loading.done():
            changed = asyncio.ensure_future(relay.changed.wait())
            await asyncio.wait((loading, changed), return_when=asyncio.FIRST_COMPLETED)
            changed.cancel()
            relay.changed.clear()
            value = round(relay.fraction * _WEIGHTS_SHARE, 3)
            if value > reported and not loading.done():
                reported = value
                await progress(value)
        try:
            llama = loading.result()
        except ValueError as exc:
            # llama-cpp-python reports unreadable models and failed context allocations so.
            raise ServerError(f"Failed to load {file.name}", cause=str(exc)) from None
        await progress(1.0)
    except BaseException:
        # Cancelled, or the progress could not be sent: free whatever the thread loads.
        relay.abandoned = True
        loading.add_done_callback(_close_loaded)
        raise
    return llama
