"""Rendering a chat history with a model's own Jinja chat template.

The template is the GGUF's ``tokenizer.chat_template``, rendered by
llama-cpp-python's Jinja2 chat formatter (a sandboxed environment with the
helpers Hugging Face templates expect). A ``jinja`` prompt template sent in the
prediction config replaces it; a ``manual`` one and raw completion (the
``completeModeFormatting`` layer) are rendered as :mod:`.template` does. A GGUF
without a chat template falls back to :mod:`.template`'s ChatML.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from ....protocol import (
    ChatHistoryData,
    role_of,
)
from ...api import ServerError
from ..prediction_settings import PredictionSettings
from ..template import DEFAULT_PROMPT_TEMPLATE, TemplateOptions, message_text, render_prompt
from .tool_calling import template_knows_tools, tool_instructions

__all__ = ["ChatTemplate"]


@lru_cache(maxsize=32)
def _formatter(template: str, bos: str, eos: str, add_generation_prompt: bool) -> Any:
    """A compiled formatter: compiling a template costs far more than rendering it."""
    return Jinja2ChatFormatter(
        template=template,
        bos_token=bos,
        eos_token=eos,
        add_generation_prompt=add_generation_prompt,
    )


def _client_template(settings: PredictionSettings) -> str | None:
    """The Jinja template the request asked for, if it is not the server's default."""
    template = settings.prompt_template
    if template == DEFAULT_PROMPT_TEMPLATE or template.get("type") != "jinja":
        return None
    jinja = template.get("jinjaPromptTemplate")
    source = jinja.get("template") if isinstance(jinja, Mapping) else None
    return source if isinstance(source, str) and source else None


class ChatTemplate:
    """A model's chat template with its BOS and EOS token texts."""

    def __init__(self, source: str | None, bos_token: str, eos_token: str) -> None:
        self._source = source
        self._bos = bos_token
        self._eos = eos_token

    def render(
        self, history: ChatHistoryData, settings: PredictionSettings, options: TemplateOptions
    ) -> str:
        source = _client_template(settings) or self._source
        manual = settings.prompt_template.get("type") == "manual"
        if settings.raw_completion or manual or not source:
            return render_prompt(
                history,
                settings.prompt_template,
                raw_completion=settings.raw_completion,
                options=options,
            )
        messages = [
            {"role": role_of(message), "content": message_text(message)}
            for message in history.messages
        ]
        tools = list(options.tool_definitions) or None
        if tools and not template_knows_tools(source):
            # The template ignores tools: describe them in the system prompt instead
            # (appended to the chat's own, if it has one).
            instructions = tool_instructions(tools)
            if messages and messages[0]["role"] == "system":
                messages[0]["content"] += "\n\n" + instructions
            else:
                messages.insert(0, {"role": "system", "content": instructions})
            tools = None
        last_role = messages[-1]["role"] if messages else ""
        try:
            formatter = _formatter(
                source,
                "" if options.omit_bos_token else self._bos,
                "" if options.omit_eos_token else self._eos,
                last_role != "assistant",
            )
            rendered = formatter(messages=messages, tools=tools)
        # Templates come from model files and clients: any failure is the template's.
        except Exception as exc:
            raise ServerError(
                "Error rendering the prompt template", cause=f"The chat template failed: {exc}"
            ) from None
        prompt: str = rendered.prompt
        return prompt
