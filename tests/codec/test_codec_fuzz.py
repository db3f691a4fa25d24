"""Random and mutated bytes: every decoder either decodes or raises DecodeError, nothing else.

The mutations start from the real-device vectors, so they reach deep into the layers; counts and
lengths pointing far past the data must not allocate in proportion to what they claim.
"""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
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
from cpppo.cip.epath import Logical, Port, Symbolic, decode_path, encode_path
from cpppo.cip.message import Reply, Request, decode_multiple, decode_reply, decode_request
from cpppo.cip.tag_services import (
    AttributeValue,
    ReadModifyWrite,
    ReadTag,
    TypedData,
    WriteTag,
    decode_attribute_list_reply,
    decode_attribute_list_request,
    decode_read_modify_write,
    decode_read_tag,
    decode_typed_data,
    decode_write_tag,
    encode_attribute_list_reply,
    encode_attribute_list_request,
)
from cpppo.cip.types import TYPES, decode_type_word
from cpppo.enip.cpf import (
    ConnectedAddress,
    ConnectedData,
    IdentityItem,
    LegacyItem,
    SendData,
    SequencedAddress,
    ServiceItem,
    SockAddr,
    UnconnectedData,
    UnknownItem,
    decode_cpf,
    decode_send_data,
)
from cpppo.enip.encapsulation import Encapsulation, RegisterSession, decode_frame, decode_register_session
from cpppo.enip.framer import Framer
from cpppo.errors import DecodeError, EncodeError

from .support import ALL_BYTES, FRAMES, deep_decode, raw

DECODERS = {
    "frame": decode_frame,
    "register_session": decode_register_session,
    "send_data": decode_send_data,
    "cpf": decode_cpf,
    "path": decode_path,
    "path_unpadded": lambda b: decode_path(b, padded=False),
    "request": decode_request,
    "reply": decode_reply,
    "multiple": decode_multiple,
    "unconnected_send": decode_unconnected_send,
    "forward_open": decode_forward_open,
    "large_forward_open": lambda b: decode_forward_open(b, large=True),
    "forward_open_reply": decode_forward_open_reply,
    "forward_close": decode_forward_close,
    "forward_close_reply": decode_forward_close_reply,
    "connection_failure": decode_connection_failure,
    "read_tag": lambda b: decode_read_tag(b, False),
    "read_tag_fragmented": lambda b: decode_read_tag(b, True),
    "write_tag": lambda b: decode_write_tag(b, False),
    "write_tag_fragmented": lambda b: decode_write_tag(b, True),
    "typed_data": decode_typed_data,
    "type_word": decode_type_word,
    "read_modify_write": decode_read_modify_write,
    "attribute_list_request": decode_attribute_list_request,
    "attribute_list_reply": lambda b: decode_attribute_list_reply(b, lambda a: a % 5),
    "deep": deep_decode,
    **{f"type_{name}": t.decode for name, t in TYPES.items()},
}


def decodes_or_decode_error(decoder, data) -> None:
    try:
        decoder(data)
    except DecodeError as exc:
        assert isinstance(exc.what, str) and exc.what
        assert isinstance(exc.offset, int) and exc.offset >= 0
        assert exc.status is None or 0 <= exc.status <= 0xFFFF


@st.composite
def mutated(draw):
    """A vector, or a suffix of one, with a few bytes changed, inserted, deleted or cut."""
    data = bytearray(draw(st.sampled_from(ALL_BYTES)))
    data = data[draw(st.sampled_from([0, 0, 24, 30, 40, 46])) :]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, len(data)))
        if op == "set" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 4))]
        else:
            del data[at:]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=80))
def test_random_bytes(data):
    for decoder in DECODERS.values():
        decodes_or_decode_error(decoder, data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_mutated_vectors(data):
    for decoder in DECODERS.values():
        decodes_or_decode_error(decoder, data)
        decodes_or_decode_error(decoder, memoryview(data))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FRAMES), st.integers(0, 200), st.integers(0, 255))
def test_every_single_byte_change_of_a_frame(name, position, value):
    data = bytearray(raw(name))
    data[position % len(data)] = value
    decodes_or_decode_error(deep_decode, bytes(data))


@settings(max_examples=200, deadline=None)
@given(mutated(), st.integers(1, 64))
def test_framer_on_mutated_streams(data, chunk):
    framer = Framer(max_length=512)
    try:
        for at in range(0, len(data), chunk):
            for frame in framer.feed(data[at : at + chunk]):
                assert len(frame.data) <= 512
    except DecodeError:
        pass
    assert framer.buffered <= 24 + 512 + chunk


@pytest.mark.parametrize(("decoder", "data"), [
    (decode_cpf, b"\xff\xff"),
    (decode_cpf, b"\xff\xff\xb2\x00\xff\xff"),
    (decode_multiple, b"\xff\xff\x04\x00"),
    (decode_attribute_list_request, b"\xff\xff"),
    (lambda b: decode_attribute_list_reply(b, lambda a: 2), b"\xff\xff"),
    (lambda b: TYPES["DINT"].decode(b, 0, 0x7FFFFFFF), b"\x00" * 8),
    (lambda b: TYPES["STRING"].decode(b, 0, 0x7FFFFFFF), b"\x00\x00" * 4),
    (TYPES["STRING"].decode, b"\xff\xff"),
    (decode_reply, b"\xcc\x00\x00\xff"),
    (decode_request, b"\x4c\xff"),
    (decode_unconnected_send, b"\x05\x9d\xff\xff"),
    (decode_frame, b"\x6f\x00\xff\xff" + bytes(20)),
])
def test_huge_claimed_sizes_allocate_nothing_in_proportion(decoder, data):
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError):
            decoder(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024


def test_framer_never_buffers_a_claimed_but_absent_body():
    framer = Framer()  # the largest frame the protocol allows
    framer.feed(b"\x6f\x00\xff\xff" + bytes(20))
    assert framer.buffered == 24


# --- encoders: any field value either encodes or raises EncodeError --------------------------------

anyint = st.integers(-(2**40), 2**40) | st.integers(-2, 0x10001)
anytext = st.text(max_size=20)
anypath = st.lists(st.one_of(
    st.builds(Logical, st.sampled_from(["class", "instance", "element", "connection", "attribute", "bogus"]),
              anyint),
    st.builds(Port, anyint, anyint | st.sampled_from(["10.0.0.1", "::1", "nonsense"])),
    st.builds(Symbolic, anytext),
), max_size=4).map(tuple)
anyparams = st.builds(ConnectionParams, anyint, st.booleans(), anyint, anyint, st.booleans())

ENCODABLES = st.one_of(
    st.builds(Encapsulation, anyint, anyint, anyint, st.binary(max_size=9), anyint, st.binary(max_size=8)),
    st.builds(RegisterSession, anyint, anyint),
    st.builds(lambda items, i, t: SendData(tuple(items), i, t), st.lists(st.one_of(
        st.builds(ConnectedAddress, anyint), st.builds(SequencedAddress, anyint, anyint),
        st.builds(ConnectedData, anyint, st.binary(max_size=8)), st.builds(UnconnectedData, st.binary(max_size=8)),
        st.builds(SockAddr, anyint, anyint, anyint, anytext), st.builds(ServiceItem, anyint, anyint, anytext),
        st.builds(LegacyItem, anyint, anyint, anyint, anyint, anytext, anytext),
        st.builds(IdentityItem, anyint, anyint, anyint, anytext, anyint, anyint, anyint, anyint, anyint, anyint,
                  anytext, anyint),
        st.builds(UnknownItem, anyint, st.binary(max_size=8))), max_size=3), anyint, anyint),
    st.builds(Request, anyint, anypath, st.binary(max_size=8)),
    st.builds(Reply, anyint, anyint, st.lists(anyint, max_size=3).map(tuple), st.binary(max_size=8)),
    st.builds(UnconnectedSend, st.binary(max_size=8), st.none() | anypath, anyint, anyint),
    st.builds(ForwardOpen, anyint, anyint, anyint, anyint, anyint, anyint, anyparams, anyint, anyparams, anypath,
              anyint, anyint, anyint, anyint, st.booleans()),
    st.builds(ForwardOpenReply, anyint, anyint, anyint, anyint, anyint, anyint, anyint, st.binary(max_size=8)),
    st.builds(ForwardClose, anyint, anyint, anyint, anypath, anyint, anyint),
    st.builds(ForwardCloseReply, anyint, anyint, anyint, st.binary(max_size=8)),
    st.builds(ConnectionFailure, anyint, anyint, anyint, st.none() | anyint),
    st.builds(ReadTag, anyint, st.none() | anyint),
    st.builds(WriteTag, anyint, anyint, st.binary(max_size=8), st.none() | anyint, st.none() | anyint),
    st.builds(TypedData, anyint, st.binary(max_size=8), st.none() | anyint),
    st.builds(ReadModifyWrite, st.binary(max_size=9), st.binary(max_size=9)),
)


@settings(max_examples=300, deadline=None)
@given(ENCODABLES)
def test_encoders_raise_only_encode_error(message):
    try:
        wire = message.encode()
    except EncodeError:
        return
    assert isinstance(wire, bytes)


@settings(max_examples=200, deadline=None)
@given(anypath, st.booleans())
def test_path_encoder_raises_only_encode_error(path, padded):
    try:
        wire = encode_path(path, padded=padded)
    except EncodeError:
        return
    assert decode_path(wire, padded=padded) == path


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(TYPES)), st.lists(st.one_of(anyint, st.floats(), anytext, st.booleans(), st.none()),
                                                  max_size=4))
def test_type_encoders_raise_only_encode_error(name, values):
    t = TYPES[name]
    try:
        wire = t.encode(values)
    except EncodeError:
        return
    assert len(t.decode(wire)) == len(values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(anyint, anyint, st.binary(max_size=4)), max_size=3), st.lists(anyint, max_size=4))
def test_attribute_list_encoders_raise_only_encode_error(entries, attributes):
    for encode, arg in ((encode_attribute_list_reply, [AttributeValue(*e) for e in entries]),
                        (encode_attribute_list_request, attributes)):
        try:
            wire = encode(arg)
        except EncodeError:
            continue
        assert wire[:2] == len(arg).to_bytes(2, "little")
