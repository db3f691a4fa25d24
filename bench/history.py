"""History: reading a large compressed history, and what recording costs the EtherNet/IP path.

1. Writes a history of ``--records`` (default 1 000 000) records to a ``.gz`` file, then reads it
   back with ``cpppo.history.reader`` as fast as possible: records per second.  The reference
   cpppo 5.2.5's reader reads the same file in the same run (our records are tab-separated, as
   its are), with its playback clock sped up so that nothing waits: it yields each record's JSON
   text undecoded.  (If its history module does not import, that is printed instead.)
2. Read Tag throughput at 20 in flight from ``enip_server`` and from ``historize`` (the same
   simulator, recording every read to a file), in pairs of runs (in turn ABBA, so drift hits both):
   the share recording keeps, as the ratio of the medians and as the median of each pair's ratio
   (a shared machine's speed drifts; a pair's two runs are seconds apart), and the server's CPU
   time per request in each (from /proc).

Nothing is asserted.  Usage: ``.venv/bin/python bench/history.py [--records N] [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import loadgen  # the bench folder is not a package: found through sys.path above

from cpppo.history import logger, reader

T0 = 1405461815.945

REF_READ = """
import sys, time
from cpppo.history import reader, timestamp
r = reader(sys.argv[1], historical=timestamp(float(sys.argv[2]) - 1), factor=1e12)  # as fast as it goes
began = time.perf_counter(); n = 0
for _, (ts, js) in r.open(target=timestamp(float(sys.argv[2]) - 1)):
    if js:
        n += 1
        if n == int(sys.argv[3]):
            break
print(n, time.perf_counter() - began)
"""


def write_history(path: Path, records: int) -> float:
    began = time.perf_counter()
    with logger(path, flush_every=10_000) as log:
        for i in range(records):
            log.write([f"TAG{i % 10}", [0, 3]], {"write": [i, 1, 2, 3]}, now=T0 + i * 0.01)
    return time.perf_counter() - began


def read_rate(path: Path) -> tuple[int, float]:
    began = time.perf_counter()
    n = sum(1 for _ in reader(path))
    return n, time.perf_counter() - began


def reference_rate(path: Path, records: int) -> str:
    try:
        from _refvenv import ref_python

        done = subprocess.run([str(ref_python()), "-c", REF_READ, str(path), str(T0), str(records)],
                              capture_output=True, text=True,
                              timeout=600, cwd=tempfile.gettempdir(), check=False)
    except Exception as exc:
        return f"not run: {exc}"
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return f"could not be run on this file: {last}"
    n, seconds = done.stdout.split()
    return f"{int(n) / float(seconds):,.0f} records/s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--quick", action="store_true", help="100 000 records, short runs")
    args = ap.parse_args(argv)
    records, runs, seconds = (100_000, 2, 0.5) if args.quick else (args.records, args.runs, args.seconds)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "bench.hst.gz"
        wrote = write_history(path, records)
        n, took = read_rate(path)
        size = path.stat().st_size
        ref = reference_rate(path, records)
        recording = Path(work) / "recording.hst"
        tags = ["BENCH=DINT"]
        plain = loadgen.ServerProcess("enip_server", [sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0",
                                                      *tags], cwd=str(loadgen.HERE.parent))
        recorded = loadgen.ServerProcess("historize", [sys.executable, "-m", "cpppo.server.enip.historize",
                                                       str(recording), "-a", "127.0.0.1:0", *tags],
                                         cwd=str(loadgen.HERE.parent))
        try:
            loadgen.read_tag_rate(plain, 0.3)
            loadgen.read_tag_rate(recorded, 0.3)
            without, with_ = [], []
            cpu: dict[str, list[float]] = {plain.label: [], recorded.label: []}  # server CPU µs per request
            for run in range(runs):
                pair = {}
                for server in (plain, recorded) if run % 2 == 0 else (recorded, plain):  # ABBA: drift hits both
                    began, cpu_began = time.perf_counter(), server.cpu()
                    rate = pair[server.label] = loadgen.read_tag_rate(server, seconds)
                    used = (server.cpu() or 0.0) - (cpu_began or 0.0)
                    cpu[server.label].append(used / (rate * (time.perf_counter() - began)) * 1e6)
                without.append(pair[plain.label])
                with_.append(pair[recorded.label])
        finally:
            plain.stop()
            recorded.stop()
        with open(recording) as f:
            lines = sum(1 for _ in f)
    print(f"history of {records:,} records, gzip: {size / 2**20:.1f} MB, written in {wrote:.1f} s "
          f"({records / wrote:,.0f} records/s)")
    print(f"  read back (cpppo.history.reader)   {n / took:12,.0f} records/s ({n:,} records in {took:.2f} s)")
    print(f"  cpppo 5.2.5's reader               {ref}")
    a, b = statistics.median(without), statistics.median(with_)
    paired = statistics.median(r / p for p, r in zip(without, with_))  # each run beside the one before it
    print(f"Read Tag, 20 in flight, {runs} alternating runs of {seconds:g} s (median):")
    print(f"  enip_server                        {a:12,.0f} req/s")
    print(f"  historize (recording every read)   {b:12,.0f} req/s ({b / a:.0%}); {lines:,} lines recorded")
    print(f"  recording keeps, run beside run    {paired:12.0%} (median of the {runs} pairs' ratios; "
          f"range {min(r / p for p, r in zip(without, with_)):.0%}-{max(r / p for p, r in zip(without, with_)):.0%})")
    a_cpu, b_cpu = (statistics.median(cpu[label]) for label in ("enip_server", "historize"))
    print(f"  server CPU per request             {a_cpu:9.2f} µs without, {b_cpu:.2f} µs recording "
          f"(+{b_cpu - a_cpu:.2f} µs: the event, its line, and the file)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
