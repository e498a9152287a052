"""Exceptions and warnings, named as in the official ``lmstudio`` SDK so that code moving
over keeps its ``except`` clauses.

Every message says what went wrong and, where we can tell, what to do about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .protocol.errors import SerializedLMSExtendedError

E = TypeVar("E", bound="LMStudioServerError")

__all__ = [
    "LMStudioError",
    "LMStudioOSError",
    "LMStudioRuntimeError",
    "LMStudioValueError",
    "LMStudioClientError",
    "LMStudioServerError",
    "LMStudioModelNotFoundError",
    "LMStudioPresetNotFoundError",
    "LMStudioPredictionError",
    "LMStudioCancelledError",
    "LMStudioChannelClosedError",
    "LMStudioTimeoutError",
    "LMStudioWebsocketError",
    "LMStudioAuthenticationError",
    "LMStudioUnknownMessageWarning",
]


class LMStudioError(Exception):
    """Base of every error this SDK raises."""


class LMStudioOSError(OSError, LMStudioError):
    """An operating-system level failure (e.g. reading a local file to upload)."""


class LMStudioRuntimeError(RuntimeError, LMStudioError):
    """The SDK was used in a state that does not allow the operation."""


class LMStudioValueError(ValueError, LMStudioError):
    """A value given to the SDK is invalid; raised before anything is sent."""


class LMStudioClientError(LMStudioError):
    """The client could not do what was asked (server unreachable, nothing loaded, ...)."""


class LMStudioServerError(LMStudioError):
    """The server reported an error.

    ``title``, ``cause`` and ``suggestion`` are the server's own words; ``code``
    is its ``displayData.code`` classification when it sent one.
    """

    def __init__(
        self,
        message: str,
        details: SerializedLMSExtendedError | Mapping[str, Any] | None = None,
        *,
        title: str | None = None,
        cause: str | None = None,
        suggestion: str | None = None,
        code: str | None = None,
    ) -> None:
        if isinstance(details, Mapping):  # the official SDK's form: the error's dict
            from .protocol.errors import SerializedLMSExtendedError

            details = SerializedLMSExtendedError.from_dict(details)
        super().__init__(message)
        self.title = title if title is not None or details is None else details.title
        self.cause = cause if cause is not None or details is None else details.cause
        self.suggestion = (
            suggestion if suggestion is not None or details is None else details.suggestion
        )
        self.code = code if code is not None or details is None else details.code
        self.details = details

    @property
    def server_error(self) -> SerializedLMSExtendedError | None:
        """The error as the server sent it (the official SDK's name for :attr:`details`)."""
        return self.details

    @staticmethod
    def from_details(message: str, details: Mapping[str, Any]) -> LMStudioServerError:
        """The most specific error class for a server error given as a dict."""
        from .protocol.errors import SerializedLMSExtendedError

        error = SerializedLMSExtendedError.from_dict(details)
        return LMStudioServerError._specific(error.code)(
            f"{message}: {format_server_error(error)}", error
        )

    @staticmethod
    def _specific(code: str | None) -> type[LMStudioServerError]:
        from .protocol.errors import CODE_PRESET_NOT_FOUND, MODEL_NOT_FOUND_CODES

        if code in MODEL_NOT_FOUND_CODES:
            return LMStudioModelNotFoundError
        if code == CODE_PRESET_NOT_FOUND:
            return LMStudioPresetNotFoundError
        return LMStudioServerError

    def restated(self, message: str, error_class: type[E] | None = None) -> E:
        """The same server error (title, cause, suggestion, code) with a clearer message."""
        restated_class: type[Any] = error_class or type(self)
        error: E = restated_class(
            message,
            title=self.title,
            cause=self.cause,
            suggestion=self.suggestion,
            code=self.code,
            details=self.details,
        )
        return error

    @classmethod
    def from_wire(cls, prefix: str, error: SerializedLMSExtendedError) -> LMStudioServerError:
        """Build the most specific error class for a serialized server error."""
        specific = cls._specific(error.code)
        error_cls = cls if specific is LMStudioServerError else specific
        endpoint = prefix.rpartition("/")[2]
        prefix = _OFFICIAL_PREFIXES.get(endpoint, prefix)
        return error_cls(f"{prefix} error: {format_server_error(error)}", error)


#: The official SDK's words for failures users match on ("Model load error: ... already exists").
_OFFICIAL_PREFIXES = {"loadModel": "Model load", "getOrLoad": "Model get/load"}


def format_server_error(error: SerializedLMSExtendedError) -> str:
    """Render a server error as readable text: title, then cause and suggestion."""
    header = error.title
    if error.root_title and error.root_title != error.title:
        header = f"{error.root_title}: {error.title}"
    parts = [header]
    if error.cause:
        parts.append(f"  Cause: {error.cause}")
    if error.suggestion:
        parts.append(f"  Suggestion: {error.suggestion}")
    return "\n".join(parts)


class LMStudioModelNotFoundError(LMStudioServerError):
    """No downloaded or loaded model matches what was asked for."""


class LMStudioPresetNotFoundError(LMStudioServerError):
    """No preset matches the given preset identifier."""


class LMStudioPredictionError(LMStudioServerError):
    """A prediction failed on the server."""


class LMStudioAuthenticationError(LMStudioServerError):
    """The server refused the client's credentials (API token)."""


class LMStudioCancelledError(LMStudioClientError):
    """The operation was cancelled at the caller's request."""


class LMStudioChannelClosedError(LMStudioServerError):
    """The server closed a channel before sending its result."""


class LMStudioTimeoutError(LMStudioError, TimeoutError):
    """The server did not answer in time. Also a built-in ``TimeoutError``."""


class LMStudioWebsocketError(LMStudioClientError):
    """The websocket to the server failed or closed while a call or stream was pending."""


class LMStudioUnknownMessageWarning(LMStudioClientError, UserWarning):
    """The server sent a message this SDK release does not understand; it was skipped."""


# Shown (in tracebacks, reprs) as the package's own, wherever they are defined; the
# hierarchy is the official SDK's, so code moving over keeps its ``except`` clauses.
for _name in __all__:
    globals()[_name].__module__ = "lmstudio_async"
del _name
