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

from .config import StructuredSetting
from .errors import LMStudioValueError
from .validation import check_encodable

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
            if self.setting.get("type") != "json":
                return content  # a GBNF grammar: the text is the result
            if self.target is None:
                return json.loads(content)
            if issubclass(self.target, msgspec.Struct):
                return msgspec.json.decode(content, type=self.target)
            if hasattr(self.target, "model_validate_json"):  # pydantic
                return self.target.model_validate_json(content)
            return json.loads(content)  # only a schema: JSON values, as the official gives
        except Exception as exc:  # each library raises its own error type
            what = self.target.__name__ if self.target is not None else "JSON"
            raise LMStudioValueError(
                f"The model's reply is not valid {what} ({exc}); its text is in result.content."
            ) from exc


def structured_from(response_format: ResponseFormat | StructuredSetting) -> ResponseSchema:
    """Validate ``response_format`` (before anything is sent) and build its setting."""
    if isinstance(response_format, StructuredSetting):
        return _from_setting(response_format.to_dict())
    if isinstance(response_format, type):
        # A class's own model_json_schema() first (our BaseModel's is the official's).
        if isinstance(response_format, _PydanticModel):
            schema = inline_top_level_ref(dict(response_format.model_json_schema()))
        elif issubclass(response_format, msgspec.Struct):
            schema = inline_top_level_ref(msgspec.json.schema(response_format))
        else:
            raise LMStudioValueError(
                f"response_format class {response_format.__name__} has no model_json_schema() "
                "and is not a msgspec Struct; pass a pydantic model, a BaseModel or msgspec "
                "Struct subclass, or a JSON schema dict."
            )
        return _checked(ResponseSchema({"type": "json", "jsonSchema": schema}, response_format))
    if isinstance(response_format, Mapping):
        kind = response_format.get("type")
        if kind in ("json", "gbnf", "none") and _SETTING_KEYS.keys() >= response_format.keys():
            return _from_setting({_SETTING_KEYS[k]: v for k, v in response_format.items()})
        return _checked(ResponseSchema({"type": "json", "jsonSchema": dict(response_format)}, None))
    raise LMStudioValueError(
        "response_format must be a JSON schema dict, a pydantic model class or a msgspec "
        f"Struct class, not {response_format!r}."
    )


#: The keys of a structured-output setting (as the official SDK takes it), either spelling.
_SETTING_KEYS = {
    "type": "type",
    "jsonSchema": "jsonSchema",
    "json_schema": "jsonSchema",
    "gbnfGrammar": "gbnfGrammar",
    "gbnf_grammar": "gbnfGrammar",
}
_VALID = (
    "a JSON schema dict, {'type': 'json', 'jsonSchema': {...}}, "
    "{'type': 'gbnf', 'gbnfGrammar': '...'}, a StructuredSetting, a pydantic model class "
    "or a msgspec Struct class"
)


def _from_setting(setting: dict[str, Any]) -> ResponseSchema:
    kind = setting.get("type")
    if kind == "gbnf" and not isinstance(setting.get("gbnfGrammar"), str):
        raise LMStudioValueError("A gbnf response_format needs a 'gbnfGrammar' string.")
    if kind == "json" and not isinstance(setting.get("jsonSchema"), Mapping):
        raise LMStudioValueError(
            f"A json response_format needs a 'jsonSchema' dict, not {setting.get('jsonSchema')!r}."
        )
    return _checked(ResponseSchema(setting, None))


def _checked(schema: ResponseSchema) -> ResponseSchema:
    check_encodable(schema.setting, "response_format", _VALID)
    return schema


def inline_top_level_ref(schema: dict[str, Any]) -> dict[str, Any]:
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
