"""``/v1/models``, ``/v1/completions``, ``/v1/embeddings`` and ``/v1/responses`` with ``openai``."""

from __future__ import annotations

import json
import math

import openai
import pytest

from lmstudio_async import AsyncClient
from lmstudio_async.server import LocalServer

from .conftest import EMBEDDING, LLM

pytestmark = pytest.mark.anyio


async def test_models_lists_every_downloaded_model(
    server: LocalServer, oai: openai.AsyncOpenAI
) -> None:
    page = await oai.models.list()
    ids = [model.id for model in page.data]
    assert ids == [info.model_key for info in server.state.models.list_downloaded()]
    assert LLM in ids and EMBEDDING in ids
    assert {model.object for model in page.data} == {"model"}


async def test_models_lists_extra_loaded_instances(
    server: LocalServer, oai: openai.AsyncOpenAI
) -> None:
    await oai.chat.completions.create(model=LLM, messages=[{"role": "user", "content": "a"}])
    async with AsyncClient(server.api_host) as client:
        await client.llm.load_new_instance(LLM)
    ids = [model.id for model in (await oai.models.list()).data]
    assert f"{LLM}:2" in ids and ids.count(LLM) == 1


async def test_completion_continues_the_raw_prompt(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.completions.create(model=LLM, prompt="Once upon a time", seed=5)
    assert reply.object == "text_completion" and reply.id.startswith("cmpl-")
    (choice,) = reply.choices
    assert choice.text and choice.finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens > 0
    # No chat template: the prompt is counted as-is, which a template would lengthen.
    chat = await oai.chat.completions.create(
        model=LLM, messages=[{"role": "user", "content": "Once upon a time"}], seed=5
    )
    assert chat.usage is not None and reply.usage.prompt_tokens < chat.usage.prompt_tokens


async def test_streamed_completion_is_the_same_text(oai: openai.AsyncOpenAI) -> None:
    whole = await oai.completions.create(model=LLM, prompt="Tell me", max_tokens=20, seed=2)
    stream = await oai.completions.create(
        model=LLM,
        prompt="Tell me",
        max_tokens=20,
        seed=2,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(chunk.choices[0].text for chunk in chunks if chunk.choices)
    assert text == whole.choices[0].text
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 20


async def test_a_prompt_list_of_one_is_accepted(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.completions.create(model=LLM, prompt=["Hi"], max_tokens=4)
    assert reply.choices[0].finish_reason == "length"
    with pytest.raises(openai.BadRequestError) as caught:
        await oai.completions.create(model=LLM, prompt=["a", "b"])
    assert caught.value.param == "prompt"


async def test_embeddings_by_default_base64_decode_to_unit_vectors(
    oai: openai.AsyncOpenAI,
) -> None:
    result = await oai.embeddings.create(model=EMBEDDING, input=["first", "second"])
    assert [item.index for item in result.data] == [0, 1]
    first, second = (item.embedding for item in result.data)
    assert len(first) == 768 and isinstance(first[0], float)
    assert math.isclose(math.fsum(x * x for x in first), 1.0, rel_tol=1e-5)
    assert first != second
    assert result.model == EMBEDDING
    assert result.usage.prompt_tokens > 0


async def test_float_embeddings_equal_the_base64_ones(oai: openai.AsyncOpenAI) -> None:
    packed = await oai.embeddings.create(model=EMBEDDING, input="same text")
    floats = await oai.embeddings.create(
        model=EMBEDDING, input="same text", encoding_format="float"
    )
    a, b = packed.data[0].embedding, floats.data[0].embedding
    assert all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-7) for x, y in zip(a, b, strict=True))


async def test_responses_answers_and_continues(oai: openai.AsyncOpenAI) -> None:
    first = await oai.responses.create(model=LLM, input="Pick a prime below 50")
    assert first.id.startswith("resp_") and len(first.id) == len("resp_") + 48
    assert first.status == "completed" and first.output_text
    assert first.usage is not None and first.usage.output_tokens > 0
    second = await oai.responses.create(model=LLM, input="Double it", previous_response_id=first.id)
    assert second.output_text and second.previous_response_id == first.id
    # The follow-up's prompt holds the first exchange.
    assert second.usage is not None and second.usage.input_tokens > first.usage.input_tokens


async def test_responses_unknown_previous_id(oai: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await oai.responses.create(model=LLM, input="x", previous_response_id="resp_nope")
    assert caught.value.code == "previous_response_not_found"


async def test_responses_stream_rebuilds_the_response(oai: openai.AsyncOpenAI) -> None:
    async with oai.responses.stream(model=LLM, input="Tell me about rivers") as stream:
        types = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert types.count("response.output_text.delta") > 1
    assert final.output_text
    whole = await oai.responses.create(model=LLM, input="Tell me about rivers")
    assert final.output_text == whole.output_text


async def test_responses_max_output_tokens_is_incomplete(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.responses.create(model=LLM, input="x", max_output_tokens=2)
    assert reply.status == "incomplete"
    assert reply.incomplete_details is not None
    assert reply.incomplete_details.reason == "max_output_tokens"
    async with oai.responses.stream(model=LLM, input="x", max_output_tokens=2) as stream:
        streamed = await stream.get_final_response()
    assert streamed.status == "incomplete" and streamed.output_text == reply.output_text


async def test_responses_json_schema_text_format(oai: openai.AsyncOpenAI) -> None:
    schema: dict[str, object] = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
    }
    reply = await oai.responses.create(
        model=LLM,
        input="A number",
        text={"format": {"type": "json_schema", "name": "num", "schema": schema}},
    )
    assert isinstance(json.loads(reply.output_text)["n"], int)


async def test_responses_text_without_format_is_lm_studios_error(oai: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await oai.responses.create(model=LLM, input="x", text={})
    assert caught.value.param == "text.format"
    assert caught.value.code == "missing_required_parameter"


async def test_codex_warm_up_request_works(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.responses.create(model=LLM, input="", max_output_tokens=1)
    assert reply.usage is not None and reply.usage.output_tokens <= 1
