"""Types for structured output and for the SDK's own data classes (``lmstudio_async.schemas``).

The official SDK's ``lmstudio.schemas`` names: subclass :class:`BaseModel` to
describe a structured reply without pydantic, pass any class with a
``model_json_schema()`` classmethod (:class:`ModelSchema`, e.g. a pydantic
model) as ``response_format``, and catch :class:`ValidationError` from
``from_dict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeAlias, runtime_checkable

import msgspec
from msgspec import ValidationError

from .protocol.base import WireStruct
from .structured import ResponseFormat

__all__ = [
    "AnyLMStudioStruct",
    "BaseModel",
    "DictObject",
    "DictSchema",
    "ModelSchema",
    "ResponseSchema",
    "ValidationError",
]

#: Any JSON-compatible dict with string keys.
DictObject: TypeAlias = Mapping[str, Any]
#: A JSON schema, as a dict.
DictSchema: TypeAlias = Mapping[str, Any]
#: The base of every data class of the SDK (infos, messages, specifiers...).
AnyLMStudioStruct: TypeAlias = WireStruct
#: What ``response_format`` accepts (see :mod:`lmstudio_async.structured`).
ResponseSchema: TypeAlias = ResponseFormat


@runtime_checkable
class ModelSchema(Protocol):
    """A class that describes its instances with a JSON schema (pydantic models do)."""

    @classmethod
    def model_json_schema(cls) -> DictSchema:
        """The JSON schema of instances of this class."""
        ...


class BaseModel(msgspec.Struct, omit_defaults=True, kw_only=True):
    """Base of structured-output classes, pydantic-style, without needing pydantic.

    ``result.parsed`` of a prediction with ``response_format=MyModel`` is a ``MyModel``.
    """

    @classmethod
    def model_json_schema(cls) -> DictSchema:
        """The JSON schema of this class (as LM Studio takes it: no top-level ``$ref``).

        The same schema the official SDK's ``BaseModel`` gives, down to the (possibly
        empty) ``$defs`` it keeps.
        """
        schema = dict(msgspec.json.schema(cls))
        ref = schema.pop("$ref", None)
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            defs = dict(schema.get("$defs", {}))
            schema.update(defs.pop(ref.removeprefix("#/$defs/")))
            schema["$defs"] = defs
        result: dict[str, Any] = msgspec.to_builtins(schema, order="deterministic")
        return result


for _name in ("BaseModel", "ModelSchema"):
    globals()[_name].__module__ = "lmstudio_async"
del _name
