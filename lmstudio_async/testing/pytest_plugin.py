"""pytest fixtures that run an LM Studio-compatible server for your tests.

The plugin is registered automatically when ``lmstudio-async`` is installed.
Example::

    import lmstudio

    def test_my_app_lists_models(lmstudio_server):
        with lmstudio.Client(lmstudio_server.api_host) as client:
            assert client.list_downloaded_models()

    def test_my_app_survives_a_slow_server(lmstudio_server):
        lmstudio_server.set_faults(delays={"llm/predict": 2.0})
        ...

Extra command-line options for the shared server can be set in the pytest
configuration, e.g. in ``pyproject.toml``::

    [tool.pytest.ini_options]
    lmstudio_server_args = ["--token-delay", "0.01"]
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Iterator

import pytest

from .process import ServerProcess

__all__ = ["lmstudio_server", "lmstudio_server_process", "lmstudio_server_factory"]

_ARGS_INI = "lmstudio_server_args"
_OUR_FIXTURES = frozenset(__all__)
#: Markers through which another plugin already runs a coroutine test.
_ASYNC_MARKERS = frozenset({"anyio", "asyncio", "trio"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        _ARGS_INI,
        type="args",
        default=[],
        help="extra command-line options of the server behind the lmstudio_server fixture",
    )


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, object, object]:
    """Run ``async def`` tests that use our fixtures on asyncio, with no marker needed.

    Only tests that nothing else claims: no ``anyio``/``asyncio``/``trio`` marker on the
    test or its module or class, and no pytest-asyncio in auto mode. They get anyio's
    marker (anyio is a dependency, so its pytest plugin is always there) with the asyncio
    backend, which is the one aiohttp runs on.
    """
    if _unclaimed_async_test_using_our_fixtures(collector, name, obj):
        pytest.mark.parametrize("anyio_backend", ["asyncio"])(obj)
        pytest.mark.anyio(obj)
    return (yield)


def _unclaimed_async_test_using_our_fixtures(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> bool:
    if not (collector.istestfunction(obj, name) and inspect.iscoroutinefunction(obj)):
        return False
    if _OUR_FIXTURES.isdisjoint(inspect.signature(obj).parameters):
        return False
    own = {mark.name for mark in getattr(obj, "pytestmark", ())}
    inherited = {mark.name for mark in collector.iter_markers()}
    if _ASYNC_MARKERS & (own | inherited):
        return False
    config = collector.config
    asyncio_auto = config.pluginmanager.has_plugin("asyncio") and (
        config.getoption("asyncio_mode", None) == "auto" or config.getini("asyncio_mode") == "auto"
    )
    return not asyncio_auto


@pytest.fixture(scope="session")
def lmstudio_server_process(pytestconfig: pytest.Config) -> Iterator[ServerProcess]:
    """One server process for the whole test session (not reset between tests).

    Runs ``python -m lmstudio_async.server --port 0 --no-sdk-port --test-control`` plus the
    ``lmstudio_server_args`` ini option. Prefer ``lmstudio_server``, which resets it.
    """
    args: list[str] = pytestconfig.getini(_ARGS_INI)
    with ServerProcess(*args) as server:
        yield server


@pytest.fixture
def lmstudio_server(lmstudio_server_process: ServerProcess) -> ServerProcess:
    """The session's server, reset before the test: nothing loaded, no faults, empty request log.

    Use ``.api_host`` to connect, ``.set_faults()``/``.clear_faults()`` to inject
    failures, and ``.requests()`` to see what your client sent.
    """
    lmstudio_server_process.reset()
    return lmstudio_server_process


@pytest.fixture
def lmstudio_server_factory() -> Iterator[Callable[..., ServerProcess]]:
    """Start extra servers with their own options; each is stopped after the test.

    ``lmstudio_server_factory(*args)`` takes server command-line options, e.g.
    ``lmstudio_server_factory("--api-token", "sk-lm-abcd1234:" + 20 * "x")``, and
    returns a started :class:`ServerProcess`.
    """
    started: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        server = ServerProcess(*args)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
