"""pymodbus 3's synchronous clients, with the two behaviours a poller needs added.

* A connect that fails raises the ``OSError`` that says why (refused, unknown host, timed out)
  instead of pymodbus's logged warning and ``False``: a caller can report the cause.
* The serial client frames replies with :class:`~cpppo.modbus.rtu.HuntingFramerRTU`, so noise on
  the line ahead of a reply does not cost the reply.

Receive timeouts are pymodbus's own (``timeout=``), which work in 3.x.  These are the documented
``cpppo.remote.pymodbus_fixes.modbus_client_tcp`` / ``modbus_client_rtu``.
"""

from __future__ import annotations

import socket
from typing import Any

import serial
from pymodbus.client import ModbusSerialClient, ModbusTcpClient

from .rtu import install_rtu_framer

__all__ = ["SerialClient", "TcpClient"]


class TcpClient(ModbusTcpClient):
    """pymodbus's TCP client; a failed connect raises the OSError saying why."""

    def connect(self) -> bool:
        if self.socket is None:
            params = self.comm_params
            self.socket = socket.create_connection((params.host, params.port), timeout=params.timeout_connect)
        return True


class SerialClient(ModbusSerialClient):
    """pymodbus's RTU client hunting for frames past line noise; a port that cannot be opened
    raises the error (``serial.SerialException``, an ``OSError``)."""

    def __init__(self, port: str, **kwargs: Any) -> None:
        super().__init__(port, **kwargs)
        install_rtu_framer(self)

    def connect(self) -> bool:
        if self.socket is None:
            params = self.comm_params
            line = serial.serial_for_url(
                params.host, timeout=params.timeout_connect, write_timeout=params.timeout_connect,
                bytesize=params.bytesize, stopbits=params.stopbits, baudrate=params.baudrate,
                parity=params.parity, exclusive=True)
            line.inter_byte_timeout = self.inter_byte_timeout
            self.socket = line
        return True
