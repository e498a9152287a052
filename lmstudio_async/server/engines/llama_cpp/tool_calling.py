"""Tool calling on llama.cpp models: the grammar that keeps calls well-formed, and the prompt
instructions for chat templates that know nothing of tools.

Calls are written in the Hermes/Qwen form that :class:`..tools.ToolCallParser`
reads::

    <tool_call>
    {"name": "add", "arguments": {"a": 1, "b": 2}}
    </tool_call>

The grammar (GBNF, from llama.cpp's own JSON-schema converter) allows, per
offered tool, exactly its name and arguments matching its parameter schema.
With the ``required`` tool choice the reply must be one call; with ``auto`` it
is either one call or free text that does not start with ``<`` (so a reply
that starts to call a tool has to finish the call correctly).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from llama_cpp import LlamaGrammar
from llama_cpp.llama_grammar import SchemaConverter

from ...api import ServerError
from ..tools import TOOL_CALL_CLOSE, TOOL_CALL_OPEN, ToolOffer

__all__ = ["tool_call_grammar", "tool_instructions", "template_knows_tools"]

_CALL_OPEN = TOOL_CALL_OPEN + "\n"
_CALL_CLOSE = "\n" + TOOL_CALL_CLOSE


def tool_call_grammar_text(offer: ToolOffer) -> str:
    converter = SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    literal = converter._format_literal
    calls = []
    for index, tool in enumerate(offer.tools):
        # A deep copy: resolve_refs rewrites the references it finds in place.
        schema: Any = json.loads(json.dumps(tool.parameters)) or {"type": "object"}
        schema = converter.resolve_refs(schema, f"tool{index}")
        arguments = converter.visit(schema, f"tool{index}-arguments")
        name = literal('{"name": ' + json.dumps(tool.name, ensure_ascii=False) + ', "arguments": ')
        calls.append(converter._add_rule(f"tool{index}-call", f'{name} {arguments} "}}"'))
    block = f"{literal(_CALL_OPEN)} ({' | '.join(calls)}) {literal(_CALL_CLOSE)}"
    converter._add_rule("tool-call-block", block)
    if offer.choice == "required":
        root = "tool-call-block"
    else:
        converter._add_rule("free-text", "[^<] [^\\x00]*")
        root = "tool-call-block | free-text"
    return f"root ::= {root}\n{converter.format_grammar()}"


def tool_call_grammar(offer: ToolOffer) -> Any:
    try:
        return LlamaGrammar.from_string(tool_call_grammar_text(offer), verbose=False)
    # The converter raises assorted errors for schemas it cannot express.
    except Exception as exc:
        raise ServerError(
            "Unsupported JSON schema in a tool definition", cause=str(exc) or type(exc).__name__
        ) from None


def template_knows_tools(template_source: str) -> bool:
    """Whether a chat template renders the ``tools`` it is given."""
    return "tools" in template_source


def tool_instructions(tool_definitions: Sequence[object]) -> str:
    """A system-prompt section offering the tools (wire ``LlmTool`` definitions), for
    templates without tool support."""
    definitions = "\n".join(
        json.dumps(tool, ensure_ascii=False, sort_keys=True) for tool in tool_definitions
    )
    return (
        "You may call functions to help answer. The functions, as JSON schemas:\n"
        f"<tools>\n{definitions}\n</tools>\n"
        "To call one, reply with only:\n"
        f'{_CALL_OPEN}{{"name": <function name>, "arguments": <arguments object>}}{_CALL_CLOSE}\n'
        "Function results come back in <tool_response> tags."
    )
