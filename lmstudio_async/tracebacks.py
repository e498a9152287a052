"""Tracebacks of SDK errors end at the user's call, not deep inside the SDK.

An :class:`LMStudioError` leaving a public method loses the frames inside this
package (and so do the SDK errors it was raised from), so what users see is
their own code, then the error. Set ``LMSTUDIO_ASYNC_KEEP_INTERNAL_FRAMES`` (or
the official SDK's ``LMS_KEEP_INTERNAL_STACK``) to any non-empty value to keep
every frame, e.g. when reporting a bug in the SDK.

Other exceptions (bugs, ``KeyboardInterrupt``) always keep their full traceback.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Coroutine
from typing import Any, Final, TypeVar

from .errors import LMStudioError

__all__ = ["KEEP_FRAMES_ENV_VARS", "hide_internal_frames", "public_coroutine", "guard_classes"]

KEEP_FRAMES_ENV_VARS: Final = ("LMSTUDIO_ASYNC_KEEP_INTERNAL_FRAMES", "LMS_KEEP_INTERNAL_STACK")

E = TypeVar("E", bound=BaseException)
F = TypeVar("F", bound=Callable[..., Coroutine[Any, Any, Any]])


def keeping_frames() -> bool:
    return any(os.environ.get(name) for name in KEEP_FRAMES_ENV_VARS)


def hide_internal_frames(error: E) -> E:
    """Drop the SDK-internal traceback of an SDK error and of the SDK errors behind it."""
    if not isinstance(error, LMStudioError) or keeping_frames():
        return error
    seen: set[int] = set()
    current: BaseException | None = error
    while isinstance(current, LMStudioError) and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__
    return error


def public_coroutine(function: F) -> F:
    """Wrap a public coroutine function so that SDK errors leave it without internal frames."""

    @functools.wraps(function)
    async def boundary(*args: Any, **kwargs: Any) -> Any:
        try:
            return await function(*args, **kwargs)
        except LMStudioError as error:
            raise hide_internal_frames(error)  # noqa: B904  # the same error, re-raised

    boundary.__lmstudio_boundary__ = True  # type: ignore[attr-defined]
    return boundary  # type: ignore[return-value]


#: Called once per batch of fragments while a stream is read: kept free of the boundary's
#: extra coroutine (about 1.6 us a call), as everything on the streaming hot path is.
HOT_PATH = frozenset({"next_batch", "start"})


def guard_classes(*classes: type) -> None:
    """Put every public coroutine method of ``classes`` (but :data:`HOT_PATH`'s) behind
    :func:`public_coroutine`."""
    for cls in classes:
        for name, value in list(vars(cls).items()):
            if name in HOT_PATH or (
                name.startswith("_") and name not in ("__aenter__", "__aexit__")
            ):
                continue
            target = value.__func__ if isinstance(value, staticmethod) else value
            if not inspect.iscoroutinefunction(target):
                continue
            if getattr(target, "__lmstudio_boundary__", False):
                continue
            wrapped = public_coroutine(target)
            setattr(
                cls, name, staticmethod(wrapped) if isinstance(value, staticmethod) else wrapped
            )
