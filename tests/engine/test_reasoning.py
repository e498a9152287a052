"""Reasoning models: the scripted engine thinks aloud, the server splits it as LM Studio does."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import lmstudio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmstudio_async.server.engines.catalog import CatalogError, load_catalog_file
from lmstudio_async.server.reasoning import ReasoningSplitter, splitter_for
from lmstudio_async.testing import ServerProcess

THINKER = {
    "type": "llm",
    "modelKey": "qwen3-4b",
    "format": "gguf",
    "displayName": "Qwen3 4B",
    "path": "lmstudio-community/Qwen3-4B-GGUF/Qwen3-4B-Q4_K_M.gguf",
    "sizeBytes": 2_500_000_000,
    "maxContextLength": 32_768,
    "vision": False,
    "trainedForToolUse": True,
    "reasoning": True,
}

TEXT = st.text(alphabet="ab <>/thinkTHINK\n", max_size=60)


@given(
    before=TEXT.filter(lambda t: "<think>" not in t),
    thought=TEXT.filter(lambda t: "</think>" not in t),
    after=TEXT,
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
)
def test_tags_split_anywhere_are_found_and_nothing_is_lost(
    before: str, thought: str, after: str, cuts: list[int]
) -> None:
    text = f"{before}<think>{thought}</think>{after}"
    points = sorted({min(cut, len(text)) for cut in cuts} | {0, len(text)})
    pieces = [text[a:b] for a, b in itertools.pairwise(points)]
    splitter = ReasoningSplitter("<think>", "</think>")
    parts = [part for piece in pieces for part in splitter.feed(piece, 1)] + splitter.flush()
    assert "".join(content for content, _, _ in parts) == text
    assert sum(tokens for _, _, tokens in parts) == len(pieces)
    kinds = [kind for _, kind, _ in parts]
    assert kinds.count("reasoningStartTag") == 1
    start = kinds.index("reasoningStartTag")
    assert parts[start][0] == "<think>"
    assert "".join(c for c, kind, _ in parts[:start]) == before
    assert all(kind == "none" for kind in kinds[:start])
    if "reasoningEndTag" in kinds:
        end = kinds.index("reasoningEndTag")
        assert "".join(c for c, _, _ in parts[start + 1 : end]) == thought
        assert set(kinds[start + 1 : end]) <= {"reasoning"}


def test_parsing_follows_the_prediction_config() -> None:
    key = "llm.prediction.reasoning.parsing"
    assert (
        splitter_for({key: {"enabled": False, "startString": "<a>", "endString": "</a>"}}) is None
    )
    custom = splitter_for({key: {"enabled": True, "startString": "[[", "endString": "]]"}})
    assert custom is not None
    assert [kind for _, kind, _ in custom.feed("x[[y]]z", 1)] == [
        "none",
        "reasoningStartTag",
        "reasoning",
        "reasoningEndTag",
        "none",
    ]


def test_only_llms_can_be_reasoning_models(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps([{**THINKER, "reasoning": "yes"}]), encoding="utf-8")
    with pytest.raises(CatalogError, match="reasoning must be true or false"):
        load_catalog_file(path)
    path.write_text(json.dumps([THINKER]), encoding="utf-8")
    assert load_catalog_file(path)[0].reasoning


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps([THINKER]), encoding="utf-8")
    with ServerProcess("--catalog", str(catalog), "--reply-tokens", "30:30") as running:
        yield running


def test_a_reasoning_model_streams_reasoning_fragments_like_lm_studio(
    server: ServerProcess,
) -> None:
    with lmstudio.Client(server.api_host) as client:
        stream = client.llm.model("qwen3-4b").respond_stream("Why is the sky blue?")
        fragments = [(f.content, f.reasoning_type, f.tokens_count) for f in stream]
        result = stream.result()
    kinds = [kind for _, kind, _ in fragments]
    start, end = kinds.index("reasoningStartTag"), kinds.index("reasoningEndTag")
    assert start == 0 and fragments[0][0] == "<think>" and fragments[end][0] == "</think>"
    assert set(kinds[1:end]) == {"reasoning"}
    assert set(kinds[end + 1 :]) == {"none"}
    assert "".join(content for content, _, _ in fragments) == result.content
    assert sum(tokens for _, _, tokens in fragments) == result.stats.predicted_tokens_count == 30


def test_other_models_give_plain_answers(server: ServerProcess) -> None:
    with lmstudio.Client(server.api_host) as client:
        plain = client.llm.model("llama-3.2-1b-instruct")
        kinds = {f.reasoning_type for f in plain.respond_stream("Why is the sky blue?")}
    assert kinds == {"none"}
