"""``modbus_poll``: write some registers of a Modbus PLC, then log every change of others.

    modbus_poll -a :1502 40001-40010=0 40001-40100
    modbus_poll -a plc:502 --unit 3 40001:float32 40010:int32 40020:str[10] --word-order little

Assignments (``=v``) are written first, in order; then every address named is polled each
``--rate`` seconds and each change is logged as ``40001 == 9 (was: None)`` (``None``: not yet
read, or the PLC is offline).  Typed views (``:float32``, ``:int32``, ``:str[10]``, ...) read and
write the registers they cover as one value.  Runs until interrupted, or for ``--duration``.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
import time
from collections.abc import Sequence

from .address import RegisterSpec, make_address, parse_register_spec
from .cli import UsageParser, add_serial_options, parse_endpoint, setup_logging
from .errors import ModbusError, ModbusUsageError
from .poller import poller_modbus
from .typed import RAW

__all__ = ["main"]

log = logging.getLogger("modbus_poll")


def _parser() -> UsageParser:
    parser = UsageParser(prog="modbus_poll", description="Write and poll registers of a Modbus PLC.")
    parser.add_argument("-a", "--address", default="localhost:502",
                        help="HOST[:PORT] of the PLC (':PORT' = this host), or a serial device")
    parser.add_argument("-u", "--unit", type=int, default=1, help="unit id (default 1)")
    parser.add_argument("-r", "--rate", type=float, default=1.0, help="poll period, seconds (default 1.0)")
    parser.add_argument("-R", "--reach", type=int, default=100,
                        help="read across gaps of up to this many registers to save requests (default 100)")
    parser.add_argument("-t", "--timeout", type=float, default=None, help="connect/reply timeout, seconds")
    parser.add_argument("--byte-order", choices=("big", "little"), default="big",
                        help="byte order within a register, for typed views (default big)")
    parser.add_argument("--word-order", choices=("big", "little"), default="big",
                        help="register order of multi-register values (default big: high word first)")
    parser.add_argument("-d", "--duration", type=float, default=None,
                        help="stop after this many seconds (default: run until interrupted)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: pymodbus too)")
    add_serial_options(parser)
    parser.add_argument("registers", nargs="+", metavar="REGISTERS",
                        help="<beg>[-<end>][:<type>][=<v>[,<v>...]], e.g. 40001-40010=0 40001:float32")
    return parser


def _positive(seconds: float) -> bool:
    return math.isfinite(seconds) and seconds > 0


def _label(spec: RegisterSpec, address: int) -> str:
    return str(address) if spec.kind is RAW else f"{address}:{spec.kind.name}"


def _write(poller: poller_modbus, spec: RegisterSpec, byte_order: str, word_order: str) -> None:
    words = spec.raw_values(byte_order, word_order)
    step = spec.table.max_write
    for start in range(0, len(words), step):
        poller.write(make_address(spec.table, spec.offset + start), words[start:start + step])


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        specs = [parse_register_spec(text) for text in args.registers]
        for spec in specs:
            if spec.values is not None and not spec.table.writable:
                raise ModbusUsageError(f"{spec.address}: {spec.table.name.lower().replace('_', ' ')} "
                                       "are read-only; they cannot be assigned")
        endpoint = parse_endpoint(args.address, args, default_host="localhost")
        if endpoint.serial is None and endpoint.port == 0:
            raise ModbusUsageError(f"port 0 in {args.address!r}: give the PLC's port (default 502)")
        if not _positive(args.rate) or (args.timeout is not None and not _positive(args.timeout)):
            raise ModbusUsageError("--rate and --timeout must be positive numbers of seconds")
        if args.reach < 0:
            raise ModbusUsageError("--reach must not be negative")
        if args.duration is not None and not (math.isfinite(args.duration) and args.duration >= 0):
            raise ModbusUsageError("--duration must be a number of seconds, not negative")
        if not 0 <= args.unit <= 255:
            raise ModbusUsageError(f"unit id {args.unit} is outside 0-255")
    except ModbusUsageError as exc:
        print(f"modbus_poll: error: {exc}", file=sys.stderr)
        return 2

    # ^C and SIGTERM end the run through an Event, not an exception that could land anywhere
    # (say, between a lock's acquire and its release).
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    poller = poller_modbus(str(endpoint), host=endpoint.host, port=endpoint.port, unit=args.unit,
                           rate=args.rate, reach=args.reach, timeout=args.timeout, serial=endpoint.serial)
    try:
        try:
            for spec in specs:
                if spec.values is not None and not stop.is_set():
                    _write(poller, spec, args.byte_order, args.word_order)
        except ModbusError as exc:
            print(f"modbus_poll: {exc}", file=sys.stderr)
            return 1
        _watch(poller, specs, args, stop)
        if specs and not poller.reached:
            return 1  # the warning logged when it could not connect says why
    finally:
        poller.stop()
        poller.join(5.0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _watch(poller: poller_modbus, specs: list[RegisterSpec], args: argparse.Namespace,
           stop: threading.Event) -> None:
    items: dict[str, tuple[RegisterSpec, list[int]]] = {}
    for spec in specs:
        addresses = list(spec.addresses())
        poller.poll(addresses)
        for index, first in enumerate(spec.item_addresses()):
            words = addresses[index * spec.kind.width:(index + 1) * spec.kind.width]
            items.setdefault(_label(spec, first), (spec, words))
    last: dict[str, object] = dict.fromkeys(items)
    end = time.monotonic() + args.duration if args.duration is not None else None
    while not stop.is_set():
        for label, (spec, words) in items.items():
            raw = [poller.read(address) for address in words]
            value: object = None
            if all(word is not None for word in raw):
                value = spec.kind.decode([int(w) for w in raw if w is not None], args.byte_order,
                                         args.word_order) if not spec.table.is_bits else raw[0]
            if value != last[label]:
                log.warning("%s == %s (was: %s)", label, _show(value), _show(last[label]))
                last[label] = value
        now = time.monotonic()
        if end is not None and now >= end:
            return
        wait = min(poller.rate / 2, 0.1) if poller.rate else 0.05
        stop.wait(wait if end is None else max(0.0, min(wait, end - now)))


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)
