"""The ``files`` namespace (PROTOCOL.md 6.5): client-scoped uploads."""

from __future__ import annotations

import base64
import binascii

from ...protocol import UploadFileBase64Parameter, UploadFileBase64Result
from ..api import CallContext, Namespace, RpcEndpoint, ServerError

__all__ = ["build_files_namespace"]


async def upload_file_base64(
    ctx: CallContext, parameter: UploadFileBase64Parameter
) -> UploadFileBase64Result:
    try:
        data = base64.b64decode(parameter.content_base64, validate=True)
    except binascii.Error as exc:
        raise ServerError(
            f"The content of {parameter.name!r} is not valid base64",
            cause=str(exc),
            suggestion="Send the file's bytes encoded with standard base64 in contentBase64.",
        ) from None
    stored = ctx.state.files.add(ctx.client.identifier, parameter.name, data)
    return UploadFileBase64Result(
        identifier=stored.identifier, file_type=stored.file_type, size_bytes=stored.size_bytes
    )


def build_files_namespace() -> Namespace:
    namespace = Namespace("files")
    namespace.rpc(RpcEndpoint("uploadFileBase64", upload_file_base64, UploadFileBase64Parameter))
    return namespace
