"""Parity, enforced: every public name, method and signature of lmstudio_async has its
blocking twin in lmstudio_sync (and the generated files are current)."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

import lmstudio_async
import lmstudio_sync
from tools.generate_sync import generated_files  # the repository root is importable

SPECIAL = {
    "aclose": "close",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
}
#: Async-only members with no blocking counterpart, and why.
ASYNC_ONLY = {"__await__"}  # `stream = await llm.respond_stream(...)` has no blocking form
ASYNC_CLASSES = {
    name: getattr(lmstudio_async, name)
    for name in lmstudio_async.__all__
    if re.fullmatch(r"Async[A-Z]\w*", name) and inspect.isclass(getattr(lmstudio_async, name))
}


def twin_name(name: str) -> str:
    return name.removeprefix("Async") if name in ASYNC_CLASSES else name


def sync_text(annotation: Any) -> Any:
    """An async annotation (a string, with postponed evaluation) as the sync side spells it."""
    if not isinstance(annotation, str):
        return annotation
    text = re.sub(r"\bAsync(Iterator|Iterable|Generator)\b", r"\1", annotation)
    return re.sub(r"\bAsync([A-Z]\w*)", lambda m: twin_name(m.group(0)), text)


def comparable(signature: inspect.Signature) -> list[tuple[str, Any, Any, Any]]:
    """Parameters (without ``self``, which users never pass) and the return annotation."""
    parameters = [
        (p.name, p.kind, p.default, sync_text(p.annotation))
        for p in signature.parameters.values()
        if p.name != "self"
    ]
    return [*parameters, ("return", None, None, sync_text(signature.return_annotation))]


def public_members(cls: type) -> dict[str, Any]:
    return {
        name: inspect.getattr_static(cls, name)
        for name in dir(cls)
        if (not name.startswith("_") or name in SPECIAL) and name not in ASYNC_ONLY
    }


def test_every_public_name_has_a_twin() -> None:
    for name in lmstudio_async.__all__:
        twin = twin_name(name)
        assert twin in lmstudio_sync.__all__, f"lmstudio_sync lacks {twin} (twin of {name})"
        assert hasattr(lmstudio_sync, twin)
        original = getattr(lmstudio_async, name)
        if inspect.ismodule(original):  # history, schemas: modules of the same names
            assert getattr(lmstudio_sync, twin).__all__ == original.__all__, name
            continue
        if not (inspect.isclass(original) and name in ASYNC_CLASSES) and not inspect.isfunction(
            original
        ):
            # Data, errors, configs, Chat...: the very same objects, re-exported.
            assert getattr(lmstudio_sync, twin) is original, name


@pytest.mark.parametrize("async_name", sorted(ASYNC_CLASSES))
def test_every_method_and_signature_has_its_twin(async_name: str) -> None:
    async_cls = ASYNC_CLASSES[async_name]
    sync_cls = getattr(lmstudio_sync, twin_name(async_name))
    for name, member in public_members(async_cls).items():
        sync_member = inspect.getattr_static(sync_cls, SPECIAL.get(name, name), None)
        assert sync_member is not None, f"{sync_cls.__name__} lacks {SPECIAL.get(name, name)}"
        if isinstance(member, property):
            assert isinstance(sync_member, property), name
            continue
        function = member.__func__ if isinstance(member, staticmethod) else member
        if not callable(function):
            continue  # class attributes (namespace, kind...), checked by value below
        sync_function = (
            sync_member.__func__ if isinstance(sync_member, staticmethod) else sync_member
        )
        assert not inspect.iscoroutinefunction(sync_function), f"{name} must block, not be async"
        assert comparable(inspect.signature(function)) == comparable(
            inspect.signature(sync_function)
        ), name
        assert bool(function.__doc__) == bool(sync_function.__doc__), name
    for name, value in vars(async_cls).items():
        if not name.startswith("_") and isinstance(value, str):
            assert getattr(sync_cls, name) == value, name


def test_the_client_constructor_matches() -> None:
    assert comparable(inspect.signature(lmstudio_async.AsyncClient.__init__)) == comparable(
        inspect.signature(lmstudio_sync.Client.__init__)
    )


def test_instance_attributes_have_twins() -> None:
    for name in ("system", "llm", "embedding"):
        assert isinstance(inspect.getattr_static(lmstudio_sync.Client, name), property)


@pytest.mark.parametrize(
    "name", [n for n in lmstudio_async.__all__ if inspect.isfunction(getattr(lmstudio_async, n))]
)
def test_module_functions_have_blocking_twins(name: str) -> None:
    original, twin = getattr(lmstudio_async, name), getattr(lmstudio_sync, name)
    assert not inspect.iscoroutinefunction(twin)
    assert comparable(inspect.signature(original)) == comparable(inspect.signature(twin))


def test_the_generated_files_are_current() -> None:
    stale = [p.name for p, text in generated_files().items() if p.read_text() != text]
    assert not stale, f"regenerate with `nox -s generate`: {stale}"


def test_generated_files_say_so() -> None:
    for path in generated_files():
        assert "generated by tools/generate_sync.py" in path.read_text().splitlines()[0]
