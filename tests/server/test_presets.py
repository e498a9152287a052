"""``--presets FILE``: named prediction presets, selected by the official client's ``preset=``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import lmstudio
import pytest

from lmstudio_async.protocol import KVConfig, KVConfigField, KVConfigStack, KVConfigStackLayer
from lmstudio_async.server.presets import PresetFileError, load_presets_file
from lmstudio_async.testing import ServerProcess

LLAMA = "llama-3.2-1b-instruct"
MAX_TOKENS = "llm.prediction.maxPredictedTokens"

PRESETS = {
    "presets": [
        {
            "identifier": "@local:three-tokens",
            "name": "Three Tokens",
            "fields": [{"key": MAX_TOKENS, "value": {"checked": True, "value": 3}}],
        },
        {
            # LM Studio's own preset file layout.
            "identifier": "@local:five",
            "operation": {"fields": [{"key": MAX_TOKENS, "value": {"checked": True, "value": 5}}]},
        },
    ]
}


@pytest.fixture
def presets_file(tmp_path: Path) -> Path:
    path = tmp_path / "presets.json"
    path.write_text(json.dumps(PRESETS), encoding="utf-8")
    return path


@pytest.fixture
def llm(presets_file: Path) -> Iterator[lmstudio.LLM]:
    args = ("--presets", str(presets_file), "--reply-tokens", "20:20", "--load", LLAMA)
    with ServerProcess(*args) as server, lmstudio.Client(server.api_host) as client:
        yield client.llm.model(LLAMA)


@pytest.mark.parametrize("name", ["@local:three-tokens", "three-tokens", "THREE TOKENS"])
def test_the_official_clients_preset_selects_the_presets_settings(
    llm: lmstudio.LLM, name: str
) -> None:
    assert llm.respond("Hi", preset=name).stats.predicted_tokens_count == 3
    assert llm.respond("Hi", preset="five").stats.predicted_tokens_count == 5
    assert llm.respond("Hi").stats.predicted_tokens_count == 20


def test_the_clients_own_config_wins_over_the_preset(llm: lmstudio.LLM) -> None:
    result = llm.respond("Hi", preset="three-tokens", config={"maxTokens": 7})
    assert result.stats.predicted_tokens_count == 7


def test_an_unknown_preset_is_lm_studios_preset_not_found_error(llm: lmstudio.LLM) -> None:
    with pytest.raises(lmstudio.LMStudioPresetNotFoundError, match="nope") as caught:
        llm.respond("Hi", preset="nope")
    assert "@local:three-tokens" in str(caught.value)


def test_presets_form_a_layer_below_the_requests_layers(presets_file: Path) -> None:
    catalog = load_presets_file(presets_file)
    client_layer = KVConfigStackLayer(
        layer_name="apiOverride", config=KVConfig(fields=[KVConfigField(key="x", value=1)])
    )
    stack = catalog.apply("five", KVConfigStack(layers=[client_layer]))
    assert [layer.layer_name for layer in stack.layers] == ["preset", "apiOverride"]
    assert catalog.apply(None, KVConfigStack(layers=[])).layers == []


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("{nope", "not valid JSON"),
        ('{"presets": 3}', "must hold a list"),
        ('[{"name": "x"}]', "needs an 'identifier'"),
        ('[{"identifier": "a", "fields": [{"value": 1}]}]', "needs a 'key'"),
    ],
)
def test_a_bad_presets_file_is_a_usage_error(tmp_path: Path, content: str, complaint: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PresetFileError, match=complaint):
        load_presets_file(path)
    result = subprocess.run(
        [sys.executable, "-m", "lmstudio_async.server", "--presets", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert complaint in result.stderr
