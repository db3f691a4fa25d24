"""Requests per second the simulator answers: single-tag Read Tag over loopback.

A short standalone view of the suite's server figures (``bench/run.py`` prints them all): the
simulator runs in its own process, driven by the suite's load generator (:mod:`loadgen`) on one
TCP connection with a registered session, at 1 request in flight and at 20 pipelined (replies
matched by sender context).  Each load gets a warm-up, then several timed runs; the table shows
the median requests/s with the min and max, and the server's CPU time per request from
/proc/<pid>/stat.  The reference cpppo 5.2.5 (``bench/_refvenv.py``) is measured the same way
when it is available.  No figure is asserted.  Usage::

    .venv/bin/python bench/server.py [--quick] [--seconds S] [--runs N] [--no-reference]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # the bench folder is not a package: found through sys.path above

TAGS = ["BENCH=DINT"]
POOL = 64  # distinct sender contexts: more than the deepest pipeline


def measure(server: loadgen.ServerProcess, depth: int, seconds: float, runs: int,
            warmup: float) -> tuple[list[float], list[float], int]:
    """Requests/s and server CPU µs/request of each timed run, and the replies that failed."""
    link = loadgen.Link(server.address)
    try:
        frames = [link.rr_frame(loadgen.read_request("BENCH"), context) for context in range(1, POOL + 1)]

        def once(length: float) -> loadgen.Run:
            if depth == 1:
                return loadgen.sequential(link, frames[:1], length, status_at=loadgen.RR_STATUS)
            return loadgen.pipelined(link, frames, depth, length, status_at=loadgen.RR_STATUS)

        once(warmup)
        rates, cpus, failures = [], [], 0
        for _ in range(runs):
            cpu0 = server.cpu()
            run = once(seconds)
            cpu1 = server.cpu()
            failures += run.failures
            rates.append(run.rate)
            if cpu0 is not None and cpu1 is not None and run.requests:
                cpus.append((cpu1 - cpu0) / run.requests * 1e6)
    finally:
        link.close()
    return rates, cpus, failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs (a smoke test of the benchmark)")
    ap.add_argument("--seconds", type=float, help="length of each timed run")
    ap.add_argument("--runs", type=int, help="timed runs per load")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference implementation")
    args = ap.parse_args(argv)
    seconds = args.seconds or (0.3 if args.quick else 2.0)
    runs = args.runs or (3 if args.quick else 5)
    warmup = 0.2 if args.quick else 1.0

    starts = [("cpppo", lambda: loadgen.ours(TAGS))]
    if not args.no_reference:
        try:
            from _refvenv import ref_python

            python = str(ref_python())
            starts.append(("cpppo 5.2.5", lambda: loadgen.reference(python, TAGS)))
        except Exception as exc:  # no network, no PyPI: skip the comparison
            print(f"(reference unavailable: {exc})", file=sys.stderr)

    print(f"single-tag Read Tag of a DINT over loopback; {runs} runs of {seconds:g} s after {warmup:g} s warm-up")
    print()
    print(f"{'server':<12} {'in flight':>9}  {'requests/s median':>18}  {'(min - max)':>19}  "
          f"{'server CPU us/request':>22}")
    for label, start in starts:
        try:
            server = start()
        except RuntimeError as exc:
            print(f"{label:<12} ({exc})")
            continue
        try:
            for depth in (1, 20):
                rates, cpus, failures = measure(server, depth, seconds, runs, warmup)
                cpu = f"{statistics.median(cpus):.1f}" if cpus else "n/a"
                spread = f"({min(rates):,.0f} - {max(rates):,.0f})"
                print(f"{label:<12} {depth:>9}  {statistics.median(rates):>18,.0f}  {spread:>19}  {cpu:>22}")
                if failures:
                    print(f"{'':<12} {failures} replies carried an error status!")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
