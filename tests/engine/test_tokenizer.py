from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lmstudio_async.server.engines.tokenizer import (
    BOS_TOKEN,
    IM_START,
    VOCAB_SIZE,
    count_tokens,
    split_tokens,
    stable_hash,
    token_id,
    tokenize,
)


@given(st.text())
def test_pieces_rebuild_the_text_and_agree_with_the_count(text: str) -> None:
    pieces = split_tokens(text)
    assert "".join(pieces) == text
    assert count_tokens(text) == len(pieces) == len(tokenize(text))


@given(st.text())
def test_ids_are_in_the_vocabulary(text: str) -> None:
    assert all(0 <= token < VOCAB_SIZE for token in tokenize(text))


def test_words_carry_their_leading_space_and_punctuation_stands_alone() -> None:
    assert split_tokens("Hello, big world!") == ["Hello", ",", " big", " world", "!"]


def test_special_tokens_are_single_tokens_with_fixed_ids() -> None:
    assert split_tokens(f"{BOS_TOKEN}{IM_START}user") == [BOS_TOKEN, IM_START, "user"]
    assert token_id(BOS_TOKEN) == 1


def test_ids_are_stable_across_processes() -> None:
    # CRC-32 based, so these exact values hold in every process (unlike hash()).
    assert tokenize("Hello world") == [token_id("Hello"), token_id(" world")]
    assert token_id("Hello") == 16 + 0xF7D18982 % (VOCAB_SIZE - 16)


def test_stable_hash_separates_parts() -> None:
    assert stable_hash("ab", "c") != stable_hash("a", "bc")
    assert stable_hash("x") == stable_hash("x")
