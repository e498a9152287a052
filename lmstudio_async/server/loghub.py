"""Fan-out of server log events to ``diagnostics/streamLogs`` subscribers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ..protocol import DiagnosticsLogEvent, PredictionInputLogData

__all__ = ["LogHub"]

# A subscriber that falls this far behind loses events rather than slowing the server.
_SUBSCRIBER_BUFFER = 256


class LogHub:
    def __init__(self) -> None:
        self._subscribers: set[MemoryObjectSendStream[DiagnosticsLogEvent]] = set()

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subscribers)

    def publish_prediction_input(self, model_path: str, model_identifier: str, text: str) -> None:
        """Report the formatted input of a prediction (LM Studio's ``llm.prediction.input``)."""
        if not self._subscribers:
            return
        data = PredictionInputLogData(
            model_path=model_path, model_identifier=model_identifier, input=text
        )
        self.publish(DiagnosticsLogEvent(timestamp=time.time() * 1000, data=data))

    def publish(self, event: DiagnosticsLogEvent) -> None:
        for stream in self._subscribers:
            with suppress(anyio.WouldBlock):
                stream.send_nowait(event)

    @contextmanager
    def subscribe(self) -> Iterator[MemoryObjectReceiveStream[DiagnosticsLogEvent]]:
        send, receive = anyio.create_memory_object_stream[DiagnosticsLogEvent](_SUBSCRIBER_BUFFER)
        self._subscribers.add(send)
        try:
            yield receive
        finally:
            self._subscribers.discard(send)
            send.close()
            receive.close()
