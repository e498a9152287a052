"""Vision models on the llama-cpp engine: discovered from their projector, refused without one.

No small vision GGUF (model plus a matching mmproj projector) could be obtained here, so
these tests stop where that is needed: the projector's load is attempted for real and a
projector that does not fit fails the load with a clear error.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from lmstudio_async import AsyncClient, Chat, LMStudioServerError
from lmstudio_async.protocol import EmbeddingModelInfo, LlmInfo
from lmstudio_async.server.engines.base import GeneratedPiece
from lmstudio_async.server.engines.gguf.catalog import GgufCatalog
from lmstudio_async.testing.images import png
from lmstudio_async.testing.process import ServerProcess

from .gguf_files import llm_metadata, write_gguf

pytestmark = pytest.mark.anyio


def test_an_llm_with_a_projector_is_listed_as_a_vision_model(tmp_path: Path) -> None:
    write_gguf(tmp_path / "pub" / "Seeing-GGUF" / "seeing-Q4_K_M.gguf", llm_metadata("Seeing"))
    write_gguf(tmp_path / "pub" / "Seeing-GGUF" / "mmproj-seeing-f16.gguf", {"general.name": "p"})
    write_gguf(tmp_path / "pub" / "Blind-GGUF" / "blind-Q4_K_M.gguf", llm_metadata("Blind"))
    embedder = {**llm_metadata("Embed", "bert"), "bert.context_length": 512}
    write_gguf(tmp_path / "pub" / "Embed-GGUF" / "embed-Q8_0.gguf", embedder)
    write_gguf(tmp_path / "pub" / "Embed-GGUF" / "mmproj-embed.gguf", {"general.name": "p"})
    models = {m.info.model_key: m for m in GgufCatalog(tmp_path).models()}
    assert sorted(models) == ["blind", "seeing", "text-embedding-embed"]  # projectors are no models
    seeing, blind = models["seeing"], models["blind"]
    assert isinstance(seeing.info, LlmInfo) and seeing.info.vision is True
    assert seeing.projector == tmp_path / "pub" / "Seeing-GGUF" / "mmproj-seeing-f16.gguf"
    assert isinstance(blind.info, LlmInfo) and blind.info.vision is False
    assert blind.projector is None
    assert isinstance(models["text-embedding-embed"].info, EmbeddingModelInfo)
    assert models["text-embedding-embed"].projector is None


async def test_projectors_are_loaded_and_models_without_one_refuse_images(
    tmp_path: Path, bundled_gguf: Path
) -> None:
    pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")
    seeing = tmp_path / "pub" / "Seeing-GGUF"
    blind = tmp_path / "pub" / "Blind-GGUF"
    for directory, name in ((seeing, "seeing-Q4_1.gguf"), (blind, "blind-Q4_1.gguf")):
        directory.mkdir(parents=True)
        shutil.copy(bundled_gguf, directory / name)
    # A real GGUF, but a language model, not a projector: libmtmd must refuse it.
    shutil.copy(bundled_gguf, seeing / "mmproj-seeing-f16.gguf")
    args = ("--engine", "llama-cpp", "--models-dir", str(tmp_path))
    with ServerProcess(*args) as server:
        async with AsyncClient(server.api_host) as client:
            listed = {m.model_key: m.info for m in await client.list_downloaded_models("llm")}
            vision = {key: getattr(info, "vision", None) for key, info in listed.items()}
            assert vision == {"seeing": True, "blind": False}
            with pytest.raises(LMStudioServerError, match="Failed to load the vision projector"):
                await client.llm.load_new_instance("seeing")
            assert await client.llm.list_loaded() == []
            model = await client.llm.load_new_instance("blind")
            image = await client.files.prepare_image(png(8, 8, (200, 20, 20)))
            chat = Chat()
            chat.add_user_message("What is this?", images=[image])
            with pytest.raises(LMStudioServerError, match="Model does not support images"):
                await model.respond(chat)
            assert (await model.respond("Hi", config={"maxTokens": 4})).content is not None


def test_the_history_becomes_chat_messages_with_images_in_place() -> None:
    pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")
    from lmstudio_async.server.engines.llama_cpp.vision import chat_messages
    from lmstudio_async.server.engines.vision import AttachedImage

    first, second = png(2, 2, (0, 0, 0)), png(3, 3, (255, 255, 255))
    chat = Chat("Be brief.")
    handles = [
        {"type": "file", "name": n, "identifier": i, "sizeBytes": 1, "fileType": "image"}
        for n, i in (("a.png", "file-1"), ("b.png", "file-2"))
    ]
    chat.add_user_message("Compare", images=handles)  # type: ignore[arg-type]
    images = [AttachedImage("a.png", first, True), AttachedImage("b.png", second, True)]
    messages = chat_messages(chat.to_wire(), images)
    assert [m["role"] for m in messages] == ["system", "user"]
    parts = messages[1]["content"]
    assert parts[0] == {"type": "text", "text": "Compare"}
    urls = [p["image_url"]["url"] for p in parts[1:]]
    assert all(url.startswith("data:image/png;base64,") for url in urls)
    assert base64.b64decode(urls[1].split(",", 1)[1]) == second


class _ChatCompletions:
    """Stands in for a vision ``Llama`` (none is available here): streams given chunks."""

    def __init__(self, texts: list[str], finish: str) -> None:
        self.texts, self.finish = texts, finish
        self.kwargs: dict[str, object] = {}
        self.closed = False

    def create_chat_completion(self, **kwargs: object) -> Iterator[dict[str, object]]:
        self.kwargs = kwargs
        try:
            for text in self.texts:
                yield {"choices": [{"delta": {"content": text}, "finish_reason": None}]}
            yield {"choices": [{"delta": {}, "finish_reason": self.finish}]}
        finally:
            self.closed = True


@pytest.mark.parametrize(
    ("finish", "reason"), [("stop", "eosFound"), ("length", "maxPredictedTokensReached")]
)
async def test_a_vision_job_streams_the_chat_completion(finish: str, reason: str) -> None:
    pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")
    from concurrent.futures import ThreadPoolExecutor

    from lmstudio_async.protocol import KVConfigStack
    from lmstudio_async.server.engines.llama_cpp.prediction import LlamaPrediction
    from lmstudio_async.server.engines.llama_cpp.sampling import sampling_for
    from lmstudio_async.server.engines.llama_cpp.vision import VisionJob
    from lmstudio_async.server.engines.prediction_settings import resolve_prediction_settings

    fields = [{"key": "llm.prediction.stopStrings", "value": ["END"]}]
    layer = {"layerName": "apiOverride", "config": {"fields": fields}}
    settings = resolve_prediction_settings(msgspec.convert({"layers": [layer]}, KVConfigStack))
    fake = _ChatCompletions(["A ", "red ", "square"], finish)
    messages = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    job = VisionJob(fake, messages, sampling_for(settings, None), settings)
    with ThreadPoolExecutor(1) as worker:
        prediction = LlamaPrediction(job, worker)
        text = "".join(
            [piece.text async for piece in prediction if isinstance(piece, GeneratedPiece)]
        )
    assert text == "A red square"
    assert prediction.outcome is not None and prediction.outcome.stop_reason == reason
    assert prediction.predicted_tokens == 3
    assert fake.closed and fake.kwargs["messages"] == messages and fake.kwargs["stream"] is True
    assert fake.kwargs["stop"] == ["END"]
