"""Model keys and model infos of GGUF files (PROTOCOL.md 5.2 and 9).

Keys follow what LM Studio is observed to report: ``llama-3.2-1b-instruct`` for
``hugging-quants/Llama-3.2-1B-Instruct-Q8_0-GGUF/llama-3.2-1b-instruct-q8_0.gguf``
and ``text-embedding-nomic-embed-text-v1.5`` for
``nomic-ai/nomic-embed-text-v1.5-GGUF/nomic-embed-text-v1.5.Q4_K_M.gguf``. So a
key is the file name, lower-cased, without ``.gguf``, without a shard suffix
(``-00001-of-00003``) and without a trailing quantization tag (``-Q8_0``,
``.Q4_K_M``, ``-f16``...); embedding models get a ``text-embedding-`` prefix.
The model manager uses the key as the default instance identifier.

Everything else comes from the GGUF metadata: ``general.architecture``,
``general.name`` (display name), ``general.size_label`` (params string, else
derived from the tensor shapes), ``<arch>.context_length``, ``general.file_type``
(quantization, else the file name's tag) and ``tokenizer.chat_template`` (tool
use, when it mentions ``tools``).
"""

from __future__ import annotations

import re

import msgspec

from ....protocol import EmbeddingModelInfo, LlmInfo, ModelInfo, Quantization
from .info import GgufHeader

__all__ = [
    "EMBEDDING_ARCHITECTURES",
    "EMBEDDING_KEY_PREFIX",
    "base_key",
    "base_name",
    "describe_model",
    "has_own_pooling",
    "is_embedding_only",
    "params_string",
    "quantization_of",
]

#: llama.cpp architectures that are encoders: they produce embeddings, not text.
EMBEDDING_ARCHITECTURES = frozenset(
    {
        "bert",
        "nomic-bert",
        "nomic-bert-moe",
        "jina-bert-v2",
        "jina-bert-v3",
        "modern-bert",
        "neo-bert",
        "eurobert",
        "gemma-embedding",
        "t5encoder",
    }
)
EMBEDDING_KEY_PREFIX = "text-embedding-"

#: ``general.file_type`` (llama.cpp's ``llama_ftype``) -> quantization name.
_FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
    38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0", 41: "Q2_0",
}  # fmt: skip

_QUANT_TAG = re.compile(
    r"[-._](?P<tag>(?:I?Q\d(?:_[A-Z0-9]+)*|TQ\d_\d|MXFP4(?:_MOE)?|BF16|F16|F32))$", re.IGNORECASE
)
_SHARD_SUFFIX = re.compile(r"-\d{5}-of-\d{5}$")
_TOOLS = re.compile(r"\btools\b")
#: Context length reported for a GGUF that does not declare its training context.
_FALLBACK_CONTEXT = 2048


def _stem(file_name: str) -> str:
    stem = file_name[: -len(".gguf")] if file_name.lower().endswith(".gguf") else file_name
    return _SHARD_SUFFIX.sub("", stem)


def base_name(file_name: str) -> str:
    """A GGUF file's name without extension, shard suffix and quantization tag."""
    return _QUANT_TAG.sub("", _stem(file_name))


def base_key(file_name: str) -> str:
    """The model key of a GGUF file name before any domain prefix."""
    return base_name(file_name).lower()


def _file_name_tag(file_name: str) -> str | None:
    match = _QUANT_TAG.search(_stem(file_name))
    return match.group("tag").upper() if match else None


def quantization_of(header: GgufHeader, file_name: str) -> Quantization | None:
    file_type = header.integer("general.file_type")
    name = _FILE_TYPES.get(file_type) if file_type is not None else None
    name = name or _file_name_tag(file_name)
    if name is None:
        return None
    bits = re.search(r"\d+", name)
    return Quantization(name=name, bits=int(bits.group()) if bits else 0)


def params_string(header: GgufHeader) -> str | None:
    label = header.text("general.size_label")
    if label:
        return label
    count = header.parameter_count
    if count <= 0:
        return None
    if count >= 1e9:
        return f"{count / 1e9:.1f}".removesuffix(".0") + "B"
    if count >= 1e6:
        return f"{round(count / 1e6)}M"
    return f"{round(count / 1e3)}K"


def _architecture(header: GgufHeader) -> str:
    return header.text("general.architecture") or "unknown"


def is_embedding_only(header: GgufHeader) -> bool:
    return _architecture(header) in EMBEDDING_ARCHITECTURES


def has_own_pooling(header: GgufHeader) -> bool:
    """Whether the model defines how to pool token vectors into one embedding."""
    architecture = _architecture(header)
    return is_embedding_only(header) or f"{architecture}.pooling_type" in header.metadata


def display_name(header: GgufHeader, file_name: str) -> str:
    """The model's name for people.

    ``general.name`` unless it is missing or the converter made it up from the checkpoint's
    folder name (it then ends with the fine-tune tag, e.g. "Smollm2 135M 8k Lc100K Mix1
    Ep2"); the file's base name with spaces reads better then ("SmolLM2 135M Instruct").
    """
    name = header.text("general.name")
    finetune = header.text("general.finetune")
    made_up = finetune and _words(name or "").endswith(_words(finetune))
    if name and not made_up:
        return name
    return re.sub(r"[-_]+", " ", base_name(file_name)).strip() or file_name


def _words(text: str) -> str:
    return " ".join(re.split(r"[-_\s]+", text.lower())).strip()


def describe_model(
    header: GgufHeader, *, key: str, path: str, size_bytes: int, embedding: bool
) -> ModelInfo:
    """The model info of a GGUF file at ``path`` (relative, ``publisher/repo/file``)."""
    architecture = _architecture(header)
    file_name = path.rsplit("/", 1)[-1]
    info = EmbeddingModelInfo(
        model_key=key,
        format="gguf",
        display_name=display_name(header, file_name),
        path=path,
        size_bytes=size_bytes,
        max_context_length=header.integer(f"{architecture}.context_length") or _FALLBACK_CONTEXT,
        params_string=params_string(header),
        architecture=architecture,
        publisher=path.split("/", 1)[0],
        indexed_model_identifier=path,
        quantization=quantization_of(header, file_name),
        device_identifier=None,
    )
    if embedding:
        return info
    template = header.text("tokenizer.chat_template") or ""
    return LlmInfo(
        **msgspec.structs.asdict(info),
        vision=False,
        trained_for_tool_use=bool(_TOOLS.search(template)),
    )
