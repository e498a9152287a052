"""Declarative mapping between user-facing configs and LM Studio's KV config wire form.

A config type is a msgspec struct (snake_case attributes, camelCase names) plus
a table saying which wire key each setting travels under and how it is encoded
(plain, or the ``{"checked", "value"}`` checkbox of PROTOCOL.md 7.4). Users may
pass the struct or a dict with camelCase or snake_case keys; either way the
value is validated before anything is sent, and errors name the setting.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from ..errors import LMStudioValueError
from ..protocol import KVConfig, KVConfigField, KVConfigStack, KVConfigStackLayer

__all__ = ["Setting", "ConfigSchema", "snake_to_camel", "camel_to_snake"]

S = TypeVar("S", bound=msgspec.Struct)

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def camel_to_snake(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class Setting:
    """One user-facing setting (camelCase ``name``) and its wire key and encoding.

    ``to_wire``/``from_wire`` convert values whose wire form differs from the
    user's (e.g. GPU split settings); they default to the identity.
    """

    name: str
    wire_key: str
    checkbox: bool = False
    to_wire: Callable[[Any], Any] | None = None
    from_wire: Callable[[Any], Any] | None = None
    #: For checkboxes a user may switch off with ``False``: the value sent unchecked.
    off_value: Any = None

    def encode(self, value: Any) -> Any:
        """The wire value, or ``None`` when there is nothing to send for ``value``."""
        if self.checkbox and value is False and self.off_value is not None:
            return {"checked": False, "value": self.off_value}
        wire_value = self.to_wire(value) if self.to_wire is not None else value
        if wire_value is None:
            return None
        return {"checked": True, "value": wire_value} if self.checkbox else wire_value

    def decode(self, wire_value: Any) -> tuple[bool, Any]:
        """``(present, user value)`` from a wire value; an unchecked checkbox is absent."""
        if self.checkbox:
            if not isinstance(wire_value, Mapping):
                return False, None
            if not wire_value.get("checked", False):
                return (True, False) if self.off_value is not None else (False, None)
            wire_value = wire_value.get("value")
        return True, self.from_wire(wire_value) if self.from_wire is not None else wire_value


class ConfigSchema(Generic[S]):
    """Validation and wire mapping for one config struct type."""

    def __init__(
        self,
        struct_type: type[S],
        settings: Iterable[Setting],
        *,
        label: str,
        nested: Mapping[str, type[msgspec.Struct]] | None = None,
    ) -> None:
        self.struct_type = struct_type
        self.label = label
        self.settings = tuple(settings)
        self._nested = dict(nested or {})
        self._by_wire_key = {s.wire_key: s for s in self.settings}
        names = [f.encode_name for f in msgspec.structs.fields(struct_type)]
        self._names = {name: name for name in names}
        self._names.update({camel_to_snake(name): name for name in names})

    # --- user input -> validated struct ----------------------------------------------

    def parse(self, config: S | Mapping[str, Any] | None) -> S:
        """Validate a struct or dict; raise :class:`LMStudioValueError` naming the bad setting."""
        if config is None:
            return self.struct_type()
        if isinstance(config, self.struct_type):
            data: Any = msgspec.to_builtins(config)
        elif isinstance(config, Mapping):
            data = self._normalise_keys(config, self._names, self.label)
        else:
            raise LMStudioValueError(
                f"{self.label} must be a {self.struct_type.__name__} or a dict, "
                f"not {type(config).__name__}."
            )
        try:
            return msgspec.convert(data, self.struct_type)
        except msgspec.ValidationError as exc:
            raise LMStudioValueError(f"Invalid {self.label}: {_describe(exc)}") from None

    def _normalise_keys(
        self, config: Mapping[str, Any], names: Mapping[str, str], where: str
    ) -> dict[str, Any]:
        normalised: dict[str, Any] = {}
        for key, value in config.items():
            if not isinstance(key, str):
                raise LMStudioValueError(f"{where} keys must be strings, not {key!r}.")
            name = names.get(key)
            if name is None:
                raise LMStudioValueError(_unknown_key_message(key, names, where))
            nested = self._nested.get(name)
            if nested is not None and isinstance(value, Mapping):
                fields = [f.encode_name for f in msgspec.structs.fields(nested)]
                nested_names = {n: n for n in fields} | {camel_to_snake(n): n for n in fields}
                value = self._normalise_keys(value, nested_names, f"{where} '{name}'")
            normalised[name] = value
        return normalised

    # --- struct -> wire -------------------------------------------------------------------

    def to_kv_config(self, config: S) -> KVConfig:
        """The config's set values as wire fields (unset settings are left to the server)."""
        values: dict[str, Any] = msgspec.to_builtins(config)
        fields: list[KVConfigField] = []
        if not values:  # nothing set (most predictions): skip looking up every setting
            return KVConfig(fields=fields)
        for setting in self.settings:
            value = _lookup(values, setting.name)
            wire_value = None if value is None else setting.encode(value)
            if wire_value is not None:
                fields.append(KVConfigField(key=setting.wire_key, value=wire_value))
        return KVConfig(fields=fields)

    def to_stack(self, config: S) -> KVConfigStack:
        """A one-layer ``apiOverride`` stack, as both official SDKs send."""
        layer = KVConfigStackLayer(layer_name="apiOverride", config=self.to_kv_config(config))
        return KVConfigStack(layers=[layer])

    # --- wire -> struct -------------------------------------------------------------------

    def from_kv_config(self, kv: KVConfig) -> S:
        """Read a server's KV config back; keys this release does not know are skipped."""
        data: dict[str, Any] = {}
        for field in kv.fields:
            setting = self._by_wire_key.get(field.key)
            if setting is None:
                continue
            present, value = setting.decode(field.value)
            if present:
                _store(data, setting.name, value)
        try:
            return msgspec.convert(data, self.struct_type)
        except msgspec.ValidationError:
            # A value out of today's range must not make the whole config unreadable.
            return msgspec.convert(self._keep_valid(data), self.struct_type)

    def _keep_valid(self, data: dict[str, Any]) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for key, value in data.items():
            try:
                msgspec.convert({key: value}, self.struct_type)
            except msgspec.ValidationError:
                continue
            kept[key] = value
        return kept


def _lookup(values: Mapping[str, Any], dotted: str) -> Any:
    current: Any = values
    for part in dotted.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def _store(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    if isinstance(value, Mapping) and isinstance(data.get(last), dict):
        data[last].update(value)
    else:
        data[last] = value


_AT_PATH = re.compile(r"^(?P<what>.*) - at `\$\.(?P<path>[^`]+)`$")


def _describe(exc: msgspec.ValidationError) -> str:
    match = _AT_PATH.match(str(exc))
    if match is None:
        return str(exc)
    return f"'{match['path']}': {match['what'][:1].lower()}{match['what'][1:]}"


def _unknown_key_message(key: str, names: Mapping[str, str], where: str) -> str:
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.5)
    if close:
        hint = f" Did you mean '{names[close[0]]}'?"
    else:
        hint = f" Valid settings: {', '.join(sorted(set(names.values())))}."
    return f"Unknown {where} setting '{key}'.{hint}"
