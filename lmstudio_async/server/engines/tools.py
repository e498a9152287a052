"""The engine side of tool use: the tools a prediction offers and the tool calls it produces.

Front ends (the LM Studio websocket API, the OpenAI-compatible REST API) turn
their request's tools into a :class:`ToolOffer` and put it in
:attr:`PredictionSettings.tools`. An engine that produces tool calls yields,
among its :class:`GeneratedPiece` texts, the :data:`ToolCallEvent` sequence of
each call:

    ToolCallStarted -> ToolCallNamed -> ToolCallArgumentsFragment* -> ToolCallFinished
                                                                    | ToolCallFailed

and ends with the stop reason :data:`TOOL_CALLS_STOP_REASON`. The sequence maps
one to one onto LM Studio's ``toolCallGeneration*`` packets (PROTOCOL.md 6.2)
and onto OpenAI's streamed ``tool_calls`` deltas (id, then name, then argument
text). Text a model writes to call a tool is not part of the pieces.

:class:`ToolCallParser` turns a model's raw output, in the Hermes/Qwen
``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` form, into those
events as the text streams.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..api import ServerError
from .base import GeneratedPiece

__all__ = [
    "TOOL_CALLS_STOP_REASON",
    "MAX_OFFERED_TOOLS",
    "OfferedTool",
    "ToolChoice",
    "ToolOffer",
    "tool_offer_from_config",
    "ToolCallStarted",
    "ToolCallNamed",
    "ToolCallArgumentsFragment",
    "ToolCallFinished",
    "ToolCallFailed",
    "ToolCallEvent",
    "PredictionEvent",
    "complete_call_events",
    "ToolCallParser",
    "TOOL_CALL_OPEN",
    "TOOL_CALL_CLOSE",
]

TOOL_CALLS_STOP_REASON = "toolCalls"
#: A request offering more tools than this is rejected (client-controlled size).
MAX_OFFERED_TOOLS = 256
_MAX_NAME_LENGTH = 256

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"

#: ``auto``: the model may call tools; ``required``: it must call one; ``none``: it may not.
ToolChoice = Literal["auto", "required", "none"]
_CHOICES = ("auto", "required", "none")


def _empty_parameters() -> dict[str, Any]:
    return {"type": "object", "properties": {}}


@dataclass(frozen=True)
class OfferedTool:
    """A function the model may call; ``parameters`` is a JSON schema of its arguments object."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=_empty_parameters)

    def to_wire(self) -> dict[str, Any]:
        """The definition as LM Studio's ``LlmTool`` (also OpenAI's and chat templates' form)."""
        function: dict[str, Any] = {"name": self.name, "parameters": dict(self.parameters)}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}


@dataclass(frozen=True)
class ToolOffer:
    tools: tuple[OfferedTool, ...]
    choice: ToolChoice = "auto"
    #: Whether the request chose (else the server's default choice applies).
    chosen: bool = False

    def with_default_choice(self, choice: ToolChoice) -> ToolOffer:
        return self if self.chosen or choice == self.choice else replace(self, choice=choice)

    @property
    def active(self) -> bool:
        """Whether the model may call a tool in this prediction."""
        return bool(self.tools) and self.choice != "none"

    def find(self, name: str) -> OfferedTool | None:
        return next((tool for tool in self.tools if tool.name == name), None)

    def definitions(self) -> list[dict[str, Any]]:
        return [tool.to_wire() for tool in self.tools]


def _bad_tools(detail: str) -> ServerError:
    return ServerError(
        "Invalid tool definitions",
        cause=detail,
        suggestion='Send {"type": "toolArray", "tools": [{"type": "function", "function": '
        '{"name": ..., "parameters": {...}}}]}.',
    )


def _offered_tool(raw: Any, index: int) -> OfferedTool:
    function = raw.get("function") if isinstance(raw, Mapping) else None
    if not isinstance(function, Mapping):
        raise _bad_tools(f"Tool {index} has no 'function' object.")
    name = function.get("name")
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME_LENGTH:
        raise _bad_tools(
            f"Tool {index} needs a name (a string of 1-{_MAX_NAME_LENGTH} characters)."
        )
    description = function.get("description")
    parameters = function.get("parameters")
    if parameters is None:
        parameters = _empty_parameters()
    if not isinstance(parameters, Mapping):
        raise _bad_tools(f"The parameters of tool {name!r} must be a JSON schema object.")
    return OfferedTool(name, description if isinstance(description, str) else "", parameters)


def tool_offer_from_config(tools: Any, choice: Any = None) -> ToolOffer | None:
    """The offer of ``llm.prediction.tools`` and ``llm.prediction.toolChoice`` (wire values).

    ``None`` when no tools are offered. ``force: true`` in the tool array (an older
    form) means the ``required`` choice.
    """
    if not isinstance(tools, Mapping) or tools.get("type") != "toolArray":
        if isinstance(tools, Mapping) and tools.get("type") in (None, "none"):
            return None
        raise _bad_tools(f"Unknown tools setting type {tools!r:.100}.")
    items = tools.get("tools")
    if not isinstance(items, list):
        raise _bad_tools("'tools' must be a list.")
    if len(items) > MAX_OFFERED_TOOLS:
        raise _bad_tools(f"{len(items)} tools offered; at most {MAX_OFFERED_TOOLS} are accepted.")
    offered = tuple(_offered_tool(item, index) for index, item in enumerate(items))
    names = [tool.name for tool in offered]
    if len(set(names)) != len(names):
        raise _bad_tools("Two tools have the same name.")
    mode: Any = "required" if tools.get("force") is True else "auto"
    chosen = tools.get("force") is True
    if isinstance(choice, Mapping) and choice.get("mode") is not None:
        mode, chosen = choice.get("mode"), True
    if mode not in _CHOICES:
        raise ServerError(
            f"Invalid tool choice {mode!r:.50}", cause=f"toolChoice.mode must be one of {_CHOICES}."
        )
    return ToolOffer(offered, mode, chosen) if offered else None


@dataclass(frozen=True)
class ToolCallStarted:
    call_id: str


@dataclass(frozen=True)
class ToolCallNamed:
    name: str


@dataclass(frozen=True)
class ToolCallArgumentsFragment:
    text: str


@dataclass(frozen=True)
class ToolCallFinished:
    call_id: str
    name: str
    arguments: dict[str, Any]
    #: The text the model wrote for the call, when it wrote one.
    raw: str | None = None


@dataclass(frozen=True)
class ToolCallFailed:
    """The model tried to call a tool but what it wrote is not a valid call."""

    message: str
    raw: str | None = None


ToolCallEvent = (
    ToolCallStarted | ToolCallNamed | ToolCallArgumentsFragment | ToolCallFinished | ToolCallFailed
)
PredictionEvent = GeneratedPiece | ToolCallEvent


def _split_text(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def complete_call_events(
    call_id: str, name: str, arguments: dict[str, Any], *, fragment_size: int = 16
) -> list[ToolCallEvent]:
    """The events of one well-formed call, its argument JSON streamed in fragments."""
    arguments_text = json.dumps(arguments, ensure_ascii=False)
    raw = TOOL_CALL_OPEN + json.dumps({"name": name, "arguments": arguments}) + TOOL_CALL_CLOSE
    events: list[ToolCallEvent] = [ToolCallStarted(call_id), ToolCallNamed(name)]
    events.extend(ToolCallArgumentsFragment(p) for p in _split_text(arguments_text, fragment_size))
    events.append(ToolCallFinished(call_id, name, arguments, raw))
    return events


class ToolCallParser:
    """Splits streamed model output into text and ``<tool_call>`` blocks, as events.

    Feed it text with :meth:`feed` (any chunking), then call :meth:`finish`. Text
    outside blocks comes out as :class:`GeneratedPiece` (token counts are passed
    through on the text that leaves); a block's JSON is streamed as argument
    fragments once its name is known, and ends as :class:`ToolCallFinished`, or
    :class:`ToolCallFailed` when it is not a JSON call object. Whether the
    name is an offered tool is for the client to judge (as LM Studio leaves it).
    """

    def __init__(self, new_call_id: Callable[[], str]) -> None:
        self._new_call_id = new_call_id
        self._pending = ""  # text that may be the start of an opening tag
        self._block: str | None = None  # the raw JSON of the open block
        self._named = False
        self._streamed = 0
        self._call_id = ""
        self._tokens = 0
        #: How many calls were parsed successfully.
        self.calls = 0

    @property
    def in_call(self) -> bool:
        return self._block is not None

    def feed(self, text: str, tokens: int = 1) -> Iterator[PredictionEvent]:
        self._tokens += tokens
        if self._block is not None:
            yield from self._feed_block(text)
            return
        buffered = self._pending + text
        start = buffered.find(TOOL_CALL_OPEN)
        if start >= 0:
            if start:
                yield self._text(buffered[:start])
            self._pending = ""
            self._open_block()
            yield ToolCallStarted(self._call_id)
            yield from self._feed_block(buffered[start + len(TOOL_CALL_OPEN) :])
            return
        keep = _partial_suffix(buffered, TOOL_CALL_OPEN)
        self._pending = buffered[len(buffered) - keep :] if keep else ""
        out = buffered[: len(buffered) - keep]
        if out:
            yield self._text(out)

    def finish(self) -> Iterator[PredictionEvent]:
        if self._block is not None:
            yield from self._close_block(self._block)
        elif self._pending:
            yield self._text(self._pending)
            self._pending = ""

    def _text(self, text: str) -> GeneratedPiece:
        tokens, self._tokens = self._tokens, 0
        return GeneratedPiece(text, tokens)

    def _open_block(self) -> None:
        self._block = ""
        self._named = False
        self._streamed = 0
        self._call_id = self._new_call_id()

    def _feed_block(self, text: str) -> Iterator[PredictionEvent]:
        assert self._block is not None
        block = self._block + text
        end = block.find(TOOL_CALL_CLOSE)
        if end >= 0:
            rest = block[end + len(TOOL_CALL_CLOSE) :]
            yield from self._close_block(block[:end])
            if rest:
                yield from self.feed(rest, 0)
            return
        self._block = block
        if not self._named:
            name = _name_in(block)
            if name is not None:
                self._named = True
                yield ToolCallNamed(name)
        if self._named:
            start = block.find('"arguments"')
            colon = block.find(":", start) if start >= 0 else -1
            if colon >= 0:
                begin = max(colon + 1, self._streamed)
                # Hold back what may be the closing tag's start, and closing braces (the
                # last one closes the call object, not the arguments).
                visible = block[: len(block) - _partial_suffix(block, TOOL_CALL_CLOSE)]
                visible = visible.rstrip("} \n\t")
                if len(visible) > begin:
                    fragment = visible[begin:]
                    self._streamed = len(visible)
                    if fragment.strip():
                        yield ToolCallArgumentsFragment(fragment)

    def _close_block(self, body: str) -> Iterator[PredictionEvent]:
        self._block = None
        raw = TOOL_CALL_OPEN + body + TOOL_CALL_CLOSE
        try:
            call = json.loads(body)
        except ValueError:
            yield ToolCallFailed("The tool call is not valid JSON.", raw)
            return
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            yield ToolCallFailed('The tool call has no "name".', raw)
            return
        arguments = call.get("arguments", {})
        if isinstance(arguments, str):  # some models write the arguments as a JSON string
            with contextlib.suppress(ValueError):
                arguments = json.loads(arguments)
        if not isinstance(arguments, dict):
            yield ToolCallFailed('The tool call\'s "arguments" is not an object.', raw)
            return
        if not self._named:
            yield ToolCallNamed(call["name"])
        if self._streamed == 0:
            yield ToolCallArgumentsFragment(json.dumps(arguments, ensure_ascii=False))
        else:
            # The rest of the arguments' text: up to the brace closing the call object.
            rest = body[self._streamed : body.rstrip().rfind("}")]
            if rest:
                yield ToolCallArgumentsFragment(rest)
        self.calls += 1
        yield ToolCallFinished(self._call_id, call["name"], arguments, raw)


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of ``text`` that is a proper start of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


def _name_in(block: str) -> str | None:
    """The call's name once ``"name": "..."`` is complete in the partial JSON."""
    key = block.find('"name"')
    if key < 0:
        return None
    colon = block.find(":", key)
    quote = block.find('"', colon + 1) if colon >= 0 else -1
    if quote < 0:
        return None
    try:
        name, _ = json.JSONDecoder().raw_decode(block, quote)
    except ValueError:
        return None
    return name if isinstance(name, str) else None
