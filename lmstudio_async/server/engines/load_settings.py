"""The effective load config of a model instance (PROTOCOL.md 7.5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...protocol import KVConfig, KVConfigStack, LlmInfo, ModelInfo
from ..api import ServerError
from .kv_schema import ConfigSchema, checked_value, collapse_stack, to_kvconfig

__all__ = ["DEFAULT_CONTEXT_LENGTH", "LoadSettings", "resolve_load_settings"]

#: Context length of an instance whose load config does not set one (capped by the model's).
DEFAULT_CONTEXT_LENGTH = 4096

_GPU_SPLIT = {"strategy": "evenly", "disabledGpus": [], "priority": [], "customRatio": []}

_LLM_SCHEMA = ConfigSchema.build(
    plain={
        "llm.load.contextLength": DEFAULT_CONTEXT_LENGTH,
        "llm.load.llama.acceleration.offloadRatio": 1.0,
        "load.gpuSplitConfig": _GPU_SPLIT,
        "load.gpuStrictVramCap": False,
        "llm.load.offloadKVCacheToGpu": True,
        "llm.load.numExperts": 0,
        "llm.load.numParallelSessions": 4,
        "llm.load.llama.evalBatchSize": 512,
        "llm.load.llama.flashAttention": False,
        "llm.load.llama.keepModelInMemory": True,
        "llm.load.llama.tryMmap": True,
        "llm.load.llama.useFp16ForKVCache": True,
    },
    checkboxes={
        "llm.load.seed": (False, -1),
        "llm.load.llama.ropeFrequencyBase": (False, 0),
        "llm.load.llama.ropeFrequencyScale": (False, 0),
        "llm.load.llama.kCacheQuantizationType": (False, "f16"),
        "llm.load.llama.vCacheQuantizationType": (False, "f16"),
    },
)

_EMBEDDING_SCHEMA = ConfigSchema.build(
    plain={
        "embedding.load.contextLength": DEFAULT_CONTEXT_LENGTH,
        "embedding.load.llama.acceleration.offloadRatio": 1.0,
        "load.gpuSplitConfig": _GPU_SPLIT,
        "embedding.load.llama.evalBatchSize": 512,
        "embedding.load.llama.keepModelInMemory": True,
        "embedding.load.llama.tryMmap": True,
    },
    checkboxes={
        "embedding.load.seed": (False, -1),
        "embedding.load.llama.ropeFrequencyBase": (False, 0),
        "embedding.load.llama.ropeFrequencyScale": (False, 0),
    },
)


@dataclass(frozen=True)
class LoadSettings:
    """What an engine needs to load a model, plus the full config to report back."""

    context_length: int
    #: Fraction of the model's layers to put on the GPU, 0..1.
    offload_ratio: float
    seed: int | None
    values: Mapping[str, Any]

    def kvconfig(self) -> KVConfig:
        return to_kvconfig(self.values)


def _context_length(info: ModelInfo, key: str, overrides: Mapping[str, Any]) -> int:
    if key not in overrides:
        return min(DEFAULT_CONTEXT_LENGTH, info.max_context_length)
    value = overrides[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ServerError(
            f"Invalid context length {value!r}",
            cause=f"{key} must be a positive integer.",
        )
    if value > info.max_context_length:
        raise ServerError(
            f"Context length {value} exceeds the maximum of {info.max_context_length} "
            f'supported by model "{info.model_key}"',
            suggestion=f"Use a context length of at most {info.max_context_length}.",
        )
    return value


def _offload_ratio(key: str, value: Any) -> float:
    if value == "max":
        return 1.0
    if value == "off":
        return 0.0
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    raise ServerError(
        f"Invalid GPU offload ratio {value!r}",
        cause=f'{key} must be a number between 0 and 1, "max" or "off".',
    )


def resolve_load_settings(info: ModelInfo, stack: KVConfigStack) -> LoadSettings:
    """Collapse ``stack`` over the defaults for ``info``'s domain and validate what we use."""
    prefix = "llm.load" if isinstance(info, LlmInfo) else "embedding.load"
    schema = _LLM_SCHEMA if isinstance(info, LlmInfo) else _EMBEDDING_SCHEMA
    overrides = collapse_stack(stack)
    context_key = f"{prefix}.contextLength"
    context_length = _context_length(info, context_key, overrides)
    values = schema.effective(overrides)
    values[context_key] = context_length
    ratio_key = f"{prefix}.llama.acceleration.offloadRatio"
    seed = checked_value(values[f"{prefix}.seed"])
    return LoadSettings(
        context_length=context_length,
        offload_ratio=_offload_ratio(ratio_key, values[ratio_key]),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        values=values,
    )
