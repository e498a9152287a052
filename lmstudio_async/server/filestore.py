"""Files uploaded by clients (``files/uploadFileBase64``), kept in memory per client.

Uploads are temporary: they are released when the client's last socket closes,
as LM Studio does with ``prepareFile`` uploads.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass

from ..protocol.files import detect_file_type

__all__ = ["FileStore", "FileStoreFull", "StoredFile", "detect_file_type"]

#: Bounds on what one client may keep uploaded at a time (hostile clients included).
MAX_FILES_PER_CLIENT = 256
MAX_BYTES_PER_CLIENT = 512 * 1024 * 1024


class FileStoreFull(Exception):
    """A client already holds as many uploads (count or bytes) as it may."""


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
        held = self._by_client.get(client, {})
        if len(held) >= MAX_FILES_PER_CLIENT:
            raise FileStoreFull(f"a client may hold at most {MAX_FILES_PER_CLIENT} uploads")
        if sum(f.size_bytes for f in held.values()) + len(data) > MAX_BYTES_PER_CLIENT:
            raise FileStoreFull(
                f"a client's uploads may total at most {MAX_BYTES_PER_CLIENT // 2**20} MiB"
            )
        # A counter makes identifiers unique; the random part makes them unguessable.
        identifier = f"file-{next(self._counter)}-{secrets.token_hex(6)}"
        stored = StoredFile(identifier, name, detect_file_type(name, data), data)
        self._by_client.setdefault(client, {})[identifier] = stored
        return stored

    def get(self, client: str, identifier: str) -> StoredFile | None:
        return self._by_client.get(client, {}).get(identifier)

    def files_of(self, client: str) -> list[StoredFile]:
        return list(self._by_client.get(client, {}).values())

    def count(self) -> int:
        """How many uploads all clients hold together."""
        return sum(len(files) for files in self._by_client.values())

    def release_client(self, client: str) -> None:
        self._by_client.pop(client, None)

    def clear(self) -> None:
        self._by_client.clear()
