"""Polling many drives from one event loop (``cpppo.server.enip.poll.poll_many``).

Starts a fleet of simulated PowerFlex 750 drives (``enip_fleet``, kind ``powerflex``) in a process
of its own, then polls ``--params`` parameters of every drive each ``--cycle`` seconds from one
asyncio loop in this process, for ``--seconds``: the parameters read per second (devices x
parameters), beside what the cycle asks for.  A second run adds a dead drive (nothing listening)
and a slow one (every reply 0.8 s late): the live drives' polls per second in both runs show what
a bad device costs the others.  Nothing is asserted.  Usage::

    .venv/bin/python bench/poll.py [--devices 200] [--params 5] [--cycle 0.5] [--seconds 5] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import loadgen  # the bench folder is not a package: found through sys.path above

from cpppo.client.proxy import AsyncProxy
from cpppo.server.enip.ab import POWERFLEX_750_TAGS, powerflex_750_series
from cpppo.server.enip.poll import AsyncPoll, poll_many

NAMES = ["Motor Velocity", "Output Current", "Output Frequency", "Elapsed KwH", "Speed Units", "DC Bus Volts",
         "Output Voltage", "Output Power"]


def start(cmd: list[str], pattern: str, timeout: float = 120.0) -> subprocess.Popen[str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=str(loadgen.HERE.parent))
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{cmd[2]} exited before it listened")
        if re.search(pattern, line):
            return proc
    proc.kill()
    raise RuntimeError(f"{cmd[2]} did not start")


async def measure(addresses: list[tuple[str, int]], params: list[str], cycle: float, seconds: float,
                  bad: list[tuple[str, int]]) -> tuple[float, float]:
    names = powerflex_750_series.PARAMETERS
    polls = [AsyncPoll(AsyncProxy(h, p, timeout=2.0, simple=True, parameters=names, identity_default="drive"),
                       params, cycle=cycle) for h, p in addresses]
    extra = [AsyncPoll(AsyncProxy(h, p, timeout=2.0, simple=True, parameters=names, identity_default="drive"),
                       params, cycle=cycle, backoff_max=2.0) for h, p in bad]
    values = 0

    def process(_: object, val: object) -> None:
        nonlocal values
        values += val is not None

    await poll_many([*polls, *extra], process=process, duration=seconds)
    live_polls = sum(p.polls for p in polls)
    return values / seconds, live_polls / seconds / max(len(polls), 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--params", type=int, default=5, help=f"parameters per drive (at most {len(NAMES)})")
    ap.add_argument("--cycle", type=float, default=0.5)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--quick", action="store_true", help="20 drives, 2 s")
    args = ap.parse_args(argv)
    devices, seconds = (20, 2.0) if args.quick else (args.devices, args.seconds)
    params = NAMES[: max(1, min(args.params, len(NAMES)))]
    loadgen.raise_nofile(2 * devices + 512)
    port = loadgen.free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as plant:
        plant.write(f'[[device]]\nname = "drive"\naddress = "127.21.0.1:{port}"\nkind = "powerflex"\n'
                    f"count = {devices}\n")
    fleet = start([sys.executable, "-m", "cpppo.server.enip.fleet", "--quiet", plant.name], r"devices listening")
    slow_port, dead_port = loadgen.free_port(), loadgen.free_port()
    slow = start([sys.executable, "-m", "cpppo.server.enip", "-S", "-d", "0.8", "-a", f"127.0.0.1:{slow_port}",
                  *POWERFLEX_750_TAGS], r"listening on")
    try:
        addresses = [(f"127.21.{(i + 1) // 256}.{(i + 1) % 256}", port) for i in range(devices)]
        rate, per = asyncio.run(measure(addresses, params, args.cycle, seconds, []))
        bad_rate, bad_per = asyncio.run(measure(addresses, params, args.cycle, seconds,
                                                [("127.0.0.1", slow_port), ("127.0.0.1", dead_port)]))
    finally:
        for proc in (fleet, slow):
            proc.terminate()
            proc.wait(30)
        Path(plant.name).unlink()
    wanted = devices * len(params) / args.cycle
    print(f"{devices} simulated PowerFlex 750 drives, {len(params)} parameters each, every {args.cycle:g} s, "
          f"from one asyncio loop, {seconds:g} s")
    print(f"  parameters read               {rate:9.0f} /s  (the cycle asks for {wanted:.0f}/s: {rate / wanted:.0%})")
    print(f"  polls per live drive          {per:9.2f} /s  (asked: {1 / args.cycle:.2f})")
    print("  with a dead drive and a slow one (replies 0.8 s late) polled too:")
    print(f"  parameters read               {bad_rate:9.0f} /s")
    print(f"  polls per live drive          {bad_per:9.2f} /s  ({bad_per / per:.0%} of the figure without them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
