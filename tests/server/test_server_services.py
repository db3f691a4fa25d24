"""CIP services over real sockets: tag reads and writes, fragments, MSP, attribute services, routing."""

from __future__ import annotations

import struct

import pytest

from cpppo.cip.epath import Port
from cpppo.cip.tag_services import decode_attribute_list_reply
from cpppo.cip.types import TYPES

from .rawclient import (
    RawClient,
    attr,
    get_all,
    get_list,
    get_single,
    logix_type,
    multiple,
    multiple_replies,
    read_frag,
    read_tag,
    set_single,
    tag,
    values,
    write_frag,
    write_tag,
)


def test_read_tag_scalar_and_array(plc):
    plc["FLOAT"] = 3.5
    plc["SCADA"] = [10, 20, 30, 40]
    with RawClient(plc.address, register=True) as c:
        assert c.read_values(tag("FLOAT")) == [3.5]
        assert c.read_values(tag("SCADA"), 4) == [10, 20, 30, 40]
        reply = c.read(tag("SCADA"), 2)
        assert reply.data[:2] == b"\xc3\x00"  # INT type word precedes the data


def test_read_by_element(plc):
    plc["SCADA"] = list(range(100))
    with RawClient(plc.address, register=True) as c:
        assert c.read_values(tag("SCADA", 42), 3) == [42, 43, 44]
        assert c.read_values(tag("SCADA", 999)) == [0]


def test_tag_names_are_case_insensitive(plc):
    plc["scada"] = [5]
    with RawClient(plc.address, register=True) as c:
        assert c.read_values(tag("ScAdA")) == [5]
        assert c.write(tag("float"), "REAL", [9.5]).status == 0
    assert plc["FLOAT"] == 9.5


def test_numeric_addressing_of_explicit_and_default_addresses(plc):
    plc["COUNTS"] = list(range(10, 20))
    plc["SCADA"] = [11, 12]
    plc["TEXT"] = ["a", "b"]
    with RawClient(plc.address, register=True) as c:
        assert c.read_values(attr(0x93, 3, 10), 10) == list(range(10, 20))
        assert c.read_values(attr(0x93, 3, 10, 4), 2) == [14, 15]
        # untagged tags are attributes 1, 2, ... of the Message Router's instance 1, in order
        assert c.read_values(attr(0x02, 1, 1), 2) == [11, 12]
        assert c.read_values(attr(0x02, 1, 2), 2) == ["a", "b"]
        assert c.cip(write_tag(attr(0x93, 3, 10, 9), "DINT", [-7])).status == 0
    assert plc["COUNTS"][9] == -7


def test_write_tag_then_read_back(plc):
    with RawClient(plc.address, register=True) as c:
        assert c.write(tag("SCADA", 10), "INT", [1, -2, 32767]).status == 0
        assert c.read_values(tag("SCADA", 10), 3) == [1, -2, 32767]
        assert c.write(tag("TEXT"), "SSTRING", ["hello", "world"]).status == 0
        assert c.read_values(tag("TEXT"), 2) == ["hello", "world"]
        assert c.write(tag("NAME"), "STRING", ["a longer string"]).status == 0
        assert c.read_values(tag("NAME")) == ["a longer string"]
    assert plc["SCADA"][10:13] == [1, -2, 32767]
    assert plc["TEXT"][:2] == ["hello", "world"]
    assert plc["NAME"] == "a longer string"


SAMPLES = {
    "SINT": [-128, 127], "INT": [-32768, 32767], "DINT": [-2**31, 2**31 - 1], "LINT": [-2**63, 2**63 - 1],
    "USINT": [0, 255], "UINT": [0, 65535], "UDINT": [0, 2**32 - 1], "ULINT": [0, 2**64 - 1],
    "REAL": [-1.5, 3.25], "LREAL": [1e300, -2.5], "BOOL": [1, 0], "DWORD": [0xDEADBEEF, 1],
    "SSTRING": ["x", "yz"], "STRING": ["", "abc"],
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_documented_type_round_trips(make_sim, name):
    # A Logix BOOL array is stored, read and written as 32-bit DWORDs: BOOL[64] is DWORD[2].
    shape, wire, samples = ("[64]", "DWORD", [1, 0x80000000]) if name == "BOOL" else ("[2]", name, SAMPLES[name])
    sim = make_sim(f"ARR={name}{shape}", f"ONE={name}")
    with RawClient(sim.address, register=True) as c:
        assert c.write(tag("ARR"), wire, samples).status == 0
        reply = c.read(tag("ARR"), 2)
        assert reply.status == 0
        assert struct.unpack_from("<H", reply.data)[0] == logix_type(wire).code
        assert values(reply) == samples
        assert c.write(tag("ONE"), name, SAMPLES[name][1:]).status == 0
        assert c.read_values(tag("ONE")) == SAMPLES[name][1:]
    assert sim["ARR"] == samples
    assert sim["ONE"] == SAMPLES[name][1]


def test_read_tag_fragmented_reassembles_a_large_array(plc):
    plc["SCADA"] = list(range(1000))
    with RawClient(plc.address, register=True) as c:
        data, offset, parts = b"", 0, 0
        while parts < 20:
            reply = c.cip(read_frag(tag("SCADA"), 1000, offset))
            parts += 1
            assert reply.status in (0, 0x06)
            assert reply.data[:2] == b"\xc3\x00"
            chunk = reply.data[2:]
            assert chunk and 4 + len(reply.data) <= 504  # sized to the unconnected reply limit
            data += chunk
            offset += len(chunk)
            if reply.status == 0:
                break
        assert parts > 1
        assert list(struct.unpack("<1000h", data)) == list(range(1000))


def test_read_tag_fragmented_of_a_large_sstring_array(make_sim):
    words = [f"word number {i:03d}" for i in range(100)]  # 100 x 16 bytes: more than one reply
    sim = make_sim("TEXT=SSTRING[100]")
    sim["TEXT"] = words
    with RawClient(sim.address, register=True) as c:
        data, offset = b"", 0
        for _ in range(20):
            reply = c.cip(read_frag(tag("TEXT"), 100, offset))
            assert reply.status in (0, 0x06)
            chunk = reply.data[2:]
            data += chunk
            offset += len(chunk)
            if reply.status == 0:
                break
        assert offset > 504 and reply.status == 0
        assert TYPES["SSTRING"].decode(data) == words
        assert c.cip(read_frag(tag("TEXT"), 100, offset)).ext_status == (0x2104,)


def test_read_tag_too_large_answers_partial_with_the_first_part(plc):
    plc["SCADA"] = list(range(1000))
    with RawClient(plc.address, register=True) as c:
        reply = c.read(tag("SCADA"), 1000)
        assert reply.status == 0x06
        got = values(reply)
        assert 0 < len(got) < 1000
        assert got == list(range(len(got)))


def test_read_tag_fragmented_from_an_element(plc):
    plc["BIG"] = list(range(500))
    with RawClient(plc.address, register=True) as c:
        reply = c.cip(read_frag(tag("BIG", 100), 10, 8))  # elements 102..109
        assert reply.status == 0
        assert values(reply) == list(range(102, 110))


def test_write_tag_fragmented_at_offsets(plc):
    with RawClient(plc.address, register=True) as c:
        whole = struct.pack("<500i", *range(1000, 1500))
        at = 0
        while at < len(whole):
            piece = whole[at : at + 400]
            assert c.cip(write_frag(tag("BIG"), "DINT", 500, at, piece)).status == 0
            at += len(piece)
    assert plc["BIG"] == list(range(1000, 1500))


def test_write_tag_fragmented_into_a_string_array(plc):
    with RawClient(plc.address, register=True) as c:
        data = TYPES["SSTRING"].encode(["p", "q"])
        assert c.cip(write_frag(tag("TEXT", 3), "SSTRING", 2, 0, data)).status == 0
    assert plc["TEXT"][3:5] == ["p", "q"]


def test_multiple_service_packet_each_reply_has_its_own_status(plc):
    plc["FLOAT"] = 1.5
    plc["SCADA"] = [4, 5]
    with RawClient(plc.address, register=True) as c:
        reply = c.cip(multiple([
            read_tag(tag("FLOAT")),
            read_tag(tag("NOPE")),
            write_tag(tag("SCADA", 1), "INT", [55]),
            read_tag(tag("SCADA"), 2),
            get_single(attr(0x01, 1, 7)),
        ]))
        assert reply.service == 0x0A
        assert reply.status == 0x1E  # one embedded service failed
        parts = multiple_replies(reply)
        assert [p.status for p in parts] == [0, 0x04, 0, 0, 0]
        assert values(parts[0]) == [1.5]
        assert values(parts[3]) == [4, 55]
        assert parts[4].data[1:] == b"1756-L61/B LOGIX5561"
        ok = c.cip(multiple([read_tag(tag("FLOAT")), read_tag(tag("SCADA"))]))
        assert ok.status == 0 and [p.status for p in multiple_replies(ok)] == [0, 0]


def test_multiple_service_packet_inside_unconnected_send(plc):
    with RawClient(plc.address, register=True) as c:
        reply = c.cip(multiple([read_tag(tag("FLOAT")), read_tag(tag("COUNTS"), 2)]), route="1/0")
        assert reply.status == 0
        assert [values(p) for p in multiple_replies(reply)] == [[0.0], [0, 0]]


def test_get_attribute_single_and_set_attribute_single_on_a_tag(plc):
    with RawClient(plc.address, register=True) as c:
        assert c.cip(set_single(attr(0x93, 3, 10), struct.pack("<10i", *range(10)))).status == 0
        reply = c.cip(get_single(attr(0x93, 3, 10)))
        assert reply.status == 0
        assert struct.unpack("<10i", reply.data) == tuple(range(10))
        assert c.cip(set_single(attr(0x02, 1, 3), struct.pack("<f", 6.5))).status == 0  # FLOAT
    assert plc["COUNTS"] == list(range(10))
    assert plc["FLOAT"] == 6.5


def test_identity_object_get_attributes_all(plc):
    with RawClient(plc.address, register=True) as c:
        reply = c.cip(get_all(attr(0x01, 1)))
    assert reply.status == 0
    vendor, dtype, code, major, minor, status_word, serial, n = struct.unpack_from("<HHHBBHIB", reply.data)
    assert (vendor, dtype, code, major, minor) == (1, 0x0E, 0x36, 20, 11)
    assert (status_word, serial) == (0x3160, 0x006C061A)
    assert reply.data[15 : 15 + n] == b"1756-L61/B LOGIX5561"


@pytest.mark.parametrize("cls", [0x01, 0x02, 0x06, 0xF5, 0xF6])
def test_standard_objects_have_class_attributes_at_instance_0(plc, cls):
    with RawClient(plc.address, register=True) as c:
        revision = c.cip(get_single(attr(cls, 0, 1)))
        max_instance = c.cip(get_single(attr(cls, 0, 2)))
        count = c.cip(get_single(attr(cls, 0, 3)))
        assert revision.status == 0 and struct.unpack("<H", revision.data)[0] >= 1
        assert struct.unpack("<H", max_instance.data) == (1,)
        assert struct.unpack("<H", count.data) == (1,)
        if cls != 0x02:  # the router's instance 1 holds the untagged tags: too large for one reply
            assert c.cip(get_all(attr(cls, 1))).status == 0


def test_tcpip_and_ethernet_link_attributes(plc):
    with RawClient(plc.address, register=True) as c:
        reply = c.cip(get_list(attr(0xF5, 1), [1, 2, 5, 6]))
        assert reply.status == 0
        sizes = {1: 4, 2: 4, 5: 22, 6: None}
        entries = decode_attribute_list_reply(reply.data, sizes.get)
        assert [(e.attribute, e.status) for e in entries] == [(1, 0), (2, 0), (5, 0), (6, 0)]
        assert len(entries[2].value) == 22  # five addresses and an empty domain name
        speed = c.cip(get_single(attr(0xF6, 1, 1)))
        assert struct.unpack("<I", speed.data) == (100,)
        mac = c.cip(get_single(attr(0xF6, 1, 3)))
        assert len(mac.data) == 6


def test_get_attribute_list_reports_unknown_attributes_individually(plc):
    with RawClient(plc.address, register=True) as c:
        reply = c.cip(get_list(attr(0x01, 1), [1, 99, 7]))
    assert reply.status == 0x0A
    entries = decode_attribute_list_reply(reply.data, {1: 2, 99: 0, 7: None}.get)
    assert [(e.attribute, e.status) for e in entries] == [(1, 0), (99, 0x14), (7, 0)]
    assert entries[2].value[1:] == b"1756-L61/B LOGIX5561"


def test_unconnected_send_is_accepted_with_any_route_by_default(plc):
    plc["FLOAT"] = 4.0
    with RawClient(plc.address, register=True) as c:
        for route in ("1/0", "1/3", "1/0/2/192.168.1.2", (), (Port(2, "10.0.0.1"),)):
            assert c.read_values(tag("FLOAT"), route=route) == [4.0]
        assert c.read_values(tag("FLOAT")) == [4.0]  # a plain "simple" request


def test_route_path_checked_when_configured(make_sim):
    sim = make_sim("X=DINT", route_path=((Port(1, 0),)))
    with RawClient(sim.address, register=True) as c:
        assert c.read_values(tag("X"), route="1/0") == [0]
        wrong_slot = c.read(tag("X"), route="1/1")
        assert wrong_slot.service == 0x52 and wrong_slot.status == 0x01
        wrong_port = c.read(tag("X"), route="2/192.168.1.2")
        assert wrong_port.status == 0x01
        assert c.read_values(tag("X")) == [0]  # a simple request is accepted by a routing simulator


def test_route_path_false_accepts_only_empty_routes(make_sim):
    sim = make_sim("X=DINT", route_path=None)
    with RawClient(sim.address, register=True) as c:
        assert c.read(tag("X"), route="1/0").status == 0x01
        assert c.read_values(tag("X"), route=()) == [0]
        assert c.read_values(tag("X")) == [0]


def test_simple_device_refuses_unconnected_send(make_sim):
    sim = make_sim("X=DINT", simple=True)
    with RawClient(sim.address, register=True) as c:
        refused = c.read(tag("X"), route="1/0")
        assert refused.service == 0x52
        assert refused.status == 0x08
        assert c.read_values(tag("X")) == [0]
