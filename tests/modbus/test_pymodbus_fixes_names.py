"""The documented ``cpppo.remote.pymodbus_fixes`` names are working pymodbus 3 classes and functions.

Each is used the way a cpppo 5 script used it, on real sockets, a pseudo-terminal pair or a
pyserial ``loop://`` line: clients connect (or say why not), servers serve a pymodbus device and
close idle connections, the RTU reader finds a frame behind noise, the sparse block refuses gaps.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import serial
from modbus_support import PtyLine
from pymodbus.simulator import DataType, SimData, SimDevice

from cpppo.modbus import ModbusSimulator, ModbusUsageError
from cpppo.modbus.store import DataStore
from cpppo.remote import pymodbus_fixes as fixes


class _Served:
    """Run one of our pymodbus-based servers on its own loop in a thread, as a user script would."""

    def __init__(self, make) -> None:
        self._make = make
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.server = self._make()
        await self.server.serve_forever(background=True)
        transport = self.server.transport
        self.port = transport.sockets[0].getsockname()[1] if hasattr(transport, "sockets") else None
        self._ready.set()
        await self.server.serving

    def __enter__(self) -> _Served:
        self._thread.start()
        assert self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(5)
        self._thread.join(5)


def _device(values: int = 5) -> SimDevice:
    return SimDevice(1, simdata=[SimData(0, count=4, values=values, datatype=DataType.REGISTERS)])


def test_modbus_client_tcp_says_why_a_connect_failed():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: refused
        client = fixes.modbus_client_tcp("127.0.0.1", port=port, timeout=1.0, retries=0)
        with pytest.raises(ConnectionRefusedError):
            client.connect()
        client.close()


def test_modbus_server_tcp_serves_a_pymodbus_device_and_closes_idle_connections():
    make = lambda: fixes.modbus_server_tcp(_device(7), address=("127.0.0.1", 0), idle_timeout=0.3)  # noqa: E731
    with _Served(make) as served:
        client = fixes.modbus_client_tcp("127.0.0.1", port=served.port, timeout=2.0, retries=0)
        assert client.connect()
        assert client.read_holding_registers(0, count=4, device_id=1).registers == [7] * 4
        client.close()
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as idle:
            idle.settimeout(5)
            assert idle.recv(16) == b""  # the server hung up on the silent connection


def test_modbus_server_and_client_rtu_find_frames_behind_line_noise():
    line = PtyLine()
    try:
        make = lambda: fixes.modbus_server_rtu(_device(9), port=line.server_port, baudrate=115200)  # noqa: E731
        with _Served(make):
            line.noise_to_server = b"\x55"
            line.noise_to_client = b"\x55"
            client = fixes.modbus_client_rtu(line.client_port, baudrate=115200, timeout=1.0, retries=0)
            assert client.connect()
            try:
                for _ in range(3):
                    assert client.read_holding_registers(0, count=2, device_id=1).registers == [9, 9]
            finally:
                client.close()
    finally:
        line.close()


def test_modbus_rtu_read_returns_the_frame_behind_noise_or_none_on_timeout():
    port = serial.serial_for_url("loop://", timeout=0.1)
    try:
        request = bytes.fromhex("01 03 00 00 00 02 c4 0b")  # unit 1, read 2 holding registers at 0
        port.write(b"\x55\x01" + request)
        assert fixes.modbus_rtu_read(port, timeout=2.0) == (1, bytes.fromhex("03 00 00 00 02"))
        started = time.monotonic()
        assert fixes.modbus_rtu_read(port, timeout=0.2) is None
        assert time.monotonic() - started < 5  # bounded, not the port's or an endless wait
        assert port.timeout == 0.1  # the port's own timeout is left as it was
    finally:
        port.close()


def test_modbus_sparse_data_block_base_address_and_gaps():
    block = fixes.modbus_sparse_data_block({10: 1, 11: 2, 20: 3})
    assert block.address == 10
    assert block.validate(10, 2) and not block.validate(10, 3) and not block.validate(10, 0)
    assert block.getValues(10, 2) == [1, 2]
    block.setValues(11, [22])
    assert block.getValues(11) == [22]
    with pytest.raises(ModbusUsageError):
        block.setValues(19, [0, 0])  # 19 was never given: nothing is stored
    assert block.getValues(20) == [3]
    assert fixes.modbus_sparse_data_block([4, 5]).getValues(0, 2) == [4, 5]


def test_sparse_blocks_served_by_the_simulator_answer_exception_2_in_the_gaps():
    store = DataStore.from_blocks(hr=fixes.modbus_sparse_data_block({0: 11, 1: 12, 100: 13}))
    with ModbusSimulator(store, host="127.0.0.1", port=0) as sim:
        client = fixes.modbus_client_tcp("127.0.0.1", port=sim.address[1], timeout=2.0, retries=0)
        try:
            client.connect()
            assert client.read_holding_registers(0, count=2, device_id=1).registers == [11, 12]
            assert client.read_holding_registers(100, count=1, device_id=1).registers == [13]
            assert client.read_holding_registers(1, count=2, device_id=1).exception_code == 2
            assert client.read_coils(0, count=1, device_id=1).exception_code == 2  # no coil table
        finally:
            client.close()
