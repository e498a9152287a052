"""``python -m lmstudio_async.batch``: the resumable JSONL job runner (see :mod:`.cli`)."""

import sys

from .cli import main

sys.exit(main())
