"""Drop-in compatibility, driven by the installed official SDK (``lmstudio``).

Walks every public name ``import lmstudio`` exposes, the public members of its
public classes (and of the namespaces its clients hand out), and every method's
signature, and fails for each one that has no twin in ``lmstudio_async`` (for the
official async API and the names shared by both) and in ``lmstudio_sync`` (for
``lmstudio.Client`` and the convenience API).

A twin accepts every call the official accepts: the same positional parameters,
in order, with the same names, kinds and defaults; every official keyword
parameter by name with the same default; and only optional extras (our
``timeout=``...). Anything deliberately left out is in ``EXCLUDED``, with why.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import types
import typing
from collections.abc import Iterator
from typing import Any

import lmstudio
import msgspec
import pytest

import lmstudio_async
import lmstudio_sync

P = inspect.Parameter

# --- what is deliberately left out, and why ------------------------------------------------

IMPLEMENTATION_MODULE = (
    "an implementation module of the official SDK; its public names are top-level here"
)
RAW_SETTING = "the official refuses it when sending ('Unknown config settings: [raw]')"
SESSION_PLUMBING = (
    "the official's per-namespace websocket session plumbing; ours share the client's sockets"
)

EXCLUDED: dict[str, str] = {
    # --- everything else -------------------------------------------------------------------
    "async_api": IMPLEMENTATION_MODULE,
    "sync_api": IMPLEMENTATION_MODULE,
    "json_api": IMPLEMENTATION_MODULE,
    "sdk_api": IMPLEMENTATION_MODULE,
    "ModelLoadResult": "internal to the official's load channel; no public method returns it",
    "LlmPredictionConfig.raw": RAW_SETTING,
    "LlmPredictionConfigDict.raw": RAW_SETTING,
    "namespace.__aenter__": SESSION_PLUMBING,
    "namespace.__enter__": SESSION_PLUMBING,
    "namespace.API_NAMESPACE": SESSION_PLUMBING,
    "namespace.client": SESSION_PLUMBING,
    "namespace.connect": SESSION_PLUMBING,
    "namespace.connected": SESSION_PLUMBING,
    "namespace.disconnect": SESSION_PLUMBING,
    "namespace.aclose": SESSION_PLUMBING,
    "namespace.close": SESSION_PLUMBING,
    "namespace.remote_call": SESSION_PLUMBING,
}

#: Methods awaited on one side only, for now.
AWAIT_DIFFERS = {
    "AsyncLLM.respond_stream": "returns the stream, which `await` also accepts (and starts)",
    "AsyncLLM.complete_stream": "returns the stream, which `await` also accepts (and starts)",
    "AsyncPredictionStream.result": "a plain call after iterating, as in the official: built by "
    "the prediction-stream rework of issue 10",
}

#: Official async-API names and their sync-API twins (our packages pair them the same way).
ASYNC_TO_SYNC = {
    "AsyncClient": "Client",
    "AsyncLLM": "LLM",
    "AsyncEmbeddingModel": "EmbeddingModel",
    "AsyncDownloadedLlm": "DownloadedLlm",
    "AsyncDownloadedEmbeddingModel": "DownloadedEmbeddingModel",
    "AsyncPredictionStream": "PredictionStream",
    "AsyncModelHandle": "SyncModelHandle",
    "AnyAsyncDownloadedModel": "AnyDownloadedModel",
    "get_default_timeout": "get_sync_api_timeout",
    "set_default_timeout": "set_sync_api_timeout",
}
SYNC_TO_ASYNC = {sync: async_ for async_, sync in ASYNC_TO_SYNC.items()}
#: Classes users never construct (the SDK hands them out): their ``__init__`` may differ.
MADE_BY_THE_SDK = {
    *ASYNC_TO_SYNC,
    *ASYNC_TO_SYNC.values(),
    "PredictionResult",
    "PredictionRoundResult",
}
#: Members every subclass of these has (checked by being a subclass, not one by one).
INHERITED_FROM = (dict, tuple, BaseException, msgspec.Struct)
#: Where each official client's namespace objects are, and our classes for them.
NAMESPACES = {
    "llm": ("AsyncLLMNamespace", "LLMNamespace"),
    "embedding": ("AsyncEmbeddingNamespace", "EmbeddingNamespace"),
    "system": ("AsyncSystemNamespace", "SystemNamespace"),
}

# --- walking the official API ------------------------------------------------------------


def official_names() -> list[str]:
    return sorted(name for name in dir(lmstudio) if not name.startswith("_"))


def ours_for(package: types.ModuleType, name: str) -> str:
    """The name our ``package`` gives the official ``name``'s twin."""
    if package is lmstudio_async:
        return SYNC_TO_ASYNC.get(name, name)
    return ASYNC_TO_SYNC.get(name, name)


def official_flavour(name: str) -> types.ModuleType | None:
    """Which of our packages must match this official name's members (``None``: both)."""
    value = getattr(lmstudio, name)
    module = getattr(value, "__module__", "")
    if module == "lmstudio.async_api":
        return lmstudio_async
    if module == "lmstudio.sync_api":
        return lmstudio_sync
    return None


def public_members(cls: type) -> Iterator[tuple[str, Any]]:
    for name in dir(cls):
        if name.startswith("_") and name not in ("__init__", "__enter__", "__aenter__"):
            continue
        yield name, inspect.getattr_static(cls, name)


def callable_of(member: Any) -> Any:
    if isinstance(member, (staticmethod, classmethod)):
        return member.__func__
    return member


def parameters(function: Any) -> list[inspect.Parameter]:
    """Parameters users pass (no ``self``/``cls``, no private ``_name`` ones)."""
    signature = inspect.signature(function)
    return [
        p
        for p in signature.parameters.values()
        if p.name not in ("self", "cls") and not p.name.startswith("_")
    ]


def same_default(official: Any, ours: Any) -> bool:
    if official is ours or official == ours or official is P.empty:
        return True  # (a parameter the official requires may be optional here)
    if official is ...:  # the official's "not given" sentinel
        return ours is None or ours is ...
    if isinstance(official, (dict, list, tuple)) and not official:
        return ours is None or ours == official  # "no options": an empty dict or None
    if isinstance(official, (int, float)) and isinstance(ours, (int, float)):
        return math.isclose(official, ours)
    return False


def signature_problems(where: str, official: Any, ours: Any) -> list[str]:
    """Every way a call accepted by ``official`` would fail or change meaning on ``ours``."""
    problems: list[str] = []
    theirs = parameters(official)
    mine = parameters(ours)
    by_name = {p.name: p for p in mine}
    positional_kinds = (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)
    their_positional = [p for p in theirs if p.kind in positional_kinds]
    my_positional = [p for p in mine if p.kind in positional_kinds]
    for index, param in enumerate(their_positional):
        if index >= len(my_positional):
            problems.append(f"{where}: parameter {param.name!r} cannot be passed positionally")
            continue
        positional_twin = my_positional[index]
        if param.kind is P.POSITIONAL_OR_KEYWORD and (
            positional_twin.name != param.name
            or positional_twin.kind is not P.POSITIONAL_OR_KEYWORD
        ):
            problems.append(
                f"{where}: positional parameter {index} is {positional_twin.name!r} "
                f"({positional_twin.kind.name}), "
                f"official {param.name!r} ({param.kind.name})"
            )
    for param in theirs:
        twin = by_name.get(param.name)
        if param.kind is P.KEYWORD_ONLY and (
            twin is None or twin.kind not in (P.KEYWORD_ONLY, P.POSITIONAL_OR_KEYWORD)
        ):
            problems.append(f"{where}: keyword parameter {param.name!r} is missing")
            continue
        if param.kind in (P.VAR_POSITIONAL, P.VAR_KEYWORD):
            if not any(p.kind is param.kind for p in mine):
                problems.append(f"{where}: takes no {param.kind.name} like the official")
            continue
        if twin is not None and not same_default(param.default, twin.default):
            problems.append(
                f"{where}: {param.name!r} defaults to {twin.default!r}, official {param.default!r}"
            )
    their_names = {p.name for p in theirs}
    for index, param in enumerate(mine):
        if param.name in their_names or param.kind in (P.VAR_POSITIONAL, P.VAR_KEYWORD):
            continue
        if param.default is P.empty:
            problems.append(f"{where}: our extra parameter {param.name!r} is required")
        elif param.kind is not P.KEYWORD_ONLY and index < len(their_positional):
            problems.append(f"{where}: our extra parameter {param.name!r} shifts positions")
    return problems


def field_names(cls: type) -> set[str]:
    names = set(dir(cls))
    if hasattr(cls, "__struct_fields__"):
        names |= set(getattr(cls, "__struct_fields__", ()))
    if dataclasses.is_dataclass(cls):
        names |= {f.name for f in dataclasses.fields(cls)}
    if typing.is_typeddict(cls):
        names = set(cls.__annotations__)
    return names


def sample_instance(cls: type) -> Any:
    """An instance of our client classes (they connect lazily: nothing is opened)."""
    if cls in (lmstudio_async.AsyncClient, lmstudio_sync.Client):
        return cls("127.0.0.1:1")
    return None


def member_problems(owner: str, official_cls: type, our_cls: type) -> list[str]:
    problems: list[str] = []
    instance = sample_instance(our_cls)
    try:
        if typing.is_typeddict(official_cls):
            missing = set(official_cls.__annotations__) - set(our_cls.__annotations__)
            missing = {key for key in missing if f"{owner}.{key}" not in EXCLUDED}
            return [f"{owner}: dict key {key!r} is missing" for key in sorted(missing)]
        ours_available = field_names(our_cls) | (set(dir(instance)) if instance else set())
        official_fields = getattr(official_cls, "__struct_fields__", ())
        for name in official_fields:
            if f"{owner}.{name}" not in EXCLUDED and name not in ours_available:
                problems.append(f"{owner}: field {name!r} is missing")
        for name, member in public_members(official_cls):
            key = f"{owner}.{name}"
            if key in EXCLUDED or name in official_fields:
                continue
            if any(name in dir(base) for base in INHERITED_FROM if issubclass(official_cls, base)):
                continue  # what every dict, exception or msgspec struct has
            if name == "__init__" and (owner in MADE_BY_THE_SDK or owner.startswith("namespace")):
                continue
            if name not in ours_available:
                problems.append(f"{owner}: {name} is missing")
                continue
            official_callable = callable_of(member)
            if isinstance(member, property) or not callable(official_callable):
                continue
            if name == "__init__" and official_callable is object.__init__:
                continue
            our_member = callable_of(inspect.getattr_static(our_cls, name))
            if not callable(our_member):
                problems.append(f"{owner}: {name} is not callable")
                continue
            problems += signature_problems(key, official_callable, our_member)
            awaited = inspect.iscoroutinefunction(official_callable)
            if awaited != inspect.iscoroutinefunction(our_member) and key not in AWAIT_DIFFERS:
                problems.append(f"{key}: {'must' if awaited else 'must not'} be awaited")
    finally:
        close = getattr(instance, "close", None)
        if close is not None and not inspect.iscoroutinefunction(close):
            close()
    return problems


# --- the tests --------------------------------------------------------------------------


@pytest.mark.parametrize("package", [lmstudio_async, lmstudio_sync], ids=lambda p: p.__name__)
def test_every_official_name_has_a_twin(package: types.ModuleType) -> None:
    missing = [
        f"{name} (as {ours_for(package, name)})"
        for name in official_names()
        if name not in EXCLUDED and not hasattr(package, ours_for(package, name))
    ]
    assert not missing, f"{package.__name__} lacks: {', '.join(missing)}"
    for name in official_names():
        ours = ours_for(package, name)
        if name not in EXCLUDED and hasattr(package, ours):
            assert ours in package.__all__, f"{package.__name__}.{ours} is not in __all__"


def class_cases() -> list[tuple[str, type, types.ModuleType]]:
    cases = []
    for name in official_names():
        value = getattr(lmstudio, name)
        if name in EXCLUDED or not inspect.isclass(value):
            continue
        flavour = official_flavour(name)
        for package in (lmstudio_async, lmstudio_sync):
            if flavour is None or flavour is package:
                cases.append((name, value, package))
    return cases


@pytest.mark.parametrize(
    ("name", "official_cls", "package"),
    class_cases(),
    ids=[f"{p.__name__}-{n}" for n, _, p in class_cases()],
)
def test_every_public_class_member_and_signature_has_a_twin(
    name: str, official_cls: type, package: types.ModuleType
) -> None:
    our_cls = getattr(package, ours_for(package, name))
    assert member_problems(name, official_cls, our_cls) == []


@pytest.mark.parametrize(
    ("official_client", "package"),
    [(lmstudio.AsyncClient, lmstudio_async), (lmstudio.Client, lmstudio_sync)],
    ids=["lmstudio_async", "lmstudio_sync"],
)
@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_every_namespace_method_has_a_twin(
    official_client: type, package: types.ModuleType, namespace: str
) -> None:
    official_ns = typing.get_type_hints(getattr(official_client, namespace).fget)["return"]
    async_name, sync_name = NAMESPACES[namespace]
    ours = getattr(package, async_name if package is lmstudio_async else sync_name)
    assert member_problems("namespace", official_ns, ours) == []


@pytest.mark.parametrize("package", [lmstudio_async, lmstudio_sync], ids=lambda p: p.__name__)
def test_every_official_function_has_a_twin_signature(package: types.ModuleType) -> None:
    problems: list[str] = []
    for name in official_names():
        value = getattr(lmstudio, name)
        if name in EXCLUDED or not inspect.isfunction(value):
            continue
        ours = getattr(package, ours_for(package, name))
        problems += signature_problems(name, value, ours)
    assert problems == []


def test_the_exclusions_are_still_needed() -> None:
    """An exclusion for something that now exists must be dropped."""
    stale = []
    for key in EXCLUDED:
        owner, _, member = key.rpartition(".")
        if owner in ("", "namespace"):
            if not owner and hasattr(lmstudio_async, key) and hasattr(lmstudio_sync, key):
                stale.append(key)
            continue
        for package in (lmstudio_async, lmstudio_sync):
            our_cls = getattr(package, ours_for(package, owner), None)
            if our_cls is not None and hasattr(our_cls, member):
                stale.append(f"{package.__name__}.{key}")
    assert stale == [], "drop these exclusions: " + ", ".join(stale)
