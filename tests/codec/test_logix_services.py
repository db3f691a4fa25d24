"""Logix tag services and the attribute services, request and reply data both ways."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpppo.cip.epath import Logical, Symbolic
from cpppo.cip.message import Reply, Request, decode_reply, decode_request
from cpppo.cip.services import CommonService, LogixService
from cpppo.cip.status import GeneralStatus
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
from cpppo.cip.types import STRUCTURE, TYPES, TypeCode
from cpppo.errors import DecodeError, EncodeError


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


TAG = (Symbolic("SCADA"), Logical("element", 12))


def test_read_tag_request_and_reply():
    req = Request(LogixService.READ_TAG, TAG, ReadTag(2).encode())
    wire = h("4c 05 9105 5343414441 00 280c 0200")
    assert req.encode() == wire
    back = decode_request(wire)
    assert decode_read_tag(back.data, fragmented=False) == ReadTag(2)
    rpy = Reply(LogixService.READ_TAG, data=TypedData(TypeCode.DINT, TYPES["DINT"].encode([1, -1])).encode())
    wire = h("cc 00 00 00 c400 01000000 ffffffff")
    assert rpy.encode() == wire
    typed = decode_typed_data(decode_reply(wire).data)
    assert typed == TypedData(0xC4, h("01000000 ffffffff"))
    assert TYPES["DINT"].decode(typed.data) == [1, -1]


def test_read_tag_fragmented_request_and_partial_reply():
    req = ReadTag(20, 2)
    assert req.encode() == h("1400 02000000")
    assert decode_read_tag(h("1400 02000000"), fragmented=True) == req
    wire = h("d2 00 06 00 a002 f98d 6f000000")
    rpy = decode_reply(wire)
    assert rpy.status == GeneralStatus.PARTIAL_TRANSFER and rpy.status_text == "partial transfer"
    typed = decode_typed_data(rpy.data)
    assert typed == TypedData(STRUCTURE, h("6f000000"), 0x8DF9)
    assert Reply(0x52, 0x06, (), typed.encode()).encode() == wire


def test_write_tag_both_ways():
    wt = WriteTag(TypeCode.INT, 1, h("c940"))
    assert wt.encode() == h("c300 0100 c940")
    assert decode_write_tag(h("c300 0100 c940"), fragmented=False) == wt
    udt = WriteTag(STRUCTURE, 1, b"\xff", handle=0x8899)
    assert udt.encode() == h("a002 9988 0100 ff")
    assert decode_write_tag(h("a002 9988 0100 ff"), fragmented=False) == udt


def test_write_tag_fragmented_both_ways():
    wf = WriteTag(TypeCode.INT, 1, h("c940"), offset=0)
    wire = h("c300 0100 00000000 c940")
    assert wf.encode() == wire
    assert decode_write_tag(wire, fragmented=True) == wf
    udt = WriteTag(STRUCTURE, 1, b"\xff", offset=2, handle=0x8899)
    assert udt.encode() == h("a002 9988 0100 02000000 ff")
    assert decode_write_tag(udt.encode(), fragmented=True) == udt
    assert Reply(LogixService.WRITE_TAG_FRAGMENTED).encode() == h("d3 00 00 00")


def test_read_modify_write():
    rmw = ReadModifyWrite(h("01"), h("fe"))
    assert rmw.encode() == h("0100 01 fe")
    assert decode_read_modify_write(h("0100 01 fe")) == rmw
    rmw4 = ReadModifyWrite(h("00000080"), h("ffffff7f"))
    assert decode_read_modify_write(rmw4.encode()) == rmw4


def test_get_attribute_list():
    assert encode_attribute_list_request([1, 2, 3]) == h("0300 0100 0200 0300")
    assert decode_attribute_list_request(h("0300 0100 0200 0300")) == [1, 2, 3]
    entries = [AttributeValue(1, 0, h("0100")), AttributeValue(2, 0x14), AttributeValue(7, 0, h("01020304"))]
    wire = encode_attribute_list_reply(entries)
    assert wire == h("0300 0100 0000 0100 0200 1400 0700 0000 01020304")
    sizes = {1: 2, 7: 4}
    assert decode_attribute_list_reply(wire, sizes.get) == entries
    # an attribute of unknown size takes the rest of the data
    assert decode_attribute_list_reply(h("0100 0500 0000 abcdef"), lambda a: None) == [
        AttributeValue(5, 0, h("abcdef"))]


def test_attribute_services_as_messages():
    path = (Logical("class", 0x93), Logical("instance", 11), Logical("attribute", 10))
    gas = Request(CommonService.GET_ATTRIBUTE_SINGLE, path)
    assert gas.encode() == h("0e 03 2093 240b 300a")
    assert decode_reply(h("8e 00 00 00 0ad7a33d")).data == TYPES["REAL"].encode([0.08])
    sas = Request(CommonService.SET_ATTRIBUTE_SINGLE, path, TYPES["REAL"].encode([1.5]))
    assert decode_request(sas.encode()) == sas
    assert sas.encode()[0] == 0x10
    assert Reply(CommonService.SET_ATTRIBUTE_SINGLE).encode() == h("90 00 00 00")
    gaa = Request(CommonService.GET_ATTRIBUTES_ALL, (Logical("class", 1), Logical("instance", 1)))
    assert gaa.encode() == h("01 02 2001 2401")
    gal = Request(CommonService.GET_ATTRIBUTE_LIST, (Logical("class", 0xAC), Logical("instance", 1)),
                  encode_attribute_list_request([1, 3]))
    assert gal.encode() == h("03 02 20ac 2401 0200 0100 0300")


@pytest.mark.parametrize(("decoder", "wire"), [
    (lambda b: decode_read_tag(b, False), ""),
    (lambda b: decode_read_tag(b, False), "01"),
    (lambda b: decode_read_tag(b, True), "0100 000000"),
    (lambda b: decode_write_tag(b, False), "c3"),
    (lambda b: decode_write_tag(b, False), "c300 01"),
    (lambda b: decode_write_tag(b, True), "c300 0100 000000"),
    (lambda b: decode_write_tag(b, False), "a002 99"),
    (decode_typed_data, ""),
    (decode_typed_data, "a002"),
    (decode_read_modify_write, "01"),
    (decode_read_modify_write, "0000"),
    (decode_read_modify_write, "0900" + "00" * 18),
    (decode_read_modify_write, "0200 0102 03"),
    (decode_attribute_list_request, "01"),
    (decode_attribute_list_request, "0300 0100 0200"),
    (decode_attribute_list_request, "ffff"),
])
def test_truncated_service_data(decoder, wire):
    with pytest.raises(DecodeError):
        decoder(h(wire))


@pytest.mark.parametrize(("decoder", "wire"), [
    (lambda b: decode_read_tag(b, False), "0100 00"),
    (lambda b: decode_read_tag(b, True), "0100 00000000 00"),
    (decode_read_modify_write, "0100 01 fe 00"),
    (decode_attribute_list_request, "0100 0100 ff"),
])
def test_over_long_request_data_is_too_much_data(decoder, wire):
    with pytest.raises(DecodeError) as info:
        decoder(h(wire))
    assert info.value.status == GeneralStatus.TOO_MUCH_DATA
    assert info.value.offset == len(h(wire)) - 1


@pytest.mark.parametrize("wire", ["", "01", "0100 0100", "0100 0100 0000 01", "0100 0100 0000 0100 ff",
                                  "0200 0100 0800"])
def test_malformed_attribute_list_replies(wire):
    with pytest.raises(DecodeError):
        decode_attribute_list_reply(h(wire), lambda a: 2)


@pytest.mark.parametrize("make", [
    lambda: ReadTag(0x10000).encode(), lambda: ReadTag(1, 1 << 32).encode(), lambda: ReadTag(-1, 0).encode(),
    lambda: WriteTag(0xC3, 0x10000, b"").encode(), lambda: WriteTag(0xC3, 1, b"", -1).encode(),
    lambda: WriteTag(STRUCTURE, 1, b"").encode(), lambda: WriteTag(0x10000, 1, b"").encode(),
    lambda: TypedData(STRUCTURE, b"").encode(), lambda: ReadModifyWrite(b"\x01", b"").encode(),
    lambda: ReadModifyWrite(bytes(9), bytes(9)).encode(), lambda: encode_attribute_list_request([0x10000]),
    lambda: encode_attribute_list_reply([AttributeValue(0x10000, 0)]),
    lambda: encode_attribute_list_reply([AttributeValue(1, -1)]),
])
def test_unencodable_service_data(make):
    with pytest.raises(EncodeError):
        make()


u16, u32 = st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)
type_words = st.one_of(st.tuples(st.sampled_from([t.code for t in TYPES.values()]), st.none()),
                       st.tuples(st.just(STRUCTURE), u16))


@settings(max_examples=250, deadline=None)
@given(u16, st.none() | u32)
def test_read_tag_round_trip(count, offset):
    rt = ReadTag(count, offset)
    assert decode_read_tag(rt.encode(), fragmented=offset is not None) == rt


@settings(max_examples=250, deadline=None)
@given(type_words, u16, st.binary(max_size=30), st.none() | u32)
def test_write_tag_round_trip(type_word, count, data, offset):
    wt = WriteTag(type_word[0], count, data, offset, type_word[1])
    assert decode_write_tag(wt.encode(), fragmented=offset is not None) == wt


@settings(max_examples=250, deadline=None)
@given(type_words, st.binary(max_size=30))
def test_typed_data_round_trip(type_word, data):
    td = TypedData(type_word[0], data, type_word[1])
    assert decode_typed_data(td.encode()) == td


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(st.binary(min_size=n, max_size=n),
                                                     st.binary(min_size=n, max_size=n))))
def test_read_modify_write_round_trip(masks):
    rmw = ReadModifyWrite(*masks)
    assert decode_read_modify_write(rmw.encode()) == rmw


@settings(max_examples=200, deadline=None)
@given(st.lists(u16, max_size=10), st.lists(st.tuples(u16, st.booleans()), max_size=8))
def test_attribute_list_round_trip(attrs, entries):
    assert decode_attribute_list_request(encode_attribute_list_request(attrs)) == attrs
    values = [AttributeValue(a, 0, a.to_bytes(2, "little")) if ok else AttributeValue(a, 0x14)
              for a, ok in entries]
    assert decode_attribute_list_reply(encode_attribute_list_reply(values), lambda a: 2) == values
