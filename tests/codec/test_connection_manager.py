"""Connection Manager: Unconnected Send, (Large) Forward Open, Forward Close, and their replies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpppo.cip.connection_manager import (
    ConnectionFailure,
    ConnectionParams,
    ForwardClose,
    ForwardCloseReply,
    ForwardOpen,
    ForwardOpenReply,
    UnconnectedSend,
    decode_connection_failure,
    decode_forward_close,
    decode_forward_close_reply,
    decode_forward_open,
    decode_forward_open_reply,
    decode_unconnected_send,
)
from cpppo.cip.epath import Logical, Port, Symbolic
from cpppo.cip.message import Request, decode_request
from cpppo.cip.status import GeneralStatus
from cpppo.errors import DecodeError, EncodeError


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


GAA_IDENTITY = h("01 02 2001 2401")
READ_TAG = h("4c 03 9103 546167 00 0100")

UNCONNECTED_SENDS = [
    # the Get Attributes All of gaa_011_request: 2**1 ms x 250 ticks, routed 1/0
    (UnconnectedSend(GAA_IDENTITY, (Port(1, 0),), 1, 250), "01 fa 0600 010220012401 01 00 0100"),
    # an odd-sized embedded request gets a pad byte
    (UnconnectedSend(h("0e 02 2001 2401 30"), (Port(1, 0),)), "05 9d 0700 0e02200124013000 01 00 0100"),
    (UnconnectedSend(READ_TAG, (Port(1, 0), Port(2, "10.0.0.1"))),
     "05 9d 0a00 4c039103546167000100 06 00 0100 1208 31302e302e302e31"),
    (UnconnectedSend(GAA_IDENTITY, ()), "05 9d 0600 010220012401 00 00"),
    (UnconnectedSend(GAA_IDENTITY, None), "05 9d 0600 010220012401"),
    (UnconnectedSend(b"", (Port(1, 3),), 0x0A, 14), "0a 0e 0000 01 00 0103"),
]


@pytest.mark.parametrize(("us", "wire"), UNCONNECTED_SENDS)
def test_unconnected_send_both_ways(us, wire):
    assert us.encode() == h(wire)
    assert decode_unconnected_send(h(wire)) == us


def test_unconnected_send_as_a_connection_manager_request():
    us = UnconnectedSend(READ_TAG, (Port(1, 0),))
    req = Request(0x52, (Logical("class", 6), Logical("instance", 1)), us.encode())
    wire = req.encode()
    assert wire[:6] == h("52 02 2006 2401")
    back = decode_request(wire)
    inner = decode_unconnected_send(back.data)
    assert inner == us
    assert decode_request(inner.message) == Request(0x4C, (Symbolic("Tag"),), b"\x01\x00")


def test_unconnected_send_timeout():
    assert UnconnectedSend(b"").timeout_ms == 32 * 157  # the documented default, about 5 s
    assert UnconnectedSend(b"", priority_time_tick=0, timeout_ticks=63).timeout_ms == 63
    assert UnconnectedSend(b"", priority_time_tick=0x1F, timeout_ticks=1).timeout_ms == 1 << 15  # priority bit


def test_unconnected_send_missing_pad_and_route_is_read_as_no_route():
    """Tolerated as simple-device clients send it: an odd message with neither pad nor route."""
    assert decode_unconnected_send(h("05 9d 0100 ab")) == UnconnectedSend(b"\xab", None)


@pytest.mark.parametrize(("wire", "status"), [
    ("", GeneralStatus.NOT_ENOUGH_DATA),
    ("05 9d 06", GeneralStatus.NOT_ENOUGH_DATA),
    ("05 9d 0700 0102", GeneralStatus.NOT_ENOUGH_DATA),        # message truncated
    ("05 9d 0200 0e00 01", GeneralStatus.NOT_ENOUGH_DATA),     # route path size without its reserved byte
    ("05 9d 0200 0e00 02 00 0100", GeneralStatus.PATH_SIZE_INVALID),  # route path shorter than its size
    ("05 9d 0200 0e00 01 00 0100 00", GeneralStatus.TOO_MUCH_DATA),   # bytes after the route path
    ("05 9d 0200 0e00 01 00 9100", GeneralStatus.PATH_SEGMENT_ERROR),
])
def test_malformed_unconnected_sends(wire, status):
    with pytest.raises(DecodeError) as info:
        decode_unconnected_send(h(wire))
    assert info.value.status == status


@pytest.mark.parametrize("us", [
    UnconnectedSend(b"", (), 256), UnconnectedSend(b"", (), 1, -1), UnconnectedSend(bytes(0x10000)),
    UnconnectedSend(b"", (Port(1, 256),)), UnconnectedSend(b"", (), 1.5),
    UnconnectedSend(b"", tuple(Port(2, "192.168.100.100") for _ in range(30))),  # 270 words of route
])
def test_unencodable_unconnected_sends(us):
    with pytest.raises(EncodeError):
        us.encode()


# --- Forward Open ---------------------------------------------------------------------------------

PARAMS = ConnectionParams(500, True, 0, 2)
FORWARD_OPEN = ForwardOpen(0x80000011, 0x80FE0010, 17, 77, 0x1E3D7F0F, 8_000_000, PARAMS, 8_000_000, PARAMS,
                           (Port(1, 0), Logical("class", 2), Logical("instance", 1)), 0, 0xA3, 7, 0xF9)
FORWARD_OPEN_WIRE = ("07 f9 11000080 1000fe80 1100 4d00 0f7f3d1e 00 000000 "
                     "00127a00 f443 00127a00 f443 a3 03 0100 2002 2401")


def test_forward_open_both_ways():
    """The fields of fwd_o01_request, in a Forward Open built from scratch."""
    assert FORWARD_OPEN.encode() == h(FORWARD_OPEN_WIRE)
    assert decode_forward_open(h(FORWARD_OPEN_WIRE)) == FORWARD_OPEN
    assert FORWARD_OPEN.triad == (17, 77, 0x1E3D7F0F)
    assert FORWARD_OPEN.timeout_s == pytest.approx(32.0)


def test_forward_open_timeout_follows_the_o_t_rpi():
    fo = ForwardOpen(1, 2, 3, 4, 5, 10_000, PARAMS, 50_000, PARAMS, (), timeout_multiplier=2)
    assert fo.timeout_s == pytest.approx(0.010 * 16)
    reserved = ForwardOpen(1, 2, 3, 4, 5, 10_000, PARAMS, 50_000, PARAMS, (), timeout_multiplier=0xA3)
    assert reserved.timeout_s == pytest.approx(0.010 * 512)  # multipliers past 7 count as 7


def test_large_forward_open_both_ways():
    big = ConnectionParams(4000, True, 1, 2)
    fo = ForwardOpen(1, 2, 3, 4, 5, 10_000, big, 20_000, big, (Port(1, 0), Logical("class", 2),
                                                                 Logical("instance", 1)), 1, 0xA3, 10, 14, True)
    wire = h("0a 0e 01000000 02000000 0300 0400 05000000 01 000000 "
             "10270000 a00f0046 204e0000 a00f0046 a3 03 0100 2002 2401")
    assert fo.encode() == wire
    assert decode_forward_open(wire, large=True) == fo


@pytest.mark.parametrize(("params", "small", "large"), [
    (ConnectionParams(500, True, 0, 2), 0x43F4, 0x420001F4),
    (ConnectionParams(258, True, 0, 2), 0x4302, 0x42000102),
    (ConnectionParams(0x1FF, False, 3, 1, True), 0xADFF, 0xAC0001FF),
    (ConnectionParams(0, False, 0, 0), 0, 0),
])
def test_connection_parameters(params, small, large):
    assert params.encode(large=False) == small
    assert params.encode(large=True) == large
    assert ConnectionParams.decode(small, large=False) == params
    assert ConnectionParams.decode(large, large=True) == params


@pytest.mark.parametrize(("params", "large"), [
    (ConnectionParams(0x200), False), (ConnectionParams(0x10000), True), (ConnectionParams(-1), False),
    (ConnectionParams(10, priority=4), False), (ConnectionParams(10, type=7), True),
    (ConnectionParams(10, priority=-1), True),
])
def test_connection_parameters_out_of_range(params, large):
    with pytest.raises(EncodeError):
        params.encode(large)


def test_forward_open_errors():
    wire = h(FORWARD_OPEN_WIRE)
    with pytest.raises(DecodeError) as info:
        decode_forward_open(wire[:35])
    assert info.value.status == GeneralStatus.NOT_ENOUGH_DATA
    with pytest.raises(DecodeError) as info:
        decode_forward_open(wire[:-1])
    assert info.value.status == GeneralStatus.PATH_SIZE_INVALID
    with pytest.raises(DecodeError):
        decode_forward_open(wire, large=True)  # too short for the 32-bit parameters
    with pytest.raises(DecodeError) as info:
        decode_forward_open(wire + b"\x00\x00")
    assert info.value.status == GeneralStatus.TOO_MUCH_DATA and info.value.offset == len(wire)
    for bad in (ForwardOpen(1 << 32, 0, 0, 0, 0, 0, PARAMS, 0, PARAMS, ()),
                ForwardOpen(0, 0, 0, 0x10000, 0, 0, PARAMS, 0, PARAMS, ()),
                ForwardOpen(0, 0, 0, 0, 0, 0, ConnectionParams(600), 0, PARAMS, ())):
        with pytest.raises(EncodeError):
            bad.encode()


def test_forward_open_reply():
    rpy = ForwardOpenReply(0xFFA34026, 0x80FE0010, 17, 77, 0x1E3D7F0F, 8_000_000, 8_000_000)
    wire = h("2640a3ff 1000fe80 1100 4d00 0f7f3d1e 00127a00 00127a00 00 00")
    assert rpy.encode() == wire
    assert decode_forward_open_reply(wire) == rpy
    with_app = ForwardOpenReply(1, 2, 3, 4, 5, 6, 7, b"\x01\x02")
    wire = with_app.encode()
    assert wire[-4:] == h("01 00 0102")
    assert decode_forward_open_reply(wire) == with_app
    assert ForwardOpenReply(1, 2, 3, 4, 5, 6, 7, b"\x01").encode()[-4:] == h("01 00 0100")


def test_forward_open_reply_without_application_reply_size_is_tolerated():
    """Some devices end the reply after the APIs; read as an empty application reply."""
    wire = h("2640a3ff 1000fe80 1100 4d00 0f7f3d1e 00127a00 00127a00")
    assert decode_forward_open_reply(wire).application_reply == b""


def test_forward_open_reply_errors():
    with pytest.raises(DecodeError):
        decode_forward_open_reply(bytes(23))
    with pytest.raises(DecodeError):
        decode_forward_open_reply(bytes(24) + b"\x02\x00\x01")  # 2 words announced, 1 byte present
    with pytest.raises(EncodeError):
        ForwardOpenReply(1 << 32, 0, 0, 0, 0, 0, 0).encode()


# --- Forward Close ---------------------------------------------------------------------------------


def test_forward_close_both_ways():
    fc = ForwardClose(1, 77, 0x1E3D7F0F, (Port(1, 0), Logical("class", 2), Logical("instance", 1)), 7, 0xF9)
    wire = h("07 f9 0100 4d00 0f7f3d1e 03 00 0100 2002 2401")
    assert fc.encode() == wire
    assert decode_forward_close(wire) == fc
    assert fc.triad == (1, 77, 0x1E3D7F0F)


def test_forward_close_reply_both_ways():
    rpy = ForwardCloseReply(1, 77, 0x1E3D7F0F)
    wire = h("0100 4d00 0f7f3d1e 00 00")
    assert rpy.encode() == wire
    assert decode_forward_close_reply(wire) == rpy
    app = ForwardCloseReply(1, 77, 5, b"\xaa\xbb")
    assert decode_forward_close_reply(app.encode()) == app


def test_forward_close_errors():
    wire = h("07 f9 0100 4d00 0f7f3d1e 03 00 0100 2002 2401")
    with pytest.raises(DecodeError) as info:
        decode_forward_close(wire[:9])
    assert info.value.status == GeneralStatus.NOT_ENOUGH_DATA
    with pytest.raises(DecodeError) as info:
        decode_forward_close(wire[:-2])
    assert info.value.status == GeneralStatus.PATH_SIZE_INVALID
    with pytest.raises(DecodeError) as info:
        decode_forward_close(wire + b"\x01")
    assert info.value.status == GeneralStatus.TOO_MUCH_DATA and info.value.offset == len(wire)
    with pytest.raises(DecodeError):
        decode_forward_close_reply(bytes(9))
    with pytest.raises(DecodeError):
        decode_forward_close_reply(bytes(8) + b"\x01\x00")
    long_path = tuple(Port(2, "192.168.100.100") for _ in range(30))
    for bad in (ForwardClose(0x10000, 0, 0), ForwardClose(0, 0, 1 << 32), ForwardClose(0, 0, 0, (), 256),
                ForwardClose(0, 0, 0, long_path)):
        with pytest.raises(EncodeError):
            bad.encode()
    for bad in (ForwardCloseReply(-1, 0, 0), ForwardCloseReply(0, 0, 0, bytes(512))):
        with pytest.raises(EncodeError):
            bad.encode()


# --- Unsuccessful Forward Open / Close -------------------------------------------------------------


def test_connection_failure_both_ways():
    """fwd_f01_reply's data, with and without the remaining path size."""
    full = ConnectionFailure(0, 0xFFFF, 0x12345678, 1)
    assert full.encode() == h("0000 ffff 78563412 01 00")
    assert decode_connection_failure(h("0000 ffff 78563412 01 00")) == full
    short = ConnectionFailure(0, 0xFFFF, 0x12345678)
    assert short.encode() == h("0000 ffff 78563412")
    assert decode_connection_failure(h("0000 ffff 78563412")) == short


@pytest.mark.parametrize("size", [0, 7, 9, 11, 20])
def test_connection_failure_wrong_sizes(size):
    with pytest.raises(DecodeError):
        decode_connection_failure(bytes(size))


def test_connection_failure_out_of_range():
    for bad in (ConnectionFailure(0x10000, 0, 0), ConnectionFailure(0, 0, 0, 256)):
        with pytest.raises(EncodeError):
            bad.encode()


# --- round trips -----------------------------------------------------------------------------------

u8, u16, u32 = st.integers(0, 0xFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)
ports = st.lists(st.builds(Port, st.integers(1, 0xFFFF), u8 | st.ip_addresses(v=4).map(str)), max_size=3).map(tuple)
conn_paths = st.tuples(ports, st.lists(st.builds(Logical, st.sampled_from(["class", "instance", "connection"]),
                                                 u16), max_size=3)).map(lambda t: t[0] + tuple(t[1]))


@settings(max_examples=250, deadline=None)
@given(st.binary(max_size=40), st.none() | ports, u8, u8)
def test_unconnected_send_round_trip(message, route, tick, ticks):
    us = UnconnectedSend(message, route, tick, ticks)
    assert decode_unconnected_send(us.encode()) == us


def params(large: bool):
    return st.builds(ConnectionParams, st.integers(0, 0xFFFF if large else 0x1FF), st.booleans(),
                     st.integers(0, 3), st.integers(0, 3), st.booleans())


@settings(max_examples=250, deadline=None)
@given(st.booleans().flatmap(lambda large: st.builds(
    ForwardOpen, u32, u32, u16, u16, u32, u32, params(large), u32, params(large), conn_paths, u8, u8, u8, u8,
    st.just(large))))
def test_forward_open_round_trip(fo):
    assert decode_forward_open(fo.encode(), fo.large) == fo


@settings(max_examples=200, deadline=None)
@given(st.builds(ForwardOpenReply, u32, u32, u16, u16, u32, u32, u32, st.binary(max_size=20).filter(
    lambda b: len(b) % 2 == 0)))
def test_forward_open_reply_round_trip(rpy):
    assert decode_forward_open_reply(rpy.encode()) == rpy


@settings(max_examples=200, deadline=None)
@given(st.builds(ForwardClose, u16, u16, u32, conn_paths, u8, u8),
       st.builds(ForwardCloseReply, u16, u16, u32, st.binary(max_size=20).filter(lambda b: len(b) % 2 == 0)),
       st.builds(ConnectionFailure, u16, u16, u32, st.none() | u8))
def test_forward_close_and_failure_round_trip(fc, fcr, failure):
    assert decode_forward_close(fc.encode()) == fc
    assert decode_forward_close_reply(fcr.encode()) == fcr
    assert decode_connection_failure(failure.encode()) == failure
