"""A fleet of simulated controllers in one process: start-up, memory, and load from a client each.

Starts ``enip_fleet --count N`` (default 1 000 Logix controllers on 127.20.x.y, one free port) in a
process of its own, and prints: the seconds until every device listens, the fleet process's
resident memory per device (less a one-device fleet's, so the interpreter is not counted), how
many devices answer one Read Tag each, and -- with one client connection per device, each reading
its own controller every ``--interval`` seconds -- the aggregate reads per second and the p50/p99
latency.  As the anchor, the reference cpppo 5.2.5 needs one process per device: its simulator's
resident memory with the same tag, measured in this run, is printed beside ours.  Nothing is
asserted.  Usage::

    .venv/bin/python bench/fleet.py [--count 1000] [--seconds 5] [--interval 0.5] [--quick]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # the bench folder is not a package: found through sys.path above

TAGS = ["BENCH=DINT", "ARRAY=DINT[100]"]


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _addresses(count: int) -> tuple[list[tuple[str, int]], int]:
    port = loadgen.free_port()
    return [(f"127.20.{(i + 1) // 256}.{(i + 1) % 256}", port) for i in range(count)], port


def start_fleet(count: int, startup: float = 300.0) -> tuple[subprocess.Popen[str], float, list[tuple[str, int]]]:
    addresses, port = _addresses(count)
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip.fleet", "--quiet", "--count", str(count),
                             "--base", f"{addresses[0][0]}:{port}", *TAGS],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(loadgen.HERE.parent))
    assert proc.stdout is not None
    while time.monotonic() - began < startup:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the fleet exited before it listened")
        if re.match(r"\d+ devices listening", line):
            return proc, time.monotonic() - began, addresses
    proc.kill()
    raise RuntimeError("the fleet did not start")


def reference_rss() -> float | None:
    """One cpppo 5.2.5 simulator process's resident memory with the same tags (MB), or None."""
    try:
        from _refvenv import ref_python

        server = loadgen.reference(str(ref_python()), TAGS)
    except Exception as exc:  # no network for the reference venv: say so, measure ours anyway
        print(f"(reference not measured: {exc})")
        return None
    try:
        time.sleep(0.5)
        return _rss_mb(server.proc.pid)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000, help="devices in the fleet")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of the polling run")
    ap.add_argument("--interval", type=float, default=0.5, help="each client's poll period (s)")
    ap.add_argument("--quick", action="store_true", help="100 devices, 2 s (a smoke test)")
    args = ap.parse_args(argv)
    count, seconds = (100, 2.0) if args.quick else (args.count, args.seconds)
    loadgen.raise_nofile(2 * count + 512)

    one, _, _ = start_fleet(1)
    try:
        time.sleep(0.3)
        base_rss = _rss_mb(one.pid)
    finally:
        one.terminate()
        one.wait(10)

    proc, startup, addresses = start_fleet(count)
    try:
        time.sleep(0.3)
        rss = _rss_mb(proc.pid)
        once = loadgen.many_clients(addresses, count, 0.1, interval=0.1, reply_within=10.0)
        load = loadgen.many_clients(addresses, count, seconds, interval=args.interval, reply_within=5.0)
        loaded_rss = _rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    ref = reference_rss()

    answered = len(once.latencies)
    print(f"fleet of {count} Logix controllers in one process (tags: {' '.join(TAGS)})")
    print(f"  start-up until all listen     {startup:8.2f} s")
    print(f"  resident memory               {rss:8.1f} MB ({base_rss:.1f} MB with one device; "
          f"{loaded_rss:.1f} MB after the polling run)")
    per = (max(rss, loaded_rss) - base_rss) / max(count - 1, 1)
    print(f"  per device                    {per * 1024:8.0f} kB"
          + (f"   (cpppo 5.2.5: one process per device, {ref:.1f} MB each: {ref / per:.0f}x)" if ref else ""))
    print(f"  devices answering a read      {answered:8d} of {count}")
    rate = len(load.latencies) / seconds
    print(f"  {count} clients, each polling its own device every {args.interval:g} s for {seconds:g} s:")
    print(f"    aggregate reads             {rate:8.0f} /s ({len(load.latencies)} answered, "
          f"{load.unanswered} unanswered, {load.errors} errors)")
    print(f"    latency p50 / p99           {load.percentile(50) * 1e3:8.2f} / {load.percentile(99) * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
