"""The scripted engine's "downloaded" models: a built-in set, extendable from a JSON file.

The file holds a JSON list of model-info objects in wire form (PROTOCOL.md
5.2), e.g. ``{"type": "llm", "modelKey": ..., "format": "gguf", ...}``;
embedding entries may add ``embeddingDimensions`` (default 768), LLM entries
``"reasoning": true`` to make the model think aloud (``<think>...</think>``
before each reply, which the server splits into reasoning fragments). An
entry whose ``modelKey`` matches a built-in model replaces it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import msgspec

from ...protocol import (
    EmbeddingModelInfo,
    LlmInfo,
    ModelCompatibilityType,
    ModelInfo,
    Quantization,
)

__all__ = ["CatalogEntry", "CatalogError", "BUILTIN_CATALOG", "build_catalog", "load_catalog_file"]

DEFAULT_EMBEDDING_DIMENSIONS = 768
# The official Python SDK rejects model infos with any other format.
_KNOWN_FORMATS = frozenset(get_args(ModelCompatibilityType))


class CatalogError(ValueError):
    """The catalog file is unreadable or one of its entries is invalid."""


@dataclass(frozen=True)
class CatalogEntry:
    info: ModelInfo
    #: Length of the vectors an embedding model produces; ``None`` for LLMs.
    embedding_dimensions: int | None = None
    #: A reasoning LLM: its replies start with ``<think>...</think>``.
    reasoning: bool = False


def _complete(info: ModelInfo) -> ModelInfo:
    """Fill the fields JS HEAD requires that a catalog may leave out."""
    return msgspec.structs.replace(
        info,
        publisher=info.publisher or info.path.split("/", 1)[0],
        indexed_model_identifier=info.indexed_model_identifier or info.path,
        device_identifier=None,
    )


def _llm(
    key: str,
    display_name: str,
    path: str,
    size_bytes: int,
    params: str,
    architecture: str,
    max_context: int,
    quantization: tuple[str, int],
    *,
    vision: bool = False,
    tool_use: bool = True,
) -> CatalogEntry:
    return CatalogEntry(
        simulated_llm_info(
            key,
            display_name,
            path,
            size_bytes,
            params,
            architecture,
            max_context,
            quantization,
            vision=vision,
            tool_use=tool_use,
        )
    )


def simulated_llm_info(
    key: str,
    display_name: str,
    path: str,
    size_bytes: int,
    params: str,
    architecture: str,
    max_context: int,
    quantization: tuple[str, int],
    *,
    vision: bool = False,
    tool_use: bool = True,
) -> LlmInfo:
    """The info of a GGUF LLM that exists only in the simulation (scripted catalog, hub)."""
    info = LlmInfo(
        model_key=key,
        format="gguf",
        display_name=display_name,
        path=path,
        size_bytes=size_bytes,
        params_string=params,
        architecture=architecture,
        max_context_length=max_context,
        quantization=Quantization(name=quantization[0], bits=quantization[1]),
        vision=vision,
        trained_for_tool_use=tool_use,
    )
    completed = _complete(info)
    assert isinstance(completed, LlmInfo)
    return completed


BUILTIN_CATALOG: tuple[CatalogEntry, ...] = (
    _llm(
        "llama-3.2-1b-instruct",
        "Llama 3.2 1B Instruct",
        "hugging-quants/Llama-3.2-1B-Instruct-Q8_0-GGUF/llama-3.2-1b-instruct-q8_0.gguf",
        1_321_082_688,
        "1B",
        "llama",
        131_072,
        ("Q8_0", 8),
    ),
    _llm(
        "qwen2.5-7b-instruct",
        "Qwen2.5 7B Instruct",
        "lmstudio-community/Qwen2.5-7B-Instruct-GGUF/Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        4_683_073_536,
        "7B",
        "qwen2",
        32_768,
        ("Q4_K_M", 4),
    ),
    _llm(
        "qwen2.5-7b-instruct-1m",
        "Qwen2.5 7B Instruct 1M",
        "lmstudio-community/Qwen2.5-7B-Instruct-1M-GGUF/Qwen2.5-7B-Instruct-1M-Q4_K_M.gguf",
        4_683_073_888,
        "7B",
        "qwen2",
        1_010_000,
        ("Q4_K_M", 4),
    ),
    _llm(
        "qwen2-vl-2b-instruct",
        "Qwen2 VL 2B Instruct",
        "lmstudio-community/Qwen2-VL-2B-Instruct-GGUF/Qwen2-VL-2B-Instruct-Q4_K_M.gguf",
        986_047_744,
        "2B",
        "qwen2vl",
        32_768,
        ("Q4_K_M", 4),
        vision=True,
        tool_use=False,
    ),
    CatalogEntry(
        _complete(
            EmbeddingModelInfo(
                model_key="text-embedding-nomic-embed-text-v1.5",
                format="gguf",
                display_name="Nomic Embed Text v1.5",
                path="nomic-ai/nomic-embed-text-v1.5-GGUF/nomic-embed-text-v1.5.Q4_K_M.gguf",
                size_bytes=84_106_624,
                params_string="137M",
                architecture="nomic-bert",
                max_context_length=2048,
                quantization=Quantization(name="Q4_K_M", bits=4),
            )
        ),
        embedding_dimensions=DEFAULT_EMBEDDING_DIMENSIONS,
    ),
)


def _entry(raw: Any, where: str) -> CatalogEntry:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    try:
        info: ModelInfo = msgspec.convert(raw, ModelInfo)
    except msgspec.ValidationError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    if info.format not in _KNOWN_FORMATS:
        known = ", ".join(sorted(_KNOWN_FORMATS))
        raise CatalogError(f"{where}: format {info.format!r} is not one of {known}")
    dimensions = raw.get("embeddingDimensions")
    reasoning = raw.get("reasoning", False)
    if not isinstance(reasoning, bool):
        raise CatalogError(f"{where}: reasoning must be true or false")
    if isinstance(info, LlmInfo):
        if dimensions is not None:
            raise CatalogError(f"{where}: embeddingDimensions is only valid for embedding models")
        return CatalogEntry(_complete(info), reasoning=reasoning)
    if reasoning:
        raise CatalogError(f"{where}: reasoning is only valid for LLMs")
    if dimensions is None:
        dimensions = DEFAULT_EMBEDDING_DIMENSIONS
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1:
        raise CatalogError(f"{where}: embeddingDimensions must be a positive integer")
    return CatalogEntry(_complete(info), embedding_dimensions=dimensions)


def load_catalog_file(path: Path) -> list[CatalogEntry]:
    """The entries of a catalog file; :class:`CatalogError` names the first bad one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"Cannot read model catalog {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CatalogError(f"Model catalog {path} is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise CatalogError(f"Model catalog {path} must be a JSON list of model infos")
    entries: list[CatalogEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(data):
        key = raw.get("modelKey") if isinstance(raw, dict) else None
        where = f"Model catalog {path}, entry {index}" + (f" ({key!r})" if key else "")
        entry = _entry(raw, where)
        if entry.info.model_key in seen:
            raise CatalogError(f"{where}: duplicate modelKey")
        seen.add(entry.info.model_key)
        entries.append(entry)
    return entries


def build_catalog(path: Path | None) -> list[CatalogEntry]:
    """The built-in models, with the file's entries added (or replacing same-key ones)."""
    by_key = {entry.info.model_key: entry for entry in BUILTIN_CATALOG}
    for entry in load_catalog_file(path) if path is not None else ():
        by_key[entry.info.model_key] = entry
    return list(by_key.values())
