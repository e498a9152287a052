"""lmstudio-async: an asyncio-first SDK for LM Studio."""

from ._version import __version__
from .errors import *  # noqa: F403
