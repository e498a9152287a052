"""``python -m benchmarks``: start a scripted server in its own process, run every benchmark
side by side, print the tables and record them in benchmarks/README.md."""

from __future__ import annotations

import argparse

from lmstudio_async.testing import ServerProcess

from . import real_model, report, rpc_latency, streaming


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000, help="RPCs timed per client")
    parser.add_argument("--fragments", type=int, default=20_000, help="length of the stream")
    parser.add_argument("--no-write", action="store_true", help="print only; leave README.md")
    args = parser.parse_args()

    fragments = args.fragments
    with ServerProcess(
        "--token-delay", "0", "--reply-tokens", f"{fragments}:{fragments}"
    ) as server:
        latency = rpc_latency.run_all(server.api_host, rounds=args.rounds)
        stream = streaming.run_all(server.api_host, rounds=5)

    with ServerProcess("--engine", "llama-cpp") as server:
        real = real_model.run_all(server.api_host)

    sections = [
        f"### A real model: {real_model.MODEL}, {real_model.TOKENS} tokens, greedy, "
        f"{real_model.THREADS} threads\n\n" + report.real_model_table(real),
        f"### Streaming one {fragments:,}-fragment prediction (scripted engine, zero delay)\n\n"
        + report.streaming_table(stream),
        "### Small RPC round trip (`llm/listLoaded`, nothing loaded)\n\n"
        + report.latency_table(latency),
    ]
    for section in sections:
        print(section, end="\n\n")
    if not args.no_write:
        report.write(sections)


if __name__ == "__main__":
    main()
