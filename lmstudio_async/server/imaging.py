"""What an uploaded image is: its format, pixel size and dominant colour.

The scripted vision model describes attached images from these facts, so an
app's image plumbing can be tested end to end without a real vision model.

Decoded with the standard library alone (the server needs no extras):

- PNG: every colour type and bit depth, non-interlaced (zlib, then the five
  scanline filters undone); interlaced PNGs give format and size only.
- GIF: the first frame (LZW), through its local or global colour table.
- BMP: uncompressed 24/32-bit and palette (1/4/8-bit) images.
- JPEG and WebP: format and size from their headers only.

When Pillow is installed, it decodes whatever the standard library could not
(JPEG and WebP colours, interlaced PNGs, compressed BMPs, images over
:data:`MAX_PIXELS` pixels). Work is bounded: the standard library decodes at
most :data:`MAX_PIXELS` pixels (zlib output is capped at the size the header
implies), and colours are counted on an evenly spaced sample of at most
:data:`MAX_SAMPLES` pixels.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..protocol.files import sniff_image_format

__all__ = ["ImageFacts", "MAX_PIXELS", "MAX_SAMPLES", "describe_image", "colour_name"]

#: Largest image whose pixels are decoded: in pure Python that takes about a second; Pillow
#: (when installed) decodes larger ones, up to its own decompression-bomb limit.
MAX_PIXELS = 2_000_000
MAX_SAMPLES = 40_000
#: Largest image handed to Pillow (whose own bomb limit is about 89 megapixels).
PILLOW_MAX_PIXELS = 40_000_000

RGB = tuple[int, int, int]

#: Named colours a dominant colour is reported as (the nearest one).
_NAMED_COLOURS: dict[str, RGB] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "grey": (128, 128, 128),
    "dark grey": (64, 64, 64),
    "light grey": (192, 192, 192),
    "red": (220, 30, 30),
    "green": (30, 160, 50),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 30),
    "orange": (245, 140, 20),
    "purple": (130, 40, 160),
    "pink": (245, 150, 190),
    "brown": (130, 80, 40),
    "cyan": (30, 200, 220),
}


@dataclass(frozen=True)
class ImageFacts:
    format: str
    width: int
    height: int
    #: Most frequent colour (quantised), or ``None`` when the pixels could not be decoded.
    dominant_colour: RGB | None
    #: How the facts were obtained: ``"stdlib"``, ``"pillow"`` or ``"header"``.
    decoder: str

    @property
    def dominant_colour_name(self) -> str | None:
        return None if self.dominant_colour is None else colour_name(self.dominant_colour)

    @property
    def dominant_colour_hex(self) -> str | None:
        colour = self.dominant_colour
        return None if colour is None else "#{:02x}{:02x}{:02x}".format(*colour)


class ImageError(ValueError):
    """The bytes are not a readable image."""


def colour_name(rgb: RGB) -> str:
    """The nearest of a dozen everyday colour names."""
    return min(
        _NAMED_COLOURS,
        key=lambda name: sum((a - b) ** 2 for a, b in zip(_NAMED_COLOURS[name], rgb, strict=True)),
    )


def describe_image(data: bytes) -> ImageFacts:
    """Format, size and dominant colour of an image; :class:`ImageError` if it is none."""
    image_format = sniff_image_format(data)
    if image_format is None:
        raise ImageError("not a PNG, JPEG, GIF, WebP or BMP image")
    width, height = _header_size(image_format, data)
    if width <= 0 or height <= 0:
        raise ImageError(f"the {image_format.upper()} header gives no pixel size")
    colour: RGB | None = None
    if width * height <= MAX_PIXELS:
        try:
            colour = _STDLIB_DECODERS[image_format](data, width, height)
        except (ImageError, zlib.error, struct.error, IndexError, ValueError):
            colour = None
        if colour is not None:
            return ImageFacts(image_format, width, height, colour, "stdlib")
    colour = _pillow_colour(data) if width * height <= PILLOW_MAX_PIXELS else None
    if colour is not None:
        return ImageFacts(image_format, width, height, colour, "pillow")
    return ImageFacts(image_format, width, height, None, "header")


def _dominant(pixels: Iterator[RGB]) -> RGB | None:
    # Quantise to 3 bits a channel so that near-identical shades count together.
    counts: Counter[tuple[int, int, int]] = Counter((r >> 5, g >> 5, b >> 5) for r, g, b in pixels)
    if not counts:
        return None
    (r, g, b), _ = counts.most_common(1)[0]
    return (r << 5 | 16, g << 5 | 16, b << 5 | 16)


def _sample_indices(count: int) -> range:
    step = max(1, count // MAX_SAMPLES)
    return range(0, count, step)


# --- headers ------------------------------------------------------------------------------


def _header_size(image_format: str, data: bytes) -> tuple[int, int]:
    try:
        if image_format == "png":
            width, height = struct.unpack(">II", data[16:24])
            return width, height
        if image_format == "gif":
            width, height = struct.unpack("<HH", data[6:10])
            return width, height
        if image_format == "bmp":
            if int.from_bytes(data[14:18], "little") == 12:
                width, height = struct.unpack("<HH", data[18:22])
                return width, height
            width, height = struct.unpack("<ii", data[18:26])
            return width, abs(height)
        if image_format == "jpeg":
            return _jpeg_size(data)
        return _webp_size(data)
    except struct.error:
        raise ImageError(f"truncated {image_format.upper()} header") from None


_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int]:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ImageError("corrupt JPEG marker")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker in _JPEG_FRAME_MARKERS:
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        position += 2 + length
    raise ImageError("no JPEG frame header")


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    raise ImageError(f"unknown WebP chunk {chunk!r}")


# --- PNG -------------------------------------------------------------------------------------

_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _png_colour(data: bytes, width: int, height: int) -> RGB | None:
    position = 8
    header: tuple[int, ...] | None = None
    palette = b""
    compressed: list[bytes] = []
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            compressed.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ImageError("PNG without IHDR")
    _, _, depth, colour_type, _, _, interlace = header
    if interlace or colour_type not in _PNG_CHANNELS:
        return None
    channels = _PNG_CHANNELS[colour_type]
    bits_per_pixel = depth * channels
    stride = (width * bits_per_pixel + 7) // 8
    expected = (stride + 1) * height
    raw = zlib.decompressobj().decompress(b"".join(compressed), expected)
    if len(raw) < expected:
        raise ImageError("truncated PNG data")
    rows = _unfilter(raw, stride, height, max(1, bits_per_pixel // 8))
    return _dominant(_png_pixels(rows, width, depth, colour_type, channels, palette))


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> list[bytearray]:
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        row = bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                row[i] = (row[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + predictor) & 0xFF
        elif kind != 0:
            raise ImageError(f"unknown PNG filter {kind}")
        rows.append(row)
        previous = row
    return rows


def _png_pixels(
    rows: list[bytearray], width: int, depth: int, colour_type: int, channels: int, palette: bytes
) -> Iterator[RGB]:
    height = len(rows)
    for index in _sample_indices(width * height):
        y, x = divmod(index, width)
        row = rows[y]
        if depth < 8:
            per_byte = 8 // depth
            byte = row[x // per_byte]
            shift = 8 - depth * (x % per_byte + 1)
            values = [(byte >> shift) & ((1 << depth) - 1)]
        else:
            size = depth // 8
            offset = x * channels * size
            # 16-bit samples: the high byte is enough for a colour.
            values = [row[offset + c * size] for c in range(channels)]
        if colour_type == 3:
            entry = values[0] * 3
            yield palette[entry], palette[entry + 1], palette[entry + 2]
            continue
        if depth < 8:
            values = [v * 255 // ((1 << depth) - 1) for v in values]
        if colour_type in (0, 4):
            if colour_type == 4 and values[1] == 0:
                continue  # fully transparent
            yield values[0], values[0], values[0]
        else:
            if colour_type == 6 and values[3] == 0:
                continue
            yield values[0], values[1], values[2]


# --- GIF -------------------------------------------------------------------------------------


def _gif_colour(data: bytes, width: int, height: int) -> RGB | None:
    flags = data[10]
    position = 13
    table = b""
    if flags & 0x80:
        size = 3 * (2 << (flags & 7))
        table = data[13 : 13 + size]
        position += size
    transparent: int | None = None
    while position < len(data):
        block = data[position]
        if block == 0x21:  # extension: graphic control may name a transparent index
            label = data[position + 1]
            position += 2
            if label == 0xF9 and data[position + 1] & 1:
                transparent = data[position + 4]
            while data[position]:
                position += data[position] + 1
            position += 1
        elif block == 0x2C:  # image descriptor
            frame_width, frame_height = struct.unpack("<HH", data[position + 5 : position + 9])
            local = data[position + 9]
            position += 10
            if local & 0x80:
                size = 3 * (2 << (local & 7))
                table = data[position : position + size]
                position += size
            minimum_code_size = data[position]
            position += 1
            chunks = []
            while data[position]:
                chunks.append(data[position + 1 : position + 1 + data[position]])
                position += data[position] + 1
            pixels = min(frame_width * frame_height, width * height)
            indices = _lzw_decode(b"".join(chunks), minimum_code_size, pixels)
            return _dominant(
                (table[3 * i], table[3 * i + 1], table[3 * i + 2])
                for i in (indices[k] for k in _sample_indices(len(indices)))
                if i != transparent and 3 * i + 2 < len(table)
            )
        else:
            break
    raise ImageError("GIF without an image")


def _lzw_decode(data: bytes, minimum_code_size: int, limit: int) -> bytes:
    if not 1 <= minimum_code_size <= 8:
        raise ImageError(f"invalid GIF LZW code size {minimum_code_size}")
    clear = 1 << minimum_code_size
    end = clear + 1
    out = bytearray()
    table: list[bytes] = []
    code_size = minimum_code_size + 1
    previous: bytes | None = None
    bits = value = 0
    for byte in data:
        value |= byte << bits
        bits += 8
        while bits >= code_size:
            code = value & ((1 << code_size) - 1)
            value >>= code_size
            bits -= code_size
            if code == clear:
                table = [bytes([i]) for i in range(clear)] + [b"", b""]
                code_size = minimum_code_size + 1
                previous = None
                continue
            if code == end or len(out) >= limit:
                return bytes(out[:limit])
            if not table:
                table = [bytes([i]) for i in range(clear)] + [b"", b""]
            if code < len(table):
                entry = table[code]
                if previous is not None:
                    table.append(previous + entry[:1])
            elif previous is not None and code == len(table):
                entry = previous + previous[:1]
                table.append(entry)
            else:
                raise ImageError("corrupt GIF data")
            out += entry
            previous = entry
            if len(table) == 1 << code_size and code_size < 12:
                code_size += 1
    return bytes(out[:limit])


# --- BMP -------------------------------------------------------------------------------------


def _bmp_colour(data: bytes, width: int, height: int) -> RGB | None:
    offset = int.from_bytes(data[10:14], "little")
    header_size = int.from_bytes(data[14:18], "little")
    if header_size < 40:
        return None
    bits, compression = struct.unpack("<HI", data[28:34])
    if compression not in (0, 3) or bits not in (1, 4, 8, 24, 32):
        return None
    stride = (width * bits + 31) // 32 * 4
    palette_start = 14 + header_size

    def pixel(index: int) -> RGB:
        y, x = divmod(index, width)
        row = offset + y * stride
        if bits >= 24:
            start = row + x * (bits // 8)
            b, g, r = data[start : start + 3]
            return r, g, b
        per_byte = 8 // bits
        byte = data[row + x // per_byte]
        entry = (byte >> (8 - bits * (x % per_byte + 1))) & ((1 << bits) - 1)
        b, g, r = data[palette_start + 4 * entry : palette_start + 4 * entry + 3]
        return r, g, b

    if offset + stride * height > len(data):
        raise ImageError("truncated BMP")
    return _dominant(pixel(i) for i in _sample_indices(width * height))


def _header_only(data: bytes, width: int, height: int) -> RGB | None:
    return None  # JPEG and WebP pixels need Pillow


_STDLIB_DECODERS: dict[str, Callable[[bytes, int, int], RGB | None]] = {
    "png": _png_colour,
    "gif": _gif_colour,
    "bmp": _bmp_colour,
    "jpeg": _header_only,
    "webp": _header_only,
}


def _pillow_colour(data: bytes) -> RGB | None:
    try:
        from io import BytesIO

        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(BytesIO(data)) as image:
            image.draft("RGB", (256, 256))  # JPEG: decode at a reduced size
            rgb = image.convert("RGBA")
            rgb.thumbnail((200, 200))
            raw = rgb.tobytes()
            return _dominant(
                (raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 4) if raw[i + 3]
            )
    # Pillow raises many kinds of errors for damaged images.
    except Exception:
        return None
