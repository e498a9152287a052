"""lmstudio-async's blocking API (generated from ``lmstudio_async``).

The I/O-free parts (errors, wire types) are shared with the async package and
re-exported here unchanged.
"""

from lmstudio_async import errors as _errors
from lmstudio_async._version import __version__
from lmstudio_async.errors import *  # noqa: F403

__all__ = ["__version__", *_errors.__all__]
