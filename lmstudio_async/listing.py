"""Model listings: which namespaces a listing covers, and lenient decoding of model lists."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, Final, Literal

from .errors import LMStudioValueError
from .protocol import EmbeddingModelInfo, LlmInfo, ModelInfo, Raw, decoder_for, lenient_decoder_for

__all__ = [
    "ModelNamespaceName",
    "MODEL_NAMESPACES",
    "check_model_namespace",
    "decode_each",
    "filter_by_namespace",
]

ModelNamespaceName = Literal["llm", "embedding"]
MODEL_NAMESPACES: Final = ("llm", "embedding")

_RAW_LIST = list[Raw]
_INFO_TYPES: Final = {"llm": LlmInfo, "embedding": EmbeddingModelInfo}


def check_model_namespace(namespace: str | None) -> tuple[str, ...]:
    """The model namespaces a listing covers; ``None`` means all of them."""
    if namespace is None:
        return MODEL_NAMESPACES
    if namespace in MODEL_NAMESPACES:
        return (namespace,)
    close = difflib.get_close_matches(str(namespace), MODEL_NAMESPACES, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise LMStudioValueError(
        f"namespace must be 'llm', 'embedding' or None (both), not {namespace!r}.{hint}"
    )


def decode_each(raw: Raw, item_type: Any, context: str) -> list[Any]:
    """Decode a JSON array item by item, skipping (with a warning) items we cannot parse.

    A server newer than this SDK may list models of a domain we do not know
    (``imageGen``...); that must not hide the models we do know.
    """
    items = decoder_for(_RAW_LIST).decode(raw)
    decoder = lenient_decoder_for(item_type, context)
    return [item for item in map(decoder.decode_or_warn, items) if item is not None]


def filter_by_namespace(
    models: Iterable[ModelInfo], namespaces: tuple[str, ...]
) -> list[ModelInfo]:
    wanted = tuple(_INFO_TYPES[ns] for ns in namespaces)
    return [model for model in models if isinstance(model, wanted)]
