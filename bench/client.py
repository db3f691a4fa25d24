"""Client thruput: single-tag reads per second, and elements per second of a 1000-element array.

The simulator runs in its own process (``python -m cpppo.server.enip -a 127.0.0.1:0``) so the
client measured here does not share an interpreter with it.  Loads, each on one registered TCP
session through ``cpppo.server.enip.client.connector``:

* single reads (``BENCH``, a DINT) at pipeline depth 1 and 20, without and with ``--multiple``
  (Multiple Service Packets of up to 250 and 500 bytes);
* a 1000-element DINT array (``ARRAY[0-999]``, 4000 bytes: several Read Tag Fragmented
  replies each) at depth 1 and 20, reported as elements (tags) per second;
* the same over a connected session (Large Forward Open, 4002-byte replies);
* the same single reads over a simulated 50 ms link (``--delay 0.05``), where pipelining pays;
* when the reference implementation (cpppo 5.2.5, see ``bench/_refvenv.py``) is available, its
  own ``thruput`` tool against the same simulator, for comparison.

Each figure is the median of several runs (with min and max).  No figure is asserted.  Usage::

    .venv/bin/python bench/client.py [--quick] [--no-reference]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import loadgen  # the bench folder is not a package: found through sys.path above

from cpppo.server.enip import client

TAGS = ["BENCH=DINT", "ARRAY=DINT[1000]"]
TPS = re.compile(r"([\d.]+) TPS")


def rate(conn: client.connector, tags: list[str], count: int, per: int, **kwds: object) -> float:
    """Items per second: ``count`` operations of ``tags``, each worth ``per`` items."""
    ops = list(client.parse_operations(tags * (count // len(tags))))
    began = time.perf_counter()
    failures, _ = conn.process(ops, **kwds)
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{failures} operations failed")
    return len(ops) * per / elapsed


def measure(runs: int, fn: Callable[[], float]) -> tuple[float, float, float]:
    fn()  # warm-up
    figures = [fn() for _ in range(runs)]
    return statistics.median(figures), min(figures), max(figures)


def thruput_tool(address: tuple[str, int], count: int, depth: int, multiple: int, ours: bool) -> float | None:
    """TPS printed by a ``thruput`` tool run as a command against our simulator: ours, or the
    reference cpppo 5.2.5's (None if that cannot be installed)."""
    python: Any = sys.executable
    if not ours:
        try:
            from _refvenv import ref_python

            python = ref_python()
        except Exception as exc:  # no network, no PyPI: skip the comparison
            print(f"(reference unavailable: {exc})", file=sys.stderr)
            return None
    cmd = [str(python), "-m", "cpppo.server.enip.thruput", "-a", f"{address[0]}:{address[1]}",
           "--repeat", str(count), "--depth", str(depth), "--multiple", str(multiple), "BENCH"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    m = TPS.search(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None
    return float(m.group(1)) if m else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs (a smoke test of the benchmark)")
    ap.add_argument("--runs", type=int, default=None, help="timed runs per figure (default 5, quick 1)")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference implementation")
    args = ap.parse_args(argv)
    runs = args.runs or (1 if args.quick else 5)
    singles = 200 if args.quick else 3000
    arrays = 10 if args.quick else 100
    rows: list[tuple[str, str, tuple[float, float, float] | float | None]] = []

    server = loadgen.ours(TAGS)
    try:
        with client.connector(*server.address, timeout=10) as conn:
            for depth in (1, 20):
                for multiple in (0, 250, 500):
                    figure = measure(runs, lambda d=depth, m=multiple: rate(conn, ["BENCH"], singles, 1, depth=d,
                                                                            multiple=m))
                    rows.append((f"single DINT reads, depth {depth:2d}, multiple {multiple:3d}", "TPS", figure))
            for depth in (1, 20):
                figure = measure(runs, lambda d=depth: rate(conn, ["ARRAY[0-999]"], arrays, 1000, depth=d))
                rows.append((f"ARRAY[0-999] (DINT[1000]) reads, depth {depth:2d}", "tags/s", figure))
        with client.connector(*server.address, timeout=10, connected=True) as conn:
            figure = measure(runs, lambda: rate(conn, ["BENCH"], singles, 1, depth=20))
            rows.append(("single DINT reads, connected (Large Forward Open), depth 20", "TPS", figure))
            for depth in (1, 20):
                figure = measure(runs, lambda d=depth: rate(conn, ["ARRAY[0-999]"], arrays, 1000, depth=d))
                rows.append((f"ARRAY[0-999] reads, connected, depth {depth:2d}", "tags/s", figure))
        for depth, multiple in ((1, 0), (20, 0), (20, 250)):
            rows.append((f"thruput tool (6-tuples with replies), depth {depth:2d}, multiple {multiple:3d}", "TPS",
                         thruput_tool(server.address, singles, depth, multiple, True)))
            if not args.no_reference:
                rows.append((f"reference cpppo 5.2.5 thruput, depth {depth:2d}, multiple {multiple:3d}", "TPS",
                             thruput_tool(server.address, singles, depth, multiple, False)))
    finally:
        server.stop()

    slow = loadgen.ours(TAGS, extra=["--delay", "0.05"])  # every reply 50 ms late
    try:
        with client.connector(*slow.address, timeout=10) as conn:
            for depth in (1, 20):
                n = 20 if depth == 1 else 200
                figure = measure(1, lambda d=depth, n=n: rate(conn, ["BENCH"], n, 1, depth=d))
                rows.append((f"single DINT reads over a 50 ms link, depth {depth:2d}", "TPS", figure))
    finally:
        slow.stop()

    width = max(len(r[0]) for r in rows)
    print(f"{'load':<{width}}  {'median':>10}  {'min':>10}  {'max':>10}")
    for name, unit, figure in rows:
        if figure is None:
            print(f"{name:<{width}}  {'n/a':>10}")
        elif isinstance(figure, float):
            print(f"{name:<{width}}  {figure:10.0f}  {'':>10}  {'':>10}  {unit}")
        else:
            med, lo, hi = figure
            print(f"{name:<{width}}  {med:10.0f}  {lo:10.0f}  {hi:10.0f}  {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
