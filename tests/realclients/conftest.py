"""A simulated controller with every kind of tag the real Logix clients know, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cpppo.server.enip import Simulator

UDTS = ["Motor = Speed:REAL, Count:DINT, Running:BOOL, Fault:BOOL, History:DINT[10], Label:STRING"]
TAGS = [
    "S=SINT", "I=INT", "D=DINT", "L=LINT", "R=REAL", "LR=LREAL", "B=BOOL",
    "SCADA=INT[100]", "ARR=DINT[5000]", "BITS=BOOL[64]", "GRID=DINT[3,4]",
    "NAME=STRING", "M1=Motor", "MOTORS=Motor[3]", "Program:Main.Local=DINT",
]


@pytest.fixture
def plc() -> Iterator[Simulator]:
    with Simulator(TAGS, udts=UDTS, name="CPPPO_SIM") as sim:
        yield sim
