"""This checkout's simulator against another checkout's, side by side: did a change cost speed?

``make bench`` compares us with cpppo 5.2.5; a design change needs a comparison with *ourselves*
before it.  This runs the simulator of this checkout and of ``--other`` (a ``git worktree`` of the
commit to compare with) in processes of their own, with the same interpreter and the same tags,
and drives both with the suite's load generator (:mod:`loadgen`), alternating run by run so that
a noisy machine hits both alike.  Figures: Read Tag of one DINT at 1 and 20 in flight (requests/s
and server CPU per request), Write Tag at 20 in flight, a Multiple Service Packet of 40 reads at
5 in flight (tags/s), and DINT[1000] read whole over a Large Forward Open connection.  Each cell is
the median of the runs, and the last column this checkout as a share of the other.  Nothing is
asserted.  Usage::

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/ab.py --other /tmp/before [--quick] [--runs N] [--seconds S]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # the bench folder is not a package: found through sys.path above

from cpppo.cip.epath import Symbolic
from cpppo.cip.message import Request
from cpppo.cip.services import LogixService
from cpppo.cip.tag_services import WriteTag
from cpppo.cip.types import DINT

TAGS = ["BENCH=DINT", "ARRAY=DINT[1000]", *(f"T{i:03d}=DINT" for i in range(40))]
POOL = 64  # distinct sender contexts: more than the deepest pipeline

Measure = Callable[[loadgen.ServerProcess, float], tuple[float, float | None]]


def _timed(server: loadgen.ServerProcess, run: Callable[[], loadgen.Run]) -> tuple[float, float | None]:
    """(items/s, server CPU µs per request) of one run."""
    cpu0 = server.cpu()
    result = run()
    cpu1 = server.cpu()
    if result.failures:
        raise RuntimeError(f"{server.label}: {result.failures} replies carried an error status")
    per = (cpu1 - cpu0) / result.requests * 1e6 if cpu0 is not None and cpu1 is not None and result.requests else None
    return result.rate, per


def single(request: Request, depth: int) -> Measure:
    def measure(server: loadgen.ServerProcess, seconds: float) -> tuple[float, float | None]:
        link = loadgen.Link(server.address)
        try:
            frames = [link.rr_frame(request, context) for context in range(1, POOL + 1)]
            if depth == 1:
                return _timed(server, lambda: loadgen.sequential(link, frames[:1], seconds,
                                                                 status_at=loadgen.RR_STATUS))
            return _timed(server, lambda: loadgen.pipelined(link, frames, depth, seconds,
                                                            status_at=loadgen.RR_STATUS))
        finally:
            link.close()

    return measure


def bundle(depth: int) -> Measure:
    request = loadgen.msp_request([f"T{i:03d}" for i in range(40)])

    def measure(server: loadgen.ServerProcess, seconds: float) -> tuple[float, float | None]:
        link = loadgen.Link(server.address)
        try:
            frames = [link.rr_frame(request, context) for context in range(1, POOL + 1)]
            return _timed(server, lambda: loadgen.pipelined(link, frames, depth, seconds, status_at=loadgen.RR_STATUS,
                                                            items_per_reply=40))
        finally:
            link.close()

    return measure


def connected_array(server: loadgen.ServerProcess, seconds: float) -> tuple[float, float | None]:
    link = loadgen.Link(server.address)
    try:
        link.forward_open(4002)

        def build(offset: int, sequence: int) -> bytes:
            return link.unit_frame(loadgen.read_request("ARRAY", 1000, offset), sequence)

        return _timed(server, lambda: loadgen.array_reads(link, build, seconds, status_at=loadgen.UNIT_STATUS,
                                                          elements=1000))
    finally:
        link.close()


FIGURES: list[tuple[str, str, Measure]] = [
    ("Read Tag 1 DINT, 1 in flight", "req/s", single(loadgen.read_request("BENCH"), 1)),
    ("Read Tag 1 DINT, 20 in flight", "req/s", single(loadgen.read_request("BENCH"), 20)),
    ("Write Tag 1 DINT, 20 in flight", "req/s",
     single(Request(LogixService.WRITE_TAG, (Symbolic("BENCH"),), WriteTag(DINT.code, 1, DINT.encode([7])).encode()), 20)),
    ("MSP of 40 reads, 5 in flight", "tags/s", bundle(5)),
    ("DINT[1000] connected, whole", "arrays/s", connected_array),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--other", required=True, help="the other checkout (a git worktree of the commit to compare)")
    ap.add_argument("--quick", action="store_true", help="short runs (a smoke test of the benchmark)")
    ap.add_argument("--seconds", type=float, help="length of each timed run")
    ap.add_argument("--runs", type=int, help="timed runs per figure and checkout")
    args = ap.parse_args(argv)
    other = Path(args.other).resolve()
    if not (other / "cpppo" / "server" / "enip").is_dir():
        print(f"ab: error: {other} is not a cpppo checkout", file=sys.stderr)
        return 2
    seconds = args.seconds or (0.3 if args.quick else 1.5)
    runs = args.runs or (3 if args.quick else 7)
    cmd = [sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", *TAGS]
    servers = {"this": loadgen.ServerProcess("this", cmd, cwd=str(loadgen.HERE.parent)),
               "other": loadgen.ServerProcess("other", cmd, cwd=str(other))}
    table = []
    try:
        for name, unit, measure in FIGURES:
            got: dict[str, list[tuple[float, float | None]]] = {k: [] for k in servers}
            for server in servers.values():
                measure(server, 0.2)  # warm-up
            for _ in range(runs):
                for key, server in servers.items():
                    got[key].append(measure(server, seconds))
            table.append((name, unit, got))
    finally:
        for server in servers.values():
            server.stop()
    print(f"this checkout vs {other}; {runs} alternating runs of {seconds:g} s; median (min-max)")
    print()
    print(f"{'figure':<32} {'unit':<9} {'this':>22} {'other':>22} {'this/other':>10}  {'CPU us/req this / other':>24}")
    for name, unit, got in table:
        cells = {}
        for key, runs_ in got.items():
            rates = [r for r, _ in runs_]
            cpus = [c for _, c in runs_ if c is not None]
            cells[key] = (statistics.median(rates), min(rates), max(rates), statistics.median(cpus) if cpus else None)
        this, other_ = cells["this"], cells["other"]
        cpu = f"{this[3]:.1f} / {other_[3]:.1f}" if this[3] is not None and other_[3] is not None else "n/a"
        print(f"{name:<32} {unit:<9} {this[0]:>10,.0f} ({this[1]:,.0f}-{this[2]:,.0f}) "
              f"{other_[0]:>10,.0f} ({other_[1]:,.0f}-{other_[2]:,.0f}) {this[0] / other_[0]:>10.0%}  {cpu:>24}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
