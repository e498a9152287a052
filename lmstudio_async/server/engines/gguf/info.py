"""Reading a GGUF file's header (metadata and tensor shapes) without loading its weights.

Only the header is read, through a memory map, so listing models costs no more
than skipping over the tokenizer's vocabulary. Scalar and string metadata values
are kept; arrays (vocabularies, merges...) are skipped, since no model info field
needs them. The parameter count is summed from the tensor shapes.
"""

from __future__ import annotations

import math
import mmap
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["GgufError", "GgufHeader", "MetadataValue", "read_gguf_header"]

MetadataValue = str | int | float | bool

_MAGIC = b"GGUF"
_SUPPORTED_VERSIONS = (2, 3)
_STRING = 8
_ARRAY = 9
#: Scalar value types: GGUF type id -> struct format.
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}


class GgufError(ValueError):
    """The file is not a GGUF file this reader understands."""


@dataclass(frozen=True)
class GgufHeader:
    version: int
    metadata: Mapping[str, MetadataValue]
    parameter_count: int

    def text(self, key: str) -> str | None:
        value = self.metadata.get(key)
        return value if isinstance(value, str) else None

    def integer(self, key: str) -> int | None:
        value = self.metadata.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Cursor:
    """Sequential reads of little- or big-endian GGUF values from a buffer."""

    def __init__(self, data: mmap.mmap, byte_order: str) -> None:
        self._data = data
        self._order = byte_order
        self.offset = 0
        self._u64 = struct.Struct(byte_order + "Q")
        self._u32 = struct.Struct(byte_order + "I")
        self._scalars = {tag: struct.Struct(byte_order + f) for tag, f in _SCALARS.items()}

    def _read(self, fmt: struct.Struct) -> Any:
        try:
            (value,) = fmt.unpack_from(self._data, self.offset)
        except struct.error:
            raise GgufError("the header ends before the end of the file's metadata") from None
        self.offset += fmt.size
        return value

    def u32(self) -> int:
        return int(self._read(self._u32))

    def u64(self) -> int:
        return int(self._read(self._u64))

    def string(self) -> str:
        length = self.u64()
        end = self.offset + length
        if end > len(self._data):
            raise GgufError("a string runs past the end of the file")
        raw = self._data[self.offset : end]
        self.offset = end
        return raw.decode("utf-8", "replace")

    def skip_string(self) -> None:
        length = self.u64()
        self.offset += length

    def value(self, tag: int) -> MetadataValue | None:
        """The value of type ``tag``; arrays are skipped and read as ``None``."""
        if tag == _STRING:
            return self.string()
        if tag == _ARRAY:
            self._skip_array()
            return None
        fmt = self._scalars.get(tag)
        if fmt is None:
            raise GgufError(f"unknown metadata value type {tag}")
        value: MetadataValue = self._read(fmt)
        return value

    def _skip_array(self) -> None:
        tag = self.u32()
        count = self.u64()
        if tag == _STRING:
            for _ in range(count):
                self.skip_string()
        elif tag == _ARRAY:
            for _ in range(count):
                self._skip_array()
        elif tag in self._scalars:
            self.offset += count * self._scalars[tag].size
        else:
            raise GgufError(f"unknown array element type {tag}")


def _byte_order(data: mmap.mmap) -> str:
    if data[:4] != _MAGIC:
        raise GgufError("not a GGUF file (bad magic number)")
    for order in ("<", ">"):
        (version,) = struct.unpack_from(order + "I", data, 4)
        if version in _SUPPORTED_VERSIONS:
            return order
    raise GgufError("unsupported GGUF version")


def _parse(data: mmap.mmap) -> GgufHeader:
    cursor = _Cursor(data, _byte_order(data))
    cursor.offset = 4
    version = cursor.u32()
    tensor_count = cursor.u64()
    kv_count = cursor.u64()
    metadata: dict[str, MetadataValue] = {}
    for _ in range(kv_count):
        key = cursor.string()
        value = cursor.value(cursor.u32())
        if value is not None:
            metadata[key] = value
    parameters = 0
    for _ in range(tensor_count):
        cursor.skip_string()
        dimensions = [cursor.u64() for _ in range(cursor.u32())]
        cursor.offset += 4 + 8  # tensor type (u32) and data offset (u64)
        parameters += math.prod(dimensions)
    if cursor.offset > len(data):
        raise GgufError("the tensor table runs past the end of the file")
    return GgufHeader(version=version, metadata=metadata, parameter_count=parameters)


def read_gguf_header(path: Path) -> GgufHeader:
    """The metadata and parameter count of the GGUF file at ``path``.

    Raises :class:`GgufError` for a file that is not GGUF or is truncated, and
    ``OSError`` if it cannot be read.
    """
    with path.open("rb") as file:
        if path.stat().st_size < 24:
            raise GgufError("not a GGUF file (too short)")
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _parse(data)
