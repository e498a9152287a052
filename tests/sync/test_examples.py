"""Every script in examples/ runs against the local server, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmstudio_async.testing import ServerProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))

#: What each example must print (beyond exiting cleanly).
EXPECTED = {
    "quick_response.py": [],
    "streaming.py": ["Model used: Llama 3.2 1B Instruct", "Stop reason:"],
    "chatbot.py": ["Bot: ", "(5 messages in the conversation)"],
    "two_instances.py": ["'llama-3.2-1b-instruct', 'second-llama'", "Loaded after unloading: []"],
    "ttl.py": [
        "in ms: 3600000",
        "in ms: 1000",
        "Still loaded after 2 s: ['llama-3.2-1b-instruct']",
    ],
    "load_progress.py": ["100.0% loaded", "Loaded llama-3.2-1b-instruct"],
    "model_info.py": [
        "Qwen2.5 7B Instruct 1M: 7B parameters",
        "Load config: LlmLoadModelConfig.from_dict({",
    ],
    "structured_output.py": [" by "],
    "embeddings.py": ["3 vectors of 768 dimensions", "Most alike:"],
    "web_backend.py": ["200 {'answer': "],
    "concurrent_batch.py": ["200 answers in"],
    "image_question.py": [
        "Uploaded sunflower.png",
        "sunflower.png is a 64x48 PNG; its dominant colour is yellow",
    ],
    "search_download.py": ["100.0% of", "Finalizing", "Downloaded as smollm2-135m-instruct"],
    "tool_use.py": [
        "Tool call: add({'a': 1234, 'b': 4321})",
        "Tool result: 5555",
        "Tool result: 0.92",
        "Rounds: 2",
        "Requested: weather({'city': 'Oslo'})",
        'Final: Tool result: {"city": "Oslo", "sky": "clear"}.',
    ],
    "batch_job.py": [
        "100 answers, 1 failed",
        "Item 100 failed: LMStudioValueError",
        "  item 99 done on ",
        "Completed 10 completions",
        "Pool of 1 host(s), 4 slots: 20 answers",
    ],
}
STDIN = {"chatbot.py": "Hello there\nWhat can you do?\n\n"}


def test_every_example_has_expectations() -> None:
    assert set(SCRIPTS) == set(EXPECTED)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script: str, lmstudio_server: ServerProcess) -> None:
    env = {**os.environ, "LM_API_HOST": lmstudio_server.api_host}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        input=STDIN.get(script, ""),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "the example printed nothing"
    for expected in EXPECTED[script]:
        assert expected in done.stdout
