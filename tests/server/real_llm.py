"""Helpers that drive the real ``llm`` namespace (scripted engine) over a raw socket."""

from __future__ import annotations

from typing import Any

from .wire import RawSocket

MODEL = "llama-3.2-1b-instruct"


async def load(sock: RawSocket, channel_id: int = 1) -> str:
    """JIT-load the test model; returns the instance identifier."""
    await sock.send(
        {
            "type": "channelCreate",
            "endpoint": "getOrLoad",
            "channelId": channel_id,
            "creationParameter": {"identifier": MODEL, "loadConfigStack": {"layers": []}},
        }
    )
    messages = await sock.receive_until("channelClose")
    results = [
        m["message"]
        for m in messages
        if m["type"] == "channelSend" and m["message"]["type"] in ("alreadyLoaded", "loadSuccess")
    ]
    assert results, messages
    identifier: str = results[0]["info"]["identifier"]
    return identifier


def predict_request(identifier: str, channel_id: int, text: str = "Hello") -> dict[str, Any]:
    return {
        "type": "channelCreate",
        "endpoint": "predict",
        "channelId": channel_id,
        "creationParameter": {
            "modelSpecifier": {"type": "query", "query": {"identifier": identifier}},
            "history": {
                "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]
            },
            "predictionConfigStack": {"layers": []},
        },
    }
