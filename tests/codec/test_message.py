"""CIP Message Router requests and replies, general status names, the Multiple Service Packet."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpppo.cip.epath import Logical, Port, Symbolic
from cpppo.cip.message import (
    Reply,
    Request,
    decode_multiple,
    decode_reply,
    decode_request,
    encode_multiple,
    encode_reply,
    encode_request,
    multiple_request,
)
from cpppo.cip.services import REPLY, ClassCode, CommonService, ConnectionManagerService, LogixService
from cpppo.cip.status import GeneralStatus, status_name
from cpppo.errors import DecodeError, EncodeError


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


IDENTITY = (Logical("class", 1), Logical("instance", 1))

REQUESTS = [
    (Request(0x01, IDENTITY), "01 02 2001 2401"),
    (Request(0x0E, (*IDENTITY, Logical("attribute", 7))), "0e 03 2001 2401 3007"),
    (Request(0x4C, (Symbolic("Tag"),), b"\x01\x00"), "4c 03 9103 546167 00 0100"),
    (Request(0x10, (Logical("class", 0xF5), Logical("instance", 1), Logical("attribute", 5)), b"\x01"),
     "10 03 20f5 2401 3005 01"),
    (Request(0x17, ()), "17 00"),
    (Request(0x4C, (Logical("class", 0x6B), Logical("instance", 0x1234)), b"\x01\x00"), "4c 03 206b 2500 3412 0100"),
]


@pytest.mark.parametrize(("req", "wire"), REQUESTS)
def test_request_both_ways(req, wire):
    assert req.encode() == h(wire)
    assert decode_request(h(wire)) == req
    assert decode_request(b"\xff\xff" + h(wire), 2) == req


def test_request_with_preencoded_path():
    assert encode_request(0x0E, h("2001 2401 3007")) == h("0e 03 2001 2401 3007")


REPLIES = [
    (Reply(0x01, data=b"\x01\x00"), "81 00 00 00 0100"),
    (Reply(0x4C, 0, (), b"\xc4\x00\x2a\x00\x00\x00"), "cc 00 00 00 c400 2a000000"),
    (Reply(0x52, GeneralStatus.PARTIAL_TRANSFER, (), b"\xc3\x00\x01\x00"), "d2 00 06 00 c300 0100"),
    (Reply(0x54, 1, (0x0311,), b"\x00"), "d4 00 01 01 1103 00"),
    (Reply(0x0E, 0x1F, (1, 2)), "8e 00 1f 02 0100 0200"),
    (Reply(0x0A, GeneralStatus.EMBEDDED_SERVICE_ERROR), "8a 00 1e 00"),
]


@pytest.mark.parametrize(("rpy", "wire"), REPLIES)
def test_reply_both_ways(rpy, wire):
    assert rpy.encode() == h(wire)
    assert decode_reply(h(wire)) == rpy
    assert encode_reply(rpy.service | REPLY, rpy.status, rpy.ext_status, rpy.data) == h(wire)


def test_reply_reserved_byte_is_kept_but_not_compared():
    rpy = decode_reply(h("cc 07 00 00"))
    assert rpy.reserved == 7 and rpy == Reply(0x4C)
    assert rpy.encode() == h("cc 00 00 00")


def test_reply_status():
    assert Reply(0x4C).ok and Reply(0x4C).status_text == "success"
    rpy = Reply(0x52, 0x06)
    assert not rpy.ok and rpy.status_text == "partial transfer"


def test_general_status_names():
    assert status_name(0x00) == "success"
    assert status_name(0x04) == "path segment error"
    assert status_name(0x05) == "path destination unknown"
    assert status_name(0x06) == "partial transfer"
    assert status_name(0x08) == "service not supported"
    assert status_name(0x13) == "not enough data"
    assert status_name(0x1E) == "embedded service error"
    assert status_name(0xFF) == "general error"
    assert status_name(0x99) == "status 0x99"
    assert len(GeneralStatus) == 46
    assert sorted(s.value for s in GeneralStatus)[:45] == list(range(0x00, 0x2D))


def test_service_codes():
    assert REPLY == 0x80
    assert (CommonService.GET_ATTRIBUTES_ALL, CommonService.GET_ATTRIBUTE_LIST, CommonService.MULTIPLE_SERVICE_PACKET,
            CommonService.GET_ATTRIBUTE_SINGLE, CommonService.SET_ATTRIBUTE_SINGLE) == (0x01, 0x03, 0x0A, 0x0E, 0x10)
    assert (LogixService.READ_TAG, LogixService.WRITE_TAG, LogixService.READ_MODIFY_WRITE,
            LogixService.READ_TAG_FRAGMENTED, LogixService.WRITE_TAG_FRAGMENTED) == (0x4C, 0x4D, 0x4E, 0x52, 0x53)
    assert (ConnectionManagerService.UNCONNECTED_SEND, ConnectionManagerService.FORWARD_OPEN,
            ConnectionManagerService.LARGE_FORWARD_OPEN, ConnectionManagerService.FORWARD_CLOSE) == (
                0x52, 0x54, 0x5B, 0x4E)
    assert (ClassCode.IDENTITY, ClassCode.MESSAGE_ROUTER, ClassCode.CONNECTION_MANAGER, ClassCode.SYMBOL,
            ClassCode.TEMPLATE) == (1, 2, 6, 0x6B, 0x6C)


@pytest.mark.parametrize(("wire", "status"), [
    ("", GeneralStatus.NOT_ENOUGH_DATA),
    ("4c", GeneralStatus.NOT_ENOUGH_DATA),
    ("cc 00", GeneralStatus.SERVICE_NOT_SUPPORTED),  # a reply where a request belongs
    ("4c 02 2001", GeneralStatus.PATH_SIZE_INVALID),
    ("4c ff 2001 2401", GeneralStatus.PATH_SIZE_INVALID),
    ("4c 01 9103", GeneralStatus.PATH_SEGMENT_ERROR),
    ("4c 01 0000", GeneralStatus.PATH_SEGMENT_ERROR),
])
def test_malformed_requests(wire, status):
    with pytest.raises(DecodeError) as info:
        decode_request(h(wire))
    assert info.value.status == status


@pytest.mark.parametrize("wire", ["", "cc", "cc 00 00", "4c 00 00 00", "cc 00 01 01", "cc 00 01 02 0000"])
def test_malformed_replies(wire):
    with pytest.raises(DecodeError):
        decode_reply(h(wire))


def test_request_and_reply_within_bounds():
    buf = h("0e 03 2001 2401 3007 ffff")
    assert decode_request(buf, 0, 8) == Request(0x0E, (*IDENTITY, Logical("attribute", 7)))
    with pytest.raises(DecodeError):
        decode_request(buf, 0, 6)
    assert decode_reply(h("8e 00 00 00 aabb"), 0, 5).data == b"\xaa"


@pytest.mark.parametrize(("req", "exc"), [
    (Request(0x80, ()), EncodeError), (Request(-1, ()), EncodeError), (Request(0x4C, (Port(1, 300),)), EncodeError),
])
def test_unencodable_requests(req, exc):
    with pytest.raises(exc):
        req.encode()


def test_request_path_too_long():
    with pytest.raises(EncodeError):
        encode_request(0x4C, bytes(512))
    with pytest.raises(EncodeError):
        encode_request(0x4C, bytes(3))


@pytest.mark.parametrize("rpy", [
    Reply(0x4C, 0x100), Reply(0x4C, -1), Reply(0x4C, 0, (0x10000,)), Reply(0x4C, 0, (0,) * 256),
    Reply(0x100), Reply(-1), Reply(0x14C),
])
def test_unencodable_replies(rpy):
    with pytest.raises(EncodeError):
        rpy.encode()


# --- Multiple Service Packet -----------------------------------------------------------------------


def test_multiple_service_packet_request():
    reqs = [Request(0x0E, (*IDENTITY, Logical("attribute", 1))), Request(0x4C, (Symbolic("Tag"),), b"\x01\x00")]
    msp = multiple_request((Logical("class", 2), Logical("instance", 1)), reqs)
    wire = h("0a 02 2002 2401 0200 0600 0e00 0e03200124013001 4c039103546167000100")
    assert msp.encode() == wire
    back = decode_request(wire)
    assert back.service == 0x0A
    spans = decode_multiple(back.data)
    assert spans == [(6, 14), (14, 24)]
    assert [decode_request(back.data, a, b) for a, b in spans] == reqs


def test_multiple_service_packet_reply():
    replies = [Reply(0x0E, data=b"\x01\x00"), Reply(0x4C, 0x05)]
    data = encode_multiple([r.encode() for r in replies])
    assert data == h("0200 0600 0c00 8e0000000100 cc000500")
    assert [decode_reply(data, a, b) for a, b in decode_multiple(data)] == replies
    assert decode_multiple(b"\xff\xff" + data, 2) == [(8, 14), (14, 18)]


def test_empty_multiple_service_packet():
    assert encode_multiple([]) == b"\x00\x00"
    assert decode_multiple(b"\x00\x00") == []


@pytest.mark.parametrize(("wire", "status"), [
    ("", GeneralStatus.NOT_ENOUGH_DATA),
    ("01", GeneralStatus.NOT_ENOUGH_DATA),
    ("0200 0600", GeneralStatus.NOT_ENOUGH_DATA),        # offset table truncated
    ("ffff 0000", GeneralStatus.NOT_ENOUGH_DATA),        # a huge count, never allocated
    ("0100 0200 0e00", GeneralStatus.INVALID_PARAMETER),  # offset into the table
    ("0100 0900 0e00", GeneralStatus.INVALID_PARAMETER),  # offset past the end
    ("0200 0800 0600 0e00 0e00", GeneralStatus.INVALID_PARAMETER),  # offsets descend
])
def test_malformed_multiple_service_packets(wire, status):
    with pytest.raises(DecodeError) as info:
        decode_multiple(h(wire))
    assert info.value.status == status


def test_too_large_multiple_service_packet():
    with pytest.raises(EncodeError):
        encode_multiple([bytes(0x8000), bytes(0x8000)])
    with pytest.raises(EncodeError):
        encode_multiple([b""] * 0x10000)


padded_paths = st.lists(
    st.one_of(st.builds(Logical, st.sampled_from(["class", "attribute"]), st.integers(0, 0xFFFF)),
              st.builds(Logical, st.sampled_from(["instance", "element"]), st.integers(0, 0xFFFFFFFF)),
              st.builds(Symbolic, st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1,
                                          max_size=20))),
    max_size=5).map(tuple)
requests = st.builds(Request, st.integers(0, 0x7F), padded_paths, st.binary(max_size=30))
replies = st.builds(Reply, st.integers(0, 0x7F), st.integers(0, 255), st.lists(st.integers(0, 0xFFFF), max_size=4)
                    .map(tuple), st.binary(max_size=30))


@settings(max_examples=250, deadline=None)
@given(requests)
def test_request_round_trip(req):
    assert decode_request(req.encode()) == req


@settings(max_examples=250, deadline=None)
@given(replies)
def test_reply_round_trip(rpy):
    assert decode_reply(rpy.encode()) == rpy


@settings(max_examples=200, deadline=None)
@given(st.lists(requests, max_size=6), st.lists(replies, max_size=6))
def test_multiple_round_trip(reqs, rpys):
    data = encode_multiple([r.encode() for r in reqs])
    assert [decode_request(data, a, b) for a, b in decode_multiple(data)] == reqs
    data = encode_multiple([r.encode() for r in rpys])
    assert [decode_reply(data, a, b) for a, b in decode_multiple(data)] == rpys
    assert struct.unpack_from("<H", data)[0] == len(rpys)
