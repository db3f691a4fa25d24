"""Error answers as a Logix controller gives them; one bad request never harms the session or others."""

from __future__ import annotations

import struct

import pytest

from cpppo.cip.message import Request
from cpppo.cip.tag_services import ReadTag
from cpppo.enip.cpf import NullAddress, SendData, UnconnectedData
from cpppo.enip.encapsulation import Command, EncapStatus, Encapsulation
from cpppo.enip.frames import reply_message, send_rr_data

from .rawclient import (
    RawClient,
    attr,
    get_single,
    read_frag,
    read_tag,
    set_single,
    tag,
    write_frag,
    write_tag,
)

# (request, general status, extended status) as a ControlLogix answers them
CASES = {
    "unknown tag": (read_tag(tag("NOSUCHTAG")), 0x04, (0,)),
    "unknown class": (get_single(attr(0x77, 1, 1)), 0x05, ()),
    "unknown instance": (get_single(attr(0x01, 9, 1)), 0x05, ()),
    "unknown attribute": (get_single(attr(0x01, 1, 99)), 0x14, ()),
    "element past the end": (read_tag(tag("SCADA", 1000)), 0x05, ()),
    "numeric element past the end": (read_tag(attr(0x93, 3, 10, 10)), 0x05, ()),
    "too many elements": (read_tag(tag("SCADA", 990), 11), 0xFF, (0x2105,)),
    "fragment offset past the end": (read_frag(tag("COUNTS"), 10, 40), 0xFF, (0x2104,)),
    "write of the wrong type": (write_tag(tag("SCADA"), "DINT", [1]), 0xFF, (0x2107,)),
    "write of a string to a number": (write_tag(tag("FLOAT"), "SSTRING", ["x"]), 0xFF, (0x2107,)),
    "write past the end": (write_tag(tag("COUNTS", 8), "DINT", [1, 2, 3]), 0xFF, (0x2105,)),
    "write with too little data": (write_tag(tag("SCADA"), "INT", [1], count=2), 0x13, ()),
    "fragmented write past the count": (write_frag(tag("COUNTS"), "DINT", 2, 4, bytes(8)), 0x15, ()),
    "fragmented write offset past the end": (write_frag(tag("COUNTS"), "DINT", 2, 8, bytes(4)), 0xFF, (0x2104,)),
    "read without a count": (Request(0x4C, tag("SCADA"), b""), 0x13, ()),
    "set with too little data": (set_single(attr(0x93, 3, 10), bytes(39)), 0x13, ()),
    "set with too much data": (set_single(attr(0x93, 3, 10), bytes(41)), 0x15, ()),
    "set of a read-only attribute": (set_single(attr(0x01, 1, 7), b"\x01x"), 0x0E, ()),
    "unsupported service on a tag": (Request(0x4B, tag("SCADA"), b""), 0x08, ()),
    "unsupported service on an instance": (Request(0x4C, attr(0x01, 1), ReadTag(1).encode()), 0x08, ()),
    "path runs past the request": (bytes((0x4C, 9, 0x91, 0x05)) + b"SCADA", None, ()),
    "a reply instead of a request": (bytes((0xCC, 0, 0, 0)), None, ()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_errors_answer_like_a_logix_and_the_session_survives(plc, case):
    request, status, ext = CASES[case]
    plc["SCADA"] = [123]
    with RawClient(plc.address, register=True) as c, RawClient(plc.address, register=True) as other:
        reply = c.cip(request)
        if status is None:
            assert reply.status != 0
        else:
            assert (reply.status, reply.ext_status) == (status, ext)
        service = request.service if isinstance(request, Request) else request[0] & 0x7F
        assert reply.service == service
        # the same connection, and another one, go on working
        assert c.read_values(tag("SCADA")) == [123]
        assert other.read_values(tag("SCADA")) == [123]
    assert plc["SCADA"][0] == 123  # and the failed request changed nothing
    assert plc["COUNTS"] == [0] * 10


def test_errors_inside_unconnected_send_are_the_embedded_requests_errors(plc):
    with RawClient(plc.address, register=True) as c:
        reply = c.read(tag("NOSUCHTAG"), route="1/0")
        assert (reply.service, reply.status) == (0x4C, 0x04)
        assert c.read_values(tag("SCADA"), route="1/0") == [0]


def test_empty_cip_message_answers_not_enough_data(plc):
    with RawClient(plc.address, register=True) as c:
        frame = c.transact(send_rr_data(c.session, b""))
        assert frame.status == 0
        assert reply_message(frame).status == 0x13
        assert c.read_values(tag("FLOAT")) == [0.0]


def test_malformed_send_rr_data_is_an_encapsulation_error_not_a_disconnect(plc):
    with RawClient(plc.address, register=True) as c:
        no_items = Encapsulation(Command.SEND_RR_DATA, c.session, 0, bytes(8), 0, SendData(()).encode())
        assert c.transact(no_items).status == EncapStatus.INCORRECT_DATA
        assert c.read_values(tag("FLOAT")) == [0.0]


@pytest.mark.parametrize("data", [struct.pack("<IHH", 0, 0, 2) + b"\x00\x00", b"\x00"],
                         ids=["cpf-item-past-the-end", "shorter-than-a-header"])
def test_encapsulation_length_shorter_than_its_content_answers_0x65_and_closes(plc, data):
    with RawClient(plc.address, register=True) as c, RawClient(plc.address, register=True) as other:
        assert c.transact(Encapsulation(Command.SEND_RR_DATA, c.session, 0, bytes(8), 0, data)).status \
            == EncapStatus.INVALID_LENGTH
        assert c.closed_by_server(timeout=5)  # at once, not at the next sweep
        assert other.read_values(tag("FLOAT")) == [0.0]


def test_register_session_with_a_short_length_field_does_not_leave_the_stream_out_of_step(plc):
    with RawClient(plc.address) as c:
        # The header says 2 bytes of data, the client sends the usual 4: the server reads 2, and
        # the other 2 would start the "next" header.
        c.send(struct.pack("<HHII8sI", Command.REGISTER_SESSION, 2, 0, 0, bytes(8), 0) + struct.pack("<HH", 1, 0))
        assert c.recv().status == EncapStatus.INVALID_LENGTH
        assert c.closed_by_server(timeout=5)


def test_data_item_without_null_address_is_refused(plc):
    with RawClient(plc.address, register=True) as c:
        frame = Encapsulation(Command.SEND_RR_DATA, c.session, 0, bytes(8), 0,
                              SendData((UnconnectedData(read_tag(tag("FLOAT")).encode()),)).encode())
        assert c.transact(frame).status == EncapStatus.INCORRECT_DATA
        ok = SendData((NullAddress(), UnconnectedData(read_tag(tag("FLOAT")).encode()))).encode()
        assert c.transact(Encapsulation(Command.SEND_RR_DATA, c.session, 0, bytes(8), 0, ok)).status == 0


def test_oversized_frame_closes_only_that_connection(make_sim):
    sim = make_sim("X=DINT", max_frame=600)
    with RawClient(sim.address, register=True) as bad, RawClient(sim.address, register=True) as good:
        bad.send(struct.pack("<HHII8sI", Command.SEND_RR_DATA, 60000, bad.session, 0, bytes(8), 0))
        reply = bad.recv()
        assert reply.status == EncapStatus.INVALID_LENGTH
        assert bad.closed_by_server()
        assert good.read_values(tag("X")) == [0]


def test_attribute_with_an_error_status_fails_every_access(make_sim):
    sim = make_sim("X=DINT")
    sim.tag("X").error = 0x10  # device state conflict
    with RawClient(sim.address, register=True) as c:
        assert c.read(tag("X")).status == 0x10
        assert c.write(tag("X"), "DINT", [1]).status == 0x10
        sim.tag("X").error = 0
        assert c.read_values(tag("X")) == [0]
