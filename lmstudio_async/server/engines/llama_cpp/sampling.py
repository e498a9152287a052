"""The sampler settings and thread count of one llama.cpp prediction, from its config.

Unchecked checkboxes switch a sampler off: top-p 1.0, min-p 0.0, repeat penalty
1.0. A top-k of 0 or less keeps every token. The seed is the prediction's, else
the load config's, else a fresh random one per prediction (``None`` here).
``cpuThreads`` (default: :func:`..prediction_settings.default_cpu_threads`) is
capped at the machine's core count: more threads than cores only slow llama.cpp down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...api import ServerError
from ..kv_schema import checked_value
from ..prediction_settings import PredictionSettings

__all__ = ["Sampling", "sampling_for"]

_P = "llm.prediction."


@dataclass(frozen=True)
class Sampling:
    temperature: float
    top_k: int
    top_p: float
    min_p: float
    repeat_penalty: float
    seed: int | None
    threads: int


def _number(values: Mapping[str, Any], key: str, *, checkbox: bool, off: float) -> float:
    raw = values[_P + key]
    value = checked_value(raw) if checkbox else raw
    if value is None:
        return off
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ServerError(f"Invalid {key} {value!r}", cause=f"{_P}{key} must be a number.")
    return float(value)


def _threads(values: Mapping[str, Any]) -> int:
    wanted = _number(values, "llama.cpuThreads", checkbox=False, off=0)
    cores = os.cpu_count() or 1
    return max(1, min(int(wanted), cores))


def sampling_for(settings: PredictionSettings, load_seed: int | None) -> Sampling:
    values = settings.values
    temperature = _number(values, "temperature", checkbox=False, off=0.0)
    if temperature < 0:
        raise ServerError(
            f"Invalid temperature {temperature}", cause=f"{_P}temperature must be >= 0."
        )
    seed = settings.seed if settings.seed is not None else load_seed
    return Sampling(
        temperature=temperature,
        top_k=int(_number(values, "topKSampling", checkbox=False, off=0)),
        top_p=_number(values, "topPSampling", checkbox=True, off=1.0),
        min_p=_number(values, "minPSampling", checkbox=True, off=0.0),
        repeat_penalty=_number(values, "repeatPenalty", checkbox=True, off=1.0),
        # A negative seed (LM Studio sends -1) means a random one.
        seed=seed if seed is not None and seed >= 0 else None,
        threads=_threads(values),
    )
