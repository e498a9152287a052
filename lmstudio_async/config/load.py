"""Load configs: how a model is loaded into memory (PROTOCOL.md 7.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta
from typing_extensions import Self, TypedDict

from ..protocol.base import camel_keys, format_json
from .mapping import ConfigSchema, Setting

__all__ = [
    "CacheQuantizationType",
    "SplitStrategy",
    "GpuSetting",
    "GpuSettingDict",
    "LlmLoadModelConfig",
    "LlmLoadModelConfigDict",
    "EmbeddingLoadModelConfig",
    "EmbeddingLoadModelConfigDict",
    "LLM_LOAD_CONFIG",
    "EMBEDDING_LOAD_CONFIG",
]

CacheQuantizationType = Literal["f32", "f16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"]
SplitStrategy = Literal["evenly", "favorMainGpu"]
Ratio = Annotated[float, Meta(ge=0, le=1)]
PositiveInt = Annotated[int, Meta(ge=1)]
NonNegativeInt = Annotated[int, Meta(ge=0)]


class _Config(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    def __repr__(self) -> str:
        set_values = ", ".join(f"{k}={v!r}" for k, v in msgspec.to_builtins(self).items())
        return f"{type(self).__name__}({set_values})"

    def __str__(self) -> str:
        return f"{type(self).__name__}.from_dict({format_json(self.to_dict())})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """A config from its dict form (camelCase or snake_case keys).

        As in the official SDK, a bad value raises ``msgspec.ValidationError``
        (``lmstudio_async.ValidationError``); passing the dict itself as ``config=``
        instead also rejects unknown keys, naming the closest valid one.
        """
        return msgspec.convert(camel_keys(data), cls)

    def to_dict(self) -> dict[str, Any]:
        """The set values, camelCase keys (the form ``from_dict`` and ``config=`` take)."""
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result


class GpuSetting(_Config, kw_only=True):
    """GPU offload: ``ratio`` of layers (0..1, ``"max"`` or ``"off"``) and multi-GPU split."""

    ratio: Ratio | Literal["max", "off"] | None = None
    main_gpu: NonNegativeInt | None = None
    split_strategy: SplitStrategy | None = None
    disabled_gpus: list[NonNegativeInt] | None = None


class GpuSettingDict(TypedDict, total=False):
    ratio: float | Literal["max", "off"]
    mainGpu: int
    splitStrategy: SplitStrategy
    disabledGpus: list[int]


class LlmLoadModelConfig(_Config, kw_only=True):
    """How to load an LLM; unset settings keep the server's defaults."""

    context_length: PositiveInt | None = None
    gpu: GpuSetting | None = None
    gpu_strict_vram_cap: bool | None = None
    offload_kv_cache_to_gpu: bool | None = None
    num_experts: NonNegativeInt | None = None
    seed: int | None = None
    rope_frequency_base: float | None = None
    rope_frequency_scale: float | None = None
    eval_batch_size: PositiveInt | None = None
    flash_attention: bool | None = None
    keep_model_in_memory: bool | None = None
    use_fp16_for_kv_cache: bool | None = None
    try_mmap: bool | None = None
    llama_k_cache_quantization_type: CacheQuantizationType | None = None
    llama_v_cache_quantization_type: CacheQuantizationType | None = None
    max_parallel_predictions: Annotated[int, Meta(ge=1, le=1023)] | None = None
    use_unified_kv_cache: bool | None = None


class LlmLoadModelConfigDict(TypedDict, total=False):
    """:class:`LlmLoadModelConfig` as a dict (snake_case keys are accepted too)."""

    contextLength: int
    gpu: GpuSettingDict
    gpuStrictVramCap: bool
    offloadKVCacheToGpu: bool
    numExperts: int
    seed: int
    ropeFrequencyBase: float
    ropeFrequencyScale: float
    evalBatchSize: int
    flashAttention: bool
    keepModelInMemory: bool
    useFp16ForKVCache: bool
    tryMmap: bool
    llamaKCacheQuantizationType: CacheQuantizationType
    llamaVCacheQuantizationType: CacheQuantizationType
    maxParallelPredictions: int
    useUnifiedKvCache: bool


class EmbeddingLoadModelConfig(_Config, kw_only=True):
    """How to load an embedding model; unset settings keep the server's defaults."""

    context_length: PositiveInt | None = None
    gpu: GpuSetting | None = None
    seed: int | None = None
    rope_frequency_base: float | None = None
    rope_frequency_scale: float | None = None
    eval_batch_size: PositiveInt | None = None
    keep_model_in_memory: bool | None = None
    try_mmap: bool | None = None


class EmbeddingLoadModelConfigDict(TypedDict, total=False):
    """:class:`EmbeddingLoadModelConfig` as a dict (snake_case keys are accepted too)."""

    contextLength: int
    gpu: GpuSettingDict
    seed: int
    ropeFrequencyBase: float
    ropeFrequencyScale: float
    evalBatchSize: int
    keepModelInMemory: bool
    tryMmap: bool


def _split_to_wire(gpu: dict[str, Any]) -> dict[str, Any] | None:
    """``load.gpuSplitConfig``, sent only when a split setting is given.

    The official Python SDK also sends it (with defaults) for a ratio-only ``gpu``
    setting, overriding the server's own split; we leave the server's split alone.
    """
    if not any(key in gpu for key in ("mainGpu", "splitStrategy", "disabledGpus")):
        return None
    favor_main = gpu.get("splitStrategy") == "favorMainGpu"
    main_gpu = gpu.get("mainGpu")
    return {
        "strategy": "priorityOrder" if favor_main else "evenly",
        "disabledGpus": list(gpu.get("disabledGpus") or []),
        "priority": [main_gpu] if main_gpu is not None else [],
        "customRatio": [],
    }


def _split_from_wire(split: Any) -> dict[str, Any]:
    if not isinstance(split, dict):
        return {}
    priority = split.get("priority") or []
    gpu: dict[str, Any] = {"disabledGpus": list(split.get("disabledGpus") or [])}
    if split.get("strategy") == "priorityOrder" and len(priority) == 1:
        gpu["splitStrategy"] = "favorMainGpu"
        gpu["mainGpu"] = priority[0]
    else:
        gpu["splitStrategy"] = "evenly"
    return gpu


def _gpu_split() -> Setting:
    return Setting("gpu", "load.gpuSplitConfig", to_wire=_split_to_wire, from_wire=_split_from_wire)


LLM_LOAD_CONFIG = ConfigSchema(
    LlmLoadModelConfig,
    [
        Setting("contextLength", "llm.load.contextLength"),
        Setting("gpu.ratio", "llm.load.llama.acceleration.offloadRatio"),
        _gpu_split(),
        Setting("gpuStrictVramCap", "load.gpuStrictVramCap"),
        Setting("offloadKVCacheToGpu", "llm.load.offloadKVCacheToGpu"),
        Setting("numExperts", "llm.load.numExperts"),
        Setting("seed", "llm.load.seed", checkbox=True),
        Setting("ropeFrequencyBase", "llm.load.llama.ropeFrequencyBase", checkbox=True),
        Setting("ropeFrequencyScale", "llm.load.llama.ropeFrequencyScale", checkbox=True),
        Setting("evalBatchSize", "llm.load.llama.evalBatchSize"),
        Setting("flashAttention", "llm.load.llama.flashAttention"),
        Setting("keepModelInMemory", "llm.load.llama.keepModelInMemory"),
        Setting("useFp16ForKVCache", "llm.load.llama.useFp16ForKVCache"),
        Setting("tryMmap", "llm.load.llama.tryMmap"),
        Setting("llamaKCacheQuantizationType", "llm.load.llama.kCacheQuantizationType", True),
        Setting("llamaVCacheQuantizationType", "llm.load.llama.vCacheQuantizationType", True),
        Setting("maxParallelPredictions", "llm.load.numParallelSessions"),
        Setting("useUnifiedKvCache", "llm.load.useUnifiedKvCache"),
    ],
    label="LLM load config",
    nested={"gpu": GpuSetting},
)

EMBEDDING_LOAD_CONFIG = ConfigSchema(
    EmbeddingLoadModelConfig,
    [
        Setting("contextLength", "embedding.load.contextLength"),
        Setting("gpu.ratio", "embedding.load.llama.acceleration.offloadRatio"),
        _gpu_split(),
        Setting("seed", "embedding.load.seed", checkbox=True),
        Setting("ropeFrequencyBase", "embedding.load.llama.ropeFrequencyBase", checkbox=True),
        Setting("ropeFrequencyScale", "embedding.load.llama.ropeFrequencyScale", checkbox=True),
        Setting("evalBatchSize", "embedding.load.llama.evalBatchSize"),
        Setting("keepModelInMemory", "embedding.load.llama.keepModelInMemory"),
        Setting("tryMmap", "embedding.load.llama.tryMmap"),
    ],
    label="embedding load config",
    nested={"gpu": GpuSetting},
)
