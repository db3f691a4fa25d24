"""pytest plugin (registered through the ``pytest11`` entry point): simulated PLCs as fixtures.

``enip_simulator`` is a factory: each call starts a :class:`~cpppo.server.enip.Simulator` on
127.0.0.1 and a free port, and every one started is stopped when the test ends::

    def test_hmi_reads_speed(enip_simulator):
        plc = enip_simulator("SPEED=REAL", "COUNTS=DINT[10]")
        plc["SPEED"] = 42.5
        assert my_hmi.read_speed(*plc.address) == 42.5
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..server.enip.embedded import Simulator


@pytest.fixture
def enip_simulator() -> Iterator[Any]:
    """Start simulated ControlLogix PLCs: ``plc = enip_simulator("SPEED=REAL", "COUNTS=DINT[10]")``.

    Each call starts a Simulator on 127.0.0.1 and a free port (``plc.address``); keywords go to
    :class:`~cpppo.server.enip.Simulator`.  All are stopped when the test ends.
    """
    started: list[Simulator] = []

    def start(*tags: str, **kwds: Any) -> Simulator:
        sim = Simulator(tags, **kwds).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()
