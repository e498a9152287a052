"""Fault injection: make the server misbehave on purpose, so clients can test their error paths.

A :class:`FaultPlan` is set from the CLI (``--fault SPEC``, repeatable) or at run
time through ``POST /lmstudio-test/faults``. Faults stay in force until cleared.
Endpoints are named ``"namespace/endpoint"``, e.g. ``"llm/predict"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FaultPlan", "FaultSpecError", "FAULT_SPEC_HELP"]

FAULT_SPEC_HELP = (
    "close-after-fragments=N (drop the socket after N fragments of each predict channel), "
    "delay:NAMESPACE/ENDPOINT=SECONDS (wait before running the handler), "
    "fail:NAMESPACE/ENDPOINT=TITLE (answer with an error of that title), "
    "tool-calls=malformed|unknown-tool (corrupt every tool call a model produces)"
)
#: Values of the ``tool-calls`` fault.
TOOL_CALL_FAULTS = ("malformed", "unknown-tool")


class FaultSpecError(ValueError):
    """A fault specification (CLI text or control-route JSON) is invalid."""


@dataclass
class FaultPlan:
    #: Close the socket abruptly once this many ``fragment`` packets went out on a predict channel.
    close_after_fragments: int | None = None
    #: Seconds to wait before running the handler of ``"namespace/endpoint"``.
    delays: dict[str, float] = field(default_factory=dict)
    #: ``"namespace/endpoint"`` -> title of the error it fails with.
    failures: dict[str, str] = field(default_factory=dict)
    #: Corrupt the tool calls models produce: ``malformed`` or ``unknown-tool``.
    tool_calls: str | None = None

    def clear(self) -> None:
        self.close_after_fragments = None
        self.tool_calls = None
        self.delays.clear()
        self.failures.clear()

    def replace(self, other: FaultPlan) -> None:
        """Make this plan equal to ``other`` (in place: connections hold a reference to it)."""
        self.close_after_fragments = other.close_after_fragments
        self.delays = dict(other.delays)
        self.failures = dict(other.failures)
        self.tool_calls = other.tool_calls

    def add_spec(self, spec: str) -> None:
        """Add one CLI-style fault, e.g. ``"delay:system/version=2.5"``."""
        name, sep, value = spec.partition("=")
        if not sep:
            raise FaultSpecError(
                f"fault {spec!r} has no '=VALUE'; expected one of: {FAULT_SPEC_HELP}"
            )
        if name == "close-after-fragments":
            self.close_after_fragments = _fragment_count(value)
        elif name == "tool-calls":
            self.tool_calls = _tool_call_fault(value)
        elif name.startswith("delay:"):
            self.delays[_endpoint_key(name[len("delay:") :])] = _delay(value)
        elif name.startswith("fail:"):
            self.failures[_endpoint_key(name[len("fail:") :])] = _title(value)
        else:
            raise FaultSpecError(f"unknown fault {spec!r}; expected one of: {FAULT_SPEC_HELP}")

    @classmethod
    def from_specs(cls, specs: list[str]) -> FaultPlan:
        plan = cls()
        for spec in specs:
            plan.add_spec(spec)
        return plan

    @classmethod
    def from_json(cls, body: Any) -> FaultPlan:
        """Parse the ``POST /lmstudio-test/faults`` body; absent keys mean "no such fault"."""
        if not isinstance(body, dict):
            raise FaultSpecError("the body must be a JSON object")
        unknown = set(body) - {"closeAfterFragments", "delays", "failures", "toolCalls"}
        if unknown:
            raise FaultSpecError(
                f"unknown keys {sorted(unknown)}; expected closeAfterFragments, delays, "
                "failures, toolCalls"
            )
        plan = cls()
        count = body.get("closeAfterFragments")
        if count is not None:
            if isinstance(count, bool) or not isinstance(count, int):
                raise FaultSpecError("closeAfterFragments must be an integer or null")
            plan.close_after_fragments = _fragment_count(str(count))
        for key, seconds in _object(body, "delays").items():
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise FaultSpecError(f"delays[{key!r}] must be a number of seconds")
            plan.delays[_endpoint_key(key)] = _delay(str(seconds))
        for key, title in _object(body, "failures").items():
            if not isinstance(title, str):
                raise FaultSpecError(f"failures[{key!r}] must be an error title (a string)")
            plan.failures[_endpoint_key(key)] = _title(title)
        tool_calls = body.get("toolCalls")
        if tool_calls is not None:
            if not isinstance(tool_calls, str):
                raise FaultSpecError("toolCalls must be a string or null")
            plan.tool_calls = _tool_call_fault(tool_calls)
        return plan

    def to_json(self) -> dict[str, Any]:
        return {
            "closeAfterFragments": self.close_after_fragments,
            "delays": dict(self.delays),
            "failures": dict(self.failures),
            "toolCalls": self.tool_calls,
        }


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FaultSpecError(f"{key} must be an object mapping 'namespace/endpoint' to a value")
    return value


def _endpoint_key(text: str) -> str:
    namespace, sep, endpoint = text.partition("/")
    if not sep or not namespace or not endpoint or "/" in endpoint:
        raise FaultSpecError(
            f"{text!r} is not an endpoint name; expected NAMESPACE/ENDPOINT, e.g. llm/predict"
        )
    return text


def _fragment_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise FaultSpecError(f"close-after-fragments needs an integer, got {text!r}") from None
    if count < 0:
        raise FaultSpecError(f"close-after-fragments must be >= 0, got {count}")
    return count


def _delay(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise FaultSpecError(f"a delay needs a number of seconds, got {text!r}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise FaultSpecError(f"a delay must be a finite number >= 0, got {text!r}")
    return seconds


def _title(text: str) -> str:
    if not text:
        raise FaultSpecError("a failure needs a non-empty error title")
    return text


def _tool_call_fault(text: str) -> str:
    if text not in TOOL_CALL_FAULTS:
        raise FaultSpecError(
            f"tool-calls must be one of {', '.join(TOOL_CALL_FAULTS)}, got {text!r}"
        )
    return text
