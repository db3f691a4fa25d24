"""Fixtures for the Modbus tests: simulators on 127.0.0.1 port 0, pseudo-terminal serial lines."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from modbus_support import PtyLine, make_store

from cpppo.modbus import DataStore, Faults, ModbusSimulator


@pytest.fixture
def simulator() -> Iterator[Callable[..., ModbusSimulator]]:
    """Factory: start a ModbusSimulator on 127.0.0.1:0 (or a given port); all are stopped afterwards."""
    started: list[ModbusSimulator] = []

    def start(*specs: str, units: dict[int, DataStore] | None = None, faults: Faults | None = None,
              port: int = 0) -> ModbusSimulator:
        sim = ModbusSimulator(units if units is not None else make_store(*specs), host="127.0.0.1", port=port,
                        faults=faults)
        sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def pty_line() -> Iterator[PtyLine]:
    line = PtyLine()
    yield line
    line.close()
