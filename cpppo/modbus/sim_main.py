"""``modbus_sim``: serve a simulated Modbus/TCP or Modbus/RTU device from the command line.

    modbus_sim -a :1502 40001-40100=99 1-16=1 30001=7
    modbus_sim -a /dev/ttyUSB0 --baudrate 9600 --unit 1 --unit 2 40001-40010
    modbus_sim -a 127.0.0.1:0 --delay .1-.5 --drop .1 --exception 40005=4 40001-40010

Each register argument ``<beg>[-<end>][:<type>][=<v>[,<v>...]]`` creates those addresses (values
repeat to fill the range, default 0); every other address answers exception 2.  Once listening it
prints ``Success; Started Modbus/TCP Simulator; PID = ...; address = ...`` (the real port, if 0
was asked for) and serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from .address import parse_register_spec
from .cli import UsageParser, add_serial_options, parse_endpoint, setup_logging
from .errors import ModbusUsageError
from .faults import Faults, parse_delay, parse_exception_spec
from .server import ModbusSimulator
from .store import DataStore

__all__ = ["main"]


def _parser() -> UsageParser:
    parser = UsageParser(prog="modbus_sim", description="Simulate a Modbus/TCP or Modbus/RTU PLC.")
    parser.add_argument("-a", "--address", default=":502",
                        help="[HOST]:PORT to listen on (':PORT' = all interfaces), or a serial device "
                             "(default :502)")
    parser.add_argument("-u", "--unit", type=int, action="append", default=[],
                        help="answer this unit id (repeatable; default: any unit id)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: pymodbus too)")
    add_serial_options(parser)
    evil = parser.add_argument_group("fault injection, for testing clients")
    evil.add_argument("--delay", default="0", help="delay each reply SECONDS, or LO-HI at random")
    evil.add_argument("--drop", type=float, default=0.0, help="probability of sending no reply")
    evil.add_argument("--truncate", type=float, default=0.0, help="probability of a reply cut short")
    evil.add_argument("--corrupt", type=float, default=0.0, help="probability of a reply with a flipped bit")
    evil.add_argument("--exception", action="append", default=[], metavar="BEG[-END][=CODE]",
                      help="answer Modbus exception CODE (default 4) for these addresses (repeatable)")
    evil.add_argument("--seed", type=int, default=None, help="random seed for reproducible faults")
    parser.add_argument("registers", nargs="*", metavar="REGISTERS",
                        help="<beg>[-<end>][:<type>][=<v>[,<v>...]], e.g. 40001-40100=99")
    return parser


def _build(ns: argparse.Namespace) -> tuple[ModbusSimulator, str]:
    specs = [parse_register_spec(text) for text in ns.registers]
    if not specs:
        raise ModbusUsageError("give at least one register range, e.g. 40001-40100=99")
    store = DataStore(specs)
    units = ns.unit or [0]
    for unit in units:
        if not 0 <= unit <= 255:
            raise ModbusUsageError(f"unit id {unit} is outside 0-255")
    stores = {unit: store.copy() for unit in units}
    faults = Faults(delay=parse_delay(ns.delay), drop=ns.drop, truncate=ns.truncate,
                    corrupt=ns.corrupt, seed=ns.seed)
    for text in ns.exception:
        first, last, code = parse_exception_spec(text)
        faults.add_exception(first, last, code)
    endpoint = parse_endpoint(ns.address, ns)
    simulator = ModbusSimulator(stores, host=endpoint.host, port=endpoint.port, serial=endpoint.serial,
                          faults=faults if faults.active else None)
    kind = "Modbus/RTU" if endpoint.serial else "Modbus/TCP"
    return simulator, kind


async def _serve(simulator: ModbusSimulator, kind: str) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, lambda: asyncio.ensure_future(simulator.shutdown()))

    def started(sim: ModbusSimulator) -> None:
        where = sim.serial.port if sim.serial else f"{sim.host}:{sim.address[1]}"
        print(f"Success; Started {kind} Simulator; PID = {os.getpid()}; address = {where}", flush=True)

    await simulator.serve(started=started)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        simulator, kind = _build(args)
    except ModbusUsageError as exc:
        print(f"modbus_sim: error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(simulator, kind))
    except OSError as exc:
        print(f"modbus_sim: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
