"""Uploaded files (PROTOCOL.md 6.5): their ``FileType`` and size limit. No I/O.

Shared by the client, which checks files before uploading them, and the local
server, which classifies what it receives the same way.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Literal

__all__ = [
    "FileType",
    "FILE_TYPES",
    "MAX_FILE_BYTES",
    "IMAGE_FORMATS",
    "detect_file_type",
    "sniff_image_format",
]

#: LM Studio's classification of an uploaded file.
FileType = Literal[
    "image", "text/plain", "application/pdf", "application/word", "text/other", "unknown"
]
FILE_TYPES: tuple[FileType, ...] = (
    "image",
    "text/plain",
    "application/pdf",
    "application/word",
    "text/other",
    "unknown",
)
#: Largest file the local server accepts (LM Studio documents no limit; this one keeps a
#: base64 upload well inside one websocket frame). The client refuses bigger files itself.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Image formats recognised from their first bytes, as :func:`sniff_image_format` names them.
IMAGE_FORMATS = ("png", "jpeg", "gif", "webp", "bmp")

_DIB_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})
_IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"})
_WORD_EXTENSIONS = frozenset({".doc", ".docx"})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc
_ZIP_MAGIC = b"PK\x03\x04"  # .docx is a zip archive


def sniff_image_format(data: bytes) -> str | None:
    """The image format of ``data`` from its magic bytes (one of :data:`IMAGE_FORMATS`)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    # "BM" alone starts plenty of text; a BMP's DIB header size settles it.
    if data.startswith(b"BM") and int.from_bytes(data[14:18], "little") in _DIB_HEADER_SIZES:
        return "bmp"
    return None


def detect_file_type(name: str, data: bytes) -> FileType:
    """The ``FileType`` of an upload, from its magic bytes, then its extension."""
    extension = PurePath(name).suffix.lower()
    if sniff_image_format(data) is not None:
        return "image"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if extension in _WORD_EXTENSIONS and data.startswith((_OLE_MAGIC, _ZIP_MAGIC)):
        return "application/word"
    if _is_text(data):
        return "text/plain" if extension in ("", ".txt") else "text/other"
    if extension in _IMAGE_EXTENSIONS:
        return "image"
    if extension == ".pdf":
        return "application/pdf"
    if extension in _WORD_EXTENSIONS:
        return "application/word"
    return "unknown"


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
