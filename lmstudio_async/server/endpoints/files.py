"""The ``files`` namespace (PROTOCOL.md 6.5): client-scoped uploads."""

from __future__ import annotations

import base64
import binascii

from ...protocol import UploadFileBase64Parameter, UploadFileBase64Result
from ...protocol.files import MAX_FILE_BYTES
from ..api import CallContext, Namespace, RpcEndpoint, ServerError
from ..filestore import FileStoreFull

__all__ = ["build_files_namespace"]

_MAX_NAME_LENGTH = 1024
#: Longest base64 text that can decode to at most MAX_FILE_BYTES.
_MAX_BASE64_LENGTH = 4 * -(-MAX_FILE_BYTES // 3)


async def upload_file_base64(
    ctx: CallContext, parameter: UploadFileBase64Parameter
) -> UploadFileBase64Result:
    name = parameter.name
    if not name or len(name) > _MAX_NAME_LENGTH:
        raise ServerError(
            "Invalid file name",
            cause=f"A file name must have 1 to {_MAX_NAME_LENGTH} characters.",
        )
    if len(parameter.content_base64) > _MAX_BASE64_LENGTH:
        raise ServerError(
            f"The file {name[:80]!r} is too large",
            cause=f"Files may have at most {MAX_FILE_BYTES} bytes.",
        )
    try:
        data = base64.b64decode(parameter.content_base64, validate=True)
    except binascii.Error as exc:
        raise ServerError(
            f"The content of {name[:80]!r} is not valid base64",
            cause=str(exc),
            suggestion="Send the file's bytes encoded with standard base64 in contentBase64.",
        ) from None
    if not data:
        raise ServerError(f"The file {name[:80]!r} is empty", cause="An upload needs content.")
    try:
        stored = ctx.state.files.add(ctx.client.identifier, name, data)
    except FileStoreFull as exc:
        raise ServerError(
            "Too many uploaded files",
            cause=str(exc),
            suggestion="Uploads are released when the client disconnects.",
        ) from None
    return UploadFileBase64Result(
        identifier=stored.identifier, file_type=stored.file_type, size_bytes=stored.size_bytes
    )


def build_files_namespace() -> Namespace:
    namespace = Namespace("files")
    namespace.rpc(RpcEndpoint("uploadFileBase64", upload_file_base64, UploadFileBase64Parameter))
    return namespace
