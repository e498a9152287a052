"""LM Studio's documentation snippets run on lmstudio_sync with only the import line changed.

The snippets are copied from LM Studio's Python SDK pages (loading, accessing and
unloading models; TTL; progress; model info; chat responses). Each runs in a fresh
interpreter, as a user's script would, against the local server (``LM_API_HOST``).
Where a page's snippet does not parse as printed, the fix is noted beside it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from typing import NamedTuple

import pytest

from lmstudio_async import AsyncClient
from lmstudio_async.testing import ServerProcess

LLAMA = "llama-3.2-1b-instruct"


class Snippet(NamedTuple):
    name: str
    code: str
    #: Models loaded before the snippet runs (``lms.llm()`` needs one loaded).
    preload: tuple[str, ...] = ()
    #: What the snippet must print.
    expect: tuple[str, ...] = ()
    stdin: str = ""


SNIPPETS = [
    Snippet(
        "access any model (convenience)",
        """
        import lmstudio_sync as lm

        # It's that simple!
        llm = lm.llm()
        """,
        preload=(LLAMA,),
    ),
    Snippet(
        "access any model (scoped)",
        """
        import lmstudio_sync as lmstudio

        with lmstudio.Client() as client:
            # It's that simple!
            llm = client.llm.model()
        """,
        preload=(LLAMA,),
    ),
    Snippet(
        "access a specific model (convenience)",
        """
        import lmstudio_sync as lm

        llama = lm.llm("llama-3.2-1b-instruct")
        """,
    ),
    Snippet(
        "access a specific model (scoped)",
        """
        import lmstudio_sync as lmstudio

        with lmstudio.Client() as client:
            llama = client.llm.model("llama-3.2-1b-instruct")
        """,
    ),
    Snippet(
        "load two instances",
        """
        import lmstudio_sync as lmstudio

        with lmstudio.Client() as client:
            llama = client.llm.load_new_instance("llama-3.2-1b-instruct")
            another_llama = client.llm.load_new_instance("llama-3.2-1b-instruct", "second-llama")
        """,
    ),
    Snippet(
        "load two instances (default client)",
        """
        import lmstudio_sync as lms

        client = lms.get_default_client()
        llama = client.llm.load_new_instance("llama-3.2-1b-instruct")
        another_llama = client.llm.load_new_instance("llama-3.2-1b-instruct", "second-llama")
        """,
    ),
    Snippet(
        "unload (convenience)",
        """
        import lmstudio_sync as lm

        llm = lm.llm()
        llm.unload()
        """,
        preload=(LLAMA,),
    ),
    Snippet(
        "unload (scoped)",
        """
        import lmstudio_sync as lmstudio

        with lmstudio.Client() as client:
            llm = client.llm.model()
            llm.unload()
        """,
        preload=(LLAMA,),
    ),
    Snippet(
        "unload without a handle",
        """
        import lmstudio_sync as lmstudio

        with lmstudio.Client() as client:
            client.llm.unload("llama-3.2-1b-instruct")
            client.llm.unload("second-llama")
        """,
        preload=(LLAMA, f"{LLAMA}@second-llama"),
    ),
    Snippet(
        "ttl (convenience)",
        """
        import lmstudio_sync as lm

        llama = lm.llm("llama-3.2-1b-instruct", ttl=3600)
        """,
    ),
    Snippet(
        "ttl (scoped)",
        """
        import lmstudio_sync as lmstudio

        with lmstudio.Client() as client:
            llama = client.llm.model("llama-3.2-1b-instruct", ttl=3600)
            another_llama = client.llm.load_new_instance("llama-3.2-1b-instruct", ttl=7200)
        """,
    ),
    Snippet(
        "progress callback",
        # The page prints `on_progress: lambda ...`, which is not valid Python; `=` is meant.
        """
        import lmstudio_sync as lmstudio

        with lmstudio.Client() as client:
            llama = client.llm.load_new_instance(
                "llama-3.2-1b-instruct",
                on_progress=lambda progress: print(f"{progress*100}% loaded"),
            )
        """,
        expect=("100.0% loaded",),
    ),
    Snippet(
        "model info",
        """
        import lmstudio_sync as lms

        model = lms.llm()

        print(model.get_info())
        """,
        preload=("qwen2.5-7b-instruct-1m",),
        expect=(
            "LlmInstanceInfo.from_dict({",
            '"modelKey": "qwen2.5-7b-instruct-1m"',
            '"paramsString": "7B"',
            '"type": "llm"',
        ),
    ),
    Snippet(
        "quick chat response",
        """
        import lmstudio_sync as lms
        model = lms.llm()
        print(model.respond("What is the meaning of life?"))
        """,
        preload=(LLAMA,),
    ),
    Snippet(
        "streaming a chat response",
        """
        import lmstudio_sync as lms
        model = lms.llm()

        for fragment in model.respond_stream("What is the meaning of life?"):
            print(fragment.content, end="", flush=True)
        print() # Advance to a new line at the end of the response
        """,
        preload=(LLAMA,),
    ),
    Snippet(
        "obtain a model",
        """
        import lmstudio_sync as lms
        model = lms.llm("qwen2.5-7b-instruct")
        """,
    ),
    Snippet(
        "chat context, response, parameters and stats",
        # The page splits this across several blocks that build on each other.
        """
        import lmstudio_sync as lms

        model = lms.llm("qwen2.5-7b-instruct")

        # Create a chat with an initial system prompt.
        chat = lms.Chat("You are a resident AI philosopher.")

        # Build the chat context by adding messages of relevant types.
        chat.add_user_message("What is the meaning of life?")

        # The `chat` object is created in the previous step.
        result = model.respond(chat)

        print(result)

        prediction_stream = model.respond_stream(chat, config={
            "temperature": 0.6,
            "maxTokens": 50,
        })

        # After iterating through the prediction fragments,
        # the overall prediction result may be obtained from the stream
        result = prediction_stream.result()

        print("Model used:", result.model_info.display_name)
        print("Predicted tokens:", result.stats.predicted_tokens_count)
        print("Time to first token (seconds):", result.stats.time_to_first_token_sec)
        print("Stop reason:", result.stats.stop_reason)
        """,
        expect=("Model used: Qwen2.5 7B Instruct", "Predicted tokens:", "Stop reason:"),
    ),
    Snippet(
        "multi-turn chat (chatbot.py)",
        """
        import lmstudio_sync as lms

        model = lms.llm()
        chat = lms.Chat("You are a task focused AI assistant")

        while True:
            try:
                user_input = input("You (leave blank to exit): ")
            except EOFError:
                print()
                break
            if not user_input:
                break
            chat.add_user_message(user_input)
            prediction_stream = model.respond_stream(
                chat,
                on_message=chat.append,
            )
            print("Bot: ", end="", flush=True)
            for fragment in prediction_stream:
                print(fragment.content, end="", flush=True)
            print()
        """,
        preload=(LLAMA,),
        expect=("Bot: ",),
        stdin="Hello\nAnd then?\n",
    ),
]


def preload(server: ServerProcess, models: tuple[str, ...]) -> None:
    async def load() -> None:
        async with AsyncClient(server.api_host) as client:
            for spec in models:
                key, _, identifier = spec.partition("@")
                await client.llm.load_new_instance(key, identifier or None)

    asyncio.run(load())


@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: s.name)
def test_documentation_snippet(snippet: Snippet, lmstudio_server: ServerProcess) -> None:
    preload(lmstudio_server, snippet.preload)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(snippet.code)],
        input=snippet.stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "LM_API_HOST": lmstudio_server.api_host},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for expected in snippet.expect:
        assert expected in done.stdout
