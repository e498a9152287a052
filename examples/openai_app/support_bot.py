"""A small app built on the ``openai`` client, pointed at LM Studio's OpenAI-compatible API.

Run it against LM Studio or the local server (``python -m lmstudio_async.server``)::

    python examples/openai_app/support_bot.py "How do I reset my password?"

``test_support_bot.py`` beside it tests it against the local server with the
pytest plugin's ``lmstudio_server`` fixture.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import openai

MODEL = "llama-3.2-1b-instruct"
FALLBACK = "Sorry, the assistant is unavailable right now. Please try again later."
_SYSTEM = "You are a helpful support agent. Answer briefly."
_TICKET_SCHEMA = {
    "type": "object",
    "properties": {
        "topic": {"type": "string"},
        "urgent": {"type": "boolean"},
    },
    "required": ["topic", "urgent"],
}


class SupportBot:
    def __init__(self, base_url: str, *, api_key: str = "lm-studio", model: str = MODEL) -> None:
        # One retry at most: a local server that fails twice will not recover mid-request.
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=1)
        self._model = model

    def close(self) -> None:
        self._client.close()

    def _messages(self, question: str) -> Any:
        return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": question}]

    def answer(self, question: str, *, seed: int | None = None) -> str:
        """The reply to ``question``, or :data:`FALLBACK` when the server fails."""
        try:
            reply = self._client.chat.completions.create(
                model=self._model, messages=self._messages(question), seed=seed
            )
        except openai.APIError:
            return FALLBACK
        return reply.choices[0].message.content or ""

    def stream_answer(self, question: str, *, seed: int | None = None) -> Iterator[str]:
        """The reply as it is generated, piece by piece."""
        stream = self._client.chat.completions.create(
            model=self._model, messages=self._messages(question), seed=seed, stream=True
        )
        with stream:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

    def triage(self, message: str) -> dict[str, Any]:
        """A ticket for ``message``: ``{"topic": str, "urgent": bool}`` (structured output)."""
        reply = self._client.chat.completions.create(
            model=self._model,
            messages=[{"role": "user", "content": f"Triage this support request: {message}"}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "ticket", "strict": True, "schema": _TICKET_SCHEMA},
            },
        )
        ticket: dict[str, Any] = json.loads(reply.choices[0].message.content or "{}")
        return ticket


def main() -> None:
    host = os.environ.get("LM_API_HOST", "127.0.0.1:1234")
    bot = SupportBot(f"http://{host}/v1")
    try:
        question = " ".join(sys.argv[1:]) or "How do I reset my password?"
        for piece in bot.stream_answer(question):
            print(piece, end="", flush=True)
        print()
        print("Ticket:", bot.triage(question))
    finally:
        bot.close()


if __name__ == "__main__":
    main()
