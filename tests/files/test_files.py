"""Uploading images and files, attaching them to chats, and what the server makes of them."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import lmstudio
import pytest

import lmstudio_async.files
import lmstudio_sync
from lmstudio_async import (
    AsyncClient,
    Chat,
    FileHandle,
    LMStudioOSError,
    LMStudioServerError,
    LMStudioValueError,
)
from lmstudio_async.protocol import FilePart
from lmstudio_async.server import LocalServer
from lmstudio_async.testing.images import bmp, png

pytestmark = pytest.mark.anyio

VISION = "qwen2-vl-2b-instruct"
TEXT_ONLY = "llama-3.2-1b-instruct"
RED = (220, 20, 40)
BLUE = (20, 40, 230)


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer(port=0) as running:
        yield running


@pytest.fixture
async def client(server: LocalServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.api_host) as client:
        yield client


async def test_prepare_image_from_a_path_bytes_and_a_file_object(
    client: AsyncClient, server: LocalServer, tmp_path: Path
) -> None:
    data = png(8, 6, RED)
    path = tmp_path / "red.png"
    path.write_bytes(data)
    from_path = await client.files.prepare_image(path)
    from_bytes = await client.files.prepare_image(data)
    with path.open("rb") as stream:
        from_stream = await client.files.prepare_image(stream, name="renamed.png")
    assert isinstance(from_path, FileHandle)
    assert (from_path.name, from_path.size_bytes, from_path.file_type) == (
        "red.png",
        len(data),
        "image",
    )
    assert from_bytes.name.endswith(".png") and from_bytes.size_bytes == len(data)
    assert from_stream.name == "renamed.png"
    identifiers = {from_path.identifier, from_bytes.identifier, from_stream.identifier}
    assert len(identifiers) == 3
    assert server.state.files.count() == 3


async def test_prepare_file_classifies_documents(client: AsyncClient) -> None:
    text = await client.files.prepare_file(b"some notes\n", name="notes.txt")
    pdf = await client.files.prepare_file(b"%PDF-1.7\n...", name="paper.pdf")
    assert (text.file_type, pdf.file_type) == ("text/plain", "application/pdf")


async def test_bad_inputs_fail_before_anything_is_uploaded(
    client: AsyncClient, server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(LMStudioOSError, match="No such file"):
        await client.files.prepare_image(tmp_path / "missing.png")
    with pytest.raises(LMStudioValueError, match="is a directory"):
        await client.files.prepare_image(tmp_path)
    with pytest.raises(LMStudioValueError, match="is empty"):
        await client.files.prepare_image(tmp_path / "empty.png")
    with pytest.raises(LMStudioValueError, match="is empty"):
        await client.files.prepare_file(b"")
    with pytest.raises(LMStudioValueError, match="not an image"):
        await client.files.prepare_image(tmp_path / "notes.txt")
    with (
        pytest.raises(LMStudioValueError, match="binary mode"),
        (tmp_path / "notes.txt").open() as text_stream,
    ):
        await client.files.prepare_file(text_stream)  # type: ignore[arg-type]
    with pytest.raises(LMStudioValueError, match="Expected a file path"):
        await client.files.prepare_file(42)  # type: ignore[arg-type]
    big = tmp_path / "big.png"
    with big.open("wb") as sparse:
        sparse.truncate(lmstudio_async.files.MAX_FILE_BYTES + 1)
    with pytest.raises(LMStudioValueError, match="at most"):
        await client.files.prepare_image(big)
    monkeypatch.setattr(lmstudio_async.files, "MAX_FILE_BYTES", 100)
    with pytest.raises(LMStudioValueError, match="at most 100 bytes"):
        await client.files.prepare_image(png(40, 40, RED) + b"\0" * 100)
    assert server.state.files.count() == 0
    assert "files" not in client._connections  # not even a socket was opened


async def test_the_vision_model_describes_the_real_image(client: AsyncClient) -> None:
    model = await client.llm.model(VISION)
    red = await client.files.prepare_image(png(37, 23, RED), name="red.png")
    blue = await client.files.prepare_image(bmp(5, 9, BLUE), name="blue.bmp")
    chat = Chat()
    chat.add_user_message("What is this?", images=[red])
    first = await model.respond(chat)
    assert "red.png is a 37x23 PNG" in first.content
    assert "dominant colour is red" in first.content
    chat.add_assistant_response(first.content)
    chat.add_user_message("And this one?", images=[blue])
    second = await model.respond(chat)
    assert "blue.bmp is a 5x9 BMP" in second.content
    assert "dominant colour is blue" in second.content
    assert "red.png" not in second.content  # only the question's own images


async def test_the_dominant_colour_is_the_most_common_one(client: AsyncClient) -> None:
    model = await client.llm.model(VISION)
    mostly_blue = png(40, 10, BLUE, patch=RED, filter_type=1)
    handle = await client.files.prepare_image(mostly_blue, name="flag.png")
    reply = await model.respond(Chat.from_history({"messages": [_user("Colour?", handle)]}))
    assert "dominant colour is blue" in reply.content


def _user(text: str, handle: FilePart) -> dict[str, object]:
    return {
        "role": "user",
        "content": [
            {"type": "text", "text": text},
            {
                "type": "file",
                "name": handle.name,
                "identifier": handle.identifier,
                "sizeBytes": handle.size_bytes,
                "fileType": handle.file_type,
            },
        ],
    }


async def test_images_as_handle_dicts(client: AsyncClient) -> None:
    model = await client.llm.model(VISION)
    handle = await client.files.prepare_image(png(3, 4, RED), name="tiny.png")
    chat = Chat()
    chat.add_user_message(
        "Describe",
        images=[
            {
                "type": "file",
                "name": handle.name,
                "identifier": handle.identifier,
                "sizeBytes": handle.size_bytes,
                "fileType": "image",
            }
        ],
    )
    assert "tiny.png is a 3x4 PNG" in (await model.respond(chat)).content
    with pytest.raises(LMStudioValueError, match="list of file handles"):
        chat.add_user_message("x", images=handle)  # type: ignore[arg-type]
    with pytest.raises(LMStudioValueError, match="Invalid file handle"):
        chat.add_user_message("x", images=[{"name": "a.png"}])  # type: ignore[list-item]


async def test_a_model_without_vision_refuses_images(client: AsyncClient) -> None:
    model = await client.llm.model(TEXT_ONLY)
    handle = await client.files.prepare_image(png(4, 4, RED))
    chat = Chat()
    chat.add_user_message("What is this?", images=[handle])
    with pytest.raises(LMStudioServerError, match="Model does not support images"):
        await model.respond(chat)
    # Text alone still works.
    assert (await model.respond("Hello")).content


async def test_an_unknown_or_foreign_file_is_refused(server: LocalServer) -> None:
    async with AsyncClient(server.api_host) as owner, AsyncClient(server.api_host) as other:
        handle = await owner.files.prepare_image(png(4, 4, RED))
        model = await other.llm.model(VISION)
        chat = Chat()
        chat.add_user_message("What is this?", images=[handle])
        with pytest.raises(LMStudioServerError, match="File not found"):
            await model.respond(chat)


async def test_the_blocking_api_attaches_images(server: LocalServer) -> None:
    def run() -> str:
        with lmstudio_sync.Client(server.api_host) as client:
            handle = client.files.prepare_image(io.BytesIO(png(6, 2, RED)), name="sync.png")
            chat = lmstudio_sync.Chat()
            chat.add_user_message("What is this?", images=[handle])
            return client.llm.model(VISION).respond(chat).content

    assert "sync.png is a 6x2 PNG" in await anyio.to_thread.run_sync(run)


async def test_the_official_client_sends_images(server: LocalServer) -> None:
    def run() -> tuple[str, str]:
        with lmstudio.Client(server.api_host) as client:
            handle = client.files.prepare_image(png(9, 7, BLUE), name="official.png")
            chat = lmstudio.Chat()
            chat.add_user_message("What is this?", images=[handle])
            return handle.file_type, client.llm.model(VISION).respond(chat).content

    file_type, reply = await anyio.to_thread.run_sync(run)
    assert file_type == "image"
    assert "official.png is a 9x7 PNG" in reply and "blue" in reply
