"""Long fuzz runs against both simulators, each in its own process: frames, hang-ups, stalls, RSS.

The suite keeps a bounded, seeded fuzz test of each server (a few seconds); this runs the same
campaigns (:mod:`cpppo.testing.fuzz`) for as long as asked and prints, per server, the mutated
frames sent, the connections the server hung up (its right, after a frame it cannot frame), the
health checks a fresh connection failed (a stall or a crash), whether the process is still alive,
and its resident memory before and after.  Nothing is asserted.  Usage::

    .venv/bin/python bench/fuzz.py [--seconds 60] [--seed N] [--connections 4]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # the bench folder is not a package: found through sys.path above

from cpppo.testing.fuzz import enip_campaign, modbus_campaign

MODBUS_ANNOUNCE = re.compile(r"address = \S*:(\d+)")


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz each server")
    ap.add_argument("--seed", type=int, default=1, help="the campaign's seed (the same seed, the same frames)")
    ap.add_argument("--connections", type=int, default=4, help="connections the mutated frames spread over")
    args = ap.parse_args(argv)
    servers = [
        ("enip_server", lambda: loadgen.ours(["FUZZ=DINT", "ARR=DINT[100]", "NAME=STRING"]), enip_campaign),
        ("modbus_sim", lambda: loadgen.ServerProcess(
            "modbus_sim", [sys.executable, "-m", "cpppo.remote.modbus_sim", "-a", "127.0.0.1:0", "40001-40100=7",
                           "00001-00100=0", "10001-10016=1", "30001-30010=3"],
            cwd=str(loadgen.HERE.parent), announce=MODBUS_ANNOUNCE), modbus_campaign),
    ]
    print(f"{args.seconds:g} s per server, seed {args.seed}, {args.connections} connections")
    print(f"{'server':<12} {'frames':>9} {'frames/s':>9} {'hang-ups':>9} {'checks':>7} {'failed':>7} "
          f"{'alive':>6} {'RSS MB before -> after':>24}")
    for label, start, campaign in servers:
        server = start()
        try:
            before = rss_mb(server.pid)
            report = campaign(server.address, seed=args.seed, connections=args.connections).run(seconds=args.seconds)
            after = rss_mb(server.pid)
            alive = server.alive()
        finally:
            server.stop()
        rss = f"{before or 0:.1f} -> {after or 0:.1f}"
        print(f"{label:<12} {report.frames:>9,} {report.frames / report.seconds:>9,.0f} {report.hangups:>9,} "
              f"{report.checks:>7} {len(report.failed_checks):>7} {'yes' if alive else 'NO':>6} {rss:>24}")
        if report.failed_checks:
            print(f"{'':<12} health checks failed after frames {report.failed_checks[:10]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
