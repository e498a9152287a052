"""Models loaded at start-up (``--load KEY`` / ``--load KEY=IDENTIFIER``), as ``lms load`` does."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from ..protocol import KVConfigStack
from .api import ServerError
from .models import ModelManager

__all__ = ["PreloadError", "PreloadSpec", "parse_preload_spec", "preload_models"]

logger = logging.getLogger(__name__)


class PreloadError(Exception):
    """A model given with ``--load`` cannot be loaded; the server does not start."""


@dataclass(frozen=True)
class PreloadSpec:
    #: Any name ``getOrLoad`` accepts: model key, path, ``publisher/model``...
    model: str
    identifier: str | None = None


def parse_preload_spec(text: str) -> PreloadSpec:
    """``KEY`` or ``KEY=IDENTIFIER``; ``ValueError`` if either part is empty."""
    model, sep, identifier = (part.strip() for part in text.partition("="))
    if not model or (sep and not identifier):
        raise ValueError(f"expected KEY or KEY=IDENTIFIER, got {text!r}")
    return PreloadSpec(model, identifier or None)


async def _noop_progress(progress: float) -> None:
    pass


async def preload_models(models: ModelManager, specs: Sequence[PreloadSpec]) -> None:
    """Load each model in order, LLM or embedding model as its name says."""
    for spec in specs:
        try:
            info, _ = models.resolve_model(spec.model, "llm")
        except ServerError as llm_error:
            try:
                info, _ = models.resolve_model(spec.model, "embedding")
            except ServerError:
                raise PreloadError(f"--load {spec.model}: {llm_error.title}") from None
        try:
            instance = await models.load(
                info,
                load_config_stack=KVConfigStack(layers=[]),
                progress=_noop_progress,
                identifier=spec.identifier,
            )
        except ServerError as exc:
            raise PreloadError(f"--load {spec.model}: {exc.title}") from None
        logger.info("Loaded %s as %r", info.model_key, instance.identifier)
