"""What the generated blocking API is built on: twins of async objects, and the portal.

Every generated class is a :class:`SyncTwin` of an async object; :class:`RootTwin`
(the ``Client``) owns the :class:`~._portal.Portal` that runs their coroutines.
"""

from __future__ import annotations

import weakref
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from typing_extensions import Self

from ._portal import Portal, static_portal
from ._steward import running_loop

__all__ = ["Portal", "SyncTwin", "register_twin", "static_portal"]

T = TypeVar("T")


class SyncTwin:
    """Base of every generated blocking class: a wrapper around its async twin.

    Every twin holds the ``Client`` it came from, so a handle keeps its client
    (and the client's event loop thread) alive, as async handles do.
    """

    __slots__ = ("__weakref__", "_async", "_portal", "_root")

    _async_type: ClassVar[type]
    _async: Any
    _portal: Portal
    _root: RootTwin

    @classmethod
    def _wrap_async(cls: type[T], root: RootTwin, value: Any) -> T:
        twin = object.__new__(cls)
        twin._root = root  # type: ignore[attr-defined]
        twin._portal = root._portal  # type: ignore[attr-defined]
        twin._async = value  # type: ignore[attr-defined]
        return twin

    def _wrap(self, value: Any) -> Any:
        """Turn async API objects in a result into their blocking twins."""
        return wrap(self._root, value)

    def __repr__(self) -> str:
        text = repr(self._async)
        return text.replace(type(self._async).__name__, type(self).__name__, 1)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SyncTwin) and self._async == other._async

    def __hash__(self) -> int:
        return hash(self._async)


_twins: dict[type, type[SyncTwin]] = {}


def register_twin(sync_type: type[SyncTwin]) -> None:
    _twins[sync_type._async_type] = sync_type


def wrap(root: RootTwin, value: Any) -> Any:
    twin = _twins.get(type(value))
    if twin is not None:
        return twin._wrap_async(root, value)
    if type(value) is list:
        return [wrap(root, item) for item in value]
    if type(value) is tuple:
        return tuple(wrap(root, item) for item in value)
    return value


class RootTwin(SyncTwin):
    """Base of the generated ``Client``: owns the portal that every object it returns uses.

    Closing happens once: on ``close()``, on ``with`` exit, when the client is
    garbage collected, or at interpreter exit, whichever comes first.
    """

    __slots__ = ("_finalizer",)

    def _attach(self, async_client: Any) -> None:
        self._portal = Portal()
        self._async = async_client
        self._finalizer = weakref.finalize(self, _close_root, self._portal, async_client)

    def _wrap(self, value: Any) -> Any:
        return wrap(self, value)

    def close(self) -> None:
        """Close every socket, then stop the client's event loop thread. Idempotent."""
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _close_root(portal: Portal, async_client: Any) -> None:
    try:
        if portal.running and running_loop() is not portal._loop:
            portal.call(async_client.aclose)
    finally:
        portal.stop()
