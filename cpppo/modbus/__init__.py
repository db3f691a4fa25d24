"""Modbus for cpppo: the PLC address map, a sparse simulator, typed register views, a poller.

pymodbus 3 does the wire work (framing, client, server); this package adds what a PLC engineer
needs around it, and works around what pymodbus 3.16 still gets wrong (see :mod:`.rtu` and
:mod:`.server`).  Module map::

    codes     function and exception codes
    address   PLC numbering (40001 ...) <-> (table, offset); register syntax; range merging
    typed     int32/float32/str[n] views over registers, byte and word order
    store     sparse per-unit data store (unconfigured addresses answer exception 2)
    faults    fault injection: delays, drops, truncation, corruption, exception responses
    rtu       an RTU framer that hunts for frames in a noisy byte stream
    server    ModbusSimulator: pymodbus TCP/RTU servers over the store
    poller    poller_modbus: background polling, synchronous writes
    sim_main, poll_main, cli   the modbus_sim and modbus_poll command lines
"""

from __future__ import annotations

from .address import RegisterSpec, Table, make_address, merge_ranges, parse_register_spec, split_register
from .codes import ExceptionCode, FunctionCode
from .errors import ModbusDeviceError, ModbusError, ModbusOffline, ModbusUsageError
from .faults import Faults
from .poller import PollerCounters, poller_modbus
from .rtu import HuntingFramerRTU, install_rtu_framer
from .server import ModbusSimulator, SerialSettings
from .store import DataStore
from .typed import RegisterType, parse_type

__all__ = [
    "DataStore",
    "ExceptionCode",
    "Faults",
    "FunctionCode",
    "HuntingFramerRTU",
    "ModbusDeviceError",
    "ModbusError",
    "ModbusOffline",
    "ModbusSimulator",
    "ModbusUsageError",
    "PollerCounters",
    "RegisterSpec",
    "RegisterType",
    "SerialSettings",
    "Table",
    "install_rtu_framer",
    "make_address",
    "merge_ranges",
    "parse_register_spec",
    "parse_type",
    "poller_modbus",
    "split_register",
]
