"""Modbus exceptions, split by who is to blame.

* :class:`ModbusUsageError`: the *caller* asked for something impossible (an address outside the
  Modbus map, a write to a read-only table, a malformed register spec).
* :class:`ModbusDeviceError`: the *device* answered with a Modbus exception response; ``code`` is the
  exception code it sent (2 = illegal data address, ...).
* :class:`ModbusOffline`: the transport failed (refused, reset, no reply in time).
"""

from __future__ import annotations

from ..poller import PlcOffline
from .codes import exception_name

__all__ = ["ModbusDeviceError", "ModbusError", "ModbusOffline", "ModbusUsageError"]


class ModbusError(Exception):
    """Base of every exception :mod:`cpppo.modbus` raises on purpose."""


class ModbusUsageError(ModbusError, ValueError):
    """The request cannot be made: bad address, bad value, read-only table, bad syntax."""


class ModbusDeviceError(ModbusError):
    """The device refused the request with a Modbus exception response."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(f"{message}: Modbus exception {code} ({exception_name(code)})")
        self.code = code


class ModbusOffline(ModbusError, PlcOffline):
    """No usable connection to the device: refused, reset, or no reply in time (a ``PlcOffline``)."""
