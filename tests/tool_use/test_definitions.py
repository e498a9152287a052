"""Tool definitions: the schemas offered to the model and the checks on its arguments."""

from __future__ import annotations

import enum
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmstudio_async import LMStudioValueError, ToolFunctionDef
from lmstudio_async.tools.definitions import resolve_tool
from lmstudio_async.tools.schema import schema_errors


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


def paint(colour: Colour, coats: int = 2, finish: Literal["matt", "gloss"] = "matt") -> str:
    """Paint the wall.

    Two coats by default.
    """
    return f"{coats} {finish} {colour.value}"


def test_a_function_becomes_a_described_tool() -> None:
    tool = resolve_tool(paint)
    function = tool.definition["function"]
    assert function["name"] == "paint"
    assert function["description"] == "Paint the wall.\n\nTwo coats by default."
    parameters = function["parameters"]
    assert parameters["required"] == ["colour"]
    assert parameters["properties"]["coats"] == {"type": "integer", "default": 2}
    assert parameters["properties"]["finish"]["enum"] == ["gloss", "matt"]
    assert tool.check({"colour": "blue"}) == {"colour": Colour.BLUE, "coats": 2, "finish": "matt"}
    with pytest.raises(ValueError, match="colour"):
        tool.check({"colour": "green"})
    with pytest.raises(ValueError, match="colour"):
        tool.check({})


def test_the_official_forms_give_the_same_tool() -> None:
    from_callable = resolve_tool(ToolFunctionDef.from_callable(paint))
    explicit = resolve_tool(
        ToolFunctionDef(
            name="paint",
            description="Paint the wall.\n\nTwo coats by default.",
            parameters={
                "colour": Colour,
                "coats": {"type": int, "default": 2},
                "finish": {"type": Literal["matt", "gloss"], "default": "matt"},
            },
            implementation=paint,
        )
    )
    as_dict = resolve_tool(
        {
            "name": "paint",
            "description": "Paint the wall.\n\nTwo coats by default.",
            "parameters": {
                "colour": Colour,
                "coats": {"type": int, "default": 2},
                "finish": {"type": Literal["matt", "gloss"], "default": "matt"},
            },
            "implementation": paint,
        }
    )
    plain = resolve_tool(paint)
    assert from_callable.definition == explicit.definition == as_dict.definition
    assert plain.definition == explicit.definition


def test_renamed_and_undocumented_tools() -> None:
    def undocumented(x: int) -> int:
        return x

    tool = resolve_tool(ToolFunctionDef.from_callable(undocumented, name="identity"))
    assert tool.definition["function"]["name"] == "identity"
    assert "description" not in tool.definition["function"]


@pytest.mark.parametrize(
    ("tool", "message"),
    [
        ({"name": "t", "parameters": "x"}, "dict of types or a JSON schema"),
        ({"name": "t", "implementation": 3}, "not callable"),
        ({"name": "t", "timeout": 0}, "timeout"),
        ({"nom": "t"}, "needs 'name'"),
        (ToolFunctionDef(name="", description="", parameters={}), "non-empty string"),
    ],
)
def test_bad_definitions_are_rejected(tool: Any, message: str) -> None:
    with pytest.raises(LMStudioValueError, match=message):
        resolve_tool(tool)


SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 5},
        "count": {"type": "integer", "minimum": 0, "maximum": 9},
        "tags": {"type": "array", "items": {"enum": ["a", "b"]}},
        "point": {"$ref": "#/$defs/Point"},
        "mode": {"anyOf": [{"const": "x"}, {"type": "null"}]},
    },
    "required": ["name"],
    "additionalProperties": False,
    "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}},
}

VALID = st.fixed_dictionaries(
    {"name": st.text(min_size=1, max_size=5)},
    optional={
        "count": st.integers(0, 9),
        "tags": st.lists(st.sampled_from(["a", "b"])),
        "point": st.fixed_dictionaries({"x": st.floats(allow_nan=False) | st.integers()}),
        "mode": st.sampled_from(["x", None]),
    },
)


@given(VALID)
def test_values_that_fit_the_schema_pass(value: dict[str, Any]) -> None:
    assert schema_errors(SCHEMA, value) == []


@given(
    VALID,
    st.sampled_from(
        [
            ("name", ""),
            ("name", 3),
            ("count", 10),
            ("count", 1.5),
            ("count", True),
            ("tags", ["c"]),
            ("point", {"x": "1"}),
            ("mode", "y"),
            ("extra", 1),
        ]
    ),
)
def test_each_kind_of_misfit_is_reported(value: dict[str, Any], change: tuple[str, Any]) -> None:
    key, bad = change
    errors = schema_errors(SCHEMA, {**value, key: bad})
    assert errors and any(key in error for error in errors)
