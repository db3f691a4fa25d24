"""Common Packet Format items, item lists, and SendRRData/SendUnitData data."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpppo.enip.cpf import (
    ConnectedAddress,
    ConnectedData,
    IdentityItem,
    ItemType,
    LegacyItem,
    NullAddress,
    SendData,
    SequencedAddress,
    ServiceItem,
    SockAddr,
    UnconnectedData,
    UnknownItem,
    decode_cpf,
    decode_send_data,
    encode_cpf,
)
from cpppo.enip.encapsulation import Command, EncapStatus, Encapsulation, decode_frame
from cpppo.errors import DecodeError, EncodeError


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# (item, its type id + length + body on the wire)
ITEMS = [
    (NullAddress(), "0000 0000"),
    (ConnectedAddress(0x8DEE0016), "a100 0400 1600ee8d"),
    (SequencedAddress(0x01020304, 0x0A0B0C0D), "0280 0800 04030201 0d0c0b0a"),
    (UnconnectedData(b"\x0e\x03\x20\x01\x24\x01\x30\x07"), "b200 0800 0e03200124013007"),
    (UnconnectedData(b""), "b200 0000"),
    (ConnectedData(0x1234, b"\x4c\x02\x20\x01"), "b100 0600 3412 4c022001"),
    (ConnectedData(0, b""), "b100 0200 0000"),
    (SockAddr(ItemType.SOCKADDR_O_T, 2, 0x08AE, "224.0.1.1"), "0080 1000 0002 08ae e0000101 0000000000000000"),
    (SockAddr(ItemType.SOCKADDR_T_O, 2, 2222, "192.168.1.2"), "0180 1000 0002 08ae c0a80102 0000000000000000"),
    (ServiceItem(1, 0x0120, "Communications"),
     "0001 1400 0100 2001 436f6d6d756e69636174696f6e730000"),
    (LegacyItem(1, 0, 2, 44818, "192.168.5.253", "192.168.5.253"),
     "0100 2400 0100 0000 0002 af12 c0a805fd 0000000000000000 3139322e3136382e352e323533000000"),
    (IdentityItem(1, 2, 44818, "10.161.1.3", 1, 14, 149, 0x0B1B, 48, 3223204702, "1769-L24ER-QB1B/A LOGIX5324ER", 3),
     "0c00 3f00 0100 0002 af12 0aa10103 0000000000000000 0100 0e00 9500 1b0b 3000 5e331ec0 1d"
     "313736392d4c323445522d514231422f41204c4f47495835333234455203"),
    (UnknownItem(0x1234, b"\x01\x02"), "3412 0200 0102"),
]


@pytest.mark.parametrize(("item", "wire"), ITEMS)
def test_item_both_ways(item, wire):
    listed = b"\x01\x00" + h(wire)
    assert encode_cpf([item]) == listed
    assert decode_cpf(listed) == ([item], len(listed))


def test_item_type_ids():
    assert {t.name: t.value for t in ItemType} == {
        "NULL_ADDRESS": 0x0000, "LEGACY_0001": 0x0001, "LIST_IDENTITY": 0x000C, "CONNECTED_ADDRESS": 0x00A1,
        "CONNECTED_DATA": 0x00B1, "UNCONNECTED_DATA": 0x00B2, "LIST_SERVICES": 0x0100,
        "SOCKADDR_O_T": 0x8000, "SOCKADDR_T_O": 0x8001, "SEQUENCED_ADDRESS": 0x8002}


def test_list_of_several_items_and_the_empty_list():
    items = [ConnectedAddress(7), ConnectedData(3, b"abc"), SockAddr(0x8001, sin_addr="10.0.0.1")]
    wire = encode_cpf(items)
    assert wire[:2] == b"\x03\x00"
    assert decode_cpf(wire) == (items, len(wire))
    assert encode_cpf([]) == b"\x00\x00"
    assert decode_cpf(b"\x00\x00") == ([], 2)


def test_decode_at_an_offset_and_not_exact():
    wire = b"junk" + encode_cpf([NullAddress()]) + b"more"
    assert decode_cpf(wire, 4, exact=False) == ([NullAddress()], 4 + 6)
    with pytest.raises(DecodeError) as info:
        decode_cpf(wire, 4)
    assert info.value.offset == 10


# Worked examples: List Identity replies as the documentation prints them (the item length too).
DOC_IDENTITIES = [
    (58, dict(sin_addr="192.168.1.5", status_word=48, vendor_id=1, product_name="1769-L18ER/A LOGIX5318ER",
              sin_port=44818, state=3, version=1, device_type=14, sin_family=2, serial_number=1615052645,
              product_code=154, product_revision=2837)),
    (63, dict(sin_addr="192.168.1.4", status_word=48, vendor_id=1, product_name="1769-L23E-QBFC1 Ethernet Port",
              sin_port=44818, state=3, version=1, device_type=12, sin_family=2, serial_number=3223288659,
              product_code=191, product_revision=3092)),
    (53, dict(sin_addr="192.168.1.3", status_word=4, vendor_id=1, product_name="1766-L32BXBA A/7.00",
              sin_port=44818, state=0, version=1, device_type=14, sin_family=2, serial_number=1078923367,
              product_code=90, product_revision=1793)),
    (52, dict(sin_addr="192.168.1.2", status_word=4, vendor_id=1, product_name="1763-L16DWD B/7.00",
              sin_port=44818, state=0, version=1, device_type=12, sin_family=2, serial_number=1929488436,
              product_code=185, product_revision=1794)),
    # the List Identity part of the documented list_services output (a 1756-L61 at 192.168.0.201)
    (54, dict(sin_addr="192.168.0.201", status_word=12640, vendor_id=1, product_name="1756-L61/C LOGIX5561",
              sin_port=44818, state=255, version=1, device_type=14, sin_family=2, serial_number=7079450,
              product_code=54, product_revision=2836)),
]


@pytest.mark.parametrize(("length", "fields"), DOC_IDENTITIES)
def test_documented_list_identity_replies(length, fields):
    item = IdentityItem(**fields)
    wire = encode_cpf([item])
    count, type_id, item_length = struct.unpack_from("<HHH", wire)
    assert (count, type_id, item_length) == (1, 12, length)
    (back,), _ = decode_cpf(wire)
    assert back == item
    assert {k: getattr(back, k) for k in fields} == fields
    # sin_* are network order, the identity fields little-endian
    assert wire[8:10] == b"\x00\x02" and wire[10:12] == (44818).to_bytes(2, "big")
    assert wire[30:32] == fields["product_revision"].to_bytes(2, "little")


def test_identity_revision_is_major_minor():
    assert IdentityItem(product_revision=2837).revision == (21, 11)


def test_identity_trailing_bytes_are_ignored_but_a_long_name_is_an_error():
    item = IdentityItem(product_name="ABC")
    body = item.payload()
    (back,), _ = decode_cpf(struct.pack("<HHH", 1, 12, len(body) + 2) + body + b"\x01\x02")
    assert back == item
    short = struct.pack("<HHH", 1, 12, len(body) - 1) + body[:-1]  # the state byte missing
    with pytest.raises(DecodeError):
        decode_cpf(short)
    with pytest.raises(DecodeError):
        decode_cpf(struct.pack("<HHH", 1, 12, 10) + body[:10])


def test_documented_list_services_reply():
    """The documented list_services output: enip.length 25, one item 0x0100 of length 19, capability
    288, "Communications".  Its device sends the name in 15 bytes; the encoder writes the 16-byte
    field of the CIP specification (item length 20), which decodes to the same item."""
    data = b"\x01\x00\x00\x01\x13\x00\x01\x00 \x01Communications\x00"
    frame = Encapsulation(Command.LIST_SERVICES, data=data).encode()
    assert struct.unpack_from("<H", frame, 2)[0] == 25
    items, _ = decode_cpf(decode_frame(frame).data)
    assert items == [ServiceItem(version=1, capability=288, name="Communications")]
    again = encode_cpf(items)
    assert struct.unpack_from("<H", again, 4)[0] == 20
    assert decode_cpf(again)[0] == items


def test_documented_write_tag_fragmented_reply_frame():
    """The documented client reply: enip.length 20, CPF count 2, a null address item and a
    0xB2 item of 4 bytes holding '\\xd3\\x00\\x00\\x00' (service 211, Write Tag Fragmented, status 0)."""
    send = SendData((NullAddress(), UnconnectedData(b"\xd3\x00\x00\x00")))
    frame = Encapsulation(Command.SEND_RR_DATA, session=297965756, data=send.encode())
    wire = frame.encode()
    assert struct.unpack_from("<HH", wire) == (111, 20)
    back = decode_send_data(decode_frame(wire).data)
    assert (back.interface, back.timeout, len(back.items)) == (0, 0, 2)
    assert [item.type_id for item in back.items] == [0, 178]
    assert back.message.data == b"\xd3\x00\x00\x00"


def test_service_item_with_trimmed_name_padding():
    body = h("0100 2000 436f6d6d756e69636174696f6e7300")  # 19 bytes, as devices send it
    assert decode_cpf(struct.pack("<HHH", 1, 0x100, len(body)) + body)[0] == [ServiceItem(1, 0x20, "Communications")]


@pytest.mark.parametrize(("type_id", "body", "what"), [
    (0x0000, b"\x00", "null address"),
    (0x00A1, b"\x01\x02\x03", "connected address"),
    (0x00A1, b"\x01\x02\x03\x04\x05", "connected address"),
    (0x00B1, b"\x01", "sequence count"),
    (0x8002, bytes(7), "sequenced address"),
    (0x8000, bytes(15), "socket address"),
    (0x8001, bytes(17), "socket address"),
    (0x0100, bytes(3), "List Services"),
    (0x0100, bytes(21), "List Services"),
    (0x0001, bytes(35), "legacy"),
    (0x000C, bytes(32), "List Identity"),
])
def test_malformed_item_bodies(type_id, body, what):
    wire = struct.pack("<HHHH", 0, 1, type_id, len(body)) + body  # after 2 junk bytes
    with pytest.raises(DecodeError) as info:
        decode_cpf(wire, 2)
    assert what in info.value.what
    assert info.value.status == EncapStatus.INCORRECT_DATA
    assert info.value.offset >= 2 + 6  # within (after the header of) the item


@pytest.mark.parametrize("wire", [
    b"", b"\x01", b"\x01\x00", b"\x01\x00\xb2\x00\x05", b"\x01\x00\xb2\x00\x05\x00abcd",
    b"\x02\x00\x00\x00\x00\x00", b"\xff\xff\x00\x00\x00\x00",
])
def test_truncated_lists(wire):
    with pytest.raises(DecodeError):
        decode_cpf(wire)


def test_trailing_bytes_after_the_last_item():
    with pytest.raises(DecodeError) as info:
        decode_cpf(b"\x00\x00\x00")
    assert info.value.offset == 2


@pytest.mark.parametrize("item", [
    ConnectedAddress(1 << 32), ConnectedAddress(-1), ConnectedData(0x10000, b""), SequencedAddress(1, 1 << 32),
    SockAddr(0x8000, sin_family=0x10000), SockAddr(0x8000, sin_port=-1), SockAddr(0x8000, sin_addr="1.2.3"),
    SockAddr(0x8000, sin_addr="::1"), ServiceItem(0x10000), ServiceItem(name="sixteen chars!!!"),
    ServiceItem(name="\u20ac"), LegacyItem(unknown_1=-1), LegacyItem(ip_address="x" * 17),
    LegacyItem(ip_address="\u20ac"), IdentityItem(vendor_id=0x10000), IdentityItem(product_name="x" * 256),
    IdentityItem(product_name="\u20ac"), IdentityItem(state=256), IdentityItem(sin_addr="host"),
    UnconnectedData(bytes(0x10000)), UnknownItem(0x10000), UnknownItem(-1),
])
def test_unencodable_items_raise_encode_error(item):
    with pytest.raises(EncodeError):
        encode_cpf([item])


def test_send_data_unconnected_and_connected():
    unconnected = SendData((NullAddress(), UnconnectedData(b"\x01\x02")), 0, 5)
    wire = h("00000000 0500 0200 0000 0000 b200 0200 0102")
    assert unconnected.encode() == wire
    back = decode_send_data(wire)
    assert back == unconnected
    assert back.address == NullAddress() and back.message == UnconnectedData(b"\x01\x02")
    connected = SendData((ConnectedAddress(0x11223344), ConnectedData(9, b"\xcc\x00\x00\x00")))
    wire = h("00000000 0000 0200 a100 0400 44332211 b100 0600 0900 cc000000")
    assert connected.encode() == wire
    assert decode_send_data(wire).message == ConnectedData(9, b"\xcc\x00\x00\x00")
    assert SendData(()).address is None and SendData((NullAddress(),)).message is None


def test_send_data_errors():
    with pytest.raises(DecodeError) as info:
        decode_send_data(b"\0" * 5)
    assert info.value.status == EncapStatus.INVALID_LENGTH
    with pytest.raises(DecodeError):
        decode_send_data(b"\0" * 6)  # no item count
    for send in (SendData((), interface=1 << 32), SendData((), timeout=-1)):
        with pytest.raises(EncodeError):
            send.encode()


ipv4 = st.ip_addresses(v=4).map(str)
u16, u32 = st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)
items = st.one_of(
    st.just(NullAddress()),
    st.builds(ConnectedAddress, u32),
    st.builds(SequencedAddress, u32, u32),
    st.builds(UnconnectedData, st.binary(max_size=40)),
    st.builds(ConnectedData, u16, st.binary(max_size=40)),
    st.builds(SockAddr, st.sampled_from([0x8000, 0x8001]), st.integers(-0x8000, 0x7FFF), u16, ipv4),
    st.builds(ServiceItem, u16, u16, st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=15)),
    st.builds(LegacyItem, u16, u16, st.integers(-0x8000, 0x7FFF), u16, ipv4,
              st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=16)),
    st.builds(IdentityItem, u16, st.integers(-0x8000, 0x7FFF), u16, ipv4, u16, u16, u16, u16, u16, u32,
              st.text(st.characters(max_codepoint=255), max_size=40), st.integers(0, 255)),
    st.builds(UnknownItem, st.integers(0x0002, 0x000B) | st.integers(0x0200, 0x7FFF), st.binary(max_size=20)),
)


@settings(max_examples=250, deadline=None)
@given(st.lists(items, max_size=5))
def test_cpf_round_trip(item_list):
    wire = encode_cpf(item_list)
    assert decode_cpf(wire) == (item_list, len(wire))


@settings(max_examples=200, deadline=None)
@given(st.lists(items, max_size=3), u32, u16)
def test_send_data_round_trip(item_list, interface, timeout):
    send = SendData(tuple(item_list), interface, timeout)
    assert decode_send_data(send.encode()) == send


def test_a_truncated_identity_item_reports_its_absolute_offset_in_the_message_too():
    good = encode_cpf([IdentityItem(product_name="abc")])
    bad = good[:2] + struct.pack("<HH", ItemType.LIST_IDENTITY, 20) + good[6:26]
    with pytest.raises(DecodeError) as info:
        decode_cpf(bad)
    assert info.value.offset == 26  # the item's data starts at byte 6 and has 20 bytes
    assert str(info.value).endswith("(at byte 26)")
