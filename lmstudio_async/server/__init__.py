"""An LM Studio-compatible server, for testing LM Studio clients without LM Studio.

Run it from a shell with ``python -m lmstudio_async.server``, in-process with
:class:`LocalServer`, or from pytest with the fixtures of
:mod:`lmstudio_async.testing`.
"""

from .api import ServerError
from .config import ServerConfig
from .faults import FaultPlan
from .local import LocalServer
from .state import ServerState

__all__ = ["LocalServer", "ServerConfig", "ServerState", "FaultPlan", "ServerError"]
