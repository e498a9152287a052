"""``python -m benchmarks``: start a scripted server (and the burst relay in front of it) in
their own processes, run the clients interleaved round by round, print the tables and
record them in benchmarks/README.md."""

from __future__ import annotations

import argparse
import sys

from lmstudio_async.testing import ServerProcess

from . import real_model, report, rpc_latency, streaming


class RelayProcess(ServerProcess):
    """``python -m benchmarks.burst_relay`` in its own process, in front of ``upstream``."""

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "benchmarks.burst_relay", "--upstream", self.upstream]


SECTIONS = ("client-bound", "end-to-end", "concurrent", "rpc", "real-model")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rounds",
        type=int,
        default=10,
        help="interleaved rounds per table (10 balances 5 clients)",
    )
    parser.add_argument("--fragments", type=int, default=10_000, help="length of one stream")
    parser.add_argument("--streams", type=int, default=1000, help="concurrent streams")
    parser.add_argument(
        "--stream-fragments", type=int, default=100, help="length of each concurrent stream"
    )
    parser.add_argument(
        "--concurrent-rounds", type=int, default=8, help="rounds of the concurrent table"
    )
    parser.add_argument(
        "--pair-rounds",
        type=int,
        default=12,
        help="rounds of the tables without the official clients (12 balances 3 clients)",
    )
    parser.add_argument("--only", nargs="*", choices=SECTIONS, default=SECTIONS)
    parser.add_argument("--no-write", action="store_true", help="print only; leave README.md")
    args = parser.parse_args()

    fragments, rounds = args.fragments, args.rounds
    sections = []
    with (
        ServerProcess("--token-delay", "0", "--reply-tokens", f"{fragments}:{fragments}") as server,
        RelayProcess(server.api_host) as relay,
    ):
        if "client-bound" in args.only:
            runs = streaming.run_all(relay.api_host, rounds=rounds)
            sections.append(
                f"### Client-bound: one {fragments:,}-fragment stream from the burst relay\n\n"
                + report.streaming_table(runs)
            )
            runs = streaming.run_all(
                relay.api_host, rounds=args.pair_rounds, kinds=streaming.OURS_AND_BARE
            )
            sections.append(
                f"### Client-bound: one {fragments:,}-fragment stream, without the official "
                "clients in the rotation\n\n" + report.streaming_table(runs)
            )
        if "concurrent" in args.only:
            runs = streaming.run_all(
                relay.api_host,
                rounds=args.concurrent_rounds,
                streams=args.streams,
                fragments=args.stream_fragments,
                kinds=streaming.CONCURRENT,
                warmup=False,
            )
            sections.append(
                f"### Client-bound: {args.streams:,} concurrent streams of "
                f"{args.stream_fragments} fragments on one client (burst relay)\n\n"
                + report.streaming_table(runs)
            )
        if "end-to-end" in args.only:
            runs = streaming.run_all(server.api_host, rounds=rounds)
            sections.append(
                f"### End to end: one {fragments:,}-fragment stream from the scripted server "
                "(zero delay)\n\n" + report.streaming_table(runs)
            )
        if "rpc" in args.only:
            sections.append(
                "### RPC round trip, client-bound (`llm/listLoaded` answered by the relay)\n\n"
                + report.latency_table(rpc_latency.run_all(relay.api_host, rounds=rounds))
            )
            ours_and_bare = rpc_latency.run_all(
                relay.api_host, rounds=args.pair_rounds, kinds=rpc_latency.OURS_AND_BARE
            )
            sections.append(
                "### RPC round trip, client-bound, without the official clients in the "
                "rotation\n\n" + report.latency_table(ours_and_bare)
            )
            sections.append(
                "### RPC round trip, end to end (`llm/listLoaded` from the scripted server)\n\n"
                + report.latency_table(rpc_latency.run_all(server.api_host, rounds=rounds))
            )
    if "real-model" in args.only:
        with ServerProcess("--engine", "llama-cpp") as server:
            real = real_model.run_all(server.api_host)
        sections.append(
            f"### A real model: {real_model.MODEL}, up to {real_model.TOKENS} tokens, greedy, "
            f"{real_model.THREADS} threads\n\n" + report.real_model_table(real)
        )
    for section in sections:
        print(section, end="\n\n")
    if not args.no_write:
        report.write(sections)


if __name__ == "__main__":
    main()
