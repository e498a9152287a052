"""``client.files``: upload images and other files to attach to chats (PROTOCOL.md 6.5).

A file is read and checked here, before anything is sent: a missing or
unreadable path, a directory, an empty file, a file over the server's size
limit, and (for :meth:`AsyncFilesNamespace.prepare_image`) anything that is not
a PNG, JPEG, GIF, WebP or BMP image raise a typed error naming the file. The
upload returns a :data:`FileHandle` for ``chat.add_user_message(text, images=[...])``.
Uploads are temporary: the server releases them when the client disconnects.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal, TypedDict, Union

import msgspec

from .errors import LMStudioOSError, LMStudioValueError
from .protocol import FilePart, UploadFileBase64Parameter, UploadFileBase64Result
from .protocol.files import IMAGE_FORMATS, MAX_FILE_BYTES, FileType, sniff_image_format

if TYPE_CHECKING:
    from .client import AsyncClient

__all__ = [
    "AsyncFilesNamespace",
    "FileHandle",
    "FileHandleDict",
    "FileHandleInput",
    "FileType",
    "LocalFileInput",
    "MAX_FILE_BYTES",
    "to_file_part",
]

#: A prepared file: the ``file`` part of a chat message (``name``, ``identifier``,
#: ``size_bytes``, ``file_type``).
FileHandle = FilePart


class FileHandleDict(TypedDict):
    """A :data:`FileHandle` as a dict, in its wire (camelCase) form."""

    type: Literal["file"]
    name: str
    identifier: str
    sizeBytes: int
    fileType: FileType


#: What ``images=`` accepts: a handle, or its dict form.
FileHandleInput = FileHandle | FileHandleDict
#: A local file: a path, its bytes, or a binary file object open for reading.
LocalFileInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]


def to_file_part(handle: object) -> FilePart:
    """A :data:`FileHandleInput` as the wire part; a clear error for anything else."""
    if isinstance(handle, FilePart):
        return handle
    if isinstance(handle, dict):
        try:
            return msgspec.convert({"type": "file", **handle}, FilePart)
        except msgspec.ValidationError as exc:
            raise LMStudioValueError(
                f"Invalid file handle {handle!r} ({exc}); use what prepare_image returns."
            ) from None
    raise LMStudioValueError(
        f"Expected a file handle from prepare_image or prepare_file, not {handle!r}."
    )


def to_file_parts(handles: Iterable[object]) -> list[FilePart]:
    if isinstance(handles, (FilePart, dict, str, bytes)):
        raise LMStudioValueError(
            f"images must be a list of file handles, not {type(handles).__name__}."
        )
    return [to_file_part(handle) for handle in handles]


def _too_large(what: str, size: int) -> LMStudioValueError:
    return LMStudioValueError(
        f"{what} has {size} bytes; LM Studio accepts files of at most {MAX_FILE_BYTES} bytes."
    )


def _read_path(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise LMStudioValueError(f"{str(path)!r} is a directory, not a file.")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _too_large(repr(str(path)), size)
        return path.read_bytes()
    except FileNotFoundError:
        raise LMStudioOSError(f"No such file: {str(path)!r}.") from None
    except OSError as exc:
        raise LMStudioOSError(f"Cannot read {str(path)!r}: {exc.strerror or exc}.") from None


def _read_stream(stream: IO[bytes]) -> bytes:
    try:
        data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LMStudioOSError(f"Cannot read {stream!r}: {exc}.") from None
    if not isinstance(data, bytes):
        raise LMStudioValueError(
            f"{stream!r} returned {type(data).__name__}, not bytes: open files in binary mode "
            "('rb')."
        )
    return data


def read_local_file(src: LocalFileInput, name: str | None) -> tuple[str, bytes]:
    """The upload name and bytes of ``src``, checked for emptiness and size."""
    default_name: str | None
    if isinstance(src, (bytes, bytearray, memoryview)):
        data, default_name, what = bytes(src), None, "The data"
    elif isinstance(src, (str, os.PathLike)):
        path = Path(src)
        data, default_name, what = _read_path(path), path.name, repr(str(path))
    elif hasattr(src, "read"):
        data = _read_stream(src)
        raw_name = getattr(src, "name", None)
        default_name = os.path.basename(raw_name) if isinstance(raw_name, str) else None
        what = repr(raw_name) if isinstance(raw_name, str) else repr(src)
    else:
        raise LMStudioValueError(
            f"Expected a file path, bytes or a binary file object, not {type(src).__name__}."
        )
    if not data:
        raise LMStudioValueError(f"{what} is empty; there is nothing to upload.")
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(what, len(data))
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise LMStudioValueError(f"name must be a non-empty string, not {name!r}.")
    return name or default_name or str(uuid.uuid4()), data


class AsyncFilesNamespace:
    """Endpoints of the ``files`` websocket."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def prepare_image(
        self, src: LocalFileInput, name: str | None = None, *, timeout: float | None = None
    ) -> FileHandle:
        """Upload an image (PNG, JPEG, GIF, WebP or BMP) to attach to a chat message.

        ``src`` is a path, the image's bytes, or a binary file object; ``name``
        defaults to the file's name (for bytes, a random one with the format's
        extension).
        """
        upload_name, data = read_local_file(src, name)
        image_format = sniff_image_format(data)
        if image_format is None:
            formats = ", ".join(f.upper() for f in IMAGE_FORMATS)
            raise LMStudioValueError(
                f"{upload_name!r} is not an image LM Studio can read (expected {formats}); "
                "use prepare_file for other files."
            )
        if name is None and isinstance(src, (bytes, bytearray, memoryview)):
            upload_name = f"{upload_name}.{image_format}"
        return await self._upload(upload_name, data, timeout)

    async def prepare_file(
        self, src: LocalFileInput, name: str | None = None, *, timeout: float | None = None
    ) -> FileHandle:
        """Upload any file (a document, text...) to attach to a chat message."""
        upload_name, data = read_local_file(src, name)
        return await self._upload(upload_name, data, timeout)

    async def _upload(self, name: str, data: bytes, timeout: float | None) -> FileHandle:
        parameter = UploadFileBase64Parameter(
            name=name, content_base64=base64.b64encode(data).decode("ascii")
        )
        result = await self._client._call(
            "files", "uploadFileBase64", parameter, UploadFileBase64Result, timeout=timeout
        )
        return FilePart(
            name=name,
            identifier=result.identifier,
            size_bytes=result.size_bytes,
            file_type=result.file_type,
        )
