"""The official Python SDK documentation's snippets, on both of our packages.

``tests/sync/test_doc_snippets.py`` runs the seed pages' snippets (written for
``lmstudio``'s convenience and ``Client`` APIs) on ``lmstudio_sync``. Here:

* every one of them also runs in its ``lmstudio.AsyncClient`` form on
  ``lmstudio_async`` (as the documentation's async tabs write it);
* the other APIs the documentation shows (tokenizing, embeddings, completions,
  structured output, load and prediction configs, model listings, cancelling a
  prediction, the default client's configuration...) run in both forms.

Each script changes only its import line from the official's, and runs in a fresh
interpreter against the local server (``LM_API_HOST``).
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from lmstudio_async.testing import ServerProcess
from tests.sync.test_doc_snippets import SNIPPETS, Snippet, preload

from .snippet_runner import run_snippet

LLAMA = "llama-3.2-1b-instruct"

#: The async form of each seed-page snippet, by the sync snippet's name.
ASYNC_TWINS: dict[str, str] = {
    "access any model (convenience)": """
        model = await client.llm.model()
    """,
    "access any model (scoped)": """
        llm = await client.llm.model()
    """,
    "access a specific model (convenience)": """
        llama = await client.llm.model("llama-3.2-1b-instruct")
    """,
    "access a specific model (scoped)": """
        llama = await client.llm.model("llama-3.2-1b-instruct")
    """,
    "load two instances": """
        llama = await client.llm.load_new_instance("llama-3.2-1b-instruct")
        another_llama = await client.llm.load_new_instance("llama-3.2-1b-instruct", "second-llama")
    """,
    "load two instances (default client)": """
        llama = await client.llm.load_new_instance("llama-3.2-1b-instruct")
        another_llama = await client.llm.load_new_instance("llama-3.2-1b-instruct", "second-llama")
    """,
    "unload (convenience)": """
        model = await client.llm.model()
        await model.unload()
    """,
    "unload (scoped)": """
        llm = await client.llm.model()
        await llm.unload()
    """,
    "unload without a handle": """
        await client.llm.unload("llama-3.2-1b-instruct")
        await client.llm.unload("second-llama")
    """,
    "ttl (convenience)": """
        llama = await client.llm.model("llama-3.2-1b-instruct", ttl=3600)
    """,
    "ttl (scoped)": """
        llama = await client.llm.model("llama-3.2-1b-instruct", ttl=3600)
        another_llama = await client.llm.load_new_instance("llama-3.2-1b-instruct", ttl=7200)
    """,
    "progress callback": """
        llama = await client.llm.load_new_instance(
            "llama-3.2-1b-instruct",
            on_load_progress=lambda progress: print(f"{progress*100}% loaded"),
        )
    """,
    "model info": """
        model = await client.llm.model()
        print(await model.get_info())
    """,
    "quick chat response": """
        model = await client.llm.model()
        print(await model.respond("What is the meaning of life?"))
    """,
    "streaming a chat response": """
        model = await client.llm.model()
        async for fragment in await model.respond_stream("What is the meaning of life?"):
            print(fragment.content, end="", flush=True)
        print()
    """,
    "obtain a model": """
        model = await client.llm.model("qwen2.5-7b-instruct")
    """,
    "chat context, response, parameters and stats": """
        model = await client.llm.model("qwen2.5-7b-instruct")
        chat = lms.Chat("You are a resident AI philosopher.")
        chat.add_user_message("What is the meaning of life?")
        result = await model.respond(chat)
        print(result)
        prediction_stream = await model.respond_stream(chat, config={
            "temperature": 0.6,
            "maxTokens": 50,
        })
        result = await prediction_stream.wait_for_result()
        print("Model used:", result.model_info.display_name)
        print("Predicted tokens:", result.stats.predicted_tokens_count)
        print("Time to first token (seconds):", result.stats.time_to_first_token_sec)
        print("Stop reason:", result.stats.stop_reason)
    """,
    "multi-turn chat (chatbot.py)": """
        model = await client.llm.model()
        chat = lms.Chat("You are a task focused AI assistant")
        for user_input in ["Hello", "And then?"]:
            chat.add_user_message(user_input)
            prediction_stream = await model.respond_stream(chat, on_message=chat.append)
            print("Bot: ", end="", flush=True)
            async for fragment in prediction_stream:
                print(fragment.content, end="", flush=True)
            print()
    """,
}


def in_async_client(body: str) -> str:
    """An async snippet body inside the official docs' ``AsyncClient`` scaffolding."""
    return (
        "import asyncio\nimport lmstudio_async as lms\n\n"
        "async def main():\n"
        "    async with lms.AsyncClient() as client:\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), " " * 8)
        + "\n\nasyncio.run(main())\n"
    )


#: Other APIs the documentation shows, as (sync script, async body, preload, expected output).
MORE: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "tokenize and count tokens": (
        """
        import lmstudio_sync as lms
        model = lms.llm("llama-3.2-1b-instruct")
        tokens = model.tokenize("Hello, world!")
        print(len(tokens) == model.count_tokens("Hello, world!"), "tokens")
        print(len(model.tokenize(["one", "two"])), "lists")
        """,
        """
        model = await client.llm.model("llama-3.2-1b-instruct")
        tokens = await model.tokenize("Hello, world!")
        print(len(tokens) == await model.count_tokens("Hello, world!"), "tokens")
        print(len(await model.tokenize(["one", "two"])), "lists")
        """,
        (),
        ("True tokens", "2 lists"),
    ),
    "context length and does it fit": (
        """
        import lmstudio_sync as lms
        model = lms.llm()
        chat = lms.Chat.from_history({"messages": [{"role": "user", "content": "Hi"}]})
        formatted = model.apply_prompt_template(chat)
        print(model.count_tokens(formatted) < model.get_context_length(), "fits")
        """,
        """
        model = await client.llm.model()
        chat = lms.Chat.from_history({"messages": [{"role": "user", "content": "Hi"}]})
        formatted = await model.apply_prompt_template(chat)
        print(await model.count_tokens(formatted) < await model.get_context_length(), "fits")
        """,
        (LLAMA,),
        ("True fits",),
    ),
    "embeddings": (
        """
        import lmstudio_sync as lms
        model = lms.embedding_model("text-embedding-nomic-embed-text-v1.5")
        embedding = model.embed("Hello, world!")
        print(len(embedding), "dimensions")
        """,
        """
        model = await client.embedding.model("text-embedding-nomic-embed-text-v1.5")
        embedding = await model.embed("Hello, world!")
        print(len(embedding), "dimensions")
        """,
        (),
        ("768 dimensions",),
    ),
    "text completion": (
        """
        import lmstudio_sync as lms
        model = lms.llm()
        result = model.complete("My name is", config={"maxTokens": 100})
        print(type(result.content).__name__, result.stats.stop_reason)
        for fragment in model.complete_stream("My name is", config={"maxTokens": 10}):
            print(fragment.content, end="", flush=True)
        print()
        """,
        """
        model = await client.llm.model()
        result = await model.complete("My name is", config={"maxTokens": 100})
        print(type(result.content).__name__, result.stats.stop_reason)
        async for fragment in await model.complete_stream("My name is", config={"maxTokens": 10}):
            print(fragment.content, end="", flush=True)
        print()
        """,
        (LLAMA,),
        ("str ",),
    ),
    "structured output": (
        """
        import lmstudio_sync as lms

        class BookSchema(lms.BaseModel):
            title: str
            author: str
            year: int

        model = lms.llm()
        result = model.respond("Tell me about The Hobbit", response_format=BookSchema)
        book = result.parsed
        print(type(book).__name__, type(book.year).__name__)
        schema = {"type": "object", "properties": {"title": {"type": "string"}},
                  "required": ["title"]}
        print(sorted(model.respond("And a JSON schema", response_format=schema).parsed))
        """,
        """
        class BookSchema(lms.BaseModel):
            title: str
            author: str
            year: int

        model = await client.llm.model()
        result = await model.respond("Tell me about The Hobbit", response_format=BookSchema)
        book = result.parsed
        print(type(book).__name__, type(book.year).__name__)
        schema = {"type": "object", "properties": {"title": {"type": "string"}},
                  "required": ["title"]}
        print(sorted((await model.respond("And a JSON schema", response_format=schema)).parsed))
        """,
        (LLAMA,),
        ("BookSchema int", "['title']"),
    ),
    "load and prediction configs": (
        """
        import lmstudio_sync as lms
        model = lms.llm("qwen2.5-7b-instruct", config={
            "contextLength": 8192,
            "gpu": {"ratio": 0.5},
        })
        print(model.get_load_config().context_length)
        result = model.respond("Hi", config={"temperature": 0.6, "maxTokens": 5,
                                             "stopStrings": ["."]})
        print(result.prediction_config.max_tokens)
        """,
        """
        model = await client.llm.model("qwen2.5-7b-instruct", config={
            "contextLength": 8192,
            "gpu": {"ratio": 0.5},
        })
        print((await model.get_load_config()).context_length)
        result = await model.respond("Hi", config={"temperature": 0.6, "maxTokens": 5,
                                                   "stopStrings": ["."]})
        print(result.prediction_config.max_tokens)
        """,
        (),
        ("8192", "5"),
    ),
    "list downloaded and loaded models": (
        """
        import lmstudio_sync as lms
        downloaded = lms.list_downloaded_models()
        llm_only = lms.list_downloaded_models("llm")
        embedding_only = lms.list_downloaded_models("embedding")
        print(len(downloaded) == len(llm_only) + len(embedding_only), "split")
        for model in lms.list_loaded_models("llm"):
            print("loaded", model.identifier)
        """,
        """
        downloaded = await client.list_downloaded_models()
        llm_only = await client.llm.list_downloaded()
        embedding_only = await client.embedding.list_downloaded()
        print(len(downloaded) == len(llm_only) + len(embedding_only), "split")
        for model in await client.llm.list_loaded():
            print("loaded", model.identifier)
        """,
        (LLAMA,),
        ("True split", "loaded llama-3.2-1b-instruct"),
    ),
    "default client configuration and a model handle's info": (
        """
        import os
        import lmstudio_sync as lms
        lms.configure_default_client(os.environ["LM_API_HOST"])
        client = lms.get_default_client()
        model = client.llm.model("llama-3.2-1b-instruct")
        info = model.get_info()
        print(info.type, info.model_key, client.llm.get_model_info(info.identifier).identifier)
        """,
        """
        model = await client.llm.model("llama-3.2-1b-instruct")
        info = await model.get_info()
        print(info.type, info.model_key,
              (await client.llm.get_model_info(info.identifier)).identifier)
        """,
        (),
        ("llm llama-3.2-1b-instruct llama-3.2-1b-instruct",),
    ),
}


#: Cancelling mid-stream, as documented; on a server slow enough (400 tokens, 50 ms each)
#: that the prediction is still running when the cancel arrives.
CANCEL = (
    """
    import lmstudio_sync as lms
    model = lms.llm()
    stream = model.respond_stream("Tell me a long story")
    for count, fragment in enumerate(stream):
        if count == 2:
            stream.cancel()
    print(stream.result().stats.stop_reason)
    """,
    """
    model = await client.llm.model()
    stream = await model.respond_stream("Tell me a long story")
    count = 0
    async for fragment in stream:
        count += 1
        if count == 2:
            await stream.cancel()
    print((await stream.wait_for_result()).stats.stop_reason)
    """,
    (LLAMA,),
    ("userStopped",),
)


def test_every_seed_snippet_has_an_async_twin() -> None:
    assert sorted(ASYNC_TWINS) == sorted(s.name for s in SNIPPETS)


@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: s.name)
def test_seed_snippet_in_its_async_form(snippet: Snippet, lmstudio_server: ServerProcess) -> None:
    preload(lmstudio_server, snippet.preload)
    run_snippet(lmstudio_server, in_async_client(ASYNC_TWINS[snippet.name]), snippet.expect)


@pytest.mark.parametrize("flavour", ["lmstudio_sync", "lmstudio_async"])
@pytest.mark.parametrize("name", sorted(MORE))
def test_documented_api(name: str, flavour: str, lmstudio_server: ServerProcess) -> None:
    sync_code, async_body, models, expect = MORE[name]
    preload(lmstudio_server, models)
    code = textwrap.dedent(sync_code) if flavour == "lmstudio_sync" else in_async_client(async_body)
    run_snippet(lmstudio_server, code, expect)


@pytest.mark.parametrize("flavour", ["lmstudio_sync", "lmstudio_async"])
def test_documented_cancel(flavour: str, lmstudio_server_factory: Any) -> None:
    server = lmstudio_server_factory("--token-delay", "0.05", "--reply-tokens", "400:400")
    sync_code, async_body, models, expect = CANCEL
    preload(server, models)
    code = textwrap.dedent(sync_code) if flavour == "lmstudio_sync" else in_async_client(async_body)
    run_snippet(server, code, expect)
