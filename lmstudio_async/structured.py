"""Structured output: ``response_format`` as a JSON schema, a pydantic model or a msgspec Struct.

The schema goes to the server as ``llm.prediction.structured``; the reply is then
decoded into what was given: the class itself for a model or Struct class, plain
JSON values for a schema dict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import msgspec

from .errors import LMStudioValueError

__all__ = ["ResponseFormat", "ResponseSchema", "structured_from"]


@runtime_checkable
class _PydanticModel(Protocol):
    @classmethod
    def model_json_schema(cls) -> dict[str, Any]: ...


#: A JSON schema dict, the wire setting (``{"type": "json", "jsonSchema": ...}`` or
#: ``{"type": "gbnf", "gbnfGrammar": ...}``), a pydantic model class or a msgspec Struct class.
ResponseFormat = Mapping[str, Any] | type


@dataclass(frozen=True)
class ResponseSchema:
    """What to send, and how to decode the reply."""

    setting: dict[str, Any]
    target: type | None

    def parse(self, content: str) -> Any:
        """The reply decoded into the requested form."""
        try:
            if self.target is None:
                return json.loads(content)
            if issubclass(self.target, msgspec.Struct):
                return msgspec.json.decode(content, type=self.target)
            return self.target.model_validate_json(content)  # type: ignore[attr-defined]
        except Exception as exc:  # each library raises its own error type
            what = self.target.__name__ if self.target is not None else "JSON"
            raise LMStudioValueError(
                f"The model's reply is not valid {what} ({exc}); its text is in result.content."
            ) from exc


def structured_from(response_format: ResponseFormat) -> ResponseSchema:
    """Validate ``response_format`` (before anything is sent) and build its setting."""
    if isinstance(response_format, type):
        if issubclass(response_format, msgspec.Struct):
            schema = _inline_top_level_ref(msgspec.json.schema(response_format))
        elif isinstance(response_format, _PydanticModel):
            schema = _inline_top_level_ref(response_format.model_json_schema())
        else:
            raise LMStudioValueError(
                f"response_format class {response_format.__name__} is neither a pydantic "
                "model nor a msgspec Struct; pass one of those or a JSON schema dict."
            )
        return ResponseSchema({"type": "json", "jsonSchema": schema}, response_format)
    if isinstance(response_format, Mapping):
        kind = response_format.get("type")
        if kind == "json" and "jsonSchema" in response_format:
            return ResponseSchema(dict(response_format), None)
        if kind == "gbnf":
            if not isinstance(response_format.get("gbnfGrammar"), str):
                raise LMStudioValueError("A gbnf response_format needs a 'gbnfGrammar' string.")
            return ResponseSchema(dict(response_format), None)
        return ResponseSchema({"type": "json", "jsonSchema": dict(response_format)}, None)
    raise LMStudioValueError(
        "response_format must be a JSON schema dict, a pydantic model class or a msgspec "
        f"Struct class, not {response_format!r}."
    )


def _inline_top_level_ref(schema: dict[str, Any]) -> dict[str, Any]:
    """LM Studio does not accept a schema that is only a ``$ref``; put the target inline."""
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return schema
    defs = dict(schema.get("$defs", {}))
    name = ref.removeprefix("#/$defs/")
    inlined = dict(defs.pop(name))
    if defs:
        inlined["$defs"] = defs
    return inlined
