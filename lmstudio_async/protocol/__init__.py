"""LM Studio's wire protocol as typed msgspec structs: no I/O here.

Both the client (``lmstudio_async``) and the local server
(``lmstudio_async.server``) speak through these types. See PROTOCOL.md for the
meaning of each message.
"""

from .base import *  # noqa: F403
from .codec import *  # noqa: F403
from .envelopes import *  # noqa: F403
from .errors import *  # noqa: F403
from .files import *  # noqa: F403
from .history import *  # noqa: F403
from .kvconfig import *  # noqa: F403
from .loading import *  # noqa: F403
from .models import *  # noqa: F403
from .prediction import *  # noqa: F403
from .rpc import *  # noqa: F403
