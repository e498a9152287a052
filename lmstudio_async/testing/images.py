"""Tiny image encoders built on the standard library, for testing image plumbing without Pillow.

``png(width, height, colour)`` and ``bmp(...)`` return the bytes of a solid-colour image
(``png`` can paint a patch of a second colour), ready for ``prepare_image``.
"""

from __future__ import annotations

import struct
import zlib

RGB = tuple[int, int, int]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(
    width: int, height: int, colour: RGB, *, patch: RGB | None = None, filter_type: int = 0
) -> bytes:
    """An RGB PNG filled with ``colour``; ``patch`` paints its top-left quarter-width column."""
    rows = []
    for _y in range(height):
        row = bytearray()
        for x in range(width):
            row += bytes(patch if patch is not None and x < width // 4 else colour)
        rows.append(row)
    raw = bytearray()
    previous = bytearray(len(rows[0]))
    for row in rows:
        raw.append(filter_type)
        if filter_type == 0:
            raw += row
        elif filter_type == 1:  # sub
            raw += bytes((row[i] - (row[i - 3] if i >= 3 else 0)) & 0xFF for i in range(len(row)))
        elif filter_type == 2:  # up
            raw += bytes((row[i] - previous[i]) & 0xFF for i in range(len(row)))
        else:
            raise ValueError(filter_type)
        previous = row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw)))
        + _chunk(b"IEND", b"")
    )


def bmp(width: int, height: int, colour: RGB) -> bytes:
    """A 24-bit BMP filled with ``colour``."""
    stride = (width * 3 + 3) // 4 * 4
    row = bytes((colour[2], colour[1], colour[0])) * width + b"\0" * (stride - width * 3)
    pixels = row * height
    header = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54) + header + pixels
