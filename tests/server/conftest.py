"""Fixtures for the simulator tests: simulators on 127.0.0.1 and a free port, stopped afterwards."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cpppo.server.enip import Simulator


def wait_for(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.01) -> object:
    """Poll ``condition`` until it is truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Simulator]]:
    """Start Simulators with any keyword arguments; every one is stopped at the end of the test."""
    started: list[Simulator] = []

    def make(*tags: str, **kwds: Any) -> Simulator:
        kwds.setdefault("address", ("127.0.0.1", 0))
        sim = Simulator(tags, **kwds).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def plc(make_sim: Callable[..., Simulator]) -> Simulator:
    """A simulator with a representative tag set."""
    return make_sim("SCADA=INT[1000]", "TEXT=SSTRING[10]", "FLOAT=REAL", "COUNTS@0x93/3/10=DINT[10]",
                    "BIG=DINT[500]", "NAME=STRING")
