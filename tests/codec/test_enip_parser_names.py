"""``cpppo.server.enip.parser``: the documented type names and ``typed_data``, checked against the
bytes cpppo 5 produced for the same calls (recorded from cpppo 5.2.5)."""

from __future__ import annotations

import pytest

from cpppo.dotdict import dotdict
from cpppo.errors import DecodeError
from cpppo.server import enip
from cpppo.server.enip import parser


def test_type_classes_carry_their_code_size_and_produce():
    assert (parser.REAL.tag_type, parser.SSTRING.tag_type, parser.STRING.tag_type) == (0xCA, 0xDA, 0xD0)
    assert parser.REAL is enip.REAL and parser.DINT.struct_calcsize == 4
    assert parser.REAL.produce(1.5) == b"\x00\x00\xc0?"
    assert parser.SSTRING.produce("abc") == b"\x03abc"
    assert parser.STRING.produce("ab") == b"\x02\x00ab"


def test_typed_data_produce_parse_and_datasize():
    assert parser.typed_data.produce(dotdict(data=[1, 2]), tag_type=parser.INT.tag_type) == b"\x01\x00\x02\x00"
    assert parser.typed_data.produce({"type": parser.REAL.tag_type, "data": [2.5]}) == b"\x00\x00\x20\x40"
    assert parser.typed_data.produce([7, -1], tag_type=parser.SINT.tag_type) == b"\x07\xff"
    raw = parser.typed_data.produce([2.5, 3.5], tag_type=parser.REAL.tag_type)
    assert parser.typed_data.parse(raw, parser.REAL.tag_type) == [2.5, 3.5]
    assert parser.typed_data.parse(b"\x03abc\x01z", parser.SSTRING.tag_type) == ["abc", "z"]
    assert parser.typed_data.datasize(parser.DINT.tag_type) == 4
    assert parser.typed_data.datasize(parser.REAL.tag_type, 3) == 12


def test_typed_data_refuses_what_it_cannot_encode_clearly():
    with pytest.raises(ValueError, match="unsupported CIP data type 672"):
        parser.typed_data.produce([1], tag_type=0x2A0)  # a STRUCT: its layout is the template's
    with pytest.raises(ValueError, match="sequence of values"):
        parser.typed_data.produce(dotdict(type=parser.INT.tag_type))
    with pytest.raises(DecodeError):
        parser.typed_data.parse(b"\x01\x02\x03", parser.INT.tag_type)  # half an INT
    assert "enip.status" in parser.enip_format(dotdict({"enip.status": 0}))
