"""The llama.cpp grammar of a prediction: from its JSON schema or its GBNF text, checked first.

llama-cpp-python hands a grammar to llama.cpp without checking that llama.cpp
accepted it: a grammar llama.cpp's parser refuses becomes a null sampler, and
some malformed grammars make llama.cpp abort the whole process. So a grammar
is used only after two checks: our own GBNF parser (``engines/gbnf.py``, which
refuses everything that is known to crash llama.cpp, such as ``x{2,1}``), then
llama.cpp's parser itself, whose verdict is read from the sampler it returns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import llama_cpp
from llama_cpp import LlamaGrammar

from ...api import ServerError
from ..gbnf import GrammarError, parse_gbnf
from ..prediction_settings import PredictionSettings

__all__ = ["grammar_for"]


def grammar_for(llama: Any, settings: PredictionSettings) -> LlamaGrammar | None:
    """The grammar ``settings`` ask for (``None``: free text); :class:`ServerError` if unusable."""
    if settings.gbnf is not None:
        text = settings.gbnf.text
    elif settings.json_schema is not None:
        text = _json_schema_grammar(settings.json_schema)
    else:
        return None
    _check_with_llama_cpp(llama, text)
    return LlamaGrammar.from_string(text, verbose=False)


def _json_schema_grammar(schema: Mapping[str, Any]) -> str:
    try:
        text = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)._grammar
    # The converter raises assorted errors for schemas it cannot express.
    except Exception as exc:
        raise ServerError(
            "Unsupported JSON schema for structured output", cause=str(exc) or type(exc).__name__
        ) from None
    try:
        parse_gbnf(text)
    except GrammarError as exc:
        raise ServerError(
            "Unsupported JSON schema for structured output",
            cause=f"Its grammar cannot be used: {exc}",
        ) from None
    return str(text)


def _check_with_llama_cpp(llama: Any, text: str) -> None:
    sampler = llama_cpp.llama_sampler_init_grammar(
        llama._model.vocab, text.encode("utf-8"), b"root"
    )
    if not sampler:
        raise ServerError(
            "Invalid GBNF grammar: llama.cpp refused it",
            cause="llama.cpp's grammar parser rejected the grammar (its log says why).",
            suggestion="See llama.cpp's grammars/README.md for the GBNF syntax.",
        )
    llama_cpp.llama_sampler_free(sampler)
