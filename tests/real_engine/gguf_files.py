"""Writing small GGUF files (a header, no weights) for the model-listing tests."""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

_TYPES = {bool: (7, "?"), int: (5, "i"), float: (6, "f")}


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw


def _value(value: object) -> bytes:
    if isinstance(value, str):
        return struct.pack("<I", 8) + _string(value)
    if isinstance(value, list):
        # Arrays of strings, like a tokenizer's vocabulary.
        return struct.pack("<IIQ", 9, 8, len(value)) + b"".join(_string(str(v)) for v in value)
    tag, fmt = _TYPES[type(value)]
    return struct.pack("<I" + fmt, tag, value)


def write_gguf(
    path: Path,
    metadata: Mapping[str, object],
    tensors: Sequence[tuple[str, Sequence[int]]] = (),
    *,
    version: int = 3,
) -> Path:
    """A GGUF header with ``metadata`` and tensor infos of the given shapes."""
    out = [b"GGUF", struct.pack("<IQQ", version, len(tensors), len(metadata))]
    for key, value in metadata.items():
        out.append(_string(key) + _value(value))
    for name, shape in tensors:
        out.append(_string(name) + struct.pack("<I", len(shape)))
        out.append(struct.pack(f"<{len(shape)}Q", *shape) + struct.pack("<IQ", 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(out))
    return path


def llm_metadata(name: str = "Tiny Llama", architecture: str = "llama") -> dict[str, object]:
    return {
        "general.architecture": architecture,
        "general.name": name,
        f"{architecture}.context_length": 2048,
        "general.file_type": 15,
        "tokenizer.ggml.tokens": ["<s>", "</s>", "hello"],
        "tokenizer.chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}",
    }
