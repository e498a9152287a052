"""The JSONL job runner: outputs, malformed lines, resume after SIGKILL and Ctrl-C, progress."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lmstudio_async.batch.cli import main
from lmstudio_async.batch.progress import JobProgress, rich_available
from lmstudio_async.testing import ServerProcess

LLAMA = "llama-3.2-1b-instruct"
ServerFactory = Callable[..., ServerProcess]
ROOT = Path(__file__).resolve().parents[2]


def write_jsonl(path: Path, records: list[Any]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), "the output must end with a complete line"
    return [json.loads(line) for line in text.splitlines()]


def runner(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "lmstudio_async.batch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_lines(path: Path, count: int, process: subprocess.Popen[str]) -> None:
    for _ in range(6000):  # a safety net: the runner writes its first lines within seconds
        if path.exists() and path.read_text(encoding="utf-8").count("\n") >= count:
            return
        if process.poll() is not None:
            pytest.fail(f"the runner exited early: {process.communicate()}")
        time.sleep(0.01)
    pytest.fail(f"{path} never reached {count} lines")


def test_every_item_gets_an_output_line_and_malformed_lines_are_reported(
    tmp_path: Path, lmstudio_server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    records: list[Any] = [{"id": i, "prompt": f"question {i}"} for i in range(5)]
    records += [
        {"id": "chat", "messages": [{"role": "user", "content": "Hello"}]},
        ["not", "an", "object"],
        {"id": 2, "prompt": "a repeated id"},
        {"prompt": "no id"},
        {"id": "both", "prompt": "x", "messages": []},
    ]
    write_jsonl(source, records)
    with source.open("a") as file:
        file.write("{broken json\n\n")
    args = [str(source), str(output), "--model", LLAMA, "--host", lmstudio_server.api_host]
    code = main([*args, "--config", '{"maxTokens": 4}', "--system", "Be brief."])
    assert code == 1  # malformed lines count as failures
    lines = read_jsonl(output)
    good = [line for line in lines if line["ok"]]
    assert sorted(str(line["id"]) for line in good) == ["0", "1", "2", "3", "4", "chat"]
    assert all(line["host"] == lmstudio_server.api_host and line["reply"] for line in good)
    assert all(line["stats"]["predictedTokens"] <= 4 for line in good)
    bad = {line["line"]: line for line in lines if not line["ok"]}
    assert sorted(bad) == [7, 8, 9, 10, 11]
    assert all(
        line["malformed"] and f"line {n}" in line["error"]["message"] for n, line in bad.items()
    )
    assert "repeats the id 2" in bad[8]["error"]["message"]
    assert bad[10]["id"] == "both"
    err = capsys.readouterr().err
    assert "line 11: not valid JSON" in err and "6 items written" not in err

    # Running it again finds everything done and writes nothing more.
    assert main(args) == 0
    assert read_jsonl(output) == lines
    assert "11 were already done" in capsys.readouterr().err


def test_resume_after_sigkill_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, lmstudio_server_factory: ServerFactory
) -> None:
    servers = [
        lmstudio_server_factory("--token-delay", "0.01", "--reply-tokens", "20:40")
        for _ in range(2)
    ]
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(source, [{"id": f"item-{i}", "prompt": f"job {i}"} for i in range(60)])
    args = [str(source), str(output), "--model", LLAMA]
    for server in servers:
        args += ["--host", server.api_host]
    first = runner(*args, "--progress", "lines")
    wait_for_lines(output, 8, first)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    written_before = len(read_jsonl(output))
    assert 8 <= written_before < 60
    assert main(args) == 0
    lines = read_jsonl(output)
    ids = Counter(line["id"] for line in lines)
    assert set(ids) == {f"item-{i}" for i in range(60)}
    assert set(ids.values()) == {1}
    assert all(line["ok"] for line in lines)
    assert {line["host"] for line in lines} == {s.api_host for s in servers}


def test_a_partial_last_line_from_a_crash_is_cut_off(
    tmp_path: Path, lmstudio_server: ServerProcess
) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(source, [{"id": i, "prompt": f"q{i}"} for i in range(4)])
    args = [str(source), str(output), "--model", LLAMA, "--host", lmstudio_server.api_host]
    assert main([*args, "--config", '{"maxTokens": 2}']) == 0
    kept = read_jsonl(output)[:2]
    write_jsonl(output, kept)
    with output.open("a") as file:
        file.write('{"id": 2, "line": 3, "ok": tr')  # the process died mid-write
    assert main([*args, "--config", '{"maxTokens": 2}']) == 0
    lines = read_jsonl(output)
    assert lines[:2] == kept
    assert sorted(line["id"] for line in lines) == [0, 1, 2, 3]


def test_ctrl_c_keeps_what_was_written_and_prints_a_summary(
    tmp_path: Path, lmstudio_server_factory: ServerFactory
) -> None:
    server = lmstudio_server_factory("--token-delay", "0.01", "--reply-tokens", "20:40")
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(source, [{"id": i, "prompt": f"job {i}"} for i in range(200)])
    args = [str(source), str(output), "--model", LLAMA, "--host", server.api_host]
    process = runner(*args, "--progress", "lines")
    wait_for_lines(output, 5, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Interrupted" in err and "Run the same command again to resume" in err
    lines = read_jsonl(output)
    assert 5 <= len(lines) < 200 and all(line["ok"] for line in lines)
    assert len({line["id"] for line in lines}) == len(lines)


def test_a_missing_input_file_is_a_usage_error(tmp_path: Path) -> None:
    assert main([str(tmp_path / "nope.jsonl"), str(tmp_path / "out"), "--model", LLAMA]) == 2


@pytest.mark.skipif(not rich_available(), reason="the cli extra (rich) is not installed")
def test_the_progress_bar_shows_done_total_rates_and_failures() -> None:
    stream = io.StringIO()
    with JobProgress(4, stream=stream, bar=True) as progress:
        for ok in (True, True, False, True):
            progress.advance(ok=ok, tokens=10)
    shown = stream.getvalue()
    assert "4/4" in shown and "1 failed" in shown and "tok/s" in shown


def test_plain_progress_lines() -> None:
    progress = JobProgress(10, stream=io.StringIO(), bar=False)
    progress.advance(ok=True, tokens=5)
    progress.advance(ok=False)
    line = progress.line()
    assert line.startswith("2/10 done, 1 failed,") and "tokens/s" in line and "ETA" in line
