"""Modbus/TCP requests per second on loopback: our poller and simulator vs pymodbus's own.

Four pairings, each reading 10 holding registers per request, one connection, one request in
flight (Modbus/TCP clients rarely pipeline); each server runs in its own process so that client
and server do not share a GIL:

    client             server
    pymodbus client    pymodbus server (SimDevice)     the baseline
    pymodbus client    cpppo Simulator
    cpppo poller       cpppo Simulator                 rate=0: poll back to back
    cpppo poller       pymodbus server

Run: .venv/bin/python bench/modbus.py [--seconds 2] [--quick]
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import loadgen  # the bench folder is not a package: found through sys.path above
from pymodbus.client import ModbusTcpClient

from cpppo.modbus import poller_modbus

ANNOUNCE = re.compile(r"(?:port |:)(\d+)\s*$")  # pymodbus's "port N", the Simulator's "... address = HOST:N"

PYMODBUS_SERVER = """
import asyncio, logging
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
async def main():
    device = SimDevice(0, simdata=[SimData(0, count=100, values=99, datatype=DataType.REGISTERS)])
    server = ModbusTcpServer(device, address=("127.0.0.1", 0))
    await server.serve_forever(background=True)
    print("port", server.transport.sockets[0].getsockname()[1], flush=True)
    await server.serving
asyncio.run(main())
"""


def start_server(label: str, argv: list[str]) -> loadgen.ServerProcess:
    """Start a server in its own process (no shared GIL with the client), which must say its port
    within 30 s ("port N" or "... HOST:N" at the end of a line); stopped again if it does not."""
    return loadgen.ServerProcess(label, argv, startup=30.0, announce=ANNOUNCE)


def pymodbus_client(port: int, seconds: float) -> float:
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    client.connect()
    count = 0
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        response = client.read_holding_registers(0, count=10)
        assert response.registers == [99] * 10
        count += 1
    elapsed = time.perf_counter() - start
    client.close()
    return count / elapsed


def cpppo_poller(port: int, seconds: float) -> float:
    poller = poller_modbus("bench", host="127.0.0.1", port=port, rate=0.0, reach=0, timeout=2)
    poller.poll(range(40001, 40011))
    deadline = time.monotonic() + 5
    while poller.read(40010) is None and time.monotonic() < deadline:
        time.sleep(0.001)
    first = poller.counters.requests
    start = time.perf_counter()
    time.sleep(seconds)
    done = poller.counters.requests - first
    elapsed = time.perf_counter() - start
    poller.stop()
    poller.join(5)
    return done / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per pairing (default 2)")
    parser.add_argument("--quick", action="store_true", help="0.5 s per pairing, one run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per pairing; the median is shown")
    args = parser.parse_args()
    seconds = 0.5 if args.quick else args.seconds
    if args.quick:
        args.repeat = 1
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

    servers: list[loadgen.ServerProcess] = []
    try:
        try:
            theirs = start_server("pymodbus server", [sys.executable, "-c", PYMODBUS_SERVER])
            servers.append(theirs)
            ours = start_server("cpppo Simulator", [sys.executable, "-m", "cpppo.remote.modbus_sim",
                                                    "-a", "127.0.0.1:0", "40001-40100=99"])
            servers.append(ours)
        except RuntimeError as exc:
            print(f"server did not start: {exc}", file=sys.stderr)
            return 1
        their_port, our_port = theirs.address[1], ours.address[1]
        pairings = [
            ("pymodbus client", "pymodbus server", pymodbus_client, their_port),
            ("pymodbus client", "cpppo Simulator", pymodbus_client, our_port),
            ("cpppo poller", "cpppo Simulator", cpppo_poller, our_port),
            ("cpppo poller", "pymodbus server", cpppo_poller, their_port),
        ]
        rows = [(client, server, statistics.median(run(port, seconds) for _ in range(args.repeat)))
                for client, server, run, port in pairings]
    finally:
        for server in reversed(servers):
            server.stop()
    print(f"Modbus/TCP on loopback, read 10 holding registers; servers in their own processes; "
          f"median of {args.repeat} x {seconds:g} s")
    print(f"{'client':<18}{'server':<18}{'requests/s':>12}")
    for client, server, rate in rows:
        print(f"{client:<18}{server:<18}{rate:>12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
