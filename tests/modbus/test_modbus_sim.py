"""Our simulator on a real socket, against pymodbus's own client: the map, units, faults."""

from __future__ import annotations

import threading

import pytest
from modbus_support import make_store
from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusIOException

from cpppo.modbus import DataStore, Faults, ModbusSimulator, Table


@pytest.fixture
def client_for():
    clients = []

    def connect(sim, timeout=2.0):
        client = ModbusTcpClient("127.0.0.1", port=sim.address[1], timeout=timeout, retries=0)
        assert client.connect()
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


def test_all_four_tables_and_the_6_digit_forms(simulator, client_for):
    sim = simulator("40001-40100=99", "1-16=1", "10001=1", "30001-30002=7,8", "465536=5", "165536=1")
    client = client_for(sim)
    assert client.read_holding_registers(0, count=100).registers == [99] * 100
    assert client.read_holding_registers(65535, count=1).registers == [5]
    assert client.read_coils(0, count=16).bits == [True] * 16
    assert client.read_discrete_inputs(0, count=1).bits[0] is True
    assert client.read_discrete_inputs(65535, count=1).bits[0] is True
    assert client.read_input_registers(0, count=2).registers == [7, 8]
    assert not client.write_registers(10, [1, 2, 3]).isError()
    assert client.read_holding_registers(9, count=5).registers == [99, 1, 2, 3, 99]
    assert not client.write_coil(3, False).isError()
    assert client.read_coils(0, count=5).bits[:5] == [True, True, True, False, True]


@pytest.mark.parametrize(("call", "args"), [
    ("read_holding_registers", (100,)),       # 40101: just past the configured range
    ("read_holding_registers", (95, 10)),     # straddles the end
    ("read_coils", (15, 2)),                  # coil 17 was never configured
    ("read_discrete_inputs", (1,)),
    ("read_input_registers", (2,)),
    ("write_register", (200, 1)),
    ("write_coil", (100, True)),
])
def test_unconfigured_addresses_answer_exception_2(simulator, client_for, call, args):
    client = client_for(simulator("40001-40100=99", "1-16=1", "10001=1", "30001-30002=7"))
    address, *rest = args
    if call.startswith("read"):
        response = getattr(client, call)(address, count=rest[0] if rest else 1)
    else:
        response = getattr(client, call)(address, rest[0])
    assert response.isError() and response.exception_code == 2


def test_write_all_or_nothing(simulator, client_for):
    sim = simulator("40001-40003=5")
    client = client_for(sim)
    assert client.write_registers(1, [1, 2, 3]).exception_code == 2  # 40004 does not exist
    assert client.read_holding_registers(0, count=3).registers == [5, 5, 5]


def test_several_units_have_their_own_registers(simulator, client_for):
    store = make_store("40001-40010=0")
    sim = simulator(units={1: store, 2: store.copy()})
    client = client_for(sim)
    assert not client.write_register(0, 11, device_id=1).isError()
    assert not client.write_register(0, 22, device_id=2).isError()
    assert client.read_holding_registers(0, count=1, device_id=1).registers == [11]
    assert client.read_holding_registers(0, count=1, device_id=2).registers == [22]
    assert client.read_holding_registers(0, count=1, device_id=3).exception_code == 0x0B


def test_sparse_store_is_sparse():
    store = make_store("40001", "465536", "1")
    assert store.offsets(Table.HOLDING_REGISTERS) == [0, 65535]
    assert store.read(Table.HOLDING_REGISTERS, 1, 1) == 2
    assert store.read(Table.HOLDING_REGISTERS, 65535, 1) == [0]
    empty = DataStore()
    assert empty.read(Table.COILS, 0, 1) == 2


def test_fault_exception_on_chosen_addresses(simulator, client_for):
    faults = Faults()
    faults.add_exception(40005, 40006, 4)
    faults.add_exception(1, code=6)
    client = client_for(simulator("40001-40010=1", "1-8=0", faults=faults))
    assert client.read_holding_registers(0, count=4).registers == [1] * 4
    assert client.read_holding_registers(0, count=10).exception_code == 4
    assert client.write_register(5, 9).exception_code == 4
    assert client.read_coils(0, count=1).exception_code == 6


def test_fault_delay_still_answers(simulator, client_for):
    client = client_for(simulator("40001=3", faults=Faults(delay=(0.05, 0.1))), timeout=5)
    assert client.read_holding_registers(0, count=1).registers == [3]


@pytest.mark.parametrize("fault", ["drop", "truncate"])
def test_fault_lost_replies_time_out(simulator, client_for, fault):
    client = client_for(simulator("40001=3", faults=Faults(**{fault: 1.0})), timeout=0.2)
    with pytest.raises(ModbusIOException):
        client.read_holding_registers(0, count=1)


def test_fault_corruption_changes_replies(simulator, client_for):
    sim = simulator("40001-40010=0", faults=Faults(corrupt=1.0, seed=1))
    client = client_for(sim, timeout=0.2)
    outcomes = set()
    for _ in range(10):
        try:
            response = client.read_holding_registers(0, count=10)
            outcomes.add("error" if response.isError() else tuple(response.registers))
        except ModbusIOException:
            outcomes.add("lost")
            client.close()
    assert outcomes != {tuple([0] * 10)}  # every reply had a bit flipped somewhere


def test_simulator_restarts_on_the_same_port(simulator, client_for):
    first = simulator("40001=1")
    port = first.address[1]
    first.stop()
    second = simulator("40001=2", port=port)  # no TIME_WAIT trouble binding again
    assert client_for(second).read_holding_registers(0, count=1).registers == [2]


class _SlowToListen(ModbusSimulator):
    """A simulator whose serving thread waits for ``gate`` before it begins to listen."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.threads = []

    async def serve(self, started=None):
        self.threads.append(threading.current_thread())
        self.gate.wait()  # nothing else runs on this loop yet
        await super().serve(started)


def test_start_that_times_out_stops_the_simulator():
    sim = _SlowToListen(make_store("40001=1"), host="127.0.0.1", port=0)
    with pytest.raises(TimeoutError):
        sim.start(timeout=0.1)
    sim.gate.set()  # too late: stopped, it must not begin listening now
    first = sim.threads[0]
    first.join(5)
    assert not first.is_alive() and sim._server is None
    with sim:  # and it can be started again
        client = ModbusTcpClient("127.0.0.1", port=sim.address[1], timeout=2, retries=0)
        try:
            assert client.read_holding_registers(0, count=1).registers == [1]
        finally:
            client.close()
