"""Deterministic sample values for a JSON schema, for scripted structured output.

Covers what clients commonly send (pydantic-style schemas included): ``type``
(also as a list), ``properties``/``required``, ``items``, ``enum``, ``const``,
``anyOf``/``oneOf``/``allOf``, local ``$ref`` (``#/$defs/...``), numeric bounds
and ``multipleOf``, string lengths and common ``format``s, array sizes and
``uniqueItems``. ``pattern`` is not honoured.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from typing import Any

from .tokenizer import stable_hash

__all__ = ["generate_json"]

_WORDS = (
    "amber", "river", "lantern", "orbit", "maple", "signal", "harbor", "velvet",
    "summit", "echo", "meadow", "cobalt", "willow", "ember", "quartz", "delta",
)  # fmt: skip
_MAX_DEPTH = 6


def generate_json(schema: Mapping[str, Any], seed: int) -> Any:
    """A value valid against ``schema``, the same for the same schema and seed."""
    rng = random.Random(seed ^ stable_hash(json.dumps(schema, sort_keys=True, default=str)))
    return _Generator(schema, rng).value(schema, 0)


class _Generator:
    def __init__(self, root: Mapping[str, Any], rng: random.Random) -> None:
        self._root = root
        self._rng = rng

    def value(self, schema: Any, depth: int) -> Any:
        if not isinstance(schema, Mapping):
            return None if schema is False else self._string({})
        if isinstance(schema.get("$ref"), str):
            return self.value(self._resolve(schema["$ref"]), depth + 1)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self._rng.choice(schema["enum"])
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                return self.value(self._pick_option(options), depth + 1)
        if isinstance(schema.get("allOf"), list):
            return self.value(self._merge(schema), depth + 1)
        return self._typed(schema, self._type_of(schema), depth)

    def _typed(self, schema: Mapping[str, Any], type_: str, depth: int) -> Any:
        if type_ == "object":
            return self._object(schema, depth)
        if type_ == "array":
            return self._array(schema, depth)
        if type_ == "integer":
            return self._integer(schema)
        if type_ == "number":
            return self._number(schema)
        if type_ == "boolean":
            return self._rng.random() < 0.5
        if type_ == "null":
            return None
        return self._string(schema)

    def _type_of(self, schema: Mapping[str, Any]) -> str:
        type_ = schema.get("type")
        if isinstance(type_, list):
            concrete = [t for t in type_ if t != "null"]
            type_ = concrete[0] if concrete else "null"
        if isinstance(type_, str):
            return type_
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return "string"

    def _resolve(self, ref: str) -> Any:
        node: Any = self._root
        for part in ref.removeprefix("#").strip("/").split("/"):
            if not part:
                continue
            if not isinstance(node, Mapping):
                return {}
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {})
        return node

    def _pick_option(self, options: list[Any]) -> Any:
        non_null = [o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")]
        return non_null[0] if non_null else options[0]

    def _merge(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        properties: dict[str, Any] = dict(merged.get("properties") or {})
        required: list[str] = list(merged.get("required") or [])
        for part in schema["allOf"]:
            if isinstance(part, Mapping) and isinstance(part.get("$ref"), str):
                part = self._resolve(part["$ref"])
            if not isinstance(part, Mapping):
                continue
            properties.update(part.get("properties") or {})
            required.extend(part.get("required") or [])
            merged.update({k: v for k, v in part.items() if k not in ("properties", "required")})
        merged.update(properties=properties, required=required)
        return merged

    def _object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return {}
        required = set(schema.get("required") or ())
        return {
            name: self.value(sub, depth + 1)
            for name, sub in properties.items()
            if depth < _MAX_DEPTH or name in required
        }

    def _array(self, schema: Mapping[str, Any], depth: int) -> list[Any]:
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", max(low, 3)))
        size = low if depth >= _MAX_DEPTH else self._rng.randint(max(low, min(1, high)), high)
        items = schema.get("items", {})
        result: list[Any] = []
        seen: set[str] = set()
        for _ in range(size * 8):
            if len(result) == size:
                break
            item = self.value(items, depth + 1)
            key = json.dumps(item, sort_keys=True)
            if schema.get("uniqueItems") and key in seen:
                continue
            seen.add(key)
            result.append(item)
        return result

    def _bounds(self, schema: Mapping[str, Any], step: float) -> tuple[float, float]:
        low, high = _number_or_none(schema.get("minimum")), _number_or_none(schema.get("maximum"))
        exclusive_low = schema.get("exclusiveMinimum")
        exclusive_high = schema.get("exclusiveMaximum")
        # Draft 4 spells exclusivity as a boolean next to minimum/maximum.
        if exclusive_low is True and low is not None:
            low += step
        elif (bound := _number_or_none(exclusive_low)) is not None:
            low = bound + step
        if exclusive_high is True and high is not None:
            high -= step
        elif (bound := _number_or_none(exclusive_high)) is not None:
            high = bound - step
        if low is None:
            low = 0 if high is None or high >= 0 else high - 100
        if high is None:
            high = low + 100
        return float(low), float(high)

    def _integer(self, schema: Mapping[str, Any]) -> int:
        low, high = self._bounds(schema, 1)
        multiple = schema.get("multipleOf")
        if isinstance(multiple, int) and multiple > 0:
            first, last = math.ceil(low / multiple), math.floor(high / multiple)
            return self._rng.randint(first, max(first, last)) * multiple
        return self._rng.randint(math.ceil(low), max(math.ceil(low), math.floor(high)))

    def _number(self, schema: Mapping[str, Any]) -> float:
        low, high = self._bounds(schema, 0.01)
        multiple = schema.get("multipleOf")
        if isinstance(multiple, (int, float)) and multiple > 0:
            first, last = math.ceil(low / multiple), math.floor(high / multiple)
            return float(self._rng.randint(first, max(first, last)) * multiple)
        value = round(self._rng.uniform(low, high), 2)
        return min(max(value, low), high)

    def _string(self, schema: Mapping[str, Any]) -> str:
        text = _FORMATS.get(str(schema.get("format")), "")
        if not text:
            text = " ".join(self._rng.choice(_WORDS) for _ in range(self._rng.randint(1, 3)))
        min_length = int(schema.get("minLength", 0))
        max_length = schema.get("maxLength")
        if len(text) < min_length:
            text += "x" * (min_length - len(text))
        if isinstance(max_length, int):
            text = text[:max_length]
        return text


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


_FORMATS = {
    "date": "2024-05-17",
    "date-time": "2024-05-17T09:30:00Z",
    "time": "09:30:00",
    "email": "someone@example.com",
    "uri": "https://example.com/",
    "uuid": "8f14e45f-ceea-467f-a0e6-7c5b1a2d3e4f",
}
