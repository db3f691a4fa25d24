"""The embedding API (Simulator / cpppo.server.enip.simulator) and the enip_simulator pytest fixture."""

from __future__ import annotations

import pathlib
import re
import socket
import threading

import pytest

import cpppo.server.enip
from cpppo.server.enip import Simulator
from cpppo.server.enip.config import ConfigError

from .conftest import wait_for
from .rawclient import RawClient, tag

HERE = pathlib.Path(__file__).parent
DOCS = HERE.parent.parent / "docs" / "simulator.md"


def _refused(address) -> bool:
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError:
        return True
    return False


def test_context_manager_serves_in_the_background_and_stops_cleanly():
    threads_before = threading.active_count()
    with cpppo.server.enip.simulator(["SCADA=INT[100]", "FLOAT=REAL"]) as plc:
        host, port = plc.address
        assert host == "127.0.0.1" and port > 0
        plc["SCADA"] = [1, 2, 3]  # sets the first elements
        plc["FLOAT"] = 1.5
        with RawClient(plc.address, register=True) as c:
            assert c.read_values(tag("SCADA"), 4) == [1, 2, 3, 0]
            assert c.write(tag("FLOAT"), "REAL", [2.75]).status == 0
            assert c.write(tag("SCADA", 50), "INT", [9, 8]).status == 0
        assert plc["FLOAT"] == 2.75
        assert plc["SCADA"][48:53] == [0, 0, 9, 8, 0]
        kinds = [(e.kind, e.tag, e.start, e.count, e.values) for e in plc.io]
        assert kinds == [("read", "SCADA", 0, 4, [1, 2, 3, 0]), ("write", "FLOAT", 0, 1, [2.75]),
                         ("write", "SCADA", 50, 2, [9, 8])]
        assert repr(plc) == f"<Simulator '1756-L61/B LOGIX5561' at {host}:{port}, 2 tags>"
    assert _refused((host, port))
    wait_for(lambda: threading.active_count() <= threads_before)


def test_start_and_stop_explicitly_and_repeatedly():
    plc = Simulator(["X=DINT"])
    assert plc.start() is plc
    assert plc.start() is plc  # already running: no second server
    address = plc.address
    with RawClient(address, register=True) as c:
        assert c.read_values(tag("X")) == [0]
    plc.stop()
    plc.stop()  # stopping twice is harmless
    assert _refused(address)


def test_values_set_from_python_and_from_the_wire_meet():
    with Simulator({"A": "DINT[3]", "B": "SSTRING"}) as plc:  # tags may be a mapping
        plc["A"] = [7, 8, 9]
        plc["b"] = "hello"  # names are case-insensitive here too
        with RawClient(plc.address, register=True) as c:
            assert c.read_values(tag("A"), 3) == [7, 8, 9]
            assert c.read_values(tag("B")) == ["hello"]
            assert c.write(tag("A", 1), "DINT", [-1]).status == 0
        assert plc["A"] == [7, -1, 9]
        assert plc.tag("A")[1] == -1
        with pytest.raises(KeyError, match="NOPE"):
            plc["NOPE"]


def test_identity_is_configurable_and_validated():
    with Simulator(["X=DINT"], identity={"product_name": "My Device", "serial_number": 99}) as plc, \
            RawClient(plc.address, register=True) as c:
        assert c.cip(bytes((0x0E, 3, 0x20, 0x01, 0x24, 0x01, 0x30, 0x07))).data[1:] == b"My Device"
    with pytest.raises(ConfigError, match="bogus"):
        Simulator(["X=DINT"], identity={"bogus": 1})
    with pytest.raises(ConfigError):
        Simulator(["X=NOTATYPE"])


def test_io_log_is_bounded():
    with Simulator(["X=DINT"], io_log=3) as plc, RawClient(plc.address, register=True) as c:
        for i in range(10):
            assert c.write(tag("X"), "DINT", [i]).status == 0
        assert [e.values for e in plc.io] == [[7], [8], [9]]


def test_a_busy_address_fails_to_start():
    with Simulator(["X=DINT"]) as first:
        second = Simulator(["X=DINT"], address=first.address)
        with pytest.raises(OSError):
            second.start()
        with RawClient(first.address, register=True) as c:  # the first is unaffected
            assert c.read_values(tag("X")) == [0]


def test_enip_simulator_fixture_starts_independent_simulators(enip_simulator):
    a = enip_simulator("SPEED=REAL")
    b = enip_simulator("SPEED=REAL", identity={"product_name": "B"})
    a["SPEED"] = 1.0
    b["SPEED"] = 2.0
    for plc, expected in ((a, 1.0), (b, 2.0)):
        with RawClient(plc.address, register=True) as c:
            assert c.read_values(tag("SPEED")) == [expected]


def test_the_documented_example_test_is_in_the_suite_verbatim():
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)
    example = [b for b in blocks if "def test_reads_the_counter(enip_simulator)" in b]
    assert len(example) == 1, "docs/simulator.md must show the example test once"
    assert example[0] == (HERE / "test_docs_example.py").read_text()
