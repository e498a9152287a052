"""Loaded model instances: identifiers, lookup, loading, JIT loading and idle-TTL unloading.

The engine does the work; this module owns what LM Studio layers on top
(PROTOCOL.md 5, 6.1 and 9). Identifiers are unique across both domains.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import string
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

from ..protocol import (
    EmbeddingModelInstanceInfo,
    InstanceReferenceSpecifier,
    KVConfigStack,
    LlmInfo,
    LlmInstanceInfo,
    ModelInfo,
    ModelInstanceInfo,
    ModelQuery,
    ModelSpecifier,
)
from . import model_errors
from .config import ServerConfig
from .engines import Engine, create_engine
from .engines.base import LoadedModel, ProgressCallback
from .engines.load_settings import LoadSettings, resolve_load_settings
from .slots import PARALLEL_KEY, PredictionSlots, parallel_limit

__all__ = ["Instance", "LoadObserver", "ModelManager", "domain_of", "MAX_IDENTIFIER_LENGTH"]

#: Instance identifiers are echoed to every client that lists models: they stay short.
MAX_IDENTIFIER_LENGTH = 256

logger = logging.getLogger(__name__)

_REFERENCE_ALPHABET = string.ascii_letters + string.digits
#: Activity states reported by ``getInstanceProcessingState``, busiest first.
_STATUSES = ("processingPrompt", "generating", "computingEmbedding")


def domain_of(info: ModelInfo) -> str:
    return "llm" if isinstance(info, LlmInfo) else "embedding"


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(eq=False)
class Instance:
    """One loaded copy of a model."""

    info: ModelInfo
    identifier: str
    reference: str
    model: LoadedModel
    load_settings: LoadSettings
    ttl_ms: int | None
    #: Loaded on demand by getOrLoad (a candidate for JIT auto-evict).
    jit: bool
    last_used_ms: int = field(default_factory=_now_ms)
    #: Monotonic time of the last use, for TTL expiry.
    idle_since: float = field(default_factory=time.monotonic)
    unloaded: bool = False
    work: Counter[str] = field(default_factory=Counter)
    #: LLMs only: the predictions it may run at once; others wait here in order.
    slots: PredictionSlots | None = None

    @property
    def domain(self) -> str:
        return domain_of(self.info)

    @property
    def status(self) -> str:
        return next((status for status in _STATUSES if self.work[status]), "idle")

    @property
    def busy(self) -> bool:
        return any(self.work.values())

    def touch(self) -> None:
        self.last_used_ms = _now_ms()
        self.idle_since = time.monotonic()

    def to_wire(self) -> ModelInstanceInfo:
        cls = LlmInstanceInfo if isinstance(self.info, LlmInfo) else EmbeddingModelInstanceInfo
        return cls(
            **msgspec.structs.asdict(self.info),
            identifier=self.identifier,
            instance_reference=self.reference,
            context_length=self.model.context_length,
            ttl_ms=self.ttl_ms,
            last_used_time=self.last_used_ms,
        )


class LoadObserver(Protocol):
    """What ``getOrLoad`` reports while it loads (the handler forwards it as packets)."""

    async def start_loading(self, identifier: str, info: ModelInfo) -> None: ...

    async def unloading_other(self, info: ModelInstanceInfo) -> None: ...

    async def progress(self, progress: float) -> None: ...


def _path_rank(info: ModelInfo, name: str) -> int | None:
    """How well ``name`` designates ``info`` (lower is better), or ``None`` if it does not.

    A model is named, as in LM Studio, by its key, its path (or indexed identifier),
    ``publisher/key``, a prefix of its path such as ``publisher/repository``, the
    Hugging Face name of its repository (``publisher/repository`` without ``-GGUF``),
    ``publisher/<end of its key>`` (``nomic-ai/nomic-embed-text-v1.5`` for
    ``text-embedding-nomic-embed-text-v1.5``), or any longer prefix of its path.
    Case is ignored.
    """
    wanted = name.strip("/").lower()
    path = info.path.lower()
    key = info.model_key.lower()
    if wanted == key:
        return 0
    if wanted in (path, (info.indexed_model_identifier or "").lower()):
        return 1
    publisher = (info.publisher or path.partition("/")[0]).lower()
    if wanted == f"{publisher}/{key}":
        return 2
    if wanted and path.startswith(wanted + "/"):
        return 3
    wanted_publisher, slash, rest = wanted.partition("/")
    if not slash or not rest or "/" in rest or wanted_publisher != publisher:
        return 5 if slash and rest and path.startswith(wanted) else None
    repository = path.split("/")[1] if path.count("/") >= 1 else ""
    if rest == repository.removesuffix("-gguf") or rest == key.rpartition("/")[2]:
        return 4
    if key.endswith(("-" + rest, "/" + rest)):
        return 4
    return 5 if path.startswith(wanted) else None


def _identifier_rank(instance: Instance, wanted: str) -> int | None:
    """Like LM Studio, an instance query's identifier also accepts any name of the model."""
    if wanted == instance.identifier:
        return 0
    rank = _path_rank(instance.info, wanted)
    return None if rank is None else 1 + rank


def _query_matches(instance: Instance, query: ModelQuery) -> bool:
    if query.domain is not None and query.domain != instance.domain:
        return False
    if query.identifier is not None and _identifier_rank(instance, query.identifier) is None:
        return False
    if query.path is not None and _path_rank(instance.info, query.path) is None:
        return False
    vision = isinstance(instance.info, LlmInfo) and instance.info.vision
    return query.vision is None or query.vision == vision


class ModelManager:
    def __init__(self, config: ServerConfig) -> None:
        self._config = config
        self.engine: Engine = create_engine(config)
        self._instances: dict[str, Instance] = {}
        #: Identifiers of loads in progress, so that concurrent loads cannot take the same one.
        self._reserved: set[str] = set()
        #: One lock per model path, so that concurrent getOrLoad calls load a model only once.
        self._jit_locks: dict[str, asyncio.Lock] = {}
        self._ttl_wakeup = asyncio.Event()
        self._ttl_task: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self._ttl_task is None:
            self._ttl_task = asyncio.create_task(self._expire_idle(), name="model TTL expiry")

    async def aclose(self) -> None:
        if self._ttl_task is not None:
            self._ttl_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._ttl_task
            self._ttl_task = None
        await self.reset()
        await self.engine.aclose()

    async def reset(self) -> None:
        """Unload every instance and forget JIT state."""
        for instance in list(self._instances.values()):
            await self._unload_instance(instance)
        self._jit_locks.clear()

    # -- downloaded models -----------------------------------------------------------------

    def list_downloaded(self) -> list[ModelInfo]:
        return self.engine.list_models()

    def resolve_model(self, name: str, domain: str) -> tuple[ModelInfo, list[str]]:
        """The downloaded model ``name`` designates, and all paths it matched if several did."""
        downloaded = self.list_downloaded()
        ranked = sorted(
            (rank, index, info)
            for index, info in enumerate(downloaded)
            if (rank := _path_rank(info, name)) is not None
        )
        matches = [info for _, _, info in ranked]
        in_domain = [info for info in matches if domain_of(info) == domain]
        if not in_domain:
            if matches:
                other = matches[0]
                raise model_errors.domain_mismatch(name, other.path, domain_of(other), domain)
            known = [info.model_key for info in downloaded] + [info.path for info in downloaded]
            paths = [info.path for info in downloaded if domain_of(info) == domain]
            raise model_errors.model_not_downloaded(name, known, paths)
        best_rank = ranked[matches.index(in_domain[0])][0]
        ties = [
            info.path for rank, _, info in ranked if rank == best_rank and domain_of(info) == domain
        ]
        return in_domain[0], ties if len(ties) > 1 else []

    # -- loaded instances ------------------------------------------------------------------

    def loaded(self, domain: str | None = None) -> list[Instance]:
        return [i for i in self._instances.values() if domain is None or i.domain == domain]

    def find(self, specifier: ModelSpecifier, domain: str) -> Instance:
        """The loaded instance ``specifier`` designates; using it resets its idle timer."""
        instance = self.find_or_none(specifier, domain)
        if instance is not None:
            instance.touch()
            return instance
        if isinstance(specifier, InstanceReferenceSpecifier):
            raise model_errors.instance_reference_not_found(specifier.instance_reference)
        loaded = [instance.identifier for instance in self.loaded(domain)]
        raise model_errors.no_model_matching_query(specifier.query, domain, loaded)

    def find_or_none(self, specifier: ModelSpecifier, domain: str) -> Instance | None:
        candidates = self.loaded(domain)
        if isinstance(specifier, InstanceReferenceSpecifier):
            wanted = specifier.instance_reference
            return next((i for i in candidates if i.reference == wanted), None)
        query = specifier.query
        matching = [i for i in candidates if _query_matches(i, query)]
        if query.identifier is not None:
            # An exact identifier beats a model name that several instances share.
            matching.sort(key=lambda i: _identifier_rank(i, query.identifier or "") or 0)
        return matching[0] if matching else None

    @contextmanager
    def activity(self, instance: Instance, status: str) -> Iterator[None]:
        """Mark ``instance`` busy (never idle-unloaded) while the block runs."""
        instance.work[status] += 1
        instance.touch()
        try:
            yield
        finally:
            instance.work[status] -= 1
            instance.touch()
            self._ttl_wakeup.set()

    # -- loading and unloading -------------------------------------------------------------

    async def load(
        self,
        info: ModelInfo,
        *,
        load_config_stack: KVConfigStack,
        progress: ProgressCallback,
        identifier: str | None = None,
        ttl_ms: int | None = None,
    ) -> Instance:
        """Load a new instance of ``info`` (``loadModel``)."""
        settings = resolve_load_settings(info, load_config_stack)
        if identifier is not None:
            if len(identifier) > MAX_IDENTIFIER_LENGTH:
                raise model_errors.identifier_too_long(identifier, MAX_IDENTIFIER_LENGTH)
            if identifier in self._instances or identifier in self._reserved:
                raise model_errors.identifier_exists(identifier)
        else:
            identifier = self._free_identifier(info.model_key)
        with self._reserving(identifier):
            return await self._load(info, identifier, settings, ttl_ms, progress, jit=False)

    async def get_or_load(
        self,
        name: str,
        domain: str,
        *,
        load_config_stack: KVConfigStack,
        observer: LoadObserver,
        ttl_ms: int | None = None,
    ) -> tuple[Instance, bool]:
        """The instance ``name`` designates, JIT-loading it if needed; True if it was loaded."""
        instance = self._match_for_get_or_load(name, domain)
        if instance is None:
            info, _ = self.resolve_model(name, domain)
            async with self._jit_locks.setdefault(info.path, asyncio.Lock()):
                # Another getOrLoad may have loaded it while this one waited for the lock.
                instance = self._match_for_get_or_load(name, domain)
                if instance is None:
                    return await self._jit_load(info, ttl_ms, load_config_stack, observer), True
        instance.touch()
        return instance, False

    async def unload(self, identifier: str, domain: str) -> None:
        instance = self._instances.get(identifier)
        if instance is None or instance.domain != domain:
            loaded = [i.identifier for i in self.loaded(domain)]
            raise model_errors.no_model_matching_query(
                ModelQuery(identifier=identifier), domain, loaded
            )
        await self._unload_instance(instance)

    def _match_for_get_or_load(self, name: str, domain: str) -> Instance | None:
        candidates = self.loaded(domain)
        for matches in (
            lambda i: i.identifier == name,
            lambda i: i.info.model_key == name,
            lambda i: _path_rank(i.info, name) is not None,
        ):
            found = next((i for i in candidates if matches(i)), None)
            if found is not None:
                return found
        return None

    async def _jit_load(
        self,
        info: ModelInfo,
        ttl_ms: int | None,
        load_config_stack: KVConfigStack,
        observer: LoadObserver,
    ) -> Instance:
        settings = resolve_load_settings(info, load_config_stack)
        identifier = self._free_identifier(info.model_key)
        with self._reserving(identifier):
            await observer.start_loading(identifier, info)
            if self._config.jit_auto_evict:
                for other in [i for i in self._instances.values() if i.jit]:
                    await observer.unloading_other(other.to_wire())
                    await self._unload_instance(other)
            return await self._load(info, identifier, settings, ttl_ms, observer.progress, jit=True)

    def _free_identifier(self, base: str) -> str:
        """``base``, or ``base:2``, ``base:3``... whichever is the first not in use."""
        taken = self._instances.keys() | self._reserved
        if base not in taken:
            return base
        return next(f"{base}:{n}" for n in range(2, len(taken) + 3) if f"{base}:{n}" not in taken)

    @contextmanager
    def _reserving(self, identifier: str) -> Iterator[None]:
        """Hold ``identifier`` for a load in progress, so that no concurrent load takes it."""
        self._reserved.add(identifier)
        try:
            yield
        finally:
            self._reserved.discard(identifier)

    async def _load(
        self,
        info: ModelInfo,
        identifier: str,
        settings: LoadSettings,
        ttl_ms: int | None,
        progress: ProgressCallback,
        *,
        jit: bool,
    ) -> Instance:
        slots = None
        if isinstance(info, LlmInfo):
            limit = parallel_limit(settings.values, self.engine.max_parallel_predictions)
            # The instance reports the limit it honours, which the engine may have capped.
            settings = dataclasses.replace(
                settings, values={**settings.values, PARALLEL_KEY: limit}
            )
            slots = PredictionSlots(limit)
        model = await self.engine.load(info, settings, progress)
        instance = Instance(
            info=info,
            identifier=identifier,
            reference="".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(24)),
            model=model,
            load_settings=settings,
            ttl_ms=ttl_ms,
            jit=jit,
            slots=slots,
        )
        self._instances[identifier] = instance
        self._ttl_wakeup.set()
        return instance

    async def _unload_instance(self, instance: Instance) -> None:
        if instance.unloaded:
            return
        # Flag first: a prediction streaming from this instance stops with "modelUnloaded".
        instance.unloaded = True
        del self._instances[instance.identifier]
        self._ttl_wakeup.set()
        await instance.model.unload()

    # -- idle TTL --------------------------------------------------------------------------

    async def _expire_idle(self) -> None:
        while True:
            self._ttl_wakeup.clear()
            now = time.monotonic()
            next_deadline: float | None = None
            for instance in list(self._instances.values()):
                if instance.ttl_ms is None or instance.busy:
                    continue
                deadline = instance.idle_since + instance.ttl_ms / 1000
                if deadline <= now:
                    try:
                        await self._unload_instance(instance)
                    except Exception:
                        # An engine failing to free one model must not stop expiry for all.
                        logger.exception("Unloading expired model %r failed", instance.identifier)
                elif next_deadline is None or deadline < next_deadline:
                    next_deadline = deadline
            timeout = None if next_deadline is None else next_deadline - now
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._ttl_wakeup.wait(), timeout)
