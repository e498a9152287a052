"""How the scripted engine decides on tool calls: a deterministic rule apps can rely on in tests.

The rule reads the *last turn* of the prompt: with the engine's ChatML template,
the last ``user`` or ``tool`` message; with any other template (a ``manual``
one, raw completion), the whole prompt.

- The last turn is a user message, and the prediction offers tools (choice not
  ``none``): every whole-word mention of an offered tool's name is a call, in
  order of mention (at most :data:`MAX_SCRIPTED_CALLS`). A JSON object right
  after the name (after optional spaces, ``:`` or ``(``) is the call's
  arguments, exactly as written, so a test can also send arguments that do not
  fit the schema. Without one, the arguments are sample values of the tool's
  parameter schema. A ``{`` after the name that does not start valid JSON makes
  a malformed call (``toolCallGenerationFailed``). With the ``required`` choice
  and no tool named, the first tool is called. The reply then has no text and
  stops with ``toolCalls``.
- The last turn holds tool results: the reply is prose that starts with
  ``Tool result: CONTENT.`` per result, whether or not tools are still offered.

Example: ``What is add {"a": 1, "b": 2}?`` with a tool ``add`` offered calls
``add(a=1, b=2)``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .json_schema import generate_json
from .tokenizer import IM_END, IM_START, stable_hash
from .tools import (
    TOOL_CALL_OPEN,
    OfferedTool,
    ToolCallEvent,
    ToolCallFailed,
    ToolCallStarted,
    ToolOffer,
    complete_call_events,
)

__all__ = ["MAX_SCRIPTED_CALLS", "ScriptedToolPlan", "plan_tool_use"]

MAX_SCRIPTED_CALLS = 16
_TURN_HEADER = re.compile(re.escape(IM_START) + r"(user|tool)\n")
_TOOL_RESPONSE = re.compile(r"<tool_response>(.*?)</tool_response>", re.DOTALL)
_BEFORE_ARGUMENTS = re.compile(r"[ \t]*[:(]?[ \t]*")


@dataclass
class ScriptedToolPlan:
    #: The tool-call events to emit (none: reply in prose).
    events: list[ToolCallEvent] = field(default_factory=list)
    #: Text the prose reply starts with.
    reply_prefix: str = ""


def _last_turn(prompt: str) -> tuple[str, str]:
    """(role, text) of the prompt's last user or tool turn; role ``""`` for a foreign template."""
    headers = list(_TURN_HEADER.finditer(prompt))
    if not headers:
        return "", prompt
    last = headers[-1]
    end = prompt.find(IM_END, last.end())
    return last.group(1), prompt[last.end() : end if end >= 0 else len(prompt)]


def _mentions(text: str, offer: ToolOffer) -> list[tuple[int, OfferedTool, int]]:
    """(position, tool, end of the name) of each mention, in order."""
    found: list[tuple[int, OfferedTool, int]] = []
    for tool in offer.tools:
        pattern = r"(?<![\w-])" + re.escape(tool.name) + r"(?![\w-])"
        found.extend((m.start(), tool, m.end()) for m in re.finditer(pattern, text))
    found.sort(key=lambda mention: mention[0])
    return found[:MAX_SCRIPTED_CALLS]


def _call_id(prompt: str, index: int) -> str:
    # LM Studio's call ids are decimal strings.
    return str(stable_hash("tool call", prompt, str(index)) % 1_000_000_000)


def _call_events(
    text: str, tool: OfferedTool, name_end: int, call_id: str, seed: int
) -> list[ToolCallEvent]:
    start = _BEFORE_ARGUMENTS.match(text, name_end)
    position = start.end() if start else name_end
    if text.startswith("{", position):
        try:
            arguments, _ = json.JSONDecoder().raw_decode(text, position)
        except ValueError:
            raw = TOOL_CALL_OPEN + json.dumps({"name": tool.name})[:-1] + ', "arguments": '
            raw += text[position : position + 200]
            return [
                ToolCallStarted(call_id),
                ToolCallFailed("The tool call is not valid JSON.", raw),
            ]
        if isinstance(arguments, dict):
            return complete_call_events(call_id, tool.name, arguments)
    arguments = generate_json(tool.parameters, seed)
    return complete_call_events(
        call_id, tool.name, arguments if isinstance(arguments, dict) else {}
    )


def plan_tool_use(prompt: str, offer: ToolOffer | None, seed: int) -> ScriptedToolPlan:
    role, text = _last_turn(prompt)
    if role == "tool":
        results = _TOOL_RESPONSE.findall(text) or [text]
        prefix = "".join(f"Tool result: {result.strip()}. " for result in results)
        return ScriptedToolPlan(reply_prefix=prefix)
    if offer is None or not offer.active:
        return ScriptedToolPlan()
    mentions = _mentions(text, offer)
    if not mentions and offer.choice == "required":
        mentions = [(0, offer.tools[0], 0)]
        text = ""
    events: list[ToolCallEvent] = []
    for index, (_, tool, name_end) in enumerate(mentions):
        call_seed = stable_hash("arguments", prompt, str(seed), str(index))
        events.extend(_call_events(text, tool, name_end, _call_id(prompt, index), call_seed))
    return ScriptedToolPlan(events=events)
