"""Details of the controller a review found wanting: statuses, custom attributes, class attributes."""

from __future__ import annotations

import pytest

from cpppo.cip.epath import Logical, Symbolic
from cpppo.cip.message import Request, decode_reply
from cpppo.cip.tag_services import ReadModifyWrite, ReadTag, WriteTag
from cpppo.cip.types import DINT, UINT
from cpppo.device.controller import Controller
from cpppo.device.tags import Attribute
from cpppo.server.enip import Simulator
from cpppo.server.enip.config import ConfigError


def test_read_modify_write_of_a_read_only_attribute_is_not_settable():
    c = Controller()
    vendor = (Logical("class", 1), Logical("instance", 1), Logical("attribute", 1))
    rmw = Request(0x4E, vendor, ReadModifyWrite(b"\x01\x00", b"\xff\xff").encode())
    assert decode_reply(c.process(rmw.encode())).status == 0x0E


def test_a_custom_attribute_is_called_once_per_request_even_with_io_recorded():
    calls: list[str] = []

    class Counting(Attribute):
        def __getitem__(self, key):
            calls.append("get")
            return super().__getitem__(key)

        def __setitem__(self, key, value):
            calls.append("set")
            super().__setitem__(key, value)

    c = Controller()
    c.add_tag("X", Counting("X", DINT, [0, 0]))
    seen = []
    c.observers.append(seen.append)
    assert decode_reply(c.process(Request(0x4C, (Symbolic("X"),), ReadTag(2).encode()).encode())).status == 0
    assert calls == ["get"]
    calls.clear()
    write = Request(0x4D, (Symbolic("X"),), WriteTag(0xC4, 2, DINT.encode([5, 6])).encode())
    assert decode_reply(c.process(write.encode())).status == 0
    assert calls == ["set"]
    assert [(e.kind, e.values) for e in seen] == [("read", [0, 0]), ("write", [5, 6])]


def test_a_blocking_attribute_class_must_be_given_to_the_simulator():
    class Custom(Attribute):
        def __getitem__(self, key):
            return super().__getitem__(key)

    with Simulator(["X=DINT"]) as plc, pytest.raises(ConfigError, match="thread pool"):
        plc.add_tag("Y=DINT", Custom)


def test_class_attributes_follow_the_instances():
    c = Controller()
    c.add_tag("T", Attribute("T", DINT, 0), (0x70, 7, 1))
    c.add_tag("U", Attribute("U", DINT, 0), (0x70, 3, 1))
    reply = decode_reply(c.process(Request(0x01, (Logical("class", 0x70), Logical("instance", 0))).encode()))
    assert reply.status == 0
    assert UINT.decode(reply.data) == [1, 7, 2]  # revision, max instance, number of instances
