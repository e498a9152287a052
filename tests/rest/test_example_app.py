"""The example of testing an ``openai``-based app with the pytest plugin passes as shipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmstudio_async.testing import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "openai_app"

pytestmark = pytest.mark.timeout(400)


def _env(**extra: str) -> dict[str, str]:
    # This checkout first, whatever lmstudio-async is installed.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}


def test_the_example_test_suite_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(EXAMPLE), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_the_example_script_runs_against_the_local_server() -> None:
    with ServerProcess() as server:
        result = subprocess.run(
            [sys.executable, str(EXAMPLE / "support_bot.py"), "Where is my parcel?"],
            capture_output=True,
            text=True,
            timeout=120,
            env=_env(LM_API_HOST=server.api_host),
        )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] and lines[-1].startswith("Ticket: {'topic': ")
