"""The job runner's files: JSONL inputs read lazily, JSONL outputs appended durably.

Input lines are ``{"id": ..., "prompt": "..."}`` (a raw user message) or
``{"id": ..., "messages": [{"role": ..., "content": ...}, ...]}``. Each output
line is one finished item: ``{"id", "line", "ok": true, "reply", "stats",
"host", "attempts"}``, or ``{"id", "line", "ok": false, "error": {"type",
"message"}}``. A malformed input line gets an error line too (``"id"`` as far as
it could be read, else ``null``, and ``"malformed": true``).

Resuming: the ids (and the line numbers of malformed lines) already in the
output are skipped. A process killed mid-write can leave a partial last line;
it is cut off before appending, so the file stays valid JSONL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..chat import Chat
from ..errors import LMStudioError
from .results import BatchResult

__all__ = ["JobItem", "MalformedLine", "OutputFile", "count_lines", "read_items"]

#: An id is a JSON string or integer (anything else could not be compared reliably).
_ID_TYPES = (str, int)


@dataclass(frozen=True)
class JobItem:
    line: int
    id: str | int
    #: What the model gets: a prompt (respond) as a Chat, or a history dict.
    history: Chat | dict[str, Any]


@dataclass(frozen=True)
class MalformedLine:
    line: int
    id: str | int | None
    reason: str


def _history(record: dict[str, Any], system: str | None) -> Chat | dict[str, Any]:
    if "prompt" in record:
        chat = Chat(system) if system else Chat()
        chat.add_user_message(record["prompt"])
        return chat
    messages = list(record["messages"])
    if system and not (
        messages and isinstance(messages[0], dict) and messages[0].get("role") == "system"
    ):
        messages.insert(0, {"role": "system", "content": system})
    return {"messages": messages}


def _parse(number: int, text: str, system: str | None) -> JobItem | MalformedLine:
    try:
        record = json.loads(text)
    except ValueError as exc:
        return MalformedLine(number, None, f"not valid JSON ({exc})")
    if not isinstance(record, dict):
        return MalformedLine(number, None, f"expected a JSON object, got {type(record).__name__}")
    item_id = record.get("id")
    if isinstance(item_id, bool) or not isinstance(item_id, _ID_TYPES):
        return MalformedLine(number, None, 'needs an "id" (a string or an integer)')
    has_prompt, has_messages = "prompt" in record, "messages" in record
    if has_prompt == has_messages:
        return MalformedLine(number, item_id, 'needs exactly one of "prompt" and "messages"')
    if has_prompt and not isinstance(record["prompt"], str):
        return MalformedLine(number, item_id, '"prompt" must be a string')
    if has_messages and not (isinstance(record["messages"], list) and record["messages"]):
        return MalformedLine(number, item_id, '"messages" must be a non-empty list')
    try:
        history = _history(record, system)
    except (LMStudioError, ValueError, TypeError) as exc:
        return MalformedLine(number, item_id, str(exc))
    return JobItem(number, item_id, history)


def read_items(
    path: Path, *, skip_ids: set[Any], skip_lines: set[int], system: str | None = None
) -> Iterator[JobItem | MalformedLine]:
    """The input's items one at a time (never the whole file), minus those already done.

    Each id is used once: a repeated id is a malformed line.
    """
    seen: set[Any] = set()
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, text in enumerate(lines, 1):
            if not text.strip() or number in skip_lines:
                continue
            parsed = _parse(number, text, system)
            if isinstance(parsed, JobItem):
                key = _key(parsed.id)
                if key in seen:
                    parsed = MalformedLine(number, None, f"repeats the id {parsed.id!r}")
                else:
                    seen.add(key)
                    if key in skip_ids:
                        continue
            yield parsed


def count_lines(path: Path) -> int:
    """Non-blank lines of ``path`` (for a progress total), reading it in blocks."""
    with path.open(encoding="utf-8", errors="replace") as lines:
        return sum(1 for text in lines if text.strip())


def _key(item_id: Any) -> tuple[str, Any]:
    # 1 and "1" are different ids.
    return (type(item_id).__name__, item_id)


class OutputFile:
    """The output JSONL: what it already holds, and durable appends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done_ids: set[Any] = set()
        self.done_lines: set[int] = set()
        self._file: IO[str] | None = None

    def open(self, *, retry_failed: bool = False) -> None:
        """Read what a previous run finished, drop a partial last line, open for appending."""
        if self.path.exists():
            data = self.path.read_bytes()
            complete = data[: data.rfind(b"\n") + 1]
            if len(complete) != len(data):
                with self.path.open("r+b") as raw:
                    raw.truncate(len(complete))
            for text in complete.decode("utf-8", "replace").splitlines():
                try:
                    record = json.loads(text)
                except ValueError:
                    continue
                if not isinstance(record, dict):
                    continue
                if retry_failed and not record.get("ok") and not record.get("malformed"):
                    continue
                if record.get("malformed"):
                    if isinstance(record.get("line"), int):
                        self.done_lines.add(record["line"])
                elif isinstance(record.get("id"), _ID_TYPES):
                    self.done_ids.add(_key(record["id"]))
        self._file = self.path.open("a", encoding="utf-8")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _append(self, record: dict[str, Any]) -> None:
        assert self._file is not None, "open() the output first"
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def write_result(self, item: JobItem, result: BatchResult) -> None:
        record: dict[str, Any] = {"id": item.id, "line": item.line, "ok": result.ok}
        if result.result is not None:
            stats = result.result.stats
            record["reply"] = result.result.content
            record["stats"] = {
                "promptTokens": stats.prompt_tokens_count,
                "predictedTokens": stats.predicted_tokens_count,
                "tokensPerSecond": stats.tokens_per_second,
                "timeToFirstTokenSec": stats.time_to_first_token_sec,
                "stopReason": stats.stop_reason,
            }
        else:
            error = result.error
            record["error"] = {"type": type(error).__name__, "message": str(error)}
        record["host"] = result.host
        record["attempts"] = result.attempts
        self._append(record)

    def write_malformed(self, line: MalformedLine) -> None:
        self._append(
            {
                "id": line.id,
                "line": line.line,
                "ok": False,
                "malformed": True,
                "error": {"type": "MalformedLine", "message": f"line {line.line}: {line.reason}"},
            }
        )
