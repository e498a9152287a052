"""A deterministic toy tokenizer shared by the scripted models.

Text splits into special tokens, words (with the whitespace before them),
single punctuation marks (likewise) and trailing whitespace. Token ids are a
CRC-32 of the piece, so they are stable across processes, unlike ``hash()``.
"""

from __future__ import annotations

import hashlib
import re
import zlib

__all__ = [
    "BOS_TOKEN",
    "EOS_TOKEN",
    "IM_START",
    "IM_END",
    "VOCAB_SIZE",
    "split_tokens",
    "token_id",
    "tokenize",
    "count_tokens",
    "stable_hash",
]

BOS_TOKEN = "<s>"
EOS_TOKEN = "</s>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
_SPECIAL_IDS = {BOS_TOKEN: 1, EOS_TOKEN: 2, IM_START: 3, IM_END: 4}
_FIRST_ORDINARY_ID = 16
VOCAB_SIZE = 32_000

_TOKEN_RE = re.compile(
    "|".join(re.escape(special) for special in _SPECIAL_IDS) + r"|\s*\w+|\s*[^\w\s]|\s+"
)


def split_tokens(text: str) -> list[str]:
    """The text of each token; joined, they give back ``text``."""
    return _TOKEN_RE.findall(text)


def token_id(piece: str) -> int:
    special = _SPECIAL_IDS.get(piece)
    if special is not None:
        return special
    ordinary = zlib.crc32(piece.encode("utf-8", "surrogatepass")) % (
        VOCAB_SIZE - _FIRST_ORDINARY_ID
    )
    return _FIRST_ORDINARY_ID + ordinary


def tokenize(text: str) -> list[int]:
    return [token_id(piece) for piece in split_tokens(text)]


def count_tokens(text: str) -> int:
    return sum(1 for _ in _TOKEN_RE.finditer(text))


def stable_hash(*parts: str) -> int:
    """A 64-bit hash of ``parts`` that is the same in every process."""
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        encoded = part.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return int.from_bytes(digest.digest(), "little")
