"""Fixtures for the client tests: real simulators on 127.0.0.1 and free ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cpppo.server.enip import Simulator

from .support import TAGS


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Simulator]]:
    """Start simulators (any Simulator keywords); all are stopped when the test ends."""
    started: list[Simulator] = []

    def make(*tags: str, **kwds: Any) -> Simulator:
        kwds.setdefault("address", ("127.0.0.1", 0))
        sim = Simulator(tags or TAGS, **kwds).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture(scope="module")
def plc() -> Iterator[Simulator]:
    """One simulator with a tag of every type, shared by a module's tests."""
    with Simulator(TAGS, address=("127.0.0.1", 0)) as sim:
        yield sim
