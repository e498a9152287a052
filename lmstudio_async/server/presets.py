"""Named prediction presets (``--presets FILE``), selected by a request's ``fuzzyPresetIdentifier``.

The file is JSON: a list of presets, or ``{"presets": [...]}``. Each preset is::

    {"identifier": "@local:concise", "name": "Concise",
     "fields": [{"key": "llm.prediction.temperature", "value": 0.1}]}

``fields`` may also be written as LM Studio's preset files do,
``"operation": {"fields": [...]}``, or as a plain ``"config": {key: value}``
mapping. The official SDKs send ``preset="..."`` as ``fuzzyPresetIdentifier``
(PROTOCOL.md 6.2). Like LM Studio's "limited fuzzy match", it finds a preset
by its identifier, by its identifier without the ``@local:`` prefix, or by its
name, ignoring case. The preset's fields form a ``preset`` layer below the
request's own layers, so what the client sets explicitly wins.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..protocol import (
    CODE_PRESET_NOT_FOUND,
    KVConfig,
    KVConfigField,
    KVConfigStack,
    KVConfigStackLayer,
)
from .api import ServerError
from .model_errors import SAMPLE_SIZE
from .redact import shorten

__all__ = ["Preset", "PresetCatalog", "PresetFileError", "load_presets_file"]

_LOCAL = "@local:"


class PresetFileError(ValueError):
    """The presets file cannot be read or is not a valid list of presets."""


@dataclass(frozen=True)
class Preset:
    identifier: str
    name: str
    fields: tuple[KVConfigField, ...]

    def names(self) -> set[str]:
        identifier = self.identifier.lower()
        return {identifier, identifier.removeprefix(_LOCAL), self.name.lower()}


@dataclass
class PresetCatalog:
    presets: list[Preset] = field(default_factory=list)

    def find(self, fuzzy: str) -> Preset:
        """The preset ``fuzzy`` designates; LM Studio's ``presetNotFound`` error if none."""
        wanted = fuzzy.strip().lower()
        for preset in self.presets:
            if wanted in preset.names():
                return preset
        raise self._not_found(fuzzy)

    def apply(self, fuzzy: str | None, stack: KVConfigStack) -> KVConfigStack:
        """``stack`` with the designated preset's layer below the request's layers."""
        if not fuzzy:
            return stack
        preset = self.find(fuzzy)
        layer = KVConfigStackLayer(layer_name="preset", config=KVConfig(fields=list(preset.fields)))
        return KVConfigStack(layers=[layer, *stack.layers])

    def _not_found(self, fuzzy: str) -> ServerError:
        sample = [{"identifier": p.identifier, "name": p.name} for p in self.presets[:SAMPLE_SIZE]]
        known = ", ".join(f'"{p.identifier}"' for p in self.presets[:SAMPLE_SIZE])
        return ServerError(
            f'Cannot find a preset matching "{shorten(fuzzy)}"',
            cause=f"Available presets: {known}." if known else "This server has no presets.",
            suggestion="Start the server with --presets FILE to define presets."
            if not self.presets
            else None,
            display_data={
                "code": CODE_PRESET_NOT_FOUND,
                "specifiedFuzzyPresetIdentifier": shorten(fuzzy),
                "availablePresetsSample": sample,
                "totalAvailablePresets": len(self.presets),
            },
        )


def load_presets_file(path: Path) -> PresetCatalog:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PresetFileError(f"cannot read the presets file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise PresetFileError(f"the presets file {path} is not valid JSON: {exc}") from None
    if isinstance(data, Mapping):
        data = data.get("presets")
    if not isinstance(data, list):
        raise PresetFileError(
            f"the presets file {path} must hold a list of presets, or {{'presets': [...]}}"
        )
    return PresetCatalog([_preset(entry, index, path) for index, entry in enumerate(data)])


def _preset(entry: Any, index: int, path: Path) -> Preset:
    where = f"preset #{index + 1} of {path}"
    if not isinstance(entry, Mapping) or not isinstance(entry.get("identifier"), str):
        raise PresetFileError(f"{where} needs an 'identifier' string")
    identifier: str = entry["identifier"]
    name = entry.get("name", identifier.removeprefix(_LOCAL))
    if not isinstance(name, str):
        raise PresetFileError(f"{where}: 'name' must be a string")
    return Preset(identifier, name, tuple(_fields(entry, where)))


def _fields(entry: Mapping[str, Any], where: str) -> list[KVConfigField]:
    if isinstance(entry.get("config"), Mapping):
        return [KVConfigField(key=str(k), value=v) for k, v in entry["config"].items()]
    operation = entry.get("operation")
    raw: Any = operation.get("fields") if isinstance(operation, Mapping) else entry.get("fields")
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise PresetFileError(f"{where} needs 'fields': [{{'key': ..., 'value': ...}}, ...]")
    fields = []
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            raise PresetFileError(f"{where}: every field needs a 'key' string and a 'value'")
        fields.append(KVConfigField(key=item["key"], value=item.get("value")))
    return fields
