"""Key/value configs and config stacks, as load and prediction configs travel (PROTOCOL.md 7)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from .base import WireStruct

__all__ = [
    "KVConfigLayerName",
    "KV_CONFIG_LAYER_NAMES",
    "KVConfigField",
    "KVConfig",
    "KVConfigStackLayer",
    "KVConfigStack",
    "Checkbox",
]

KVConfigLayerName = Literal[
    "currentlyEditing",
    "currentlyLoaded",
    "apiOverride",
    "conversationSpecific",
    "conversationGlobal",
    "preset",
    "serverSession",
    "httpServerRequestOverride",
    "completeModeFormatting",
    "instance",
    "userModelDefault",
    "virtualModel",
    "modelDefault",
    "hardware",
]
KV_CONFIG_LAYER_NAMES: frozenset[str] = frozenset(get_args(KVConfigLayerName))


class KVConfigField(WireStruct, kw_only=True):
    """One config entry under its full dotted wire key (``llm.prediction.temperature``)."""

    key: str
    value: Any = None


class KVConfig(WireStruct, kw_only=True):
    fields: list[KVConfigField]

    def as_dict(self) -> dict[str, Any]:
        """The fields as ``{key: value}``; a later duplicate key wins."""
        return {field.key: field.value for field in self.fields}


class KVConfigStackLayer(WireStruct, kw_only=True):
    # ``str`` rather than the Literal: the server names an unknown layer in its error.
    layer_name: str
    config: KVConfig


class KVConfigStack(WireStruct, kw_only=True):
    layers: list[KVConfigStackLayer]

    def collapse(self) -> dict[str, Any]:
        """Merge the layers: later layers, and later fields within a layer, win."""
        merged: dict[str, Any] = {}
        for layer in self.layers:
            for field in layer.config.fields:
                merged[field.key] = field.value
        return merged


class Checkbox(WireStruct, kw_only=True):
    """The ``{"checked": bool, "value": X}`` encoding of optional settings (7.4)."""

    checked: bool
    value: Any
