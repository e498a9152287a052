"""``python -m lmstudio_async.batch INPUT.jsonl OUTPUT.jsonl --model KEY``: a resumable batch job.

Every finished item is appended to OUTPUT (flushed and synced) as it completes;
running the same command again skips the ids OUTPUT already holds, so a job
survives a crash, Ctrl-C or a reboot. Ctrl-C (or SIGTERM) stops sending new
work, keeps every result already written and prints a summary. See
:mod:`.jobfile` for the line formats.

Exit status: 0 when every item succeeded, 1 when some failed (their errors are
in OUTPUT) or the job could not start, 130 when interrupted, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..client import AsyncClient
from ..errors import LMStudioError
from .jobfile import JobItem, MalformedLine, OutputFile, count_lines, read_items
from .pool import AsyncClientPool
from .progress import JobProgress
from .results import BatchResult
from .scheduler import AsyncBatchResults

__all__ = ["main", "build_parser", "run_job", "JobSummary"]

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lmstudio_async.batch",
        description="Run every line of a JSONL file through a model; resumable.",
        epilog='Input lines: {"id": ..., "prompt": "..."} or {"id": ..., "messages": [...]}.',
    )
    parser.add_argument("input", type=Path, help="JSONL file of items")
    parser.add_argument("output", type=Path, help="JSONL file of results (appended to)")
    parser.add_argument("--model", required=True, help="model key (loaded if needed)")
    parser.add_argument(
        "--host",
        action="append",
        dest="hosts",
        default=[],
        metavar="HOST:PORT",
        help="an LM Studio server; repeat to spread the job over several (default: local)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="predictions in flight (default: 8 on one server, the measured slots of a pool)",
    )
    parser.add_argument(
        "--config",
        type=_json_object,
        default=None,
        help='prediction config JSON, e.g. {"maxTokens": 100}',
    )
    parser.add_argument("--system", default=None, help="system prompt for every item")
    parser.add_argument("--max-retries", type=int, default=2, help="retries of transient failures")
    parser.add_argument("--timeout", type=float, default=None, help="seconds of server silence")
    parser.add_argument("--api-token", default=None, help="API token (default: LM_API_TOKEN)")
    parser.add_argument(
        "--retry-failed", action="store_true", help="run again the items OUTPUT holds as failed"
    )
    parser.add_argument(
        "--progress",
        choices=("auto", "bar", "lines"),
        default="auto",
        help="a progress bar (needs the cli extra), plain lines, or the bar in a terminal only",
    )
    return parser


@dataclass
class JobSummary:
    done: int
    failed: int
    malformed: int
    skipped: int
    interrupted: bool
    seconds: float

    def text(self, output: Path) -> str:
        state = "Interrupted" if self.interrupted else "Finished"
        lines = [
            f"{state}: {self.done} items written to {output} ({self.failed} failed, "
            f"{self.malformed} malformed lines) in {self.seconds:.1f} s; "
            f"{self.skipped} were already done."
        ]
        if self.interrupted:
            lines.append("Run the same command again to resume.")
        return "\n".join(lines)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILURES if self.failed or self.malformed else EXIT_OK


async def _start(args: argparse.Namespace, stack: AsyncExitStack) -> Any:
    """The model to send the items to: one server's handle, or a pool's model."""
    if len(args.hosts) > 1:
        pool = await stack.enter_async_context(
            AsyncClientPool(args.hosts, api_token=args.api_token)
        )
        return await pool.llm.model(args.model)
    host = args.hosts[0] if args.hosts else None
    client = await stack.enter_async_context(AsyncClient(host, api_token=args.api_token))
    return await client.llm.model(args.model)


async def run_job(args: argparse.Namespace) -> JobSummary:
    started = time.monotonic()
    output = OutputFile(args.output)
    output.open(retry_failed=args.retry_failed)
    skipped = len(output.done_ids) + len(output.done_lines)
    total = max(count_lines(args.input) - skipped, 0)
    bar = {"auto": None, "bar": True, "lines": False}[args.progress]
    pending: dict[int, JobItem] = {}
    malformed = 0
    interrupted = False

    with JobProgress(total, bar=bar) as progress:

        def histories() -> Iterator[Any]:
            nonlocal malformed
            index = 0
            for parsed in read_items(
                args.input,
                skip_ids=output.done_ids,
                skip_lines=output.done_lines,
                system=args.system,
            ):
                if isinstance(parsed, MalformedLine):
                    malformed += 1
                    output.write_malformed(parsed)
                    progress.advance(ok=False)
                    print(f"{args.input}: line {parsed.line}: {parsed.reason}", file=sys.stderr)
                    continue
                pending[index] = parsed
                index += 1
                yield parsed.history

        def on_result(result: BatchResult) -> None:
            output.write_result(pending.pop(result.index), result)
            stats = result.result.stats if result.result is not None else None
            tokens = (stats.predicted_tokens_count or 0) if stats is not None else 0
            progress.advance(ok=result.ok, tokens=tokens)

        try:
            async with AsyncExitStack() as stack:
                llm = await _start(args, stack)
                concurrency = args.concurrency or (None if len(args.hosts) > 1 else 8)
                results: AsyncBatchResults = llm.respond_as_completed(
                    histories(),
                    concurrency=concurrency,
                    config=args.config,
                    max_retries=args.max_retries,
                    timeout=args.timeout,
                    on_result=on_result,
                )
                async with results:
                    while await results.next_batch():
                        pass
        except asyncio.CancelledError:
            interrupted = True
        finally:
            output.close()
    failed = progress.failed - malformed
    return JobSummary(
        done=progress.done,
        failed=failed,
        malformed=malformed,
        skipped=skipped,
        interrupted=interrupted,
        seconds=time.monotonic() - started,
    )


async def _main(args: argparse.Namespace) -> JobSummary:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):  # not on Windows' loops
            loop.add_signal_handler(signum, task.cancel)
            handled.append(signum)
    try:
        return await run_job(args)
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.input.is_file():
        print(f"error: input file {args.input} does not exist", file=sys.stderr)
        return EXIT_USAGE
    try:
        summary = asyncio.run(_main(args))
    except LMStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURES
    except KeyboardInterrupt:  # a Ctrl-C that came before the handlers were in place
        return EXIT_INTERRUPTED
    print(summary.text(args.output), file=sys.stderr)
    return summary.exit_code
