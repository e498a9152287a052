"""Typed load and prediction configs, and their mapping to LM Studio's wire keys."""

from .load import *  # noqa: F403
from .prediction import *  # noqa: F403
