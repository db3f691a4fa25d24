"""Modbus/RTU over a pseudo-terminal pair: our simulator, our poller, pymodbus's client and server.

The noisy-line tests put stray bytes on the line ahead of every frame.  0x55 followed by a frame
for unit 1 reads as "unit 0x55, function 1 (read coils)": pymodbus 3.16's ``FramerRTU`` takes
that for a frame, fails its CRC and discards the buffer, real frame included; our
``HuntingFramerRTU`` skips the noise.  Both behaviours are asserted, so the day pymodbus fixes its
framer this test says the workaround can go.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from modbus_support import make_store, wait_for
from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ModbusIOException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice

from cpppo.modbus import Faults, ModbusSimulator, SerialSettings, install_rtu_framer
from cpppo.remote.plc_modbus import ModbusOffline, poller_modbus

NOISE = b"\x55"


@pytest.fixture
def rtu_simulator(pty_line):
    sims = []

    def start(*specs, units=None, faults=None):
        store = make_store(*specs)
        sim = ModbusSimulator(units or {1: store}, serial=SerialSettings(pty_line.server_port, baudrate=115200),
                        faults=faults)
        sims.append(sim.start())
        return sim

    yield start
    for sim in sims:
        sim.stop()


@pytest.fixture
def rtu_client(pty_line):
    clients = []

    def make(hunting=False, timeout=1.0):
        client = ModbusSerialClient(pty_line.client_port, baudrate=115200, timeout=timeout, retries=0)
        if hunting:
            install_rtu_framer(client)
        assert client.connect()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_pymodbus_client_against_our_rtu_simulator(rtu_simulator, rtu_client):
    rtu_simulator("40001-40010=99", "1-8=1", "30001=4")
    client = rtu_client()
    assert client.read_holding_registers(0, count=10, device_id=1).registers == [99] * 10
    assert not client.write_register(2, 1234, device_id=1).isError()
    assert client.read_holding_registers(2, count=1, device_id=1).registers == [1234]
    assert client.read_coils(0, count=8, device_id=1).bits == [True] * 8
    assert client.read_input_registers(0, count=1, device_id=1).registers == [4]
    assert client.read_holding_registers(20, count=1, device_id=1).exception_code == 2


def test_other_units_on_the_line_get_silence(rtu_simulator, rtu_client):
    rtu_simulator("40001=1")
    client = rtu_client(timeout=1.0)
    with pytest.raises(ModbusIOException):
        client.read_holding_registers(0, count=1, device_id=7)
    assert client.read_holding_registers(0, count=1, device_id=1).registers == [1]  # line still fine


def test_silent_line_times_out(rtu_client):
    client = rtu_client(timeout=0.2)  # nobody on the other end
    with pytest.raises(ModbusIOException):
        client.read_holding_registers(0, count=1, device_id=1)


def test_noise_before_requests_our_simulator_finds_the_frame(pty_line, rtu_simulator, rtu_client):
    rtu_simulator("40001-40003=5")
    pty_line.noise_to_server = NOISE
    client = rtu_client()
    for i in range(5):
        assert not client.write_register(0, i, device_id=1).isError()
        assert client.read_holding_registers(0, count=3, device_id=1).registers == [i, 5, 5]


def test_noise_before_requests_defeats_pymodbus_serial_server(pty_line, rtu_client):
    device = SimDevice(1, simdata=[SimData(0, count=4, values=5, datatype=DataType.REGISTERS)])
    with _PymodbusSerialServer(device, pty_line.server_port):
        client = rtu_client(timeout=1.0)
        assert client.read_holding_registers(0, count=1, device_id=1).registers == [5]  # clean line
        pty_line.noise_to_server = NOISE
        with pytest.raises(ModbusIOException):
            client.read_holding_registers(0, count=1, device_id=1)


def test_noise_before_replies_stock_client_fails_hunting_client_reads(pty_line, rtu_simulator, rtu_client):
    rtu_simulator("40001=7")
    pty_line.noise_to_client = NOISE
    stock = rtu_client(timeout=0.3)
    with pytest.raises(ModbusIOException):
        stock.read_holding_registers(0, count=1, device_id=1)
    stock.close()
    hunting = rtu_client(hunting=True)
    for _ in range(5):
        assert hunting.read_holding_registers(0, count=1, device_id=1).registers == [7]


def test_poller_over_rtu_against_pymodbus_serial_server_on_a_noisy_line(pty_line):
    device = SimDevice(1, simdata=[SimData(0, count=10, values=3, datatype=DataType.REGISTERS)])
    pty_line.noise_to_client = NOISE + b"\x01\x03\xff"
    with _PymodbusSerialServer(device, pty_line.server_port):
        p = poller_modbus("rtu", serial=SerialSettings(pty_line.client_port, baudrate=115200), unit=1,
                          rate=0.05, timeout=1.0)
        try:
            p.poll(range(40001, 40011))
            assert wait_for(lambda: p.read(40010)) == 3
            p.write(40005, 77)
            assert wait_for(lambda: p.read(40005) == 77)
        finally:
            p.stop()
            p.join(5)


def test_poller_over_rtu_reports_offline_without_a_device(pty_line):
    p = poller_modbus("rtu", serial=SerialSettings(pty_line.client_port, baudrate=115200), unit=1,
                      rate=0.05, timeout=0.2)
    try:
        with pytest.raises(ModbusOffline):
            p.write(40001, 1)
        assert not p.online
    finally:
        p.stop()
        p.join(5)


class _PymodbusSerialServer:
    """pymodbus's own ModbusSerialServer on a thread, stock framer."""

    def __init__(self, device: SimDevice, port: str) -> None:
        self._device, self._port = device, port
        self._ready = threading.Event()

    async def _serve(self):
        self.loop = asyncio.get_running_loop()
        self.server = ModbusSerialServer(self._device, framer=FramerType.RTU, port=self._port, baudrate=115200)
        await self.server.serve_forever(background=True)
        self._ready.set()
        await self.server.serving

    def __enter__(self):
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._thread.start()
        assert self._ready.wait(5)
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(5)
        self._thread.join(5)


@pytest.mark.parametrize("fault", ["corrupt", "truncate", "drop"])
def test_rtu_faults_make_replies_unusable(rtu_simulator, rtu_client, fault):
    rtu_simulator("40001=1", faults=Faults(**{fault: 1.0}))
    client = rtu_client(hunting=True, timeout=0.3)  # even the hunting framer finds no valid frame
    with pytest.raises(ModbusIOException):
        client.read_holding_registers(0, count=1, device_id=1)


def test_rtu_broadcast_reaches_every_configured_unit(rtu_simulator, rtu_client):
    rtu_simulator(units={1: make_store("40001-40002=1"), 2: make_store("40001-40002=2")})
    client = rtu_client()
    client.write_register(0, 42, device_id=0, no_response_expected=True)  # unit 0: broadcast
    client.write_registers(1, [7, 7], device_id=0, no_response_expected=True)  # an exception: ignored
    assert client.read_holding_registers(0, count=2, device_id=1).registers == [42, 1]
    assert client.read_holding_registers(0, count=2, device_id=2).registers == [42, 2]
