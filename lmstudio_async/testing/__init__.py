"""Test your LM Studio application against a local LM Studio-compatible server.

Installing ``lmstudio-async`` registers a pytest plugin with these fixtures
(see :mod:`lmstudio_async.testing.pytest_plugin`):

* ``lmstudio_server``: a running server, reset (nothing loaded, no faults, empty
  request log) before each test. Give ``lmstudio_server.api_host`` to your client.
* ``lmstudio_server_process``: the same server, session-scoped, without the reset.
* ``lmstudio_server_factory``: start extra servers with their own command-line
  options (e.g. ``lmstudio_server_factory("--api-token", TOKEN)``).

Outside pytest, use :class:`ServerProcess` directly, or
:class:`lmstudio_async.server.LocalServer` to run the server in your event loop.
"""

from .process import ServerProcess, ServerStartError

__all__ = ["ServerProcess", "ServerStartError"]
