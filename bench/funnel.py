"""What a listener costs: Read Tag and Write Tag at 20 in flight, with and without a subscriber.

A dashboard or a recorder subscribes to a simulator's tag events (the write funnel,
:mod:`cpppo.device.events`).  This measures what that costs the EtherNet/IP path: the simulator
runs in its own process (this script with ``--serve MODE``), on a host with one subscription
drained by a coroutine on the host's loop in batches, as a dashboard would:

* ``none``: no listener at all (what ``enip_server`` runs without ``--print``);
* ``writes``: a subscription to changes (a recorder, a dashboard's value view);
* ``reads``: a subscription to changes and reads (an I/O monitor).

Each mode is driven by the suite's load generator (:mod:`loadgen`) on one connection at 20
requests in flight: the same Read Tag of one DINT (answered from the reply cache, which stays on
with listeners) and the same Write Tag.  Runs alternate between the modes so that noise hits all
of them alike; the table shows median requests/s and each mode as a share of ``none``.  Nothing
is asserted.  Usage::

    .venv/bin/python bench/funnel.py [--quick] [--seconds S] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # the bench folder is not a package: found through sys.path above

from cpppo.cip.epath import Symbolic
from cpppo.cip.message import Request
from cpppo.cip.services import LogixService
from cpppo.cip.tag_services import WriteTag
from cpppo.cip.types import DINT

MODES = ("none", "writes", "reads")
POOL = 64  # distinct sender contexts: more than the pipeline's depth
DEPTH = 20


def serve(mode: str) -> None:
    """The server process: a simulator on a foreground host, with the mode's subscription drained."""
    from cpppo.server.enip import Simulator
    from cpppo.server.host import Host

    sim = Simulator(["BENCH=DINT"], address=("127.0.0.1", 0), io_log=0)
    host = Host(name="bench-funnel")
    seen = [0]

    async def drain() -> None:
        sub = sim.events.subscribe(reads=mode == "reads")
        while True:
            seen[0] += len(await sub.batch())

    def ready() -> None:
        if mode != "none":
            host.spawn(drain())
        print(f"bench funnel ({mode}) listening on 127.0.0.1:{sim.address[1]}", flush=True)

    sim.host = host
    host.run(sim.server, ready=ready)


def measure(server: loadgen.ServerProcess, request: Request, seconds: float) -> float:
    link = loadgen.Link(server.address)
    try:
        frames = [link.rr_frame(request, context) for context in range(1, POOL + 1)]
        run = loadgen.pipelined(link, frames, DEPTH, seconds, status_at=loadgen.RR_STATUS)
        if run.failures:
            raise RuntimeError(f"{run.failures} replies carried an error status")
        return run.rate
    finally:
        link.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs (a smoke test of the benchmark)")
    ap.add_argument("--seconds", type=float, help="length of each timed run")
    ap.add_argument("--runs", type=int, help="timed runs per mode and request")
    ap.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    seconds = args.seconds or (0.3 if args.quick else 1.5)
    runs = args.runs or (3 if args.quick else 7)
    requests = {
        "Read Tag": loadgen.read_request("BENCH"),
        "Write Tag": Request(LogixService.WRITE_TAG, (Symbolic("BENCH"),), WriteTag(DINT.code, 1, DINT.encode([7])).encode()),
    }
    servers = {mode: loadgen.ServerProcess(f"funnel {mode}", [sys.executable, __file__, "--serve", mode],
                                           cwd=str(loadgen.HERE.parent)) for mode in MODES}
    rates: dict[tuple[str, str], list[float]] = {(r, m): [] for r in requests for m in MODES}
    try:
        for name, request in requests.items():
            for mode in MODES:  # warm-up
                measure(servers[mode], request, 0.2)
            for _ in range(runs):
                for mode in MODES:
                    rates[name, mode].append(measure(servers[mode], request, seconds))
    finally:
        for server in servers.values():
            server.stop()
    print(f"one DINT at {DEPTH} in flight over loopback; {runs} alternating runs of {seconds:g} s; median (min-max)")
    print()
    print(f"{'request':<10} {'listener':<22} {'requests/s':>10} {'(min - max)':>19} {'of none':>8}")
    labels = {"none": "none", "writes": "subscriber (changes)", "reads": "subscriber (+ reads)"}
    for name in requests:
        base = statistics.median(rates[name, "none"])
        for mode in MODES:
            got = rates[name, mode]
            med = statistics.median(got)
            spread = f"({min(got):,.0f} - {max(got):,.0f})"
            print(f"{name:<10} {labels[mode]:<22} {med:>10,.0f} {spread:>19} {med / base:>7.0%}")
    return 0


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())
