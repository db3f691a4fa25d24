"""Fairness: what one greedy connection costs another client's read latency.

A *polite* client reads one tag at a time (send, wait for the reply) and times each read; a
*greedy* one, in a process of its own, keeps ``--depth`` Read Tag requests in flight on one
connection for as long as the polite client measures.  Figures, per server: the polite client's
median and p99 read latency alone, then beside the greedy client, and the greedy client's own
rate.  With ``--other`` (a ``git worktree`` of another commit) both checkouts' simulators are
measured the same way in the same run.  Nothing is asserted.  Usage::

    .venv/bin/python bench/fairness.py [--other /tmp/before] [--seconds 3] [--depth 2000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # the bench folder is not a package: found through sys.path above

TAGS = ["BENCH=DINT", "OTHER=DINT"]


def polite(address: tuple[str, int], seconds: float) -> list[float]:
    """Sequential reads for ``seconds`` (bounded in count too): each latency in milliseconds."""
    link = loadgen.Link(address)
    try:
        frame = link.rr_frame(loadgen.read_request("OTHER"))
        took = []
        stop = time.perf_counter() + seconds
        for _ in range(1_000_000):
            begun = time.perf_counter()
            reply = link.request(frame)
            took.append((time.perf_counter() - begun) * 1e3)
            if loadgen.failed(reply, loadgen.RR_STATUS):
                raise RuntimeError("a polite read failed")
            if begun >= stop:
                break
        return took
    finally:
        link.close()


def greedy_main(host: str, port: int, seconds: float, depth: int) -> int:
    """The greedy client (run in a child process): print its reads per second."""
    link = loadgen.Link((host, port))
    frames = [link.rr_frame(loadgen.read_request("BENCH"), context) for context in range(1, depth * 2 + 2)]
    print("ready", flush=True)
    run = loadgen.pipelined(link, frames, depth, seconds, status_at=loadgen.RR_STATUS)
    print(f"{run.rate:.0f}", flush=True)
    link.close()
    return 0


def measure(server: loadgen.ServerProcess, seconds: float, depth: int) -> dict[str, float]:
    alone = polite(server.address, seconds)
    child = subprocess.Popen([sys.executable, __file__, "--greedy", str(server.address[1]), str(seconds + 1),
                              str(depth)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the greedy client did not start")
        time.sleep(0.3)  # let its pipeline fill
        beside = polite(server.address, seconds)
        greedy_rate = float(child.stdout.readline() or 0)
    finally:
        child.wait(timeout=seconds + 60)

    def p99(xs: list[float]) -> float:
        return sorted(xs)[int(len(xs) * 0.99)]

    return {"alone p50": statistics.median(alone), "alone p99": p99(alone),
            "greedy p50": statistics.median(beside), "greedy p99": p99(beside), "greedy req/s": greedy_rate}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--other", help="another checkout to measure beside this one")
    ap.add_argument("--seconds", type=float, default=3.0, help="length of each polite run")
    ap.add_argument("--depth", type=int, default=2000, help="the greedy client's requests in flight")
    ap.add_argument("--greedy", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.greedy:
        port, seconds, depth = args.greedy
        return greedy_main("127.0.0.1", int(port), float(seconds), int(depth))
    cmd = [sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", *TAGS]
    checkouts = {"this": str(loadgen.HERE.parent)}
    if args.other:
        checkouts["other"] = str(Path(args.other).resolve())
    results = {}
    for name, where in checkouts.items():
        server = loadgen.ServerProcess(name, cmd, cwd=where)
        try:
            polite(server.address, 0.3)  # warm-up
            results[name] = measure(server, args.seconds, args.depth)
        finally:
            server.stop()
    print(f"polite sequential reads beside a greedy client with {args.depth} reads in flight; {args.seconds:g} s each")
    print(f"{'checkout':<8} {'alone p50 ms':>13} {'alone p99 ms':>13} {'beside p50 ms':>14} {'beside p99 ms':>14} "
          f"{'greedy req/s':>13}")
    for name, r in results.items():
        print(f"{name:<8} {r['alone p50']:>13.3f} {r['alone p99']:>13.3f} {r['greedy p50']:>14.3f} "
              f"{r['greedy p99']:>14.3f} {r['greedy req/s']:>13,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
