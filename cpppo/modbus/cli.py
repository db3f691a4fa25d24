"""Pieces shared by the ``modbus_sim`` and ``modbus_poll`` command lines.

Both take ``-a ADDRESS`` in the documented forms: ``HOST:PORT``, ``:PORT`` (all interfaces for
the simulator, this host for the poller), ``HOST``, or a serial device path (``/dev/ttyUSB0``,
``COM3``; or any name with ``--serial``) for Modbus/RTU.  Bad input ends in one line on stderr and
exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from dataclasses import dataclass

from ..cli import UsageParser
from .errors import ModbusUsageError
from .server import SerialSettings

__all__ = ["Endpoint", "UsageParser", "add_serial_options", "parse_endpoint", "setup_logging"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to listen or connect: TCP host/port, or a serial line."""

    host: str = ""
    port: int = 502
    serial: SerialSettings | None = None

    def __str__(self) -> str:
        return self.serial.port if self.serial else f"{self.host}:{self.port}"


def add_serial_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Modbus/RTU serial line")
    group.add_argument("--serial", action="store_true", help="treat ADDRESS as a serial device, even without a /")
    group.add_argument("--baudrate", type=int, default=19200, help="bits per second (default 19200)")
    group.add_argument("--parity", choices=("N", "E", "O"), default="N", help="parity (default N)")
    group.add_argument("--stopbits", type=int, choices=(1, 2), default=1, help="stop bits (default 1)")
    group.add_argument("--bytesize", type=int, choices=(7, 8), default=8, help="data bits (default 8)")


# a Windows serial port: COM3, or \\.\COM12 as ports above 9 must be named
_COM_PORT = re.compile(r"(\\\\\.\\)?COM\d+", re.IGNORECASE)


def parse_endpoint(text: str, args: argparse.Namespace, default_host: str = "") -> Endpoint:
    """Parse ``-a`` into an Endpoint; raise ModbusUsageError on nonsense."""
    value = text.strip()
    if getattr(args, "serial", False) or value.startswith("/") or _COM_PORT.fullmatch(value):
        if not value:
            raise ModbusUsageError("a serial device path is required")
        return Endpoint(serial=SerialSettings(value, args.baudrate, args.parity, args.stopbits, args.bytesize))
    host, port = value, 502
    if value.startswith("["):  # [v6addr]:port
        close = value.find("]")
        if close < 0:
            raise ModbusUsageError(f"bad address {text!r}")
        host, rest = value[1:close], value[close + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ModbusUsageError(f"bad address {text!r}")
            port = _port(rest[1:], text)
    elif ":" in value:
        host, _, tail = value.rpartition(":")
        port = _port(tail, text)
    if any(c.isspace() for c in host):
        raise ModbusUsageError(f"bad host in {text!r}")
    return Endpoint(host=host or default_host, port=port)


def _port(text: str, whole: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ModbusUsageError(f"bad port in address {whole!r}") from None
    if not 0 <= port <= 65535:
        raise ModbusUsageError(f"port {port} in {whole!r} is outside 0-65535")
    return port


def setup_logging(verbose: int) -> None:
    """Log to stderr as the documents show: time, level, message; pymodbus quiet unless -vv."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s.%(msecs)03d %(name)s %(levelname)s %(message)s",
        datefmt="%m-%d %H:%M:%S",
    )
    logging.getLogger("pymodbus").setLevel(logging.DEBUG if verbose > 1 else logging.CRITICAL)
