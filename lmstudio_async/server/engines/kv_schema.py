"""Turning a client's config stack into an effective config with full wire keys (PROTOCOL.md 7).

The server answers with *every* known key of a config, client values over
server defaults, so clients can read back exactly what is in effect. Input is
read leniently (11.2 item 12): keys this server does not know are ignored,
checkbox keys also accept a bare value, and the official Python SDK's
``{"checked": true, "value": false}`` counts as unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...protocol import KV_CONFIG_LAYER_NAMES, KVConfig, KVConfigField, KVConfigStack
from ..api import ServerError

__all__ = ["ConfigSchema", "collapse_stack", "checked_value", "to_kvconfig"]


def collapse_stack(stack: KVConfigStack) -> dict[str, Any]:
    """The stack's merged fields, after rejecting layers LM Studio does not define."""
    for layer in stack.layers:
        if layer.layer_name not in KV_CONFIG_LAYER_NAMES:
            valid = ", ".join(sorted(KV_CONFIG_LAYER_NAMES))
            raise ServerError(
                f"Unknown config layer name {layer.layer_name!r}",
                cause="A config stack may only use the layer names LM Studio defines.",
                suggestion=f"Use one of: {valid}",
            )
    return stack.collapse()


def checked_value(checkbox: Mapping[str, Any]) -> Any:
    """The value of a normalised checkbox, or ``None`` when it is unchecked."""
    return checkbox["value"] if checkbox["checked"] else None


def _normalise_checkbox(raw: Any, placeholder: Any) -> dict[str, Any]:
    if isinstance(raw, Mapping) and "checked" in raw:
        checked = bool(raw["checked"])
        value = raw.get("value", placeholder)
    else:
        checked, value = True, raw
    if value is False:
        return {"checked": False, "value": placeholder}
    return {"checked": checked, "value": value}


@dataclass(frozen=True)
class ConfigSchema:
    """The keys a config may hold, their defaults, and which are checkbox-encoded."""

    defaults: Mapping[str, Any]
    checkboxes: frozenset[str]

    @classmethod
    def build(
        cls, plain: Mapping[str, Any], checkboxes: Mapping[str, tuple[bool, Any]]
    ) -> ConfigSchema:
        defaults: dict[str, Any] = dict(plain)
        for key, (checked, value) in checkboxes.items():
            defaults[key] = {"checked": checked, "value": value}
        return cls(defaults=dict(sorted(defaults.items())), checkboxes=frozenset(checkboxes))

    def effective(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overridden by the known keys of ``overrides``; unknown keys are dropped."""
        result = dict(self.defaults)
        for key, value in overrides.items():
            if key not in result:
                continue
            if key in self.checkboxes:
                result[key] = _normalise_checkbox(value, result[key]["value"])
            else:
                result[key] = value
        return result


def to_kvconfig(values: Mapping[str, Any]) -> KVConfig:
    return KVConfig(fields=[KVConfigField(key=key, value=value) for key, value in values.items()])
