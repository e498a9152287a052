"""Decoding images for the scripted vision model: standard library first, Pillow if present."""

from __future__ import annotations

import contextlib
import io
import struct
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmstudio_async.server import imaging
from lmstudio_async.server.imaging import ImageError, colour_name, describe_image
from lmstudio_async.testing.images import bmp, png

channel = st.integers(0, 255)
colours = st.tuples(channel, channel, channel)


def _bucket(colour: tuple[int, int, int]) -> tuple[int, ...]:
    return tuple(c >> 5 for c in colour)


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 24),
    height=st.integers(1, 24),
    colour=colours,
    filter_type=st.sampled_from([0, 1, 2]),
)
def test_png_size_and_colour_decode_with_the_standard_library(
    width: int, height: int, colour: tuple[int, int, int], filter_type: int
) -> None:
    facts = describe_image(png(width, height, colour, filter_type=filter_type))
    assert (facts.format, facts.width, facts.height, facts.decoder) == (
        "png",
        width,
        height,
        "stdlib",
    )
    assert facts.dominant_colour is not None
    assert _bucket(facts.dominant_colour) == _bucket(colour)


@settings(max_examples=20, deadline=None)
@given(width=st.integers(1, 30), height=st.integers(1, 30), colour=colours)
def test_bmp_decodes_with_the_standard_library(
    width: int, height: int, colour: tuple[int, int, int]
) -> None:
    facts = describe_image(bmp(width, height, colour))
    assert (facts.format, facts.width, facts.height) == ("bmp", width, height)
    assert facts.dominant_colour is not None and _bucket(facts.dominant_colour) == _bucket(colour)


def _pillow_encoded(fmt: str, **options: object) -> bytes:
    image_module = pytest.importorskip("PIL.Image")
    image = image_module.new("RGB", (30, 20), (240, 200, 20))
    image.paste((20, 40, 230), (0, 0, 5, 5))
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("GIF", {}), ("PNG", {"optimize": True}), ("BMP", {})],
)
def test_pillow_written_images_decode_without_pillow(
    fmt: str, options: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _pillow_encoded(fmt, **options)
    monkeypatch.setitem(sys.modules, "PIL", None)  # as on a server without extras
    facts = describe_image(data)
    assert (facts.width, facts.height, facts.decoder) == (30, 20, "stdlib")
    assert facts.dominant_colour_name == "yellow"


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_jpeg_and_webp_give_their_size_from_the_header_and_colour_from_pillow(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _pillow_encoded(fmt)
    with_pillow = describe_image(data)
    assert (with_pillow.width, with_pillow.height, with_pillow.decoder) == (30, 20, "pillow")
    assert with_pillow.dominant_colour_name == "yellow"
    monkeypatch.setitem(sys.modules, "PIL", None)
    header_only = describe_image(data)
    assert (header_only.format, header_only.width, header_only.height) == (fmt.lower(), 30, 20)
    assert (header_only.dominant_colour, header_only.decoder) == (None, "header")


@pytest.mark.parametrize(
    "data", [b"", b"hello", b"\x89PNG\r\n\x1a\n", b"GIF89a", png(2, 2, (0, 0, 0))[:30]]
)
def test_broken_or_foreign_bytes_are_refused_or_reported_without_colour(data: bytes) -> None:
    try:
        facts = describe_image(data)
    except ImageError:
        return
    assert facts.dominant_colour is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_the_decoder(data: bytes) -> None:
    for prefix in (b"", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"BM", b"\xff\xd8\xff"):
        with contextlib.suppress(ImageError):
            describe_image(prefix + data)


def test_colour_names() -> None:
    assert colour_name((250, 10, 10)) == "red"
    assert colour_name((10, 10, 10)) == "black"
    assert colour_name((250, 250, 250)) == "white"


def test_hostile_gif_code_sizes_and_frame_sizes_are_bounded() -> None:
    header = b"GIF89a" + struct.pack("<HHBBB", 2, 2, 0, 0, 0)
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0)
    for code_size in (0, 9, 255):
        data = header + frame + bytes([code_size, 2, 0xFF, 0xFF, 0]) + b"\x3b"
        assert describe_image(data).dominant_colour is None  # refused, not hung


def test_large_images_are_left_to_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imaging, "MAX_PIXELS", 10)
    data = png(8, 8, (240, 200, 20))
    assert describe_image(data).decoder == ("pillow" if _has_pillow() else "header")
    monkeypatch.setitem(sys.modules, "PIL", None)
    assert describe_image(data).decoder == "header"


def _has_pillow() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True
