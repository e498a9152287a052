"""Builders shared by the engine and model-manager tests."""

from __future__ import annotations

from typing import Any

from lmstudio_async.protocol import (
    ChatHistoryData,
    KVConfig,
    KVConfigField,
    KVConfigStack,
    KVConfigStackLayer,
    TextPart,
    UserMessage,
)


def stack(fields: dict[str, Any] | None = None, *, layer: str = "apiOverride") -> KVConfigStack:
    """A one-layer config stack holding ``fields`` (full wire keys)."""
    config = KVConfig(fields=[KVConfigField(key=k, value=v) for k, v in (fields or {}).items()])
    return KVConfigStack(layers=[KVConfigStackLayer(layer_name=layer, config=config)])


def chat(text: str) -> ChatHistoryData:
    return ChatHistoryData(messages=[UserMessage(content=[TextPart(text=text)])])


class ProgressLog:
    """A load progress callback that records what it was given."""

    def __init__(self) -> None:
        self.values: list[float] = []

    async def __call__(self, value: float) -> None:
        self.values.append(value)
