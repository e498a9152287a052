from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lmstudio_async.protocol import EmbeddingModelInfo, LlmInfo
from lmstudio_async.server.config import ServerConfig
from lmstudio_async.server.engines import create_engine
from lmstudio_async.server.engines.catalog import BUILTIN_CATALOG, CatalogError, build_catalog

EXTRA_LLM: dict[str, Any] = {
    "type": "llm",
    "modelKey": "tiny-llm",
    "format": "gguf",
    "displayName": "Tiny LLM",
    "path": "someone/Tiny-LLM-GGUF/tiny-llm-q4.gguf",
    "sizeBytes": 1000,
    "maxContextLength": 2048,
    "vision": False,
    "trainedForToolUse": False,
}


def _write(tmp_path: Path, entries: object) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_builtin_catalog_has_the_documented_models() -> None:
    by_key = {entry.info.model_key: entry for entry in BUILTIN_CATALOG}
    one_m = by_key["qwen2.5-7b-instruct-1m"].info
    assert isinstance(one_m, LlmInfo)
    assert one_m.path == (
        "lmstudio-community/Qwen2.5-7B-Instruct-1M-GGUF/Qwen2.5-7B-Instruct-1M-Q4_K_M.gguf"
    )
    assert (one_m.max_context_length, one_m.params_string, one_m.architecture) == (
        1_010_000,
        "7B",
        "qwen2",
    )
    assert one_m.trained_for_tool_use
    assert not one_m.vision
    assert {"llama-3.2-1b-instruct", "qwen2.5-7b-instruct"} <= by_key.keys()
    nomic = by_key["text-embedding-nomic-embed-text-v1.5"]
    assert isinstance(nomic.info, EmbeddingModelInfo)
    assert (nomic.embedding_dimensions, nomic.info.max_context_length) == (768, 2048)
    for entry in BUILTIN_CATALOG:
        assert entry.info.publisher == entry.info.path.split("/")[0]
        assert entry.info.indexed_model_identifier == entry.info.path
        assert entry.info.device_identifier is None


def test_a_catalog_file_adds_models_and_fills_optional_fields(tmp_path: Path) -> None:
    embedding = {**EXTRA_LLM, "type": "embedding", "modelKey": "tiny-embed"}
    for key in ("vision", "trainedForToolUse"):
        del embedding[key]
    entries = build_catalog(_write(tmp_path, [EXTRA_LLM, {**embedding, "embeddingDimensions": 8}]))
    by_key = {entry.info.model_key: entry for entry in entries}
    assert len(entries) == len(BUILTIN_CATALOG) + 2
    assert by_key["tiny-llm"].info.publisher == "someone"
    assert by_key["tiny-embed"].embedding_dimensions == 8


def test_a_catalog_entry_replaces_the_builtin_model_with_its_key(tmp_path: Path) -> None:
    replacement = {**EXTRA_LLM, "modelKey": "llama-3.2-1b-instruct", "maxContextLength": 512}
    entries = build_catalog(_write(tmp_path, [replacement]))
    llama = next(e.info for e in entries if e.info.model_key == "llama-3.2-1b-instruct")
    assert llama.max_context_length == 512
    assert len(entries) == len(BUILTIN_CATALOG)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"not": "a list"}, "must be a JSON list"),
        ([EXTRA_LLM, {**EXTRA_LLM, "sizeBytes": "big"}], r"entry 1 \('tiny-llm'\).*sizeBytes"),
        ([{**EXTRA_LLM, "type": "tts"}], "entry 0"),
        ([{**EXTRA_LLM, "format": "pte"}], "format 'pte' is not one of"),
        ([{**EXTRA_LLM, "embeddingDimensions": 3}], "only valid for embedding models"),
        ([EXTRA_LLM, EXTRA_LLM], "entry 1.*duplicate modelKey"),
        (["tiny-llm"], "entry 0: expected a JSON object"),
    ],
)
def test_invalid_catalogs_name_the_bad_entry(tmp_path: Path, entries: object, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        build_catalog(_write(tmp_path, entries))


def test_invalid_json_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid JSON"):
        build_catalog(path)


def test_unknown_engine_names_the_valid_ones() -> None:
    valid = "valid engines: llama-cpp, scripted"
    with pytest.raises(ValueError, match=rf"Unknown engine 'llama'.*{valid}"):
        create_engine(ServerConfig(engine="llama"))
