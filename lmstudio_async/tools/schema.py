"""JSON schemas of tool parameters, and checking a model's arguments against them.

A function's parameters become the properties of one object schema, built the
way the official SDK builds it (a msgspec struct of the parameters, its
top-level ``$ref`` inlined, no title), so the same function is offered to the
model identically by both SDKs. Parameter types msgspec understands (builtins,
``Literal``, enums, dataclasses, ``TypedDict``, msgspec Structs, ...) are
described and converted by msgspec; pydantic models by pydantic (their
``$defs`` are merged into the schema's).

Raw JSON-schema tools are checked by :func:`schema_errors`, a small validator
covering what tool schemas use: ``type``, ``properties``, ``required``,
``additionalProperties``, ``items``, ``enum``, ``const``, ``anyOf``/``oneOf``/
``allOf``, local ``$ref``, numeric bounds and string lengths.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, get_type_hints

import msgspec

from ..errors import LMStudioValueError

__all__ = ["ParameterSpec", "FunctionParameters", "schema_errors"]

_NO_DEFAULT: Any = inspect.Parameter.empty


def _is_pydantic(annotation: Any) -> bool:
    return isinstance(annotation, type) and hasattr(annotation, "model_validate")


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    annotation: Any
    default: Any = _NO_DEFAULT


def _hoist_defs(node: Any, defs: dict[str, Any]) -> None:
    """Move nested ``$defs`` (from pydantic schemas) up to the root's."""
    if isinstance(node, dict):
        nested = node.pop("$defs", None)
        if isinstance(nested, dict):
            defs.update(nested)
            _hoist_defs(nested, defs)
        for value in node.values():
            _hoist_defs(value, defs)
    elif isinstance(node, list):
        for item in node:
            _hoist_defs(item, defs)


def _pydantic_schema(annotation: type) -> dict[str, Any]:
    if _is_pydantic(annotation):
        schema: dict[str, Any] = annotation.model_json_schema()  # type: ignore[attr-defined]
        return schema
    raise NotImplementedError


class FunctionParameters:
    """The parameters of one tool: their JSON schema and an argument converter."""

    def __init__(self, tool_name: str, parameters: list[ParameterSpec]) -> None:
        self._tool = tool_name
        self._parameters = parameters
        self.specs = tuple(parameters)
        try:
            # The schema describes pydantic parameters through the hook; conversion lets
            # their values through as JSON for pydantic to validate after.
            self.schema = self._build_schema(self._define(keep_pydantic=True))
            self._struct = self._define(keep_pydantic=False)
        except (TypeError, ValueError) as exc:
            raise LMStudioValueError(
                f"Cannot describe the parameters of tool {tool_name!r} as JSON schema: {exc}"
            ) from exc

    @classmethod
    def of_callable(cls, tool_name: str, function: Callable[..., Any]) -> FunctionParameters:
        try:
            signature = inspect.signature(function)
            hints = get_type_hints(function, include_extras=True)
        except (TypeError, ValueError, NameError) as exc:
            raise LMStudioValueError(
                f"Cannot read the parameters of tool {tool_name!r} ({function!r}): {exc}"
            ) from exc
        specs = [
            ParameterSpec(name, hints.get(name, Any), parameter.default)
            for name, parameter in signature.parameters.items()
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        ]
        return cls(tool_name, specs)

    def _define(self, *, keep_pydantic: bool) -> type[msgspec.Struct]:
        fields: list[Any] = []
        for parameter in self._parameters:
            annotation = parameter.annotation
            if not keep_pydantic and _is_pydantic(annotation):
                annotation = Any
            if parameter.default is _NO_DEFAULT:
                fields.append((parameter.name, annotation))
            else:
                fields.append((parameter.name, annotation, parameter.default))
        return msgspec.defstruct(f"{self._tool.capitalize()}Parameters", fields, kw_only=True)

    def _build_schema(self, struct: type[msgspec.Struct]) -> dict[str, Any]:
        schema = msgspec.json.schema(struct, schema_hook=_pydantic_schema)
        defs: dict[str, Any] = schema.pop("$defs", {})
        _hoist_defs(schema, defs)
        for value in list(defs.values()):
            _hoist_defs(value, defs)
        ref = schema.pop("$ref", None)
        if isinstance(ref, str):
            schema.update(defs.pop(ref.rsplit("/", 1)[1]))
        schema.pop("title", None)
        if defs:
            schema["$defs"] = defs
        return schema

    def convert(self, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
        """Keyword arguments for the implementation; raises ``ValueError`` if they don't fit."""
        try:
            parsed = msgspec.convert(dict(arguments or {}), self._struct)
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None
        result = {p.name: getattr(parsed, p.name) for p in self._parameters}
        for parameter in self._parameters:
            if _is_pydantic(parameter.annotation) and parameter.name in result:
                value = result[parameter.name]
                if not isinstance(value, parameter.annotation):
                    try:
                        result[parameter.name] = parameter.annotation.model_validate(value)
                    except Exception as exc:  # pydantic's ValidationError
                        raise ValueError(f"{exc} - at `$.{parameter.name}`") from None
        return result


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def schema_errors(schema: Any, value: Any, root: Any = None, path: str = "$") -> list[str]:
    """What is wrong with ``value`` under ``schema`` (empty when it is valid)."""
    root = schema if root is None else root
    if schema is True or not isinstance(schema, Mapping):
        return [] if schema is not False else [f"{path}: no value is allowed"]
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for key in ref[2:].split("/"):
            target = target.get(key) if isinstance(target, Mapping) else None
        return schema_errors(target, value, root, path)
    errors: list[str] = []
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []
    if kinds and not any(_JSON_TYPES.get(k, lambda v: True)(value) for k in kinds):
        return [f"{path}: expected {' or '.join(kinds)}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: must be {schema['const']!r}")
    if isinstance(schema.get("enum"), list) and value not in schema["enum"]:
        errors.append(f"{path}: must be one of {schema['enum']!r}")
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and all(schema_errors(o, value, root, path) for o in options):
            errors.append(f"{path}: matches none of the {key} options")
    for option in schema.get("allOf", []) if isinstance(schema.get("allOf"), list) else []:
        errors.extend(schema_errors(option, value, root, path))
    if isinstance(value, dict):
        errors.extend(_object_errors(schema, value, root, path))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors.extend(schema_errors(schema["items"], item, root, f"{path}[{index}]"))
    elif isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']}")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: less than {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: more than {schema['maximum']}")
    return errors


def _object_errors(
    schema: Mapping[str, Any], value: dict[str, Any], root: Any, path: str
) -> list[str]:
    errors: list[str] = []
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    for name in schema.get("required", []) if isinstance(schema.get("required"), list) else []:
        if name not in value:
            errors.append(f"{path}: missing required property {name!r}")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            errors.extend(schema_errors(properties[name], item, root, f"{path}.{name}"))
        elif extra is False:
            errors.append(f"{path}: unexpected property {name!r}")
        elif isinstance(extra, Mapping):
            errors.extend(schema_errors(extra, item, root, f"{path}.{name}"))
    return errors
