"""Everything the server's handlers share, for the life of one server."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

from .clients import ClientRegistry
from .config import ServerConfig
from .faults import FaultPlan
from .filestore import FileStore
from .hub import Hub, build_hub
from .loghub import LogHub
from .models import ModelManager
from .presets import PresetCatalog, load_presets_file
from .requestlog import RequestLog

__all__ = ["ServerState"]


@dataclass
class ServerState:
    config: ServerConfig
    models: ModelManager
    faults: FaultPlan
    files: FileStore
    #: Authenticated clients (first-come-first-served identifier/passkey registry).
    clients: ClientRegistry
    #: Post-auth frames from clients; filled only in test-control mode.
    requests: RequestLog
    #: Named prediction presets (``--presets FILE``).
    presets: PresetCatalog = field(default_factory=PresetCatalog)
    #: Subscribers of ``diagnostics/streamLogs``.
    logs: LogHub = field(default_factory=LogHub)
    #: ``system/setExperimentFlag`` settings.
    experiment_flags: set[str] = field(default_factory=set)
    #: What ``repository`` searches and downloads from (see :mod:`.hub`).
    hub: Hub = field(default_factory=Hub)
    #: Model paths being downloaded right now.
    downloading: set[str] = field(default_factory=set)
    started_at: float = field(default_factory=time.time)
    _socket_numbers: itertools.count[int] = field(
        init=False, repr=False, default_factory=lambda: itertools.count(1)
    )

    @classmethod
    def create(cls, config: ServerConfig, faults: FaultPlan | None = None) -> ServerState:
        files = FileStore()
        models = ModelManager(config)
        return cls(
            config=config,
            models=models,
            hub=build_hub(config, models.engine),
            faults=faults if faults is not None else FaultPlan(),
            files=files,
            clients=ClientRegistry(config.api_tokens, on_released=files.release_client),
            requests=RequestLog(config.request_log_size),
            presets=load_presets_file(config.presets) if config.presets else PresetCatalog(),
        )

    def next_socket_number(self) -> int:
        """A number identifying one websocket in logs and the request log."""
        return next(self._socket_numbers)
