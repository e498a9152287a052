"""Inference engines behind the local server, chosen by ``ServerConfig.engine``."""

from __future__ import annotations

from collections.abc import Callable

from ..config import ServerConfig
from .base import Engine
from .llama_cpp import LlamaCppEngine
from .scripted import ScriptedEngine

__all__ = ["ENGINES", "Engine", "create_engine"]

#: Engine name -> factory.
ENGINES: dict[str, Callable[[ServerConfig], Engine]] = {
    ScriptedEngine.name: ScriptedEngine,
    LlamaCppEngine.name: LlamaCppEngine,
}


def create_engine(config: ServerConfig) -> Engine:
    factory = ENGINES.get(config.engine)
    if factory is None:
        valid = ", ".join(sorted(ENGINES))
        raise ValueError(f"Unknown engine {config.engine!r}; valid engines: {valid}")
    return factory(config)
