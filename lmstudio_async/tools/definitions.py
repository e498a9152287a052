"""Tool definitions: what users pass as ``tools=``, resolved into what the model is offered.

A tool may be given as

* a plain or async function: its name, its docstring (the description) and its
  parameters' type hints and defaults describe it (see :mod:`.schema`);
* a :class:`ToolFunctionDef` or a :class:`ToolFunctionDefDict` (the official
  SDK's forms): ``parameters`` maps names to types (or ``{"type": T,
  "default": v}``), or is itself a JSON schema (``{"type": "object", ...}``);
* an LM Studio / OpenAI tool dict, ``{"type": "function", "function": {"name",
  "description", "parameters"}}``, with an optional ``"implementation"`` key;
* a tool provider such as :func:`lmstudio_async.tools.mcp.mcp_tools` (``act()`` only).

Definitions without an implementation can be offered to ``respond(tools=...)``,
whose result then carries the model's tool-call requests, unexecuted.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict, runtime_checkable

from typing_extensions import NotRequired

from ..errors import LMStudioValueError
from ..protocol import KVConfig, KVConfigField, KVConfigStackLayer, PredictParameter
from .schema import FunctionParameters, ParameterSpec, schema_errors

__all__ = [
    "ToolFunctionDef",
    "ToolFunctionDefDict",
    "ToolDefinition",
    "ToolProvider",
    "ClientTool",
    "resolve_tool",
    "resolve_tools",
    "tools_setting",
    "offer_tools",
    "wrap_tool_implementations",
]


class ToolFunctionDefDict(TypedDict):
    """A tool as a dict (the keys of :class:`ToolFunctionDef`)."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    implementation: Callable[..., Any]
    timeout: NotRequired[float | None]


@dataclass(kw_only=True, frozen=True)
class ToolFunctionDef:
    """A tool: its name, description, parameters and the function that implements it.

    ``parameters`` maps each parameter name to its type, or to ``{"type": T,
    "default": value}``; or it is the JSON schema of the arguments object.
    ``timeout`` (seconds) bounds one call; a call that takes longer is reported
    to the model as failed.
    """

    name: str
    description: str
    parameters: Mapping[str, Any]
    implementation: Callable[..., Any] | None = None
    timeout: float | None = None

    @classmethod
    def from_callable(
        cls,
        f: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
    ) -> ToolFunctionDef:
        """The definition of function ``f`` (name and description default to its own)."""
        tool_name = _check_name(name if name is not None else getattr(f, "__name__", None))
        parameters: dict[str, Any] = {}
        for spec in FunctionParameters.of_callable(tool_name, f).specs:
            parameters[spec.name] = (
                spec.annotation
                if spec.default is _EMPTY
                else {"type": spec.annotation, "default": spec.default}
            )
        return cls(
            name=tool_name,
            description=inspect.getdoc(f) or "" if description is None else description,
            parameters=parameters,
            implementation=f,
            timeout=timeout,
        )


@runtime_checkable
class ToolProvider(Protocol):
    """Tools that need a session, e.g. an MCP server's: opened for one ``act()`` call."""

    def open_tools(self) -> Any:
        """An async context manager whose value is a list of :class:`ClientTool`."""
        ...


#: Anything ``tools=`` accepts (see the module docstring).
ToolDefinition = ToolFunctionDef | ToolFunctionDefDict | Callable[..., Any] | Mapping[str, Any]

#: Checks a call's arguments; returns the keyword arguments or raises ``ValueError``.
ArgumentCheck = Callable[[Mapping[str, Any] | None], dict[str, Any]]


@dataclass(frozen=True)
class ClientTool:
    """A resolved tool: what is offered to the model, and how to run it."""

    name: str
    #: The ``LlmTool`` wire form.
    definition: dict[str, Any]
    check: ArgumentCheck
    implementation: Callable[..., Any] | None = None
    timeout: float | None = None
    #: Whether calling the implementation returns an awaitable.
    is_async: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    async def call(self, arguments: dict[str, Any]) -> Any:
        """Run the implementation (sync ones in a worker thread, so the loop stays free)."""
        implementation = self.implementation
        if implementation is None:
            raise LMStudioValueError(f"Tool {self.name!r} has no implementation to run.")
        if self.is_async:
            return await implementation(**arguments)
        import anyio.to_thread

        return await anyio.to_thread.run_sync(lambda: implementation(**arguments))


def _wire(name: str, description: str | None, parameters: Mapping[str, Any]) -> dict[str, Any]:
    function: dict[str, Any] = {"name": name}
    if description:
        function["description"] = description
    function["parameters"] = dict(parameters)
    return {"type": "function", "function": function}


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise LMStudioValueError(f"A tool name must be a non-empty string, not {name!r}.")
    return name


def _is_async(function: Callable[..., Any] | None) -> bool:
    if function is None:
        return False
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004  # an async __call__ method
    )


def _timeout(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise LMStudioValueError(f"A tool timeout must be a number of seconds > 0, not {value!r}.")
    return float(value)


def _from_function(
    f: Callable[..., Any], *, name: str | None, description: str | None, timeout: float | None
) -> ClientTool:
    tool_name = _check_name(name if name is not None else getattr(f, "__name__", None))
    if description is None:
        description = inspect.getdoc(f) or ""
    parameters = FunctionParameters.of_callable(tool_name, f)
    return ClientTool(
        tool_name,
        _wire(tool_name, description, parameters.schema),
        parameters.convert,
        f,
        _timeout(timeout),
        _is_async(f),
    )


def _is_json_schema(parameters: Mapping[str, Any]) -> bool:
    return parameters.get("type") == "object" and not isinstance(parameters.get("type"), type)


def _schema_check(name: str, schema: Mapping[str, Any]) -> ArgumentCheck:
    def check(arguments: Mapping[str, Any] | None) -> dict[str, Any]:
        values = dict(arguments or {})
        errors = schema_errors(schema, values)
        if errors:
            raise ValueError("; ".join(errors[:5]))
        return values

    return check


def _from_parts(
    name: object,
    description: object,
    parameters: object,
    implementation: Any,
    timeout: object,
) -> ClientTool:
    tool_name = _check_name(name)
    if description is not None and not isinstance(description, str):
        raise LMStudioValueError(f"The description of tool {tool_name!r} must be a string.")
    if implementation is not None and not callable(implementation):
        raise LMStudioValueError(f"The implementation of tool {tool_name!r} is not callable.")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise LMStudioValueError(
            f"The parameters of tool {tool_name!r} must be a dict of types or a JSON schema."
        )
    if _is_json_schema(parameters):
        schema: Mapping[str, Any] = parameters
        check = _schema_check(tool_name, schema)
    else:
        specs = []
        for key, value in parameters.items():
            if isinstance(value, Mapping):
                if "type" not in value:
                    raise LMStudioValueError(
                        f"Parameter {key!r} of tool {tool_name!r} needs a 'type' key."
                    )
                specs.append(ParameterSpec(key, value["type"], value.get("default", _EMPTY)))
            else:
                specs.append(ParameterSpec(key, value))
        function_parameters = FunctionParameters(tool_name, specs)
        schema, check = function_parameters.schema, function_parameters.convert
    return ClientTool(
        tool_name,
        _wire(tool_name, description, schema),
        check,
        implementation,
        _timeout(timeout),
        _is_async(implementation),
    )


_EMPTY = inspect.Parameter.empty


def resolve_tool(tool: Any) -> ClientTool:
    """One tool definition, validated."""
    if isinstance(tool, ClientTool):
        return tool
    if isinstance(tool, ToolFunctionDef):
        return _from_parts(
            tool.name, tool.description, tool.parameters, tool.implementation, tool.timeout
        )
    if isinstance(tool, Mapping):
        if tool.get("type") == "function" and isinstance(tool.get("function"), Mapping):
            function = tool["function"]
            return _from_parts(
                function.get("name"),
                function.get("description"),
                function.get("parameters"),
                tool.get("implementation"),
                tool.get("timeout"),
            )
        unknown = set(tool) - {"name", "description", "parameters", "implementation", "timeout"}
        if unknown or "name" not in tool:
            raise LMStudioValueError(
                f"A tool dict needs 'name', 'description', 'parameters' and 'implementation' "
                "(or the form {'type': 'function', 'function': {...}}), "
                f"not {dict(tool)!r:.200}."
            )
        return _from_parts(
            tool.get("name"),
            tool.get("description"),
            tool.get("parameters"),
            tool.get("implementation"),
            tool.get("timeout"),
        )
    if callable(tool):
        return _from_function(tool, name=None, description=None, timeout=None)
    raise LMStudioValueError(
        f"A tool must be a function, a ToolFunctionDef or a tool dict, not {tool!r:.100}."
    )


def resolve_tools(tools: Iterable[Any]) -> dict[str, ClientTool]:
    """Tool definitions by name (providers are not allowed here), rejecting duplicates."""
    if isinstance(tools, (str, bytes, Mapping)) or callable(tools):
        raise LMStudioValueError("tools must be a list of tool definitions.")
    resolved: dict[str, ClientTool] = {}
    for tool in tools:
        if isinstance(tool, ToolProvider):
            raise LMStudioValueError(
                f"{tool!r} provides tools through a session; only act() can open it."
            )
        client_tool = resolve_tool(tool)
        if client_tool.name in resolved:
            raise LMStudioValueError(
                f"Two tools are named {client_tool.name!r}; names must differ."
            )
        resolved[client_tool.name] = client_tool
    return resolved


def tools_setting(tools: Iterable[ClientTool]) -> dict[str, Any]:
    """The ``llm.prediction.tools`` value offering ``tools``."""
    return {"type": "toolArray", "tools": [tool.definition for tool in tools]}


def offer_tools(parameter: PredictParameter, setting: dict[str, Any]) -> None:
    """Add ``llm.prediction.tools`` to the request's ``apiOverride`` layer (as the official
    SDK sends it)."""
    field_ = KVConfigField(key="llm.prediction.tools", value=setting)
    for layer in parameter.prediction_config_stack.layers:
        if layer.layer_name == "apiOverride":
            layer.config.fields.append(field_)
            return
    parameter.prediction_config_stack.layers.insert(
        0, KVConfigStackLayer(layer_name="apiOverride", config=KVConfig(fields=[field_]))
    )


def wrap_tool_implementations(
    tools: Iterable[Any], wrap: Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]] | None]
) -> list[Any]:
    """The tools, each implementation replaced by ``wrap(implementation)`` (an async stand-in).

    The blocking API uses this to run tools in the thread that called ``act()``.
    Async implementations are rejected: the blocking API takes plain functions.
    Providers are passed through (their sessions run on the event loop).
    """
    if isinstance(tools, (str, bytes, Mapping)) or callable(tools):
        raise LMStudioValueError("tools must be a list of tool definitions.")
    wrapped: list[Any] = []
    for tool in tools:
        if isinstance(tool, ToolProvider):
            wrapped.append(tool)
            continue
        resolved = resolve_tool(tool)
        implementation = resolved.implementation
        if implementation is None:
            wrapped.append(resolved)
            continue
        if resolved.is_async:
            raise LMStudioValueError(
                f"Tool {resolved.name!r} is an async function; the blocking API runs plain "
                "functions (use lmstudio_async for async tools)."
            )
        wrapped.append(
            ClientTool(
                resolved.name,
                resolved.definition,
                resolved.check,
                wrap(implementation),
                resolved.timeout,
                is_async=True,
            )
        )
    return wrapped
