"""What cpppo 5's ``pymodbus_fixes`` fixed, re-checked against pymodbus 3.16 on real sockets.

Each test states the pymodbus behaviour and, where it is still wrong, that ours is right:

* TCP client timeouts on connect and receive: fixed in pymodbus 3 (no hang).
* Replies to overlapping requests: still wrong in pymodbus's server (a late reply goes out with
  the next request's transaction id); our simulator's request handler answers each correctly.
* Sparse data: pymodbus's bit blocks answer for bits nobody configured; our store refuses them.
* RTU framing on a noisy line: see test_modbus_rtu.py.
"""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
from modbus_support import make_store
from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusIOException
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from cpppo.modbus import ModbusOffline, ModbusSimulator, Table, poller_modbus


class _PymodbusTcpServer:
    def __init__(self, device: SimDevice) -> None:
        self._device = device
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._thread.start()
        assert self._ready.wait(5)

    async def _serve(self):
        self.loop = asyncio.get_running_loop()
        self.server = ModbusTcpServer(self._device, address=("127.0.0.1", 0))
        await self.server.serve_forever(background=True)
        self.port = self.server.transport.sockets[0].getsockname()[1]
        self._ready.set()
        await self.server.serving

    def stop(self):
        asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(5)
        self._thread.join(5)


def test_tcp_client_receive_timeout_is_honoured():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client = ModbusTcpClient("127.0.0.1", port=silent.getsockname()[1], timeout=0.2, retries=0)
        try:
            with pytest.raises(ModbusIOException):
                client.read_holding_registers(0, count=1)
        finally:
            client.close()


def test_tcp_connect_timeout_is_honoured():
    """A listener whose accept queue is full drops SYNs: connect can only end by timing out."""
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        queued = []
        try:
            for _ in range(8):  # fill the accept queue until a connect blocks
                probe = socket.socket()
                probe.settimeout(0.2)
                queued.append(probe)
                try:
                    probe.connect(("127.0.0.1", port))
                except TimeoutError:
                    break
            else:
                raise AssertionError("accept queue never filled")
            client = ModbusTcpClient("127.0.0.1", port=port, timeout=0.3, retries=0)
            assert client.connect() is False
            poller = poller_modbus("full", host="127.0.0.1", port=port, timeout=0.3)
            try:
                with pytest.raises(ModbusOffline, match="cannot connect"):
                    poller.write(40001, 1)
            finally:
                poller.stop()
                poller.join(5)
        finally:
            for probe in queued:
                probe.close()


def _second_read_after_a_timeout(port: int, timeout: float = 1.0) -> list[int]:
    """Read 40001 (times out), then at once 40002; return what the client got for 40002."""
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=timeout, retries=0)
    try:
        with pytest.raises(ModbusIOException):
            client.read_holding_registers(0, count=1)
        return client.read_holding_registers(1, count=1).registers
    finally:
        client.close()


def test_pymodbus_server_labels_a_late_reply_with_the_next_transaction_id():
    second_arrived = asyncio.Event()

    async def hold(_function, _start, address, *_rest):
        # No clocks: 40001 is answered only once the request for 40002 is in; 40002 after that.
        if address == 0:
            await second_arrived.wait()
        else:
            second_arrived.set()
            await asyncio.sleep(5)

    device = SimDevice(0, simdata=[SimData(0, values=[100, 101], datatype=DataType.REGISTERS)], action=hold)
    server = _PymodbusTcpServer(device)
    try:
        assert _second_read_after_a_timeout(server.port, timeout=1.0) == [100]  # 40001's, given for 40002
    finally:
        server.stop()


class _GatedSimulator(ModbusSimulator):
    """Our simulator, its request handler untouched, with the store's reads gated as ``hold``
    gates pymodbus's above, by events and no clocks: 40001 is answered only once the request for
    40002 is in, and 40002 only once 40001's reply has gone out."""

    def _make_server(self):
        server = super()._make_server()
        context, second_arrived, first_answered = server.context, asyncio.Event(), asyncio.Event()
        read = context.async_getValues

        async def gated(device_id, func_code, address, count=1):
            if address == 0:
                await second_arrived.wait()
                values = await read(device_id, func_code, address, count)
                first_answered.set()  # its reply is sent before the waiter below runs
                return values
            second_arrived.set()
            await first_answered.wait()
            return await read(device_id, func_code, address, count)

        context.async_getValues = gated
        return server


def test_our_simulator_answers_overlapping_requests_with_their_own_ids():
    store = make_store("40001-40002")
    store.define(Table.HOLDING_REGISTERS, 0, [100, 101])
    with _GatedSimulator({0: store}, host="127.0.0.1", port=0) as sim:
        assert _second_read_after_a_timeout(sim.address[1]) == [101]  # 40001's late reply is not taken


def test_pymodbus_bit_blocks_answer_for_unconfigured_bits_ours_refuse(simulator):
    device = SimDevice(0, simdata=(
        [SimData(0, values=[True], datatype=DataType.BITS), SimData(100, values=[True], datatype=DataType.BITS)],
        [SimData(0, values=[False], datatype=DataType.BITS)],
        [SimData(0, values=[0], datatype=DataType.REGISTERS)],
        [SimData(0, values=[0], datatype=DataType.REGISTERS)],
    ))
    server = _PymodbusTcpServer(device)
    ours = simulator("1", "101")
    try:
        for port, expect_error in ((server.port, False), (ours.address[1], True)):
            client = ModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
            try:
                response = client.read_coils(50, count=1)  # coil 51: configured by nobody
                assert response.isError() is expect_error
            finally:
                client.close()
    finally:
        server.stop()
