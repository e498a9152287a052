"""Files uploaded by clients (``files/uploadFileBase64``), kept in memory per client.

Uploads are temporary: they are released when the client's last socket closes,
as LM Studio does with ``prepareFile`` uploads.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from pathlib import PurePath

__all__ = ["FileStore", "StoredFile", "detect_file_type"]

_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"BM",  # BMP
)
_IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"})
_WORD_EXTENSIONS = frozenset({".doc", ".docx"})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc
_ZIP_MAGIC = b"PK\x03\x04"  # .docx is a zip archive


def detect_file_type(name: str, data: bytes) -> str:
    """LM Studio's ``FileType`` of an upload, from its magic bytes, then its extension."""
    extension = PurePath(name).suffix.lower()
    if data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
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


@dataclass(frozen=True)
class StoredFile:
    identifier: str
    name: str
    file_type: str
    data: bytes

    @property
    def size_bytes(self) -> int:
        return len(self.data)


class FileStore:
    def __init__(self) -> None:
        self._by_client: dict[str, dict[str, StoredFile]] = {}
        self._counter = itertools.count(1)

    def add(self, client: str, name: str, data: bytes) -> StoredFile:
        # A counter makes identifiers unique; the random part makes them unguessable.
        identifier = f"file-{next(self._counter)}-{secrets.token_hex(6)}"
        stored = StoredFile(identifier, name, detect_file_type(name, data), data)
        self._by_client.setdefault(client, {})[identifier] = stored
        return stored

    def get(self, client: str, identifier: str) -> StoredFile | None:
        return self._by_client.get(client, {}).get(identifier)

    def files_of(self, client: str) -> list[StoredFile]:
        return list(self._by_client.get(client, {}).values())

    def release_client(self, client: str) -> None:
        self._by_client.pop(client, None)

    def clear(self) -> None:
        self._by_client.clear()
