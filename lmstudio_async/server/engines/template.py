"""Rendering a chat history into prompt text.

The scripted models use a ChatML-style template. A ``manual`` prompt template
from the prediction config is honoured. This module does not evaluate Jinja, so
any ``jinja`` template a client sends is rendered with the built-in ChatML
template, except in raw completion mode (the ``completeModeFormatting`` layer),
where the prompt is the messages' text as-is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...protocol import (
    ChatHistoryData,
    ChatMessage,
    FilePart,
    TextPart,
    ToolCallRequestPart,
    ToolCallResultPart,
    role_of,
)
from .tokenizer import BOS_TOKEN, EOS_TOKEN, IM_END, IM_START

__all__ = ["DEFAULT_PROMPT_TEMPLATE", "TemplateOptions", "message_text", "render_prompt"]

_CHATML_JINJA = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' }}"
    "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}{{ '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

#: The ``llm.prediction.promptTemplate`` the scripted models report (what render_prompt does).
DEFAULT_PROMPT_TEMPLATE: Mapping[str, Any] = {
    "type": "jinja",
    "jinjaPromptTemplate": {"template": _CHATML_JINJA},
    "stopStrings": [],
}


@dataclass(frozen=True)
class TemplateOptions:
    """``applyPromptTemplate``'s ``opts``; predictions use the defaults."""

    omit_bos_token: bool = False
    omit_eos_token: bool = False
    #: ``LlmTool`` definitions in wire form, rendered into the prompt when given.
    tool_definitions: Sequence[object] = ()


def _part_text(part: TextPart | FilePart | ToolCallRequestPart | ToolCallResultPart) -> str:
    if isinstance(part, TextPart):
        return part.text
    if isinstance(part, FilePart):
        return f"<{part.file_type}:{part.name}>"
    if isinstance(part, ToolCallRequestPart):
        request = part.tool_call_request
        call = {"name": request.name, "arguments": request.arguments or {}}
        return f"<tool_call>{json.dumps(call, ensure_ascii=False)}</tool_call>"
    return f"<tool_response>{part.content}</tool_response>"


def message_text(message: ChatMessage) -> str:
    return "".join(_part_text(part) for part in message.content)


def _render_raw(history: ChatHistoryData) -> str:
    return "".join(message_text(message) for message in history.messages)


def _render_chatml(history: ChatHistoryData, options: TemplateOptions) -> str:
    out = [] if options.omit_bos_token else [BOS_TOKEN]
    if options.tool_definitions:
        # Sorted keys: the prompt (hence the scripted model's reply) must not depend on the
        # order in which a client happens to write a definition's keys.
        tools = "\n".join(
            json.dumps(tool, ensure_ascii=False, sort_keys=True)
            for tool in options.tool_definitions
        )
        out.append(f"{IM_START}system\n# Tools\n<tools>\n{tools}\n</tools>{IM_END}\n")
    role = ""
    for message in history.messages:
        role = role_of(message)
        out.append(f"{IM_START}{role}\n{message_text(message)}{IM_END}")
        if role == "assistant" and not options.omit_eos_token:
            out.append(EOS_TOKEN)
        out.append("\n")
    if role != "assistant":
        out.append(f"{IM_START}assistant\n")
    return "".join(out)


def _render_manual(history: ChatHistoryData, manual: Mapping[str, Any]) -> str:
    def affix(name: str) -> str:
        value = manual.get(name, "")
        return value if isinstance(value, str) else ""

    out = []
    role = ""
    for message in history.messages:
        role = role_of(message)
        # The manual template has no slot for tool results; they read as user turns.
        slot = {"system": "System", "assistant": "Assistant"}.get(role, "User")
        out.append(affix(f"before{slot}") + message_text(message) + affix(f"after{slot}"))
    if role != "assistant":
        out.append(affix("beforeAssistant"))
    return "".join(out)


def render_prompt(
    history: ChatHistoryData,
    template: Mapping[str, Any],
    *,
    raw_completion: bool,
    options: TemplateOptions,
) -> str:
    """The prompt text for ``history`` under ``template`` (a wire ``promptTemplate``)."""
    if raw_completion:
        return _render_raw(history)
    manual = template.get("manualPromptTemplate")
    if template.get("type") == "manual" and isinstance(manual, Mapping):
        return _render_manual(history, manual)
    return _render_chatml(history, options)
