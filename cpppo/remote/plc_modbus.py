"""The documented poller API: ``from cpppo.remote.plc_modbus import poller_modbus``."""

from __future__ import annotations

from cpppo.modbus.errors import ModbusDeviceError, ModbusError, ModbusOffline, ModbusUsageError
from cpppo.modbus.poller import PollerCounters, poller_modbus
from cpppo.modbus.server import SerialSettings

__all__ = [
    "ModbusDeviceError",
    "ModbusError",
    "ModbusOffline",
    "ModbusUsageError",
    "PollerCounters",
    "SerialSettings",
    "poller_modbus",
]
