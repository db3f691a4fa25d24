"""Fixtures for the simulator tests: simulators on 127.0.0.1 and a free port, stopped afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cpppo.device.backplane import Backplane, RemoteTarget
from cpppo.server.enip import Simulator
from cpppo.server.enip.device import Attribute


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


@dataclass
class Gate:
    """Reads of SLOW wait until the gate opens; counts how many wait at once."""

    opened: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: int = 0
    most: int = 0

    def attribute_class(self) -> type[Attribute]:
        gate = self

        class Gated(Attribute):
            def __getitem__(self, key: Any) -> Any:
                if self.name == "SLOW":
                    with gate.lock:
                        gate.waiting += 1
                        gate.most = max(gate.most, gate.waiting)
                    try:
                        gate.opened.wait(10)
                    finally:
                        with gate.lock:
                            gate.waiting -= 1
                return super().__getitem__(key)

        return Gated


@dataclass
class Rig:
    front: Simulator
    remote: Simulator
    gate: Gate


@pytest.fixture
def rig() -> Iterator[Rig]:
    """A front simulator whose slot 2 is a remote simulator with a gated SLOW tag and a FAST one."""
    gate = Gate()
    remote = Simulator(["FAST=DINT", "SLOW=DINT"], attribute_class=gate.attribute_class(), name="REMOTE")
    remote.start()
    remote["FAST"], remote["SLOW"] = 11, 22
    front = Simulator(["A=DINT"], name="FRONT")
    front["A"] = 100
    front.controller.backplane = Backplane({(1, 0): front.controller, (1, 2): RemoteTarget(*remote.address, timeout=8.0)})
    front.start()
    try:
        yield Rig(front, remote, gate)
    finally:
        gate.opened.set()
        front.stop()
        remote.stop()
