"""``AsyncClient``: the entry point of the async API."""

from __future__ import annotations

import asyncio
import os
from types import TracebackType
from typing import Any, Final, TypeVar, cast

import aiohttp
import msgspec
from typing_extensions import Self

from .defaults import INITIAL_TIMEOUT, check_timeout, get_default_timeout
from .downloaded import AsyncDownloadedEmbeddingModel, AsyncDownloadedLlm
from .errors import LMStudioClientError, LMStudioRuntimeError
from .files import AsyncFilesNamespace, FileHandle, LocalFileInput
from .handles import AsyncEmbeddingModel, AsyncLLM
from .listing import ModelNamespaceName, check_model_namespace
from .namespaces import AsyncEmbeddingNamespace, AsyncLLMNamespace
from .protocol import LenientDecoder, Raw, decoder_for
from .repository import AsyncRepositoryNamespace
from .system import AsyncSystemNamespace
from .transport.channel import Channel
from .transport.connection import NamespaceConnection
from .transport.credentials import resolve_credentials
from .transport.hosts import ApiHost, discover_api_host, parse_api_host, probe_api_host

__all__ = ["AsyncClient", "DEFAULT_TIMEOUT", "DEFAULT_CONNECT_TIMEOUT"]

T = TypeVar("T")

#: Where to connect when no ``api_host`` is given; if unset, LM Studio is looked for locally.
HOST_ENV_VAR: Final = "LM_API_HOST"
#: The initial default of ``timeout`` (see :func:`set_default_timeout`).
DEFAULT_TIMEOUT: Final = INITIAL_TIMEOUT
#: Longest wait to open and authenticate a websocket.
DEFAULT_CONNECT_TIMEOUT: Final = 10.0


class AsyncClient:
    """A connection to LM Studio (or any LM Studio-compatible server).

    ``api_host`` is ``"host:port"``; without it the client uses the ``LM_API_HOST``
    environment variable, else looks for LM Studio on this machine (its SDK ports,
    then 1234). The API token comes from
    ``api_token``, else ``LM_API_TOKEN`` (or ``LMSTUDIO_API_TOKEN``); without one
    the client connects as a guest. Websockets open lazily, one per namespace,
    on first use; after a lost connection the next call reconnects.

    ``timeout`` bounds every wait for the server (seconds; ``math.inf`` for none;
    without it, :func:`get_default_timeout`, 60 s unless changed, read at each
    call); most methods also take a per-call ``timeout``.

    Use it as ``async with AsyncClient() as client:``, or call :meth:`aclose`.
    """

    def __init__(
        self,
        api_host: str | None = None,
        api_token: str | None = None,
        *,
        timeout: float | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        if api_host is None:
            api_host = os.environ.get(HOST_ENV_VAR, "").strip() or None
        self._api_host: ApiHost | None = None if api_host is None else parse_api_host(api_host)
        self._credentials = resolve_credentials(api_token)
        # None: follow the process-wide default, also when it changes later (as the
        # official SDK's sync API timeout does).
        self._timeout = None if timeout is None else check_timeout(timeout)
        self._connect_timeout = check_timeout(connect_timeout, "connect_timeout", allow_zero=False)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connections: dict[str, NamespaceConnection] = {}
        self._connect_locks: dict[str, asyncio.Lock] = {}
        self._host_lock: asyncio.Lock | None = None
        self._closed = False
        self.system: AsyncSystemNamespace = AsyncSystemNamespace(self)
        self.llm: AsyncLLMNamespace = AsyncLLMNamespace(self)
        self.embedding: AsyncEmbeddingNamespace = AsyncEmbeddingNamespace(self)
        self.files: AsyncFilesNamespace = AsyncFilesNamespace(self)
        self.repository: AsyncRepositoryNamespace = AsyncRepositoryNamespace(self)

    def __repr__(self) -> str:
        host = str(self._api_host) if self._api_host is not None else "<not yet discovered>"
        who = "api token" if self._credentials.from_token else "guest"
        return f"<AsyncClient api_host={host!r} auth={who} timeout={self.timeout:g}>"

    # --- lifecycle ----------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._check_usable()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every websocket and the HTTP session. Idempotent."""
        self._closed = True
        connections = list(self._connections.values())
        self._connections.clear()
        try:
            await asyncio.gather(*(c.aclose() for c in connections))
        finally:
            session, self._session = self._session, None
            if session is not None:
                await session.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def api_host(self) -> str | None:
        """``host:port`` of the server, or ``None`` until discovery has run."""
        return str(self._api_host) if self._api_host is not None else None

    @property
    def timeout(self) -> float:
        """The default timeout, in seconds, for every wait on the server."""
        return get_default_timeout() if self._timeout is None else self._timeout

    def _check_usable(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise LMStudioRuntimeError("This AsyncClient is closed; create a new one.")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise LMStudioRuntimeError(
                "This AsyncClient belongs to another event loop. Create one client per "
                "event loop (or use lmstudio_sync, whose clients run their own loop)."
            )
        return loop

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    # --- discovery ----------------------------------------------------------------

    async def resolve_api_host(self) -> str:
        """The server's ``host:port``, discovering a local LM Studio if none was given."""
        self._check_usable()
        if self._api_host is None:
            if self._host_lock is None:
                self._host_lock = asyncio.Lock()
            async with self._host_lock:
                if self._api_host is None:
                    self._api_host = await discover_api_host(self._get_session())
        return str(self._api_host)

    @staticmethod
    async def is_valid_api_host(api_host: str) -> bool:
        """Whether an LM Studio API server answers at ``api_host``."""
        async with aiohttp.ClientSession() as session:
            return await probe_api_host(session, parse_api_host(api_host))

    @staticmethod
    async def find_default_local_api_host() -> str | None:
        """The ``host:port`` of LM Studio on this machine, or ``None`` if none answers."""
        async with aiohttp.ClientSession() as session:
            try:
                return str(await discover_api_host(session))
            except LMStudioClientError:
                return None

    # --- plumbing shared by the namespaces ----------------------------------------------

    def _timeout_for(self, timeout: float | None) -> float:
        return self.timeout if timeout is None else check_timeout(timeout)

    async def _connection(self, namespace: str) -> NamespaceConnection:
        # Checked on every call: a socket must only be used from the loop that owns it.
        self._check_usable()
        connection = self._connections.get(namespace)
        if connection is not None and connection.is_open:
            return connection
        lock = self._connect_locks.get(namespace)
        if lock is None:
            lock = self._connect_locks[namespace] = asyncio.Lock()
        async with lock:
            connection = self._connections.get(namespace)
            if connection is not None and connection.is_open:
                return connection
            if connection is not None:  # lost earlier: replace it
                await connection.aclose()
            await self.resolve_api_host()
            assert self._api_host is not None
            connection = NamespaceConnection(
                namespace=namespace,
                api_host=self._api_host,
                credentials=self._credentials,
                session=self._get_session(),
            )
            await connection.connect(self._connect_timeout)
            if self._closed:  # closed while we were connecting
                await connection.aclose()
                raise LMStudioRuntimeError("This AsyncClient was closed while connecting.")
            self._connections[namespace] = connection
            return connection

    async def _call_raw(
        self, namespace: str, endpoint: str, parameter: Any = None, *, timeout: float | None = None
    ) -> Raw:
        connection = await self._connection(namespace)
        return await connection.call(endpoint, parameter, self._timeout_for(timeout))

    async def _call(
        self,
        namespace: str,
        endpoint: str,
        parameter: Any,
        result_type: type[T],
        *,
        timeout: float | None = None,
    ) -> T:
        """One RPC whose result must decode as ``result_type``."""
        raw = await self._call_raw(namespace, endpoint, parameter, timeout=timeout)
        try:
            return cast(T, decoder_for(cast(Any, result_type)).decode(raw))
        except msgspec.DecodeError as exc:
            raise LMStudioClientError(
                f"LM Studio's answer to {namespace}/{endpoint} does not have the expected "
                f"form ({exc}). The server may be incompatible with this SDK release."
            ) from exc

    async def _open_channel(
        self,
        namespace: str,
        endpoint: str,
        creation_parameter: Any,
        decoder: LenientDecoder[T],
        *,
        timeout: float | None = None,
    ) -> Channel[T]:
        connection = await self._connection(namespace)
        return await connection.open_channel(
            endpoint, creation_parameter, decoder, self._timeout_for(timeout)
        )

    # --- files ------------------------------------------------------------------------

    async def prepare_image(
        self, src: LocalFileInput, name: str | None = None, *, timeout: float | None = None
    ) -> FileHandle:
        """Upload an image to attach to a chat message (``client.files.prepare_image``)."""
        return await self.files.prepare_image(src, name, timeout=timeout)

    # --- model listings -------------------------------------------------------------

    async def list_loaded_models(
        self, namespace: ModelNamespaceName | None = None, *, timeout: float | None = None
    ) -> list[AsyncLLM | AsyncEmbeddingModel]:
        """Handles to every loaded instance (LLMs, then embedding models), or one namespace's."""
        namespaces = check_model_namespace(namespace)
        if len(namespaces) == 1:  # a task per call costs more than the call itself
            return list(await getattr(self, namespaces[0]).list_loaded(timeout=timeout))
        llms, embeddings = await asyncio.gather(
            self.llm.list_loaded(timeout=timeout), self.embedding.list_loaded(timeout=timeout)
        )
        return [*llms, *embeddings]

    async def list_downloaded_models(
        self, namespace: ModelNamespaceName | None = None, *, timeout: float | None = None
    ) -> list[AsyncDownloadedLlm | AsyncDownloadedEmbeddingModel]:
        """Every model on the server's disk, or those of one namespace."""
        return await self.system.list_downloaded_models(namespace, timeout=timeout)
