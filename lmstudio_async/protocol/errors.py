"""The error object servers put in ``rpcError``/``channelError`` (PROTOCOL.md section 4)."""

from __future__ import annotations

from typing import Any, Final

from .base import WireStruct

__all__ = [
    "SerializedLMSExtendedError",
    "CODE_NO_MODEL_MATCHING_QUERY",
    "CODE_PATH_NOT_FOUND",
    "CODE_IDENTIFIER_NOT_FOUND",
    "CODE_PRESET_NOT_FOUND",
    "CODE_DOMAIN_MISMATCH",
    "CODE_SPECIFIC_MODEL_UNLOADED",
    "MODEL_NOT_FOUND_CODES",
]

CODE_NO_MODEL_MATCHING_QUERY: Final = "generic.noModelMatchingQuery"
CODE_PATH_NOT_FOUND: Final = "generic.pathNotFound"
CODE_IDENTIFIER_NOT_FOUND: Final = "generic.identifierNotFound"
CODE_PRESET_NOT_FOUND: Final = "generic.presetNotFound"
CODE_DOMAIN_MISMATCH: Final = "generic.domainMismatch"
CODE_SPECIFIC_MODEL_UNLOADED: Final = "generic.specificModelUnloaded"

#: Display codes that mean "no such model". The official Python SDK knows the first
#: two; the others are what LM Studio reports for unknown identifiers and for an
#: ``instanceReference`` whose instance was unloaded.
MODEL_NOT_FOUND_CODES: Final = frozenset(
    {
        CODE_NO_MODEL_MATCHING_QUERY,
        CODE_PATH_NOT_FOUND,
        CODE_IDENTIFIER_NOT_FOUND,
        CODE_SPECIFIC_MODEL_UNLOADED,
    }
)


class SerializedLMSExtendedError(WireStruct, kw_only=True):
    """An error as LM Studio serializes it.

    Every field is optional: R54 declares them all as "any", and JS drops a
    field that fails its type check instead of failing the message.
    """

    title: str = "Unknown error"
    cause: str | None = None
    suggestion: str | None = None
    error_data: dict[str, Any] | None = None
    display_data: dict[str, Any] | None = None
    stack: str | None = None
    root_title: str | None = None

    @property
    def code(self) -> str | None:
        """``displayData.code``, which classifies the error, if the server sent one."""
        if self.display_data is None:
            return None
        code = self.display_data.get("code")
        return code if isinstance(code, str) else None
