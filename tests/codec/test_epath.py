"""EPATH: logical, port and symbolic segments, padded and unpadded, the JSON form, route paths."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpppo.cip.epath import (
    LOGICAL_KINDS,
    Logical,
    Port,
    Symbolic,
    decode_path,
    encode_path,
    parse_route_path,
    path_from_json,
    path_to_json,
)
from cpppo.cip.status import GeneralStatus
from cpppo.errors import DecodeError, EncodeError


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# (segment, padded bytes, unpadded bytes)
SEGMENTS = [
    (Logical("class", 2), "2002", "2002"),
    (Logical("class", 0xFF), "20ff", "20ff"),
    (Logical("class", 0x100), "2100 0001", "21 0001"),
    (Logical("class", 0xFFFF), "2100 ffff", "21 ffff"),
    (Logical("instance", 1), "2401", "2401"),
    (Logical("instance", 0x1234), "2500 3412", "25 3412"),
    (Logical("instance", 0x12345678), "2600 78563412", "26 78563412"),
    (Logical("element", 3), "2803", "2803"),
    (Logical("element", 0x0201), "2900 0102", "29 0102"),
    (Logical("element", 0x04030201), "2a00 01020304", "2a 01020304"),
    (Logical("connection", 100), "2c64", "2c64"),
    (Logical("connection", 0x0300), "2d00 0003", "2d 0003"),
    (Logical("connection", 0x10000), "2e00 00000100", "2e 00000100"),
    (Logical("attribute", 7), "3007", "3007"),
    (Logical("attribute", 0x0231), "3100 3102", "31 3102"),
    (Port(1, 0), "0100", "0100"),
    (Port(14, 5), "0e05", "0e05"),
    (Port(15, 1), "0f 0f00 01", "0f 0f00 01"),
    (Port(0x0201, 0x99), "0f 0102 99", "0f 0102 99"),
    (Port(16, "1.2.3.4"), "1f 07 1000 312e322e332e34 00", "1f 07 1000 312e322e332e34 00"),
    (Port(2, "10.0.0.1"), "12 08 31302e302e302e31", "12 08 31302e302e302e31"),
    (Port(2, "1.2.3.4"), "12 07 312e322e332e34 00", "12 07 312e322e332e34 00"),
    (Port(2, "192.168.1.2"), "12 0b 3139322e3136382e312e32 00", "12 0b 3139322e3136382e312e32 00"),
    (Port(259, "130.151.137.105"), "1f 0f 0301 3133302e3135312e3133372e313035 00",
     "1f 0f 0301 3133302e3135312e3133372e313035 00"),
    (Symbolic("Tag"), "91 03 546167 00", "91 03 546167 00"),
    (Symbolic("ab"), "91 02 6162", "91 02 6162"),
    (Symbolic("x" * 255), "91 ff" + "78" * 255 + "00", "91 ff" + "78" * 255 + "00"),
]


@pytest.mark.parametrize(("seg", "padded", "unpadded"), SEGMENTS)
def test_segment_both_ways(seg, padded, unpadded):
    assert encode_path([seg]) == h(padded)
    assert decode_path(h(padded)) == (seg,)
    assert encode_path([seg], padded=False) == h(unpadded)
    assert decode_path(h(unpadded), padded=False) == (seg,)


def test_logical_segment_type_codes():
    assert LOGICAL_KINDS == {"class": 0x20, "instance": 0x24, "element": 0x28, "connection": 0x2C,
                             "attribute": 0x30}


def test_a_whole_path_padded_and_unpadded():
    path = (Port(1, 0), Logical("class", 0x6B), Logical("instance", 0x1234), Symbolic("Tag"),
            Logical("element", 3), Logical("attribute", 0x100))
    padded = h("0100 206b 2500 3412 9103 546167 00 2803 3100 0001")
    unpadded = h("0100 206b 25 3412 9103 546167 00 2803 31 0001")
    assert encode_path(path) == padded
    assert encode_path(path, padded=False) == unpadded
    assert decode_path(padded) == path
    assert decode_path(unpadded, padded=False) == path


def test_decode_a_slice_of_a_buffer():
    buf = h("ffff 2002 2401 ffff")
    assert decode_path(buf, 2, 6) == (Logical("class", 2), Logical("instance", 1))
    assert decode_path(buf, 2, 2) == ()
    assert decode_path(memoryview(buf), 2, 6) == (Logical("class", 2), Logical("instance", 1))


def test_sixteen_bit_forms_of_small_values_decode():
    assert decode_path(h("2100 0200 2500 0100")) == (Logical("class", 2), Logical("instance", 1))


@pytest.mark.parametrize(("wire", "offset"), [
    ("20", 0),            # class without its value
    ("2100 01", 0),       # 16-bit value truncated
    ("2600 010203", 0),   # 32-bit value truncated
    ("2002 24", 2),       # second segment truncated
    ("23 00", 0),         # logical format 3 is reserved
    ("3400", 0),          # logical type 0x34 (special) is not supported
    ("3800", 0),          # service id segment
    ("00", 0), ("10", 0), ("40 00", 0), ("80 00", 0), ("e0 00", 0),
    ("91", 0),            # symbolic without its length
    ("91 00", 0),         # empty symbol
    ("91 05 4142", 0),    # symbol truncated
    ("91 03 414243", 5),  # pad byte of an odd symbol missing
    ("91 02 41ff", 0),    # not ASCII
    ("01", 1),            # port without its link
    ("0f 01", 1),         # extended port number truncated
    ("0f 0000 01 00", 0), # port 0
    ("12", 1),            # link size missing
    ("12 08 3130", 2),    # link address truncated
    ("12 07 312e322e332e34", 10),  # pad missing after a 7-byte link
    ("12 02 fffe", 2),    # link address not text
])
def test_malformed_paths(wire, offset):
    with pytest.raises(DecodeError) as info:
        decode_path(h(wire))
    assert info.value.status == GeneralStatus.PATH_SEGMENT_ERROR
    assert info.value.offset == offset


def test_path_end_past_the_buffer():
    with pytest.raises(DecodeError):
        decode_path(h("2002"), 0, 4)


@pytest.mark.parametrize("seg", [
    Logical("member", 1), Logical("class", -1), Logical("class", 0x10000), Logical("attribute", 0x10000),
    Logical("instance", 1 << 32), Logical("class", True), Logical("class", 1.0),
    Port(0, 1), Port(0x10000, 1), Port(1, 256), Port(1, -1), Port(1, "backplane"), Port(1, True), Port(1, None),
    Port(True, 1), Symbolic(""), Symbolic("x" * 256), Symbolic("T\u00e4g"), "Tag", {"class": 1},
])
def test_unencodable_segments(seg):
    with pytest.raises(EncodeError):
        encode_path([seg])


# The JSON/dict form, as documented
JSON_CASES = [
    ([{"class": 2}, {"instance": 1}, {"attribute": 7}],
     (Logical("class", 2), Logical("instance", 1), Logical("attribute", 7))),
    ([{"symbolic": "Tag"}, {"element": 3}], (Symbolic("Tag"), Logical("element", 3))),
    ([{"port": 1, "link": 0}], (Port(1, 0),)),
    ([{"port": 2, "link": "192.168.1.2"}], (Port(2, "192.168.1.2"),)),
    ([{"class": 4}, {"instance": 5}, {"connection": 100}],
     (Logical("class", 4), Logical("instance", 5), Logical("connection", 100))),
]


@pytest.mark.parametrize(("obj", "path"), JSON_CASES)
def test_json_form_both_ways(obj, path):
    assert path_from_json(obj) == path
    assert path_from_json(json.dumps(obj)) == path
    assert path_to_json(path) == obj
    assert json.loads(json.dumps(path_to_json(path))) == obj


def test_json_single_segment_without_the_list():
    assert path_from_json({"symbolic": "Tag"}) == (Symbolic("Tag"),)
    assert path_from_json('{"element": 3}') == (Logical("element", 3),)
    assert path_from_json([]) == ()


@pytest.mark.parametrize("obj", [
    "[{", "3", 3, [3], [{"clas": 1}], [{"class": "1"}], [{"class": True}], [{"class": 1, "instance": 1}],
    [{"symbolic": 1}], [{"port": 1}], [{"link": 1}], [{}],
])
def test_json_form_errors(obj):
    with pytest.raises(EncodeError):
        path_from_json(obj)


# Route paths, in every form the documentation shows
ROUTE_PATHS = [
    ('[{"port": 1, "link": 0}]', (Port(1, 0),)),
    ('{"port": 1, "link": 0}', (Port(1, 0),)),
    ("1/0", (Port(1, 0),)),
    ('[{"port": 2, "link": "192.168.1.2"}]', (Port(2, "192.168.1.2"),)),
    ("2/192.168.1.2", (Port(2, "192.168.1.2"),)),
    ("1/0/2/192.168.1.2", (Port(1, 0), Port(2, "192.168.1.2"))),
    ('["1/3",{"port":2,"link":"1.2.3.4"}]', (Port(1, 3), Port(2, "1.2.3.4"))),
    ('["1/3","2/1.2.3.4"]', (Port(1, 3), Port(2, "1.2.3.4"))),
    (["1/3", {"port": 2, "link": "1.2.3.4"}], (Port(1, 3), Port(2, "1.2.3.4"))),
    ([{"port": 1, "link": 0}], (Port(1, 0),)),
    ({"port": 1, "link": 0}, (Port(1, 0),)),
    ("0x10/0x0f", (Port(16, 15),)),
    ("  1/0  ", (Port(1, 0),)),
    ("[]", ()),
]


@pytest.mark.parametrize(("value", "path"), ROUTE_PATHS)
def test_route_path_forms(value, path):
    assert parse_route_path(value) == path


@pytest.mark.parametrize("value", ["false", "False", "0", "none", "", False, 0, None])
def test_no_route_path(value):
    assert parse_route_path(value) is None


@pytest.mark.parametrize("value", [
    '[{"port": 1, "link": 0]',  # the documentation's own typo: not JSON
    "1", "1/0/2", "x/0", "1/backplane", "0/1", "1/256", "70000/1",
    '[{"class": 2}]', [{"symbolic": "Tag"}], ["1/0", "2"], ["1/0", "[]"], ["0"], 1,
])
def test_route_path_errors(value):
    with pytest.raises(EncodeError):
        parse_route_path(value)


def test_route_path_encodes_as_ports():
    assert encode_path(parse_route_path("1/0/2/192.168.1.2")) == h("0100 12 0b 3139322e3136382e312e32 00")


ipv4 = st.ip_addresses(v=4).map(str)
logical = st.one_of(
    st.builds(Logical, st.sampled_from(["class", "attribute"]), st.integers(0, 0xFFFF)),
    st.builds(Logical, st.sampled_from(["instance", "element", "connection"]), st.integers(0, 0xFFFFFFFF)),
)
port = st.builds(Port, st.integers(1, 0xFFFF), st.integers(0, 255) | ipv4)
symbolic = st.builds(Symbolic, st.text(st.characters(min_codepoint=0, max_codepoint=127), min_size=1, max_size=40))
segments = st.lists(st.one_of(logical, port, symbolic), max_size=8)


@settings(max_examples=300, deadline=None)
@given(segments, st.booleans())
def test_path_round_trip(path, padded):
    wire = encode_path(path, padded=padded)
    assert decode_path(wire, padded=padded) == tuple(path)
    if padded:
        assert len(wire) % 2 == 0


@settings(max_examples=200, deadline=None)
@given(segments)
def test_json_round_trip(path):
    as_json = json.dumps(path_to_json(path))
    assert path_from_json(as_json) == tuple(path)


@settings(max_examples=200, deadline=None)
@given(st.lists(port, max_size=4))
def test_route_path_text_round_trip(ports):
    text = "/".join(f"{p.port}/{p.link}" for p in ports)
    assert parse_route_path(text) == (tuple(ports) if ports else None)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.booleans())
def test_random_bytes_raise_only_decode_error(wire, padded):
    try:
        path = decode_path(wire, padded=padded)
    except DecodeError:
        return
    assert isinstance(path, tuple)


@pytest.mark.parametrize("code", [0x22, 0x32])
def test_class_and_attribute_have_no_32_bit_form(code):
    with pytest.raises(DecodeError):
        decode_path(bytes((code, 0, 1, 0, 0, 0)))
