"""Turn timings into the markdown table kept in benchmarks/README.md."""

from __future__ import annotations

import platform
import statistics
import sys
from pathlib import Path
from typing import Any

from .real_model import DIRECT
from .streaming import OFFICIAL, OURS, OURS_ONE_AT_A_TIME, RAW

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def spread(values: list[float], fmt: str = ",.0f", suffix: str = "") -> str:
    """``median (min-max)``: the figure of a typical round, and how far rounds strayed."""
    finite = [v for v in values if v == v]
    if not finite:
        return "n/a"
    low, mid, high = min(finite), statistics.median(finite), max(finite)
    return f"{mid:{fmt}}{suffix} ({low:{fmt}}-{high:{fmt}})"


def _ratios(mine: list[float], theirs: list[float]) -> list[float]:
    """Round-paired ratios (both clients ran in the same round)."""
    return [a / b if b else float("nan") for a, b in zip(mine, theirs, strict=True)]


def latency_table(results: dict[str, list[Any]]) -> str:
    """p50 and p99 round trips, and the client's CPU time per call (which, unlike the
    round trip, does not depend on how fast the machine wakes the other side up)."""
    p50 = {name: [statistics.median(b.timings) for b in blocks] for name, blocks in results.items()}
    cpu = {name: [b.cpu_per_call for b in blocks] for name, blocks in results.items()}
    rounds = len(next(iter(results.values())))
    lines = [
        f"| client | p50 µs, median of {rounds} blocks (min-max) | p99 µs (all calls) "
        "| p50 vs bare loop | p50 vs official async | client CPU µs/call | CPU vs bare loop |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, blocks in results.items():
        everything = [t for block in blocks for t in block.timings]
        micro = [v * 1e6 for v in p50[name]]
        lines.append(
            f"| {name} | {spread(micro)} | {percentile(everything, 0.99) * 1e6:.0f} "
            f"| {spread(_ratios(p50[name], p50[RAW]), '.2f', 'x')} "
            f"| {spread(_ratios(p50[name], p50[OFFICIAL]), '.2f', 'x') if OFFICIAL in p50 else ''} "
            f"| {spread([c * 1e6 for c in cpu[name]], '.1f')} "
            f"| {spread(_ratios(cpu[name], cpu[RAW]), '.2f', 'x')} |"
        )
    return "\n".join(lines)


def streaming_table(results: dict[str, list[Any]]) -> str:
    """Rate, CPU/fragment and ratios (rate ratios: higher is faster; CPU ratios: lower is
    cheaper), each as the median over rounds and the min-max spread."""
    rates = {name: [r.rate for r in runs] for name, runs in results.items()}
    cpu = {name: [r.cpu_per_fragment * 1e6 for r in runs] for name, runs in results.items()}
    rounds = len(next(iter(results.values())))
    # The concurrent table also compares CPU with the same streams run one at a time.
    serial = OURS_ONE_AT_A_TIME in cpu
    lines = [
        f"| client | fragments/s, median of {rounds} (min-max) | client CPU µs/fragment "
        "| rate vs bare loop | CPU vs bare loop | rate vs our async | rate vs official async |"
        + (" CPU vs ours one at a time |" if serial else ""),
        "|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if serial else ""),
    ]
    for name, runs in results.items():
        failed = sum(r.failures for r in runs)
        note = (
            f" ({failed} streams failed: {next(r.failure for r in runs if r.failure)})"
            if failed
            else ""
        )
        row = [
            f"{name}{note}",
            spread(rates[name]),
            spread(cpu[name], ".1f"),
            spread(_ratios(rates[name], rates[RAW]), ".2f", "x") if RAW in rates else "",
            spread(_ratios(cpu[name], cpu[RAW]), ".2f", "x") if RAW in cpu else "",
            spread(_ratios(rates[name], rates[OURS]), ".2f", "x") if OURS in rates else "",
            spread(_ratios(rates[name], rates[OFFICIAL]), ".2f", "x") if OFFICIAL in rates else "",
        ]
        if serial:
            row.append(spread(_ratios(cpu[name], cpu[OURS_ONE_AT_A_TIME]), ".2f", "x"))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def real_model_table(runs: dict[str, list[tuple[int, float]]]) -> str:
    rates = {name: [t / s for t, s in rs] for name, rs in runs.items()}
    lines = [
        f"| path | tokens generated | tokens/s, median of {len(next(iter(runs.values())))} "
        "(min-max) | vs llama-cpp-python in-process |",
        "|---|---:|---:|---:|",
    ]
    for name, rs in runs.items():
        tokens = sorted({t for t, _ in rs})
        counted = "/".join(str(t) for t in tokens)
        lines.append(
            f"| {name} | {counted} | {spread(rates[name], ',.1f')} "
            f"| {spread(_ratios(rates[name], rates[DIRECT]), '.2f', 'x')} |"
        )
    return "\n".join(lines)


def machine() -> str:
    return f"Python {sys.version.split()[0]} on {platform.machine()} {platform.system()}"


def write(sections: list[str]) -> None:
    text = README.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    body = "\n\n".join([f"Last run: {machine()}.", *sections])
    README.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")
