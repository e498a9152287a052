"""Running a documentation snippet as a user's script: a fresh interpreter, the local server."""

from __future__ import annotations

import os
import subprocess
import sys

from lmstudio_async.testing import ServerProcess


def run_snippet(server: ServerProcess, code: str, expect: tuple[str, ...] = ()) -> str:
    """Run ``code``; it must succeed and print each of ``expect``. Returns its output."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "LM_API_HOST": server.api_host},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{code}\n---\n{done.stderr}"
    for expected in expect:
        assert expected in done.stdout, f"{expected!r} not in {done.stdout!r}"
    return done.stdout
