from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmstudio_async.protocol import AssistantMessage, ChatHistoryData, KVConfigStack, TextPart
from lmstudio_async.server.config import ServerConfig
from lmstudio_async.server.engines.base import GeneratedPiece, Prediction
from lmstudio_async.server.engines.catalog import BUILTIN_CATALOG
from lmstudio_async.server.engines.load_settings import resolve_load_settings
from lmstudio_async.server.engines.prediction_settings import (
    PredictionSettings,
    resolve_prediction_settings,
)
from lmstudio_async.server.engines.scripted import ScriptedEngine, ScriptedModel
from lmstudio_async.server.engines.template import TemplateOptions
from lmstudio_async.server.engines.tokenizer import count_tokens

from .helpers import ProgressLog, chat, stack

pytestmark = pytest.mark.anyio

LLAMA = next(e for e in BUILTIN_CATALOG if e.info.model_key == "llama-3.2-1b-instruct")
NOMIC = next(e for e in BUILTIN_CATALOG if e.embedding_dimensions is not None)
RANGE = (8, 64)


def _model(entry: Any = LLAMA, load: KVConfigStack | None = None, **config: Any) -> ScriptedModel:
    server_config = ServerConfig(**{"reply_tokens": RANGE, **config})
    load_settings = resolve_load_settings(entry.info, load or KVConfigStack(layers=[]))
    return ScriptedModel(entry, load_settings, server_config)


def _settings(fields: dict[str, Any] | None = None) -> PredictionSettings:
    return resolve_prediction_settings(stack(fields))


async def _collect(prediction: Prediction) -> list[GeneratedPiece]:
    return [piece async for piece in prediction if isinstance(piece, GeneratedPiece)]


async def _reply(model: ScriptedModel, prompt: str, **fields: Any) -> tuple[str, Prediction]:
    prediction = model.predict(prompt, _settings(fields))
    pieces = await _collect(prediction)
    return "".join(piece.text for piece in pieces), prediction


async def test_load_reports_non_decreasing_progress_ending_at_one() -> None:
    engine = ScriptedEngine(ServerConfig(load_time=0.05))
    progress = ProgressLog()
    started = time.monotonic()
    model = await engine.load(LLAMA.info, resolve_load_settings(LLAMA.info, stack()), progress)
    assert time.monotonic() - started >= 0.04
    assert len(progress.values) >= 3
    assert progress.values == sorted(progress.values)
    assert progress.values[-1] == 1.0
    assert model.context_length == 4096


async def test_replies_are_deterministic_in_prompt_and_seed() -> None:
    model = _model()
    first, _ = await _reply(model, "Tell me a story")
    again, _ = await _reply(_model(), "Tell me a story")
    other_prompt, _ = await _reply(model, "Tell me a joke")
    seeds = {(await _reply(model, "Tell me a story", **_seed(s)))[0] for s in range(4)}
    assert first == again
    assert first != other_prompt
    assert len(seeds) == 4


def _seed(value: int) -> dict[str, Any]:
    return {"llm.prediction.seed": {"checked": True, "value": value}}


@settings(max_examples=40, deadline=None)
@given(prompt=st.text())
async def test_reply_length_is_within_the_configured_range(prompt: str) -> None:
    text, prediction = await _reply(_model(), prompt)
    assert prediction.outcome is not None
    assert prediction.outcome.stop_reason == "eosFound"
    assert RANGE[0] <= prediction.predicted_tokens <= RANGE[1]
    assert count_tokens(text) == prediction.predicted_tokens


async def test_max_tokens_caps_the_reply() -> None:
    cap = {"llm.prediction.maxPredictedTokens": {"checked": True, "value": 5}}
    text, prediction = await _reply(_model(), "Hello", **cap)
    assert prediction.outcome is not None
    assert prediction.outcome.stop_reason == "maxPredictedTokensReached"
    assert prediction.predicted_tokens == 5 == count_tokens(text)


async def test_unchecked_or_disabled_max_tokens_means_no_cap() -> None:
    model = _model(reply_tokens=(200, 200))
    for value in ({"checked": False, "value": 5}, {"checked": True, "value": False}):
        _, prediction = await _reply(model, "Hello", **{"llm.prediction.maxPredictedTokens": value})
        assert prediction.predicted_tokens == 200


async def test_a_stop_string_ends_the_reply_without_being_emitted() -> None:
    model = _model(reply_tokens=(64, 64))
    full, _ = await _reply(model, "Hello")
    stop = full.split()[3]
    text, prediction = await _reply(model, "Hello", **{"llm.prediction.stopStrings": [stop]})
    assert prediction.outcome is not None
    assert prediction.outcome.stop_reason == "stopStringFound"
    assert prediction.outcome.stop_string == stop
    assert text == full[: full.index(stop)]
    assert prediction.predicted_tokens < 64


async def test_stop_at_limit_stops_when_the_context_is_full() -> None:
    model = _model(reply_tokens=(64, 64), load=stack({"llm.load.contextLength": 20}))
    prompt = "one two three four five six seven eight nine ten"
    policy = {"llm.prediction.contextOverflowPolicy": "stopAtLimit"}
    _, prediction = await _reply(model, prompt, **policy)
    assert prediction.outcome is not None
    assert prediction.outcome.stop_reason == "contextLengthReached"
    assert prediction.predicted_tokens == 20 - count_tokens(prompt)


async def test_structured_output_is_json_following_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "size": {"enum": ["S", "M"]}},
        "required": ["name", "size"],
    }
    structured = {"llm.prediction.structured": {"type": "json", "jsonSchema": schema}}
    text, prediction = await _reply(_model(), "Describe it", **structured)
    value = json.loads(text)
    assert isinstance(value["name"], str)
    assert value["size"] in ("S", "M")
    assert prediction.predicted_tokens == count_tokens(text)


async def test_without_a_token_delay_tokens_stream_without_sleeping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps: list[float] = []
    real_sleep = asyncio.sleep

    async def counting_sleep(delay: float, *args: Any) -> Any:
        sleeps.append(delay)
        return await real_sleep(delay, *args)

    monkeypatch.setattr(asyncio, "sleep", counting_sleep)
    model = _model(reply_tokens=(20_000, 20_000))
    _, prediction = await _reply(model, "Go")
    assert prediction.predicted_tokens == 20_000
    # At most a yield to the loop now and then; never a wait.
    assert all(delay == 0 for delay in sleeps)


async def test_token_delay_spaces_out_the_tokens() -> None:
    model = _model(reply_tokens=(10, 10), token_delay=0.01)
    started = time.monotonic()
    await _reply(model, "Go")
    assert time.monotonic() - started >= 0.09


async def test_closing_a_prediction_early_stops_it() -> None:
    prediction = _model(reply_tokens=(64, 64)).predict("Go", _settings())
    async for _ in prediction:
        break
    await prediction.aclose()
    assert prediction.outcome is None
    assert prediction.predicted_tokens == 1


def test_chat_template_renders_chatml_and_honours_bos_eos_options() -> None:
    model = _model()
    history = ChatHistoryData(
        messages=[*chat("Hi").messages, AssistantMessage(content=[TextPart(text="Hello")])]
    )
    formatted = model.apply_prompt_template(history, _settings(), TemplateOptions())
    assert formatted == (
        "<s><|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|></s>\n"
    )
    bare = model.apply_prompt_template(
        history, _settings(), TemplateOptions(omit_bos_token=True, omit_eos_token=True)
    )
    assert bare == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n"
    open_turn = model.apply_prompt_template(chat("Hi"), _settings(), TemplateOptions())
    assert open_turn.endswith("<|im_start|>assistant\n")


def test_completion_mode_uses_the_raw_text() -> None:
    settings = resolve_prediction_settings(stack({}, layer="completeModeFormatting"))
    assert _model().apply_prompt_template(chat("Once upon"), settings, TemplateOptions()) == (
        "Once upon"
    )


def test_manual_prompt_template_is_honoured() -> None:
    manual = {
        "type": "manual",
        "manualPromptTemplate": {
            "beforeSystem": "S:",
            "afterSystem": "\n",
            "beforeUser": "U:",
            "afterUser": "\n",
            "beforeAssistant": "A:",
            "afterAssistant": "\n",
        },
        "stopStrings": [],
    }
    settings = _settings({"llm.prediction.promptTemplate": manual})
    assert _model().apply_prompt_template(chat("Hi"), settings, TemplateOptions()) == "U:Hi\nA:"


@given(text=st.text())
def test_embeddings_are_unit_vectors_of_the_model_dimension(text: str) -> None:
    vector = asyncio.run(_model(NOMIC).embed(text))
    assert len(vector) == 768
    assert math.isclose(math.fsum(x * x for x in vector), 1.0, rel_tol=1e-9)


def test_embeddings_are_deterministic_and_differ_between_texts() -> None:
    model = _model(NOMIC)

    def embed(text: str) -> list[float]:
        return asyncio.run(model.embed(text))

    assert embed("cat") == asyncio.run(_model(NOMIC).embed("cat"))
    assert embed("cat") != embed("dog")


def test_tokenize_and_count_agree() -> None:
    model = _model()
    assert len(model.tokenize("Hello, world!")) == model.count_tokens("Hello, world!") == 4


def test_embedding_models_count_their_special_tokens_as_lm_studio_does() -> None:
    embedder, llm = _model(NOMIC), _model()
    tokens = embedder.tokenize("Hello, world!")
    # [CLS] Hello , world ! [SEP]: the text's four tokens and the two the tokenizer adds.
    assert (tokens[0], tokens[-1]) == (101, 102)
    assert tokens[1:-1] == llm.tokenize("Hello, world!")
    assert embedder.count_tokens("Hello, world!") == len(tokens) == 6
    assert embedder.tokenize("") == [101, 102]
