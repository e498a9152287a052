from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmstudio_async.server.engines.json_schema import generate_json


class Author(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1)]
    born: Annotated[int, msgspec.Meta(ge=1800, le=2000)]


class Book(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=3, max_length=40)]
    rating: Annotated[float, msgspec.Meta(ge=0, le=5)]
    genre: Literal["fantasy", "history"]
    tags: Annotated[list[str], msgspec.Meta(min_length=1, max_length=4)]
    in_print: bool
    author: Author
    pages: Annotated[int, msgspec.Meta(gt=0, multiple_of=10)]
    sequel: Book | None = None


# msgspec validates independently of the generator: the schema it emits (with $defs/$ref,
# bounds, enums and a recursive optional field) must yield values it accepts back.
@given(seed=st.integers(min_value=0, max_value=2**64 - 1))
def test_generated_values_validate_against_the_schema(seed: int) -> None:
    value = generate_json(msgspec.json.schema(Book), seed)
    msgspec.json.decode(json.dumps(value), type=Book)


def test_generation_is_deterministic_per_schema_and_seed() -> None:
    schema = msgspec.json.schema(Book)
    assert generate_json(schema, 1) == generate_json(schema, 1)
    assert any(generate_json(schema, 1) != generate_json(schema, seed) for seed in range(2, 6))


@pytest.mark.parametrize(
    ("schema", "check"),
    [
        ({"type": "string", "format": "date"}, lambda v: v == "2024-05-17"),
        ({"const": 7}, lambda v: v == 7),
        ({"type": ["null", "integer"], "minimum": 3, "maximum": 3}, lambda v: v == 3),
        ({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 2}, lambda v: v == 1),
        (
            {"type": "array", "items": {"enum": [1, 2]}, "minItems": 2, "uniqueItems": True},
            lambda v: sorted(v) == [1, 2],
        ),
        (
            {"allOf": [{"properties": {"a": {"type": "boolean"}}, "required": ["a"]}]},
            lambda v: isinstance(v["a"], bool),
        ),
        ({"properties": {"x": {"type": "number"}}}, lambda v: isinstance(v["x"], float)),
    ],
)
def test_schema_keywords_are_honoured(
    schema: dict[str, object], check: Callable[[Any], bool]
) -> None:
    assert check(generate_json(schema, 0))
