"""The routing seam: two controllers on one backplane behind one address, and the Forward effect."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from pycomm3 import LogixDriver
from pylogix import PLC

from cpppo.cip.epath import Port, parse_route_path
from cpppo.cip.message import decode_reply
from cpppo.cip.services import ConnectionManagerService
from cpppo.cip.types import DINT
from cpppo.device.backplane import UNREACHABLE, Backplane, Forward, RemoteTarget
from cpppo.device.controller import Controller
from cpppo.device.tags import Attribute
from cpppo.enip import frames
from cpppo.enip.frames import reply_message
from cpppo.errors import CommunicationError
from cpppo.server.enip import Simulator, client

from .rawclient import RawClient, read_tag, tag, values

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def routed(request: bytes, route: str) -> bytes:
    return frames.unconnected_send(request, parse_route_path(route)).encode()


@pytest.fixture
def chassis() -> Iterator[tuple[Simulator, Simulator]]:
    """A simulator whose controller sits in slot 0, with a second controller in slot 3."""
    slot0 = Simulator(["A=DINT", "SHARED=DINT"], name="SLOT0")
    slot3 = Simulator(["B=DINT[4]", "SHARED=DINT"], name="SLOT3")  # never started: reached through slot 0
    backplane = Backplane()
    backplane.attach(1, 0, slot0.controller)
    backplane.attach(1, 3, slot3.controller)
    slot0.controller.backplane = backplane
    slot0["A"], slot0["SHARED"] = 100, 1
    slot3["B"], slot3["SHARED"] = [30, 31, 32, 33], 3
    with slot0:
        yield slot0, slot3


def test_sans_io_route_paths_pick_the_module_or_say_why_not():
    a, b = Controller(), Controller()
    a.add_tag("X", Attribute("X", DINT, 1))
    b.add_tag("X", Attribute("X", DINT, 2))
    a.backplane = Backplane()
    a.backplane.attach(1, 0, a)
    a.backplane.attach(1, 2, b)
    a.backplane.attach(2, "192.0.2.7", RemoteTarget("192.0.2.7", 44818))
    read = read_tag(tag("X")).encode()
    assert values(decode_reply(a.process(routed(read, "1/0")))) == [1]
    assert values(decode_reply(a.process(routed(read, "1/2")))) == [2]
    for route, ext in (("1/5", 0x0312), ("3/0", 0x0311), ("1/2/1/0", 0x0311)):
        rpy = decode_reply(a.process(routed(read, route)))
        assert (rpy.status, list(rpy.ext_status)) == (0x01, [ext]), route
    effect = a.handle(routed(read, "2/192.0.2.7"))
    assert isinstance(effect, Forward)
    assert effect.target == RemoteTarget("192.0.2.7", 44818)
    assert effect.message == read  # the route ends there: the request itself goes on
    further = a.handle(routed(read, "2/192.0.2.7/1/4"))
    assert isinstance(further, Forward)
    carried = frames.unconnected_send(read, (Port(1, 4),)).encode()
    assert further.message == carried  # the rest of the route travels with it
    failed = decode_reply(a.process(routed(read, "2/192.0.2.7")))  # no transport to forward it: a status
    assert (failed.service, failed.status, list(failed.ext_status)) == (
        ConnectionManagerService.UNCONNECTED_SEND, 0x01, [UNREACHABLE])


def test_two_controllers_behind_one_address_by_route_path(chassis):
    slot0, slot3 = chassis
    with RawClient(slot0.address, register=True) as c:
        assert c.read_values(tag("A"), route="1/0") == [100]
        assert c.read_values(tag("B"), 4, route="1/3") == [30, 31, 32, 33]
        assert c.read_values(tag("SHARED"), route="1/0") == [1]
        assert c.read_values(tag("SHARED"), route="1/3") == [3]  # same name, the other controller's tag
        assert c.write(tag("SHARED"), "DINT", [33], route="1/3").status == 0
        missing = c.read(tag("A"), route="1/3")  # slot 3 has no tag A
        assert missing.status == 0x04
        empty = c.read(tag("A"), route="1/7")
        assert (empty.status, list(empty.ext_status)) == (0x01, [0x0312])
    assert (slot0["SHARED"], slot3["SHARED"]) == (1, 33)


def test_a_connection_opened_through_the_backplane_is_served_by_that_module(chassis):
    slot0, slot3 = chassis
    host, port = slot0.address
    with client.connector(host=host, port=port, route_path="1/3", connected=True, timeout=5) as conn:
        failures, got = conn.process(client.parse_operations(["B[0-3]", "SHARED=(DINT)34", "SHARED"]))
    assert failures == 0 and got[0] == [30, 31, 32, 33] and got[2] == [34]
    assert slot3["SHARED"] == 34 and slot0["SHARED"] == 1
    with pytest.raises(CommunicationError, match=r"Forward Open refused: .*\[0x0312\]"):
        client.connector(host=host, port=port, route_path="1/9", connected=True, timeout=5)


def test_pylogix_and_pycomm3_reach_each_slot(chassis):
    slot0, _ = chassis
    host, port = slot0.address
    with PLC(host, port=port, slot=3) as plc:
        plc.SocketTimeout = 10
        assert plc.Read("B[1]").Value == 31
        assert plc.Write("SHARED", 35).Status == "Success"
    with PLC(host, port=port, slot=0) as plc:
        plc.SocketTimeout = 10
        assert plc.Read("SHARED").Value == 1
    with LogixDriver(f"{host}:{port}/3") as d:
        assert d.read("B[2]").value == 32
        assert d.read("SHARED").value == 35
    with LogixDriver(f"{host}:{port}/0") as d:
        assert d.read("A").value == 100


def _dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def router() -> Iterator[tuple[Simulator, Simulator]]:
    """Slot 0 local; slot 2 a simulator in another server; slot 4 the same, slowly; 5 too slow; 6 nobody."""
    remote = Simulator(["R=DINT[2]"], name="REMOTE")
    slow = Simulator(["S=DINT"], delay=(0.8, 0.8))
    with remote, slow:
        remote["R"] = [21, 22]
        slow["S"] = 44
        front = Simulator(["A=DINT"], name="FRONT")
        front["A"] = 100
        backplane = Backplane()
        backplane.attach(1, 0, front.controller)
        backplane.attach(1, 2, RemoteTarget(*remote.address, timeout=5.0))
        backplane.attach(1, 4, RemoteTarget(*slow.address, timeout=5.0))
        backplane.attach(1, 5, RemoteTarget(*slow.address, timeout=0.3))
        backplane.attach(1, 6, RemoteTarget("127.0.0.1", _dead_port(), timeout=2.0))
        front.controller.backplane = backplane
        with front:
            yield front, remote


def test_a_request_routed_to_a_remote_device_is_forwarded_and_answered(router):
    front, remote = router
    with RawClient(front.address, register=True) as c:
        assert c.read_values(tag("R"), 2, route="1/2") == [21, 22]
        assert c.write(tag("R"), "DINT", [23], route="1/2").status == 0
        assert c.read_values(tag("R"), 2, route="1/2/1/0") == [23, 22]  # the rest of the route goes along
        assert c.read(tag("NOPE"), route="1/2").status == 0x04  # the target's own error, unchanged
        assert c.read_values(tag("A"), route="1/0") == [100]
    assert remote["R"] == [23, 22]


def test_an_unreachable_or_silent_target_gets_a_status_not_a_hang(router):
    front, _ = router
    with RawClient(front.address, register=True) as c:
        for route in ("1/6", "1/5"):  # nothing listening; answers later than its timeout
            reply = c.read(tag("S"), route=route)
            assert (reply.status, list(reply.ext_status)) == (0x01, [0x0204]), route
        assert c.read_values(tag("A"), route="1/0") == [100]  # the router itself is fine


def test_a_slow_target_holds_up_only_the_replies_behind_it(router):
    front, _ = router
    with RawClient(front.address, register=True) as c, RawClient(front.address, register=True) as other:
        slow_read = c.rr_frame(read_tag(tag("S")), "1/4")
        local_read = c.rr_frame(read_tag(tag("A")), "1/0")
        c.send(slow_read.encode() + local_read.encode())  # pipelined: the local read is behind the slow one
        assert other.read_values(tag("A"), route="1/0") == [100]  # another client is not held up
        with pytest.raises(TimeoutError):
            c.recv(timeout=0.05)  # ... while this one's replies wait for the slow target, in order
        first, second = c.recv(timeout=5), c.recv(timeout=5)
        assert (first.context, second.context) == (slow_read.context, local_read.context)
        assert values(reply_message(first)) == [44] and values(reply_message(second)) == [100]
