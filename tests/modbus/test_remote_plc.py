"""cpppo.remote.plc: the generic poller, its simulator, and poller_modbus as one of them."""

from __future__ import annotations

import socket

import pytest
from modbus_support import wait_for

from cpppo.remote.plc import PlcOffline, poller, poller_simulator
from cpppo.remote.plc_modbus import ModbusOffline, poller_modbus


def test_the_simulated_plc_delivers_writes_about_half_a_poll_later():
    plc = poller_simulator("sim", rate=0.2)
    assert plc.read(40001) == 0  # a new address starts at 0
    plc.write(40001, 99)
    assert plc.read(40001) == 0  # not polled back yet
    wait_for(lambda: plc.read(40001) == 99, timeout=5)
    plc.write(40002, [1, 2])
    wait_for(lambda: (plc.read(40002), plc.read(40003)) == (1, 2), timeout=5)
    plc.forget(40002)
    assert plc.read(40002) is None
    plc.online = False
    assert plc.read(40001) is None
    with pytest.raises(PlcOffline):
        plc.write(40001, 1)


def test_poll_keeps_the_fastest_rate():
    plc = poller("p")
    plc.poll(1, rate=2.0)
    plc.poll(2, rate=0.5)
    plc.poll(3, rate=1.0)
    assert plc.rate == 0.5


def test_poller_modbus_is_a_poller_and_offline_is_plc_offline(simulator):
    sim = simulator("40001-40010=7")
    with poller_modbus("plc", host="127.0.0.1", port=sim.address[1], rate=0.05) as plc:
        assert isinstance(plc, poller)
        plc.poll(40001)
        wait_for(lambda: plc.read(40001) == 7)
        plc.forget(40001)
        assert plc.read(40001) is None
        wait_for(lambda: plc.read(40001) == 7)  # the next poll brings it back
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    with poller_modbus("gone", host="127.0.0.1", port=dead, timeout=0.5) as plc, \
            pytest.raises(PlcOffline) as caught:
        plc.write(40001, 1)
    assert isinstance(caught.value, ModbusOffline)
