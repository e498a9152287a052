"""Turn timings into the markdown table kept in benchmarks/README.md."""

from __future__ import annotations

import platform
import statistics
import sys
from pathlib import Path
from typing import Any

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

OURS = "lmstudio-async (AsyncClient)"
OURS_SYNC = "lmstudio-async (Client, sync)"
OFFICIAL = "official lmstudio 1.5.0 (AsyncClient)"
RAW = "raw aiohttp + msgspec loop"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency_table(results: dict[str, list[float]]) -> str:
    p50 = {name: statistics.median(t) for name, t in results.items()}
    lines = [
        "| client | p50 (µs) | p99 (µs) | speed vs official async (p50) | vs raw loop (p50) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, timings in results.items():
        lines.append(
            f"| {name} | {p50[name] * 1e6:.0f} | {percentile(timings, 0.99) * 1e6:.0f} "
            f"| {p50[OFFICIAL] / p50[name]:.2f}x | {p50[RAW] / p50[name]:.2f}x |"
        )
    return "\n".join(lines)


def streaming_table(results: dict[str, list[Any]]) -> str:
    best = {name: max(runs, key=lambda r: r.rate) for name, runs in results.items()}
    lines = [
        "| client | fragments/s (best of "
        f"{len(next(iter(results.values())))}) | client CPU µs/fragment "
        "| vs official async | vs raw loop | vs our async |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, run in best.items():
        cpu_us = run.cpu_seconds / run.fragments * 1e6
        lines.append(
            f"| {name} | {run.rate:,.0f} | {cpu_us:.1f} "
            f"| {run.rate / best[OFFICIAL].rate:.2f}x | {run.rate / best[RAW].rate:.2f}x "
            f"| {run.rate / best[OURS].rate:.2f}x |"
        )
    return "\n".join(lines)


DIRECT = "llama-cpp-python in-process"


def real_model_table(rates: dict[str, float]) -> str:
    lines = [
        "| path | tokens/s (best of 5, interleaved) | vs llama-cpp-python in-process |",
        "|---|---:|---:|",
    ]
    for name, rate in rates.items():
        lines.append(f"| {name} | {rate:,.1f} | {rate / rates[DIRECT]:.2f}x |")
    return "\n".join(lines)


def machine() -> str:
    return f"Python {sys.version.split()[0]} on {platform.machine()} {platform.system()}"


def write(sections: list[str]) -> None:
    text = README.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    body = "\n\n".join([f"Last run: {machine()}.", *sections])
    README.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")
