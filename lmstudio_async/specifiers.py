"""What users pass ("an-identifier", a query dict...) as wire model specifiers (PROTOCOL.md 5.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .errors import LMStudioValueError
from .protocol import InstanceReferenceSpecifier, ModelQuery, ModelSpecifier, QuerySpecifier

__all__ = ["ModelSpecifierInput", "to_specifier", "by_identifier", "by_reference"]

#: An instance identifier, a :class:`ModelQuery`, a specifier, or their dict forms
#: (``{"identifier": ...}``, ``{"type": "instanceReference", "instanceReference": ...}``).
ModelSpecifierInput = (
    str | ModelQuery | QuerySpecifier | InstanceReferenceSpecifier | Mapping[str, Any]
)


def by_identifier(identifier: str) -> QuerySpecifier:
    return QuerySpecifier(query=ModelQuery(identifier=identifier))


def by_reference(instance_reference: str) -> InstanceReferenceSpecifier:
    return InstanceReferenceSpecifier(instance_reference=instance_reference)


def to_specifier(value: ModelSpecifierInput) -> ModelSpecifier:
    """A wire specifier; raises :class:`LMStudioValueError` for anything else."""
    if isinstance(value, str):
        if not value:
            raise LMStudioValueError("A model identifier must not be empty.")
        return by_identifier(value)
    if isinstance(value, (QuerySpecifier, InstanceReferenceSpecifier)):
        return value
    if isinstance(value, ModelQuery):
        return QuerySpecifier(query=value)
    if isinstance(value, Mapping):
        data = {_camel(k): v for k, v in value.items()}
        target: Any = ModelSpecifier if "type" in data else ModelQuery
        try:
            converted = msgspec.convert(data, target, strict=True)
        except msgspec.ValidationError as exc:
            raise LMStudioValueError(f"Invalid model specifier {dict(value)!r}: {exc}") from None
        return QuerySpecifier(query=converted) if isinstance(converted, ModelQuery) else converted
    raise LMStudioValueError(
        f"Expected a model identifier string or a model query, not {type(value).__name__}."
    )


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)
