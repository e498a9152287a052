from __future__ import annotations

import pytest

from lmstudio_async.protocol import KVConfigStack
from lmstudio_async.server.api import ServerError
from lmstudio_async.server.engines.catalog import BUILTIN_CATALOG
from lmstudio_async.server.engines.load_settings import resolve_load_settings
from lmstudio_async.server.engines.prediction_settings import (
    default_prediction_config,
    resolve_prediction_settings,
)

from .helpers import stack

LLAMA = next(e.info for e in BUILTIN_CATALOG if e.info.model_key == "llama-3.2-1b-instruct")
NOMIC = next(e.info for e in BUILTIN_CATALOG if e.embedding_dimensions is not None)
MAX_TOKENS = "llm.prediction.maxPredictedTokens"


def test_load_config_reports_every_known_key_with_defaults() -> None:
    settings = resolve_load_settings(LLAMA, KVConfigStack(layers=[]))
    values = settings.kvconfig().as_dict()
    assert values["llm.load.contextLength"] == 4096 == settings.context_length
    assert values["llm.load.seed"] == {"checked": False, "value": -1}
    assert values["load.gpuSplitConfig"]["strategy"] == "evenly"
    assert all(key.startswith(("llm.load.", "load.")) for key in values)


def test_embedding_load_config_uses_its_own_keys_and_caps_the_default_context() -> None:
    values = resolve_load_settings(NOMIC, KVConfigStack(layers=[])).kvconfig().as_dict()
    assert values["embedding.load.contextLength"] == 2048
    assert not any(key.startswith("llm.") for key in values)


def test_client_load_values_override_defaults_and_unknown_keys_are_ignored() -> None:
    settings = resolve_load_settings(
        LLAMA,
        stack(
            {
                "llm.load.contextLength": 8192,
                "llm.load.seed": 7,
                "llm.load.llama.acceleration.offloadRatio": 0.5,
                "llm.load.someFutureKey": True,
            }
        ),
    )
    assert (settings.context_length, settings.seed, settings.offload_ratio) == (8192, 7, 0.5)
    values = settings.kvconfig().as_dict()
    assert values["llm.load.seed"] == {"checked": True, "value": 7}
    assert "llm.load.someFutureKey" not in values


def test_context_length_above_the_model_maximum_is_refused() -> None:
    with pytest.raises(ServerError, match="exceeds the maximum of 131072"):
        resolve_load_settings(LLAMA, stack({"llm.load.contextLength": 200_000}))


def test_unknown_layer_names_are_refused_with_the_valid_ones_listed() -> None:
    with pytest.raises(ServerError, match="Unknown config layer name 'myLayer'") as caught:
        resolve_load_settings(LLAMA, stack({}, layer="myLayer"))
    assert caught.value.suggestion is not None
    assert "apiOverride" in caught.value.suggestion


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"checked": True, "value": 50}, 50),
        ({"checked": True, "value": False}, None),
        ({"checked": False, "value": 50}, None),
        ({"checked": True, "value": -1}, None),
        (25, 25),
    ],
)
def test_max_tokens_checkbox_is_read_leniently(value: object, expected: int | None) -> None:
    assert resolve_prediction_settings(stack({MAX_TOKENS: value})).max_tokens == expected


def test_invalid_max_tokens_is_refused() -> None:
    with pytest.raises(ServerError, match="maximum number of predicted tokens"):
        resolve_prediction_settings(stack({MAX_TOKENS: {"checked": True, "value": "many"}}))


def test_prediction_settings_read_stops_structure_seed_and_completion_mode() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    settings = resolve_prediction_settings(
        stack(
            {
                "llm.prediction.stopStrings": ["\n\n", "", "END"],
                "llm.prediction.structured": {"type": "json", "jsonSchema": schema},
                "llm.prediction.seed": {"checked": True, "value": 3},
            }
        )
    )
    assert settings.stop_strings == ("\n\n", "END")
    assert settings.json_schema == schema
    assert settings.seed == 3
    assert not settings.raw_completion
    completion = resolve_prediction_settings(stack({}, layer="completeModeFormatting"))
    assert completion.raw_completion


def test_the_effective_prediction_config_has_full_keys_and_echoes_client_values() -> None:
    settings = resolve_prediction_settings(stack({"llm.prediction.temperature": 0.2}))
    values = settings.kvconfig().as_dict()
    assert values["llm.prediction.temperature"] == 0.2
    assert values[MAX_TOKENS] == {"checked": False, "value": 1000}
    assert set(values) == set(default_prediction_config().as_dict())
