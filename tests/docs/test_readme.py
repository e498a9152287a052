"""Every Python example in the README runs as written, against the local server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmstudio_async.testing import ServerProcess

from .readme_blocks import FRAGMENT_PRELUDE, Block, readme_blocks

BLOCKS = readme_blocks()
ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], server: ServerProcess, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LM_API_HOST": server.api_host}
    return subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False
    )


def test_the_readme_has_examples_of_each_kind() -> None:
    assert {block.kind for block in BLOCKS} == {"pytest", "script", "fragment"}
    assert sum(block.skip_reason is not None for block in BLOCKS) <= 2


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_readme_example_runs_as_written(
    block: Block, lmstudio_server: ServerProcess, tmp_path: Path
) -> None:
    if block.skip_reason:
        pytest.skip(block.skip_reason)
    if block.kind == "pytest":
        (tmp_path / "test_readme_example.py").write_text(block.code)
        # Only pytest and the package: no conftest, no anyio_backend fixture of ours.
        done = _run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "test_readme_example.py",
            ],
            lmstudio_server,
            tmp_path,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert " passed" in done.stdout and "failed" not in done.stdout
    elif block.kind == "script":
        done = _run([sys.executable, "-c", block.code], lmstudio_server, tmp_path)
        assert done.returncode == 0, done.stderr
    else:  # from the repository's root, where the README's relative paths lead
        done = _run([sys.executable, "-c", FRAGMENT_PRELUDE, block.code], lmstudio_server, ROOT)
        assert done.returncode == 0, done.stderr
