"""Mutated Modbus/TCP requests: the simulator answers, refuses or hangs up, never crashes or stalls."""

from __future__ import annotations

import logging

from modbus_support import make_store

from cpppo.modbus import ModbusSimulator
from cpppo.testing.fuzz import modbus_campaign, modbus_health


def test_mutated_requests_never_crash_or_stall_the_modbus_simulator(caplog):
    with caplog.at_level(logging.WARNING), ModbusSimulator(
            make_store("40001-40100=7", "00001-00100=0", "10001-10016=1", "30001-30010=3"),
            host="127.0.0.1", port=0, frame_timeout=1.0) as sim:
        address = ("127.0.0.1", sim.address[1])
        report = modbus_campaign(address, seed=20261203, check_every=400).run(frames=3000)
        assert modbus_health(address)
    assert report.frames == 3000 and report.failed_checks == []
    bugs = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bugs, [r.getMessage() for r in bugs[:5]]
