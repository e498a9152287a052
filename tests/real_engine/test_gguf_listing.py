"""GGUF headers, model keys and the models-directory listing (no llama.cpp needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmstudio_async.protocol import EmbeddingModelInfo, LlmInfo, Quantization
from lmstudio_async.server.engines.gguf.catalog import GgufCatalog
from lmstudio_async.server.engines.gguf.info import GgufError, read_gguf_header
from lmstudio_async.server.engines.gguf.models import base_key

from .gguf_files import llm_metadata, write_gguf


def test_the_header_gives_scalar_metadata_and_the_parameter_count(tmp_path: Path) -> None:
    metadata = {**llm_metadata(), "general.flag": True, "general.ratio": 0.5}
    file = write_gguf(tmp_path / "m.gguf", metadata, [("a", [4, 8]), ("b", [3, 5, 7])])
    header = read_gguf_header(file)
    assert header.version == 3
    assert header.parameter_count == 4 * 8 + 3 * 5 * 7
    assert header.text("general.name") == "Tiny Llama"
    assert header.integer("llama.context_length") == 2048
    assert header.metadata["general.flag"] is True
    assert header.metadata["general.ratio"] == 0.5
    # Arrays are skipped, but everything after them is still read.
    assert "tokenizer.ggml.tokens" not in header.metadata
    assert header.text("tokenizer.chat_template") is not None


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"GGML" + bytes(40), "bad magic"),
        (b"GGUF" + (9).to_bytes(4, "little") + bytes(16), "unsupported GGUF version"),
        (b"GGUF", "too short"),
    ],
)
def test_files_that_are_not_gguf_are_refused(
    tmp_path: Path, content: bytes, complaint: str
) -> None:
    file = tmp_path / "bad.gguf"
    file.write_bytes(content)
    with pytest.raises(GgufError, match=complaint):
        read_gguf_header(file)


def test_a_truncated_header_is_refused(tmp_path: Path) -> None:
    file = write_gguf(tmp_path / "m.gguf", llm_metadata())
    file.write_bytes(file.read_bytes()[:60])
    with pytest.raises(GgufError):
        read_gguf_header(file)


@pytest.mark.parametrize(
    ("file_name", "key"),
    [
        ("llama-3.2-1b-instruct-q8_0.gguf", "llama-3.2-1b-instruct"),
        ("Qwen2.5-7B-Instruct-Q4_K_M.gguf", "qwen2.5-7b-instruct"),
        ("nomic-embed-text-v1.5.Q4_K_M.gguf", "nomic-embed-text-v1.5"),
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2-135m-instruct"),
        ("Meta-Llama-3-8B-Instruct-IQ4_XS.gguf", "meta-llama-3-8b-instruct"),
        ("gemma-2-2b-it-f16.gguf", "gemma-2-2b-it"),
        ("Mixtral-8x7B-Q4_0-00001-of-00002.gguf", "mixtral-8x7b"),
        ("phi-2.gguf", "phi-2"),
    ],
)
def test_keys_are_file_names_without_quantization(file_name: str, key: str) -> None:
    assert base_key(file_name) == key


def _catalog(models_dir: Path) -> dict[str, LlmInfo | EmbeddingModelInfo]:
    return {model.info.model_key: model.info for model in GgufCatalog(models_dir).models()}


def test_a_models_directory_is_listed_with_infos_from_the_headers(tmp_path: Path) -> None:
    write_gguf(
        tmp_path / "acme/Tiny-GGUF/Tiny-Q4_K_M.gguf",
        {**llm_metadata("Tiny"), "tokenizer.chat_template": "{{ tools }}"},
        [("w", [1000, 1000])],
    )
    write_gguf(
        tmp_path / "nomic/embed-GGUF/nomic-embed.Q8_0.gguf",
        {"general.architecture": "nomic-bert", "nomic-bert.context_length": 2048},
    )
    infos = _catalog(tmp_path)
    assert set(infos) == {"tiny", "text-embedding-nomic-embed"}
    tiny = infos["tiny"]
    assert isinstance(tiny, LlmInfo)
    assert tiny.path == tiny.indexed_model_identifier == "acme/Tiny-GGUF/Tiny-Q4_K_M.gguf"
    assert (tiny.publisher, tiny.display_name, tiny.architecture) == ("acme", "Tiny", "llama")
    assert tiny.params_string == "1M"
    assert tiny.max_context_length == 2048
    assert tiny.quantization == Quantization(name="Q4_K_M", bits=4)
    assert tiny.trained_for_tool_use and not tiny.vision
    assert tiny.size_bytes == (tmp_path / tiny.path).stat().st_size
    embedder = infos["text-embedding-nomic-embed"]
    assert isinstance(embedder, EmbeddingModelInfo)
    # No file type in the header: the file name's tag says Q8_0.
    assert embedder.quantization == Quantization(name="Q8_0", bits=8)


def test_projectors_later_shards_stray_files_and_broken_files_are_not_models(
    tmp_path: Path,
) -> None:
    write_gguf(tmp_path / "a/b/model-00001-of-00002.gguf", llm_metadata())
    write_gguf(tmp_path / "a/b/model-00002-of-00002.gguf", llm_metadata())
    write_gguf(tmp_path / "a/b/mmproj-model-f16.gguf", llm_metadata())
    write_gguf(tmp_path / "a/loose.gguf", llm_metadata())
    (tmp_path / "a/b/broken.gguf").write_bytes(b"not a model")
    assert list(_catalog(tmp_path)) == ["model"]


def test_quantizations_of_one_model_get_distinct_keys(tmp_path: Path) -> None:
    for quantization, file_type in (("Q4_K_M", 15), ("Q8_0", 7)):
        metadata = {**llm_metadata(), "general.file_type": file_type}
        write_gguf(tmp_path / f"acme/Tiny-GGUF/Tiny-{quantization}.gguf", metadata)
    assert sorted(_catalog(tmp_path)) == ["tiny", "tiny@q8_0"]


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    file = write_gguf(tmp_path / "acme/Tiny-GGUF/Tiny.gguf", llm_metadata("Before"))
    catalog = GgufCatalog(tmp_path)
    assert catalog.models()[0].info.display_name == "Before"
    write_gguf(file, {**llm_metadata("After"), "general.size_label": "1.5B"})
    (info,) = [model.info for model in catalog.models()]
    assert (info.display_name, info.params_string) == ("After", "1.5B")


def test_a_name_made_up_from_the_checkpoint_folder_gives_way_to_the_file_name(
    tmp_path: Path,
) -> None:
    metadata = {
        **llm_metadata("Smollm2 135M 8k Lc100K Mix1 Ep2"),
        "general.finetune": "8k-lc100k-mix1-ep2",
    }
    write_gguf(tmp_path / "acme/SmolLM2-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf", metadata)
    (info,) = _catalog(tmp_path).values()
    assert info.display_name == "SmolLM2 135M Instruct"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ([], "found no GGUF files at all"),
        (["flat.gguf"], "found 1 GGUF files elsewhere (flat.gguf)"),
        (["acme/shallow.gguf"], "found 1 GGUF files elsewhere (acme/shallow.gguf)"),
    ],
)
def test_a_models_directory_without_models_says_what_it_found_and_expects(
    tmp_path: Path, files: list[str], expected: str
) -> None:
    for name in files:
        write_gguf(tmp_path / name, llm_metadata())
    found, description = GgufCatalog(tmp_path).describe()
    assert not found
    assert f"{tmp_path}/<publisher>/<repository>/<file>.gguf" in description
    assert description.endswith(expected)


def test_a_models_directory_with_models_lists_their_keys(tmp_path: Path) -> None:
    write_gguf(tmp_path / "acme/Tiny-GGUF/Tiny-Q4_K_M.gguf", llm_metadata("Tiny"))
    assert GgufCatalog(tmp_path).describe() == (True, f"Serving 1 models from {tmp_path}: tiny")
