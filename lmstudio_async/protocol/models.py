"""Model specifiers, queries and model information (PROTOCOL.md 5).

Enum-valued fields (``format``, ``domain``...) are typed ``str`` on purpose: a
newer server may send a value this release does not know, and that must not
break parsing. The ``Literal`` aliases below list the values known today.
"""

from __future__ import annotations

from typing import Literal

from .base import UNSET, TaggedStruct, UnsetType, WireStruct

__all__ = [
    "ModelDomainType",
    "ModelCompatibilityType",
    "ModelQuery",
    "QuerySpecifier",
    "InstanceReferenceSpecifier",
    "ModelSpecifier",
    "Quantization",
    "LlmInfo",
    "EmbeddingModelInfo",
    "ModelInfo",
    "LlmInstanceInfo",
    "EmbeddingModelInstanceInfo",
    "ModelInstanceInfo",
    "AnyModelInstanceInfo",
]

ModelDomainType = Literal["llm", "embedding", "imageGen", "transcription", "tts"]
ModelCompatibilityType = Literal[
    "gguf", "safetensors", "onnx", "ggml", "mlx_placeholder", "torch_safetensors"
]


class ModelQuery(WireStruct, kw_only=True):
    """Select loaded models; an empty query matches any model of the domain."""

    domain: str | None = None
    identifier: str | None = None
    path: str | None = None
    vision: bool | None = None


class QuerySpecifier(WireStruct, tag_field="type", tag="query", kw_only=True):
    query: ModelQuery


class InstanceReferenceSpecifier(
    WireStruct, tag_field="type", tag="instanceReference", kw_only=True
):
    instance_reference: str


ModelSpecifier = QuerySpecifier | InstanceReferenceSpecifier


class Quantization(WireStruct, kw_only=True):
    name: str
    bits: int


class _ModelInfoFields(TaggedStruct, kw_only=True):
    """Fields common to a downloaded model of any domain (5.2)."""

    model_key: str
    format: str
    display_name: str
    path: str
    size_bytes: int
    max_context_length: int
    params_string: str | None = None
    architecture: str | None = None
    publisher: str | None = None
    indexed_model_identifier: str | None = None
    quantization: Quantization | None = None
    variants: list[str] | None = None
    selected_variant: str | None = None
    # Present-but-null in JS HEAD ("local"); absent from older servers.
    device_identifier: str | UnsetType | None = UNSET


class LlmInfo(_ModelInfoFields, tag_field="type", tag="llm", kw_only=True):
    """A downloaded LLM."""

    vision: bool
    trained_for_tool_use: bool


class EmbeddingModelInfo(_ModelInfoFields, tag_field="type", tag="embedding", kw_only=True):
    """A downloaded embedding model."""


ModelInfo = LlmInfo | EmbeddingModelInfo


# Instance infos add 5.3's fields. msgspec allows only one field-carrying base,
# so each of the two declares them itself.


class LlmInstanceInfo(LlmInfo, kw_only=True, tag="llm"):
    """A loaded LLM instance."""

    identifier: str
    instance_reference: str
    context_length: int
    ttl_ms: int | UnsetType | None = UNSET
    last_used_time: int | float | UnsetType | None = UNSET


class EmbeddingModelInstanceInfo(EmbeddingModelInfo, kw_only=True, tag="embedding"):
    """A loaded embedding model instance."""

    identifier: str
    instance_reference: str
    context_length: int
    ttl_ms: int | UnsetType | None = UNSET
    last_used_time: int | float | UnsetType | None = UNSET


ModelInstanceInfo = LlmInstanceInfo | EmbeddingModelInstanceInfo
AnyModelInstanceInfo = ModelInstanceInfo
