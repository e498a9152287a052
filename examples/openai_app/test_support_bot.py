"""Testing an ``openai``-based app against the local server, with the pytest plugin.

``lmstudio_server`` is a local LM Studio-compatible server (scripted engine)
shared by the session and reset before each test; its OpenAI-compatible API is
at ``http://<api_host>/v1``. Run: ``pytest examples/openai_app``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support_bot import FALLBACK, SupportBot

from lmstudio_async.testing import ServerProcess


@pytest.fixture
def bot(lmstudio_server: ServerProcess) -> Iterator[SupportBot]:
    bot = SupportBot(f"http://{lmstudio_server.api_host}/v1")
    yield bot
    bot.close()


def test_the_bot_answers(bot: SupportBot) -> None:
    assert bot.answer("How do I reset my password?")


def test_the_streamed_answer_is_the_answer(bot: SupportBot) -> None:
    # The scripted engine is deterministic for a given prompt and seed.
    streamed = "".join(bot.stream_answer("Where is my order?", seed=4))
    assert streamed == bot.answer("Where is my order?", seed=4)


def test_triage_returns_a_ticket(bot: SupportBot) -> None:
    ticket = bot.triage("My account was hacked!")
    assert isinstance(ticket["topic"], str) and isinstance(ticket["urgent"], bool)


def test_the_bot_falls_back_when_the_model_fails(
    lmstudio_server: ServerProcess, bot: SupportBot
) -> None:
    # Faults apply to the HTTP APIs too; this one makes every chat prediction fail (HTTP 500).
    lmstudio_server.set_faults(failures={"llm/predict": "The model crashed"})
    assert bot.answer("Hello?") == FALLBACK
