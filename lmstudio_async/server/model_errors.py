"""The errors the model endpoints report, with the ``displayData`` codes SDKs classify by.

The official Python SDK raises ``LMStudioModelNotFoundError`` only for
``generic.noModelMatchingQuery`` (1.5.0) or also ``generic.pathNotFound``
(later), so "no such loaded model" always uses the former.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from ..protocol import (
    CODE_DOMAIN_MISMATCH,
    CODE_NO_MODEL_MATCHING_QUERY,
    CODE_PATH_NOT_FOUND,
    ModelQuery,
)
from .api import ServerError
from .redact import MAX_ECHOED_NAME, shorten

__all__ = [
    "SAMPLE_SIZE",
    "no_model_matching_query",
    "instance_reference_not_found",
    "model_not_downloaded",
    "domain_mismatch",
    "identifier_exists",
    "identifier_too_long",
]

#: How many names an error lists as a sample of what exists.
SAMPLE_SIZE = 10


def _did_you_mean(target: str | None, candidates: Sequence[str]) -> str | None:
    # Fuzzy matching costs time quadratic in the name: a client's huge name gets none.
    if not target or len(target) > MAX_ECHOED_NAME:
        return None
    close = difflib.get_close_matches(target, candidates, n=3, cutoff=0.5)
    if not close:
        return None
    return "Did you mean " + " or ".join(f'"{name}"' for name in close) + "?"


def _describe(query: ModelQuery) -> str:
    parts = []
    if query.identifier is not None:
        parts.append(f'identifier "{shorten(query.identifier)}"')
    if query.path is not None:
        parts.append(f'path "{shorten(query.path)}"')
    if query.domain is not None:
        parts.append(f"domain {query.domain}")
    if query.vision is not None:
        parts.append("vision support" if query.vision else "no vision support")
    return " and ".join(parts)


def no_model_matching_query(query: ModelQuery, domain: str, loaded: Sequence[str]) -> ServerError:
    """Nothing loaded matches ``query``; ``loaded`` lists ``domain``'s instance identifiers."""
    description = _describe(query)
    if description:
        title = f"No loaded {domain} model matches {description}"
    else:
        title = f"No {domain} model is loaded"
    suggestion = _did_you_mean(query.identifier or query.path, loaded)
    if suggestion is None:
        suggestion = (
            f"Loaded {domain} models: {', '.join(loaded[:SAMPLE_SIZE])}."
            if loaded
            else "Load a model first (loadModel), or use getOrLoad to load one on demand."
        )
    return ServerError(
        title,
        suggestion=suggestion,
        display_data={
            "code": CODE_NO_MODEL_MATCHING_QUERY,
            "query": {
                key: shorten(value) if isinstance(value, str) else value
                for key, value in query.to_dict().items()
            },
            "loadedModelsSample": list(loaded[:SAMPLE_SIZE]),
            "totalLoadedModels": len(loaded),
        },
    )


def instance_reference_not_found(reference: str) -> ServerError:
    return ServerError(
        "The model instance this handle refers to is no longer loaded",
        cause=f"No loaded model has the instance reference {reference!r}.",
        suggestion="Load the model again and use the new handle.",
        display_data={"code": "generic.specificModelUnloaded"},
    )


def model_not_downloaded(key: str, known: Sequence[str], paths: Sequence[str]) -> ServerError:
    """``key`` names no downloaded model; ``known`` are keys and paths to suggest from."""
    return ServerError(
        f'No downloaded model matches "{shorten(key)}"',
        cause="A model is named by its model key, its path, or the publisher/repository prefix "
        "of its path.",
        suggestion=_did_you_mean(key, known)
        or "List the downloaded models with system/listDownloadedModels.",
        display_data={
            "code": CODE_PATH_NOT_FOUND,
            "path": shorten(key),
            "availablePathsSample": list(paths[:SAMPLE_SIZE]),
            "totalModels": len(paths),
        },
    )


def domain_mismatch(key: str, path: str, actual: str, expected: str) -> ServerError:
    return ServerError(
        f'Model "{shorten(key)}" is an {actual} model, not an {expected} model',
        suggestion=f"Use the {actual} namespace to load and use it.",
        display_data={
            "code": CODE_DOMAIN_MISMATCH,
            "path": path,
            "actualDomain": actual,
            "expectedDomain": expected,
        },
    )


def identifier_exists(identifier: str) -> ServerError:
    # LM Studio sends the title alone: no cause, suggestion or displayData.
    return ServerError(f'A model with the identifier "{shorten(identifier)}" already exists')


def identifier_too_long(identifier: str, limit: int) -> ServerError:
    return ServerError(
        f"A model identifier may have at most {limit} characters, not {len(identifier)}",
        suggestion="Choose a shorter identifier, or omit it to let the server pick one.",
    )
