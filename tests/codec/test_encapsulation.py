"""The encapsulation header, its commands and status codes, and RegisterSession."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpppo.enip.encapsulation import (
    HEADER,
    Command,
    EncapStatus,
    Encapsulation,
    RegisterSession,
    decode_frame,
    decode_register_session,
)
from cpppo.errors import DecodeError, EncodeError

CTX = bytes(range(1, 9))

# (frame, its bytes): every command, a status, a session, a context, options and data.
CASES = [
    (Encapsulation(Command.NOP), "0000 0000 00000000 00000000 0000000000000000 00000000"),
    (Encapsulation(Command.NOP, data=b"\xaa\xbb"), "0000 0200 00000000 00000000 0000000000000000 00000000 aabb"),
    (Encapsulation(Command.LEGACY_0001), "0100 0000 00000000 00000000 0000000000000000 00000000"),
    (Encapsulation(Command.LIST_SERVICES, context=CTX), "0400 0000 00000000 00000000 0102030405060708 00000000"),
    (Encapsulation(Command.LIST_IDENTITY), "6300 0000 00000000 00000000 0000000000000000 00000000"),
    (Encapsulation(Command.LIST_INTERFACES, data=b"\0\0"), "6400 0200 00000000 00000000 0000000000000000 00000000 0000"),
    (Encapsulation(Command.REGISTER_SESSION, data=RegisterSession().encode()),
     "6500 0400 00000000 00000000 0000000000000000 00000000 0100 0000"),
    (Encapsulation(Command.REGISTER_SESSION, session=0x11021E01, data=b"\x01\0\0\0"),
     "6500 0400 011e0211 00000000 0000000000000000 00000000 0100 0000"),
    (Encapsulation(Command.UNREGISTER_SESSION, session=0x12345678),
     "6600 0000 78563412 00000000 0000000000000000 00000000"),
    (Encapsulation(Command.SEND_RR_DATA, session=1, data=b"\x01\x02\x03"),
     "6f00 0300 01000000 00000000 0000000000000000 00000000 010203"),
    (Encapsulation(Command.SEND_UNIT_DATA, session=2, options=0, context=CTX),
     "7000 0000 02000000 00000000 0102030405060708 00000000"),
    (Encapsulation(Command.SEND_RR_DATA, status=EncapStatus.INVALID_SESSION),
     "6f00 0000 00000000 64000000 0000000000000000 00000000"),
    (Encapsulation(0x1234, options=0xDEADBEEF), "3412 0000 00000000 00000000 0000000000000000 efbeadde"),
]


@pytest.mark.parametrize(("frame", "hexbytes"), CASES)
def test_encode_and_decode(frame, hexbytes):
    wire = bytes.fromhex(hexbytes.replace(" ", ""))
    assert frame.encode() == wire
    assert decode_frame(wire) == frame
    assert decode_frame(memoryview(wire)) == frame


def test_command_and_status_codes():
    assert {c.name: c.value for c in Command} == {
        "NOP": 0x00, "LEGACY_0001": 0x01, "LIST_SERVICES": 0x04, "LIST_IDENTITY": 0x63,
        "LIST_INTERFACES": 0x64, "REGISTER_SESSION": 0x65, "UNREGISTER_SESSION": 0x66,
        "SEND_RR_DATA": 0x6F, "SEND_UNIT_DATA": 0x70}
    assert {s.value for s in EncapStatus} == {0x00, 0x01, 0x02, 0x03, 0x64, 0x65, 0x69}
    assert EncapStatus.UNSUPPORTED_PROTOCOL == 0x69 and EncapStatus.INCORRECT_DATA == 0x03


def test_header_is_24_bytes():
    assert HEADER.size == 24


def test_reply_keeps_command_context_and_session():
    req = Encapsulation(Command.SEND_RR_DATA, session=9, context=CTX, data=b"x")
    rpy = req.reply(b"yz", status=EncapStatus.INCORRECT_DATA)
    assert (rpy.command, rpy.session, rpy.context, rpy.status, rpy.data) == (
        Command.SEND_RR_DATA, 9, CTX, 3, b"yz")
    assert req.reply(session=5).session == 5


@pytest.mark.parametrize("size", [0, 1, 23])
def test_truncated_header(size):
    with pytest.raises(DecodeError) as info:
        decode_frame(bytes(size))
    assert info.value.status == EncapStatus.INVALID_LENGTH
    assert info.value.offset == size


@pytest.mark.parametrize("delta", [-1, 1, 100])
def test_length_field_must_match_the_data(delta):
    wire = Encapsulation(Command.SEND_RR_DATA, data=b"abcd").encode()
    wire = wire[:2] + (4 + delta).to_bytes(2, "little") + wire[4:]
    with pytest.raises(DecodeError) as info:
        decode_frame(wire)
    assert info.value.offset == 2 and info.value.status == EncapStatus.INVALID_LENGTH


def test_trailing_bytes_after_a_frame_are_an_error():
    wire = Encapsulation(Command.NOP).encode() + b"\0"
    with pytest.raises(DecodeError):
        decode_frame(wire)


@pytest.mark.parametrize("frame", [
    Encapsulation(Command.NOP, data=bytes(0x10000)),
    Encapsulation(Command.NOP, context=b"short"),
    Encapsulation(Command.NOP, context=bytes(9)),
    Encapsulation(0x10000),
    Encapsulation(Command.NOP, session=-1),
    Encapsulation(Command.NOP, status=1 << 32),
    Encapsulation(Command.NOP, options=1 << 32),
])
def test_unencodable_frames(frame):
    with pytest.raises(EncodeError):
        frame.encode()


def test_register_session():
    assert RegisterSession().encode() == b"\x01\x00\x00\x00"
    assert decode_register_session(b"\x01\x00\x00\x00") == RegisterSession(1, 0)
    assert decode_register_session(b"\x02\x00\x01\x00") == RegisterSession(2, 1)
    for bad in (b"", b"\x01\x00\x00", b"\x01\x00\x00\x00\x00"):
        with pytest.raises(DecodeError) as info:
            decode_register_session(bad)
        assert info.value.status == EncapStatus.INVALID_LENGTH


@pytest.mark.parametrize("fields", [(0x10000, 0), (1, -1), (1, 0x10000)])
def test_register_session_out_of_range_is_an_encode_error(fields):
    with pytest.raises(EncodeError):
        RegisterSession(*fields).encode()


frames = st.builds(
    Encapsulation,
    command=st.integers(0, 0xFFFF),
    session=st.integers(0, 0xFFFFFFFF),
    status=st.integers(0, 0xFFFFFFFF),
    context=st.binary(min_size=8, max_size=8),
    options=st.integers(0, 0xFFFFFFFF),
    data=st.binary(max_size=64),
)


@settings(max_examples=200, deadline=None)
@given(frames)
def test_round_trip(frame):
    assert decode_frame(frame.encode()) == frame


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_register_session_round_trip(version, options):
    rs = RegisterSession(version, options)
    assert decode_register_session(rs.encode()) == rs
