"""The shortcuts on the simulator's hot path answer exactly as the full decode would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cpppo.cip.epath import Logical, Port, Symbolic
from cpppo.cip.message import Request, decode_multiple, decode_reply, multiple_request
from cpppo.cip.tag_services import ReadTag
from cpppo.cip.types import DINT
from cpppo.device.controller import Controller
from cpppo.device.tags import Attribute
from cpppo.enip import frames
from cpppo.enip.cpf import (
    ConnectedAddress,
    ConnectedData,
    NullAddress,
    SendData,
    UnconnectedData,
    connected_message,
    decode_send_data,
    encode_connected,
    encode_unconnected,
    unconnected_message,
)

messages = st.binary(min_size=1, max_size=300)
u16 = st.integers(0, 0xFFFF)


@given(u16, messages)
def test_unconnected_layout_matches_the_full_codec(timeout, message):
    data = encode_unconnected(timeout, message)
    assert data == SendData((NullAddress(), UnconnectedData(message)), 0, timeout).encode()
    assert unconnected_message(data) == (timeout, message)


@given(u16, st.integers(0, 0xFFFFFFFF), u16, messages)
def test_connected_layout_matches_the_full_codec(timeout, conn, sequence, message):
    data = encode_connected(timeout, conn, sequence, message)
    assert data == SendData((ConnectedAddress(conn), ConnectedData(sequence, message)), 0, timeout).encode()
    assert connected_message(data) == (timeout, conn, sequence, message)


@given(st.binary(max_size=64))
def test_other_layouts_are_left_to_the_full_codec(data):
    fast = unconnected_message(data)
    if fast is not None:  # whatever the shortcut accepts, the codec reads the same way
        send = decode_send_data(data)
        assert isinstance(send.address, NullAddress) and send.message.data == fast[1]
    fast = connected_message(data)
    if fast is not None:
        send = decode_send_data(data)
        assert send.address.connection_id == fast[1] and send.message.data == fast[3]


def read(tag: str, count: int = 1) -> bytes:
    return Request(0x4C, (Symbolic(tag),), ReadTag(count).encode()).encode()


def values(reply: bytes) -> list[int]:
    rpy = decode_reply(reply)
    assert rpy.status == 0
    return DINT.decode(rpy.data[2:])


def test_repeated_reads_see_every_change():
    c = Controller()
    x = c.add_tag("X", Attribute("X", DINT, [0] * 4)).attribute
    wrapped = frames.unconnected_send(read("X", 4), (Port(1, 0),)).encode()
    for n in range(3):
        x[0:4] = [n, n + 1, n + 2, n + 3]
        assert values(c.process(read("X", 4))) == [n, n + 1, n + 2, n + 3]
        assert values(c.process(wrapped)) == [n, n + 1, n + 2, n + 3]
    x.error = 0x0C  # an attribute that fails now fails its repeated reads too
    assert decode_reply(c.process(read("X", 4))).status == 0x0C
    x.error = 0
    seen = []
    c.observers.append(seen.append)  # and recorded I/O still sees repeated reads
    c.process(read("X", 4))
    c.process(read("X", 4))
    assert [e.kind for e in seen] == ["read", "read"]


def test_a_bundle_of_reads_is_not_answered_by_one_read():
    c = Controller()
    a = c.add_tag("A", Attribute("A", DINT, 1)).attribute
    c.add_tag("B", Attribute("B", DINT, 2))
    bundle = multiple_request((Logical("class", 2), Logical("instance", 1)),
                              [Request(0x4C, (Symbolic("A"),), ReadTag(1).encode()),
                               Request(0x4C, (Symbolic("B"),), ReadTag(1).encode())]).encode()
    for expect in (1, 5):
        a[0] = expect
        rpy = decode_reply(c.process(bundle))
        parts = [values(rpy.data[lo:hi]) for lo, hi in decode_multiple(rpy.data)]
        assert parts == [[expect], [2]]


def test_a_smaller_reply_limit_is_not_answered_from_a_larger_one():
    c = Controller()
    c.add_tag("BIG", Attribute("BIG", DINT, list(range(200))))
    whole = c.process(read("BIG", 200), limit=4000)
    assert decode_reply(whole).status == 0
    part = decode_reply(c.process(read("BIG", 200), limit=100))
    assert part.status == 0x06 and len(part.data) < 100


def test_a_bundle_with_a_write_or_an_error_is_processed_every_time():
    from cpppo.cip.tag_services import WriteTag

    c = Controller()
    a = c.add_tag("A", Attribute("A", DINT, 1)).attribute
    router = (Logical("class", 2), Logical("instance", 1))
    write = Request(0x4D, (Symbolic("A"),), WriteTag(0xC4, 1, DINT.encode([9])).encode())
    with_write = multiple_request(router, [Request(0x4C, (Symbolic("A"),), ReadTag(1).encode()), write]).encode()
    with_error = multiple_request(router, [Request(0x4C, (Symbolic("A"),), ReadTag(1).encode()),
                                           Request(0x4C, (Symbolic("NOPE"),), ReadTag(1).encode())]).encode()
    for _ in range(2):
        a[0] = 1
        rpy = decode_reply(c.process(with_write))
        assert rpy.status == 0 and a[0] == 9  # the write is done again each time
        rpy = decode_reply(c.process(with_error))
        assert rpy.status == 0x1E
        first, second = (decode_reply(rpy.data[lo:hi]) for lo, hi in decode_multiple(rpy.data))
        assert DINT.decode(first.data[2:]) == [9] and second.status == 0x04
