from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lmstudio_async.server.engines.stopping import StopStringFilter


def _run(pieces: list[str], stops: list[str]) -> tuple[str, str | None]:
    stop_filter = StopStringFilter(stops)
    released = []
    for piece in pieces:
        released.append(stop_filter.feed(piece))
        if stop_filter.matched is not None:
            return "".join(released), stop_filter.matched
    released.append(stop_filter.flush())
    return "".join(released), None


def test_a_stop_string_split_across_pieces_is_caught_and_not_released() -> None:
    assert _run(["Hello wor", "ld", " and more"], ["world"]) == ("Hello ", "world")


def test_held_back_text_is_released_when_it_turns_out_not_to_be_a_stop() -> None:
    stop_filter = StopStringFilter(["END"])
    assert stop_filter.feed("the E") == "the "
    assert stop_filter.held == "E"
    assert stop_filter.feed("ND") == ""
    assert stop_filter.matched == "END"
    assert _run(["the E", "nd"], ["END"]) == ("the End", None)


def test_the_earliest_stop_string_wins() -> None:
    assert _run(["a. b\n"], ["\n", "."]) == ("a", ".")


def test_without_stop_strings_everything_passes_through() -> None:
    assert _run(["x", "y"], []) == ("xy", None)


@given(
    pieces=st.lists(st.text(alphabet="abc. ", max_size=5), max_size=20),
    stops=st.lists(st.text(alphabet="abc.", min_size=1, max_size=3), max_size=3),
)
def test_text_stops_right_before_a_stop_string_and_never_contains_one(
    pieces: list[str], stops: list[str]
) -> None:
    full = "".join(pieces)
    released, matched = _run(pieces, stops)
    assert full.startswith(released)
    assert not any(stop in released for stop in stops)
    if matched is None:
        assert released == full
    else:
        assert full[len(released) :].startswith(matched)


@given(
    text=st.text(alphabet="abc. ", max_size=30),
    stops=st.lists(st.text(alphabet="abc.", min_size=1, max_size=3), min_size=1, max_size=3),
)
def test_token_by_token_the_first_completed_stop_string_wins(text: str, stops: list[str]) -> None:
    ends = [(index + len(stop), index) for stop in stops if (index := text.find(stop)) >= 0]
    released, matched = _run(list(text), stops)
    if ends:
        first_end = min(ends)[0]
        assert matched is not None
        assert text[:first_end].endswith(matched)
        assert released == text[: first_end - len(matched)]
    else:
        assert (released, matched) == (text, None)
