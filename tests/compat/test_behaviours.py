"""Behaviours as the official SDK's, checked against the installed ``lmstudio`` where it can
run without a server: the same inputs accepted, the same ``except`` clauses catching the
same misuse, the same printed forms."""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import lmstudio
import pytest

import lmstudio_async as ours
import lmstudio_sync
from lmstudio_async.tracebacks import HOT_PATH

# --- the same except clauses catch the same misuse -----------------------------------------


def official_classes_of(error: BaseException) -> list[str]:
    """The official SDK's exception classes ``error`` is an instance of."""
    return [c.__name__ for c in type(error).__mro__ if c.__module__ == "lmstudio"]


def chat_misuse(sdk: Any) -> dict[str, Callable[[], object]]:
    def twice(method: str) -> Callable[[], object]:
        def run() -> object:
            chat = sdk.Chat()
            getattr(chat, method)("one")
            return getattr(chat, method)("two")

        return run

    return {
        "two system prompts": twice("add_system_prompt"),
        "two assistant responses": twice("add_assistant_response"),
        "messages None": lambda: sdk.Chat.from_history({"messages": None}),
        "no messages": lambda: sdk.Chat.from_history({}),
        "unknown role": lambda: sdk.Chat.from_history({"messages": [{"role": "x", "content": ""}]}),
        "a number as history": lambda: sdk.Chat.from_history(5),
        "content a number": lambda: sdk.Chat.from_history(
            {"messages": [{"role": "user", "content": 5}]}
        ),
        "content None": lambda: sdk.Chat.from_history(
            {"messages": [{"role": "user", "content": None}]}
        ),
        "a number as user message": lambda: sdk.Chat().add_user_message(5),
        "a number as system prompt": lambda: sdk.Chat().add_system_prompt(5),
        "add_entry with an unknown role": lambda: sdk.Chat().add_entry("robot", "x"),
        "append a bare string": lambda: sdk.Chat().append("hi"),
    }


@pytest.mark.parametrize("case", sorted(chat_misuse(lmstudio)))
def test_chat_misuse_raises_what_the_official_raises(case: str) -> None:
    with pytest.raises(lmstudio.LMStudioError) as official:
        chat_misuse(lmstudio)[case]()
    with pytest.raises(ours.LMStudioError) as mine:
        chat_misuse(ours)[case]()
    for name in official_classes_of(official.value):
        assert isinstance(mine.value, getattr(ours, name)), (case, name)


def test_the_error_hierarchy_is_the_officials() -> None:
    for name in dir(lmstudio):
        official = getattr(lmstudio, name)
        if not (isinstance(official, type) and issubclass(official, BaseException)):
            continue
        mine = getattr(ours, name)
        if official.__module__ != "lmstudio":  # ValidationError: msgspec's own, in both
            assert mine is official, name
            continue
        assert mine.__module__ == "lmstudio_async", name
        assert getattr(lmstudio_sync, name) is mine
        for base in official.__mro__:
            if base.__module__ == "lmstudio":
                assert issubclass(mine, getattr(ours, base.__name__)), (name, base.__name__)
            elif base is not object:
                assert issubclass(mine, base), (name, base.__name__)


def test_server_errors_take_the_officials_details_dict() -> None:
    details = {"title": "No model", "displayData": {"code": "generic.noModelMatchingQuery"}}
    error = ours.LMStudioServerError.from_details("Model load", details)
    assert isinstance(error, ours.LMStudioModelNotFoundError)
    assert error.server_error is not None and error.server_error.title == "No model"
    assert str(error).startswith("Model load: No model")
    plain = ours.LMStudioServerError("failed", {"title": "Boom", "cause": "why"})
    assert plain.title == "Boom" and plain.cause == "why"


# --- chat histories: every form the official accepts -----------------------------------------


HISTORY_FORMS: list[Any] = [
    "Hello",
    {"messages": [{"role": "user", "content": "Hello"}]},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}]},
    {
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
        ]
    },
]
#: snake_case keys, which the official refuses in tool call requests (we take them).
SNAKE_CASE_HISTORY = {
    "messages": [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "toolCallRequest",
                    "tool_call_request": {
                        "type": "function",
                        "name": "add",
                        "arguments": {"first_number": 1},
                    },
                }
            ],
        }
    ]
}


@pytest.mark.parametrize("form", HISTORY_FORMS, ids=[str(i) for i in range(len(HISTORY_FORMS))])
def test_every_history_form_the_official_accepts_is_accepted_alike(form: Any) -> None:
    official = lmstudio.Chat.from_history(form)
    mine = ours.Chat.from_history(form)
    assert str(mine) == str(official)


def test_snake_case_keys_keep_the_users_own_keys_verbatim() -> None:
    chat = ours.Chat.from_history(SNAKE_CASE_HISTORY)
    request = chat.messages[0].content[0]
    assert request.tool_call_request.arguments == {"first_number": 1}  # type: ignore[union-attr]


def test_chat_builders_take_parts_dicts_and_results_as_the_official() -> None:
    for sdk in (lmstudio, ours):
        chat = sdk.Chat({"type": "text", "text": "You are terse."})
        chat.add_user_message(["Hi", {"type": "text", "text": "there"}])
        chat.add_entry("assistant", {"type": "text", "text": "Hello."})
        chat.add_entry("user", "And?")
        assert [m.role for m in chat._messages] == ["system", "user", "assistant", "user"]
    assert str(ours.Chat.from_history(json.loads(str(chat)[len("Chat.from_history(") : -1])))


def test_printed_forms_look_like_the_officials() -> None:
    official = lmstudio.Chat("sys")
    official.add_user_message("hi")
    mine = ours.Chat("sys")
    mine.add_user_message("hi")
    assert str(mine) == str(official)
    assert str(mine.messages[1]) == str(official._messages[1])
    query = {"identifier": "x", "domain": "llm"}
    assert str(ours.ModelQuery.from_dict(query)) == str(lmstudio.ModelQuery.from_dict(query))
    config = {"contextLength": 5, "gpu": {"ratio": 0.5}}
    assert str(ours.LlmLoadModelConfig.from_dict(config)) == str(
        lmstudio.LlmLoadModelConfig.from_dict(config)
    )


@pytest.mark.parametrize(
    ("cls_name", "data"),
    [
        ("LlmLoadModelConfig", {"context_length": 4096, "gpu": {"main_gpu": 0, "ratio": 0.5}}),
        ("LlmLoadModelConfig", {"contextLength": 4096, "flashAttention": True}),
        ("LlmPredictionConfig", {"max_tokens": 50, "stop_strings": ["\n"], "temperature": 0.5}),
        (
            "LlmPredictionConfig",
            {"structured": {"type": "json", "json_schema": {"type": "object"}}},
        ),
        ("EmbeddingLoadModelConfig", {"context_length": 512, "keep_model_in_memory": True}),
    ],
)
def test_configs_round_trip_through_dicts_as_the_official(
    cls_name: str, data: dict[str, Any]
) -> None:
    official = getattr(lmstudio, cls_name).from_dict(data)
    mine = getattr(ours, cls_name).from_dict(data)
    assert mine.to_dict() == official.to_dict()
    assert getattr(ours, cls_name).from_dict(mine.to_dict()) == mine


def test_from_dict_raises_the_officials_validation_error() -> None:
    with pytest.raises(lmstudio.ValidationError):
        lmstudio.LlmLoadModelConfig.from_dict({"contextLength": "long"})
    with pytest.raises(ours.ValidationError):
        ours.LlmLoadModelConfig.from_dict({"contextLength": "long"})


# --- timeouts and the default client -------------------------------------------------


def test_timeouts_mean_what_they_mean_in_the_official() -> None:
    before = ours.get_default_timeout()
    client = ours.AsyncClient("127.0.0.1:1")
    try:
        lmstudio_sync.set_sync_api_timeout(None)
        assert lmstudio_sync.get_sync_api_timeout() is None
        assert math.isinf(client.timeout)  # an existing client follows the default
        lmstudio_sync.set_sync_api_timeout(0)
        assert client.timeout == 0
        lmstudio_sync.set_sync_api_timeout(12.5)
        assert client.timeout == 12.5 and lmstudio_sync.get_sync_api_timeout() == 12.5
        assert ours.AsyncClient("127.0.0.1:1", timeout=3).timeout == 3
        with pytest.raises(ours.LMStudioValueError, match="timeout"):
            lmstudio_sync.set_sync_api_timeout(-1)
    finally:
        ours.set_default_timeout(before)


def test_client_takes_api_host_and_api_token_positionally() -> None:
    with lmstudio_sync.Client("127.0.0.1:1", "sk-lm-abcdefgh:0123456789abcdef0123") as client:
        assert client.api_host == "127.0.0.1:1"


def test_configuring_the_default_client_after_creating_it_is_the_officials_error() -> None:
    script = """
        import lmstudio_sync as lms
        lms.get_default_client("127.0.0.1:1")
        try:
            lms.configure_default_client("127.0.0.1:2")
        except lms.LMStudioClientError as error:
            print(error)
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, check=True
    )
    assert "Default client is already created, cannot set its API host." in done.stdout


# --- tracebacks end at the user's call ----------------------------------------------------

TRACEBACK_SCRIPTS = {
    "lmstudio_async": """
import asyncio
import lmstudio_async as lms

async def main():
    async with lms.AsyncClient("127.0.0.1:1", connect_timeout=5) as client:
        await client.llm.get_model_info(12)  # not a specifier: a value error

asyncio.run(main())
""",
    "lmstudio_sync": """
import lmstudio_sync as lms

with lms.Client("127.0.0.1:1", connect_timeout=5) as client:
    client.llm.get_model_info(12)  # not a specifier: a value error
""",
}


@pytest.mark.parametrize("package", sorted(TRACEBACK_SCRIPTS))
@pytest.mark.parametrize("keep", [False, True])
def test_tracebacks_hide_internal_frames_unless_asked(keep: bool, package: str) -> None:
    env = {"LMSTUDIO_ASYNC_KEEP_INTERNAL_FRAMES": "1"} if keep else {}
    done = subprocess.run(
        [sys.executable, "-c", TRACEBACK_SCRIPTS[package]],
        capture_output=True,
        text=True,
        env={**_base_env(), **env},
        check=False,
    )
    assert "LMStudioValueError" in done.stderr
    internal = [
        line for line in done.stderr.splitlines() if "lmstudio_async/" in line or "_sync/" in line
    ]
    if keep:
        assert any("specifiers.py" in line for line in internal)
    else:  # the user's line, then the one SDK frame that re-raised it
        assert len(internal) <= 2 and "specifiers.py" not in done.stderr, done.stderr


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if "KEEP_INTERNAL" not in k}


def test_every_public_coroutine_is_behind_the_traceback_boundary() -> None:
    unguarded = []
    for name in ours.__all__:
        value = getattr(ours, name)
        members = vars(value).items() if isinstance(value, type) else [(name, value)]
        for member_name, member in members:
            function = member.__func__ if isinstance(member, staticmethod) else member
            public = not member_name.startswith("_") or member_name == "__aenter__"
            if (
                public
                and inspect.iscoroutinefunction(function)
                and member_name not in HOT_PATH
                and not getattr(function, "__lmstudio_boundary__", False)
            ):
                unguarded.append(f"{name}.{member_name}")
    assert unguarded == []
