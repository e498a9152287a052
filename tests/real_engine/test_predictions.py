"""Predictions of the llama-cpp engine through a real server, checked against llama-cpp-python."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from .bundled import bundled_gguf_or_skip

pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")

from lmstudio_async import AsyncClient, AsyncLLM, Chat

from .conftest import GREEDY, LLM_KEY

bundled_gguf_or_skip()

pytestmark = pytest.mark.anyio

STORY = "Write a short story about a lighthouse keeper."
#: The server's default sampling settings, spelled out for llama-cpp-python.
DEFAULT_SAMPLING = {"top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.1}


async def _llm(client: AsyncClient) -> AsyncLLM:
    return await client.llm.model(LLM_KEY, ttl=None)


def _reference_text(reference: Any, prompt: str, max_tokens: int) -> str:
    completion = reference.create_completion(
        prompt, max_tokens=max_tokens, temperature=0, seed=GREEDY["seed"], **DEFAULT_SAMPLING
    )
    text: str = completion["choices"][0]["text"]
    return text


async def test_a_reply_is_what_llama_cpp_python_generates(
    client: AsyncClient, reference: Any
) -> None:
    llm = await _llm(client)
    prompt = await llm.apply_prompt_template(STORY)
    result = await llm.respond(STORY, config={**GREEDY, "maxTokens": 24})
    assert result.content == _reference_text(reference, prompt, 24)
    stats = result.stats
    assert stats.predicted_tokens_count == 24
    assert stats.stop_reason == "maxPredictedTokensReached"
    assert stats.prompt_tokens_count == len(reference.tokenize(prompt.encode(), special=True))
    assert stats.total_tokens_count == stats.prompt_tokens_count + 24
    assert stats.time_to_first_token_sec is not None and stats.time_to_first_token_sec > 0
    assert stats.tokens_per_second is not None and stats.tokens_per_second > 0
    assert stats.num_gpu_layers == 0


async def test_raw_completion_is_what_llama_cpp_python_generates(
    client: AsyncClient, reference: Any
) -> None:
    llm = await _llm(client)
    prompt = "The three primary colors are"
    result = await llm.complete(prompt, config={**GREEDY, "maxTokens": 12})
    assert result.content == _reference_text(reference, prompt, 12)
    assert result.stats.prompt_tokens_count == len(reference.tokenize(prompt.encode()))


async def test_streamed_fragments_add_up_to_the_reply(client: AsyncClient) -> None:
    llm = await _llm(client)
    stream = llm.respond_stream(STORY, config={**GREEDY, "maxTokens": 20})
    fragments = [fragment async for fragment in stream]
    result = stream.result()
    assert len(fragments) > 1
    assert "".join(fragment.content for fragment in fragments) == result.content
    assert sum(fragment.tokens_count for fragment in fragments) == 20


async def test_a_stop_string_ends_the_reply_before_it(client: AsyncClient) -> None:
    llm = await _llm(client)
    full = (await llm.respond(STORY, config={**GREEDY, "maxTokens": 40})).content
    words = full.split()
    stop = words[len(words) // 2]
    result = await llm.respond(STORY, config={**GREEDY, "maxTokens": 40, "stopStrings": [stop]})
    assert result.content == full[: full.index(stop)]
    assert result.stats.stop_reason == "stopStringFound"
    assert result.stats.stop_string == stop


async def test_max_tokens_is_exact(client: AsyncClient) -> None:
    llm = await _llm(client)
    for limit in (1, 7):
        result = await llm.respond(STORY, config={**GREEDY, "maxTokens": limit})
        assert result.stats.predicted_tokens_count == limit
        assert result.stats.stop_reason == "maxPredictedTokensReached"


async def test_the_end_of_generation_token_ends_a_reply(client: AsyncClient) -> None:
    llm = await _llm(client)
    result = await llm.respond("Say just the word: yes", config={**GREEDY, "maxTokens": 200})
    assert result.stats.stop_reason == "eosFound"
    assert 0 < (result.stats.predicted_tokens_count or 0) < 200
    assert "<|im_end|>" not in result.content


async def test_cancelling_stops_generation_within_a_few_tokens(client: AsyncClient) -> None:
    llm = await _llm(client)
    stream = llm.respond_stream(STORY, config={**GREEDY, "maxTokens": 2000})
    seen = 0
    async for _fragment in stream:
        seen += 1
        if seen == 3:
            await stream.cancel()
    result = stream.result()
    assert result.stats.stop_reason == "userStopped"
    # Tokens already in flight when the cancel arrived may still count; not many. The stats
    # come once generation has stopped, so the count also shows the instance is free again.
    assert 3 <= (result.stats.predicted_tokens_count or 0) < 20
    after = await llm.respond(STORY, config={**GREEDY, "maxTokens": 1})
    assert after.stats.predicted_tokens_count == 1


async def test_structured_output_follows_the_schema(client: AsyncClient) -> None:
    llm = await _llm(client)
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 20},
            "age": {"type": "integer"},
        },
        "required": ["name", "age"],
    }
    result = await llm.respond(
        "Invent a person. Reply in JSON.",
        response_format=schema,
        config={**GREEDY, "maxTokens": 60},
    )
    parsed = json.loads(result.content)
    assert set(parsed) == {"name", "age"}
    assert isinstance(parsed["name"], str) and isinstance(parsed["age"], int)


async def test_the_seed_makes_sampling_reproducible(client: AsyncClient) -> None:
    llm = await _llm(client)

    async def sample(seed: int) -> str:
        config = {"temperature": 1.0, "seed": seed, "maxTokens": 24}
        return (await llm.respond(STORY, config=config)).content

    first = await sample(1)
    assert await sample(1) == first
    assert await sample(2) != first


async def test_concurrent_predictions_match_sequential_ones(client: AsyncClient) -> None:
    llm = await _llm(client)
    chats = [STORY, "List three fruits."]
    config = {**GREEDY, "maxTokens": 16}
    sequential = [(await llm.respond(chat, config=config)).content for chat in chats]
    concurrent = await asyncio.gather(*(llm.respond(chat, config=config) for chat in chats))
    assert [result.content for result in concurrent] == sequential


async def test_the_model_chat_template_renders_the_history(
    client: AsyncClient, reference: Any
) -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llm = await _llm(client)
    chat = Chat("You are terse.")
    chat.add_user_message("Hi")
    chat.add_assistant_response("Hello.")
    chat.add_user_message("Bye")
    formatter = Jinja2ChatFormatter(
        template=reference.metadata["tokenizer.chat_template"], bos_token="", eos_token=""
    )
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Bye"},
    ]
    expected = formatter(messages=messages).prompt
    assert await llm.apply_prompt_template(chat) == expected
    assert expected.endswith("<|im_start|>assistant\n")


async def test_a_jinja_template_in_the_request_replaces_the_models(
    client: AsyncClient, reference: Any
) -> None:
    llm = await _llm(client)
    template = {
        "type": "jinja",
        "jinjaPromptTemplate": {"template": "Q: {{ messages[0]['content'] }}\nA:"},
        "stopStrings": [],
    }
    result = await llm.respond(
        "Why is the sky blue?", config={**GREEDY, "maxTokens": 8, "promptTemplate": template}
    )
    prompt = "Q: Why is the sky blue?\nA:"
    assert result.content == _reference_text(reference, prompt, 8)
    assert result.stats.prompt_tokens_count == len(reference.tokenize(prompt.encode()))


YES_NO = 'root ::= ("yes" | "no") "."'


async def test_a_gbnf_grammar_constrains_the_real_model(client: AsyncClient) -> None:
    llm = await _llm(client)
    for question in ("Is the sky blue?", "Is fire cold?"):
        result = await llm.respond(
            question,
            response_format={"type": "gbnf", "gbnfGrammar": YES_NO},
            config={**GREEDY, "maxTokens": 8},
        )
        assert result.content in ("yes.", "no."), result.content


@pytest.mark.parametrize(
    "grammar",
    # The first would make llama.cpp abort the process; the others it merely refuses.
    ['root ::= "a"{2,1}', "root ::= undefined", 'root ::= root "a" | "b"', 'x ::= "a"'],
)
async def test_a_bad_gbnf_grammar_is_an_error_and_the_server_lives_on(
    client: AsyncClient, grammar: str
) -> None:
    from lmstudio_async import LMStudioServerError

    llm = await _llm(client)
    with pytest.raises(LMStudioServerError, match="Invalid GBNF grammar"):
        await llm.respond("Hi", response_format={"type": "gbnf", "gbnfGrammar": grammar})
    assert (await llm.respond("Hi", config={**GREEDY, "maxTokens": 3})).content
