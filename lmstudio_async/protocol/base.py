"""The base class of every wire type, and the sentinels used in them.

Attributes are snake_case in Python and camelCase on the wire. Decoding ignores
unknown fields, as both official SDKs do, so a newer server can add fields
without breaking us. Optional fields default to ``None`` and are omitted when
encoding (LM Studio's JS client rejects ``null`` where a field is merely
optional). The few fields that must be *present but nullable* (``ttlMs``,
``lastUsedTime``, ``deviceIdentifier``) default to :data:`UNSET` instead, so
that ``None`` is encoded as ``null`` and absence stays absence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import UNSET, Raw, UnsetType
from typing_extensions import Self

__all__ = ["UNSET", "EMPTY_RAW", "Raw", "TaggedStruct", "UnsetType", "WireStruct", "JsonObject"]

JsonObject = dict[str, Any]

#: An absent ``Raw`` payload (``msgspec.Raw()`` is falsy and never encoded).
EMPTY_RAW = Raw()


class WireStruct(
    msgspec.Struct,
    rename="camel",
    omit_defaults=True,
    kw_only=True,
):
    """Base of all LM Studio wire structs (camelCase on the wire)."""

    def to_dict(self) -> JsonObject:
        """The wire form of this value as plain JSON-compatible Python objects."""
        result: JsonObject = msgspec.to_builtins(self)
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """A value from its dict form; keys may be camelCase (as on the wire) or snake_case.

        Raises ``msgspec.ValidationError`` (also available as ``lmstudio_async.ValidationError``)
        naming the bad field, as the official SDK does.
        """
        return msgspec.convert(camel_keys(data), cls)

    def __str__(self) -> str:
        # The official SDK's form: evaluable, and readable for nested infos.
        return f"{type(self).__name__}.from_dict({format_json(self.to_dict())})"


class TaggedStruct(WireStruct):
    """A struct whose wire tag, in the ``type`` field, is also readable as ``.type``."""

    @property
    def type(self) -> str:
        """The struct's kind (its wire tag), e.g. ``"text"`` for a text part."""
        return str(type(self).__struct_config__.tag)


def format_json(data: Any) -> str:
    """Indented JSON with sorted keys, as the official SDK prints its structs."""
    return json.dumps(data, indent=2, sort_keys=True)


#: Values kept as given: JSON schemas and tool arguments have the user's own keys.
_VERBATIM_KEYS = frozenset({"jsonSchema", "json_schema", "arguments"})


def camel_keys(data: Any) -> Any:
    """``data`` with snake_case dict keys (at any depth) turned camelCase.

    The official SDK converts keys this way (keys without ``_`` are unchanged),
    except inside JSON schemas. Iterative, so deeply nested input cannot
    exhaust the interpreter's stack.
    """
    result: list[Any] = [None]
    todo: list[tuple[Any, list[Any] | dict[Any, Any], Any]] = [(data, result, 0)]
    while todo:
        value, parent, slot = todo.pop()
        if isinstance(value, Mapping):
            converted: dict[Any, Any] = {}
            for key, item in value.items():
                new_key = _camel(key) if isinstance(key, str) else key
                if isinstance(key, str) and key in _VERBATIM_KEYS:
                    converted[new_key] = item
                else:
                    converted[new_key] = None
                    todo.append((item, converted, new_key))
            parent[slot] = converted
        elif isinstance(value, (list, tuple)):
            items: list[Any] = [None] * len(value)
            todo.extend((item, items, index) for index, item in enumerate(value))
            parent[slot] = items
        else:
            parent[slot] = value
    return result[0]


def _camel(key: str) -> str:
    if "_" not in key.strip("_"):
        return key
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
