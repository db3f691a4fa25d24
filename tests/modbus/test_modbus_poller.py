"""poller_modbus against our simulator and against pymodbus's own server, on real sockets."""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import threading

import pytest
from modbus_support import wait_for
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from cpppo.modbus import Faults, ModbusDeviceError, ModbusOffline, ModbusUsageError
from cpppo.remote.plc_modbus import poller_modbus


@pytest.fixture
def poller():
    made = []

    def make(port, **kwargs):
        kwargs.setdefault("rate", 0.05)
        kwargs.setdefault("timeout", 1.0)
        p = poller_modbus("fake", host="127.0.0.1", port=port, **kwargs)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()
        p.join(5)
        assert not p._thread.is_alive()


def test_documented_example(simulator, poller):
    sim = simulator("40001-40100=99")
    p = poller(sim.address[1], rate=0.5)
    p.poll(40001)
    assert wait_for(lambda: p.read(40001)) == 99
    p.write(40001, 123)
    assert wait_for(lambda: p.read(40001) == 123)
    assert p.online


def test_read_is_none_until_polled(simulator, poller):
    p = poller(simulator("40001-40010=7").address[1])
    assert p.read(40001) is None
    p.poll(range(40001, 40011))
    wait_for(lambda: p.read(40010) is not None)
    assert [p.read(a) for a in range(40001, 40011)] == [7] * 10


def test_all_tables_and_list_writes(simulator, poller):
    p = poller(simulator("1-20=0", "10001-10004=1", "30001=42", "40001-40010=0").address[1])
    p.poll([1, 2, 3, 10001, 10004, 30001, 40001, 40002, 40003])
    wait_for(lambda: p.read(30001) is not None and p.read(10004) is not None)
    assert (p.read(1), p.read(10001), p.read(30001)) == (0, 1, 42)
    p.write(1, [True, False, True])
    p.write(40001, [1, 2, 3])
    wait_for(lambda: p.read(40003) == 3 and p.read(3) == 1)
    assert [p.read(a) for a in (1, 2, 3, 40001, 40002)] == [1, 0, 1, 1, 2]


def test_write_refusals_raise_clearly(simulator, poller):
    p = poller(simulator("40001=0", "30001=0", "10001=0").address[1])
    with pytest.raises(ModbusUsageError, match="read-only"):
        p.write(30001, 1)
    with pytest.raises(ModbusUsageError, match="read-only"):
        p.write(10001, 1)
    with pytest.raises(ModbusUsageError):
        p.write(40001, 70000)
    with pytest.raises(ModbusDeviceError) as refused:
        p.write(40002, 1)
    assert refused.value.code == 2


def test_merged_read_split_when_gap_is_unmapped(simulator, poller):
    p = poller(simulator("40001=1", "40050=2", "40100=3").address[1], reach=100)
    p.poll([40001, 40050, 40100])  # one merged read of 40001-40100 hits unmapped registers
    wait_for(lambda: None not in (p.read(40001), p.read(40050), p.read(40100)))
    assert (p.read(40001), p.read(40050), p.read(40100)) == (1, 2, 3)


def test_offline_write_raises_and_reads_are_none(poller):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    p = poller(port)  # nothing listens there
    p.poll(40001)
    with pytest.raises(ModbusOffline):
        p.write(40001, 1)
    assert p.read(40001) is None and not p.online


def test_never_reachable_plc_is_reported_once_with_the_cause(poller, caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with caplog.at_level(logging.INFO, logger="cpppo.modbus.poller"):
        p = poller(port)  # nothing listens there
        with pytest.raises(ModbusOffline) as failed:
            p.write(40001, 1)
        p.poll(40001)
        wait_for(lambda: p.counters.errors >= 4)  # the write, then at least three poll cycles
    assert str(failed.value) == f"fake (127.0.0.1:{port} unit 1): write 40001: cannot connect: Connection refused"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"fake (127.0.0.1:{port} unit 1): read 40001+1: cannot connect: Connection refused"]


def test_poller_names_its_endpoint_once():
    p = poller_modbus("127.0.0.1:1502", host="127.0.0.1", port=1502)
    p.stop()
    p.join(5)
    assert str(p) == "127.0.0.1:1502 unit 1"


def test_silent_server_times_out(poller):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        p = poller(silent.getsockname()[1], timeout=0.2)
        p.poll(40001)
        with pytest.raises(ModbusOffline):
            p.write(40001, 1)
        assert not p.online and p.read(40001) is None


def test_recovers_when_simulator_restarts(simulator, poller):
    sim = simulator("40001=5")
    port = sim.address[1]
    p = poller(port, timeout=0.3)
    p.poll(40001)
    assert wait_for(lambda: p.read(40001)) == 5
    sim.stop()
    wait_for(lambda: not p.online)
    assert p.read(40001) is None
    simulator("40001=6", port=port)
    assert wait_for(lambda: p.read(40001)) == 6
    assert p.online


def test_slipping_polls_are_logged_not_queued(simulator, poller, caplog):
    sim = simulator("40001=1", faults=Faults(delay=(0.03, 0.03)))
    p = poller(sim.address[1], rate=0.001)
    with caplog.at_level(logging.WARNING, logger="cpppo.modbus.poller"):
        p.poll(40001)
        wait_for(lambda: p.counters.slips >= 3)
    assert any("slipped" in r.getMessage() for r in caplog.records)
    assert p.counters.polls >= 3
    load = p.load
    assert all(0.0 < x <= 1.0 for x in load)


def test_poll_rate_only_increases(simulator, poller):
    p = poller(simulator("40001=1").address[1], rate=1.0)
    p.poll(40001, rate=5.0)
    assert p.rate == 1.0
    p.poll(40001, rate=0.25)
    assert p.rate == 0.25


class _RecordingServer:
    """pymodbus's own TCP server on a thread, recording each request's (function, address, count)."""

    def __init__(self, device: SimDevice) -> None:
        self.requests: list[tuple[int, int, int]] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(device),), daemon=True)
        self._thread.start()
        assert self._ready.wait(5)

    def _trace(self, sending, pdu):
        if not sending:
            count = getattr(pdu, "count", 0) or len(getattr(pdu, "registers", []) or getattr(pdu, "bits", []))
            self.requests.append((pdu.function_code, pdu.address, count))
        return pdu

    async def _serve(self, device):
        self.loop = asyncio.get_running_loop()
        self.server = ModbusTcpServer(device, address=("127.0.0.1", 0), trace_pdu=self._trace)
        await self.server.serve_forever(background=True)
        self.port = self.server.transport.sockets[0].getsockname()[1]
        self._ready.set()
        await self.server.serving

    def stop(self):
        asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(5)
        self._thread.join(5)


def test_against_pymodbus_server_reads_split_to_pdu_limits(poller):
    device = SimDevice(1, simdata=(
        [SimData(0, count=4096, values=False, datatype=DataType.BITS)],
        [SimData(0, count=16, values=False, datatype=DataType.BITS)],
        [SimData(0, count=300, values=7, datatype=DataType.REGISTERS)],
        [SimData(0, count=16, values=0, datatype=DataType.REGISTERS)],
    ))
    server = _RecordingServer(device)
    try:
        p = poller(server.port)
        p.poll(range(40001, 40301))
        p.poll(range(1, 2501))
        wait_for(lambda: None not in [p.read(a) for a in (40001, 40125, 40126, 40300, 1, 2500)])
        assert [p.read(a) for a in (40001, 40125, 40126, 40300)] == [7] * 4
        p.write(40200, [1, 2])
        wait_for(lambda: p.read(40201) == 2)
        reads = [(fc, count) for fc, _, count in server.requests if fc in (1, 3)]
        assert max(count for fc, count in reads if fc == 3) == 125
        assert max(count for fc, count in reads if fc == 1) <= 2000
        assert {address for fc, address, _ in server.requests if fc == 3} >= {0, 125, 250}
    finally:
        server.stop()


@pytest.mark.parametrize("fault", [{"corrupt": 0.3}, {"truncate": 0.3}, {"drop": 0.3}])
def test_poller_survives_a_misbehaving_plc(simulator, poller, fault):
    sim = simulator("40001-40010=99", faults=Faults(seed=7, **fault))
    p = poller(sim.address[1], timeout=0.1, rate=0.01)
    p.poll(range(40001, 40011))
    wait_for(lambda: p.counters.errors >= 3 and p.counters.polls >= 3)
    wait_for(lambda: p.read(40001) == 99)  # good replies still get through
    assert p._thread.is_alive()


def test_five_and_six_digit_addresses_name_the_same_register(simulator, poller):
    p = poller(simulator("40001=8", "465536=9").address[1])
    p.poll([400001, 465536])
    assert wait_for(lambda: p.read(40001)) == 8
    assert p.read(400001) == 8 and p.read(465536) == 9
    p.write(400001, 10)
    assert wait_for(lambda: p.read(40001) == 10)
    with pytest.raises(ModbusUsageError):
        p.write(40001, 1.5)


def test_typed_views_of_polled_registers(simulator, poller):
    p = poller(simulator("40001-40020").address[1])
    p.write_as(40001, "float32", 1.5)
    p.write_as(40003, "int32", -70000, word_order="little")
    p.write_as(40010, "str[10]", "hello")
    assert p.read_as(40001, "float32") is None  # not polled yet
    p.poll(range(40001, 40016))
    wait_for(lambda: p.read(40015) is not None)
    assert p.read_as(40001, "float32") == 1.5
    assert p.read_as(40003, "int32", word_order="little") == -70000
    assert p.read_as(40010, "str[10]") == "hello"
    with pytest.raises(ModbusUsageError):
        p.read_as(40001, "float99")


@pytest.mark.parametrize("kwargs", [
    {"rate": math.inf}, {"rate": math.nan}, {"rate": -1.0},
    {"timeout": math.inf}, {"timeout": math.nan}, {"timeout": 0.0},
    {"port": 0}, {"port": 65536},
])
def test_non_finite_or_impossible_settings_are_refused(kwargs):
    kwargs = {"host": "127.0.0.1", "port": 1502, **kwargs}
    with pytest.raises(ModbusUsageError):
        poller_modbus("bad", **kwargs)


def test_poll_refuses_a_non_finite_rate(poller):
    p = poller(1502)
    for rate in (math.nan, -math.inf, -1.0):
        with pytest.raises(ModbusUsageError):
            p.poll(40001, rate=rate)
    assert p.rate == 0.05
