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

from typing import Any

import msgspec
from msgspec import UNSET, Raw, UnsetType

__all__ = ["UNSET", "EMPTY_RAW", "Raw", "UnsetType", "WireStruct", "JsonObject"]

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
