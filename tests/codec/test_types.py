"""CIP elementary data types: codes, encodings, range checks, the type word."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpppo.cip.types import (
    STRUCTURE,
    TYPES,
    NumericType,
    StringType,
    TypeCode,
    decode_type_word,
    encode_type_word,
    type_by_code,
    type_by_name,
)
from cpppo.errors import DecodeError, EncodeError

CODES = {"BOOL": 0xC1, "SINT": 0xC2, "INT": 0xC3, "DINT": 0xC4, "LINT": 0xC5, "USINT": 0xC6, "UINT": 0xC7,
         "UDINT": 0xC8, "ULINT": 0xC9, "REAL": 0xCA, "LREAL": 0xCB, "STRING": 0xD0, "BYTE": 0xD1,
         "WORD": 0xD2, "DWORD": 0xD3, "LWORD": 0xD4, "SSTRING": 0xDA}
RANGES = {"BOOL": (0, 1), "SINT": (-128, 127), "INT": (-32768, 32767), "DINT": (-(2**31), 2**31 - 1),
          "LINT": (-(2**63), 2**63 - 1), "USINT": (0, 255), "UINT": (0, 0xFFFF), "UDINT": (0, 2**32 - 1),
          "ULINT": (0, 2**64 - 1), "BYTE": (0, 255), "WORD": (0, 0xFFFF), "DWORD": (0, 2**32 - 1),
          "LWORD": (0, 2**64 - 1)}
SIZES = {"BOOL": 1, "SINT": 1, "INT": 2, "DINT": 4, "LINT": 8, "USINT": 1, "UINT": 2, "UDINT": 4, "ULINT": 8,
         "REAL": 4, "LREAL": 8, "BYTE": 1, "WORD": 2, "DWORD": 4, "LWORD": 8}


def test_type_codes():
    assert {t.name: t.value for t in TypeCode} == CODES
    assert {name: t.code for name, t in TYPES.items()} == CODES
    assert STRUCTURE == 0x02A0


@pytest.mark.parametrize("name", sorted(CODES))
def test_lookup_by_name_and_code(name):
    t = type_by_name(name.lower())
    assert t is TYPES[name] and type_by_code(CODES[name]) is t
    assert repr(t) == name
    if name in SIZES:
        assert t.size == SIZES[name]


def test_unknown_type():
    with pytest.raises(EncodeError):
        type_by_name("FLOAT")
    assert type_by_code(STRUCTURE) is None
    assert type_by_code(0xC0) is None


# (type, values, wire) - little-endian, as on the wire
CASES = [
    ("BOOL", [0, 1, True], "00 01 01"),
    ("SINT", [-128, -1, 127], "80 ff 7f"),
    ("INT", [-32768, 1, 0x1234], "0080 0100 3412"),
    ("DINT", [-1, 0x12345678], "ffffffff 78563412"),
    ("LINT", [-(2**63), 1], "0000000000000080 0100000000000000"),
    ("USINT", [0, 255], "00 ff"),
    ("UINT", [0xFFFF], "ffff"),
    ("UDINT", [0xDEADBEEF], "efbeadde"),
    ("ULINT", [2**64 - 1], "ffffffffffffffff"),
    ("REAL", [1.0, -2.5], "0000803f 000020c0"),
    ("LREAL", [1.0], "000000000000f03f"),
    ("BYTE", [0xA5], "a5"),
    ("WORD", [0xA55A], "5aa5"),
    ("DWORD", [1], "01000000"),
    ("LWORD", [2], "0200000000000000"),
    ("STRING", ["Hi", ""], "0200 4869 0000"),
    ("SSTRING", ["1756-L61/B LOGIX5561"], "14 313735362d4c36312f42204c4f47495835353631"),
    ("SSTRING", ["\u00e9"], "01 e9"),
]


@pytest.mark.parametrize(("name", "values", "wire"), CASES)
def test_encode_and_decode(name, values, wire):
    raw = bytes.fromhex(wire.replace(" ", ""))
    t = TYPES[name]
    assert t.encode(values) == raw
    assert t.decode(raw) == [int(v) if isinstance(v, bool) else v for v in values]
    assert t.decode(memoryview(raw)) == t.decode(raw)
    assert t.decode(raw, 0, len(values)) == t.decode(raw)


def test_decode_at_an_offset_with_a_count():
    assert TYPES["INT"].decode(b"\xff\x01\x00\x02\x00\x03\x00", 1, 2) == [1, 2]
    assert TYPES["SSTRING"].decode(b"\xff\x01a\x01b\x01c", 1, 2) == ["a", "b"]
    assert TYPES["STRING"].decode_one(b"\x00\x03\x00abcd", 1) == ("abc", 6)


def test_any_nonzero_bool_byte_is_true():
    assert TYPES["BOOL"].decode(b"\x00\x01\xff") == [0, 1, 1]


@pytest.mark.parametrize("name", sorted(RANGES))
def test_integer_range_limits(name):
    t = TYPES[name]
    lo, hi = RANGES[name]
    assert t.decode(t.encode([lo, hi])) == [lo, hi]
    for bad in (lo - 1, hi + 1):
        with pytest.raises(EncodeError) as info:
            t.encode([0, bad])
        assert "out of range" in str(info.value)


@pytest.mark.parametrize("name", sorted(RANGES))
def test_integer_types_refuse_non_integers(name):
    for bad in (1.0, "1", None, b"\x01"):
        with pytest.raises(EncodeError):
            TYPES[name].encode([bad])


def test_real_range():
    real = TYPES["REAL"]
    fmax = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]
    assert real.decode(real.encode([fmax, -fmax])) == [fmax, -fmax]
    for bad in (3.5e38, -3.5e38, 1e300, 10**39, 3.4028235677973366e38):
        with pytest.raises(EncodeError):
            real.encode([bad])
    inf_nan = real.decode(real.encode([math.inf, -math.inf, math.nan]))
    assert inf_nan[:2] == [math.inf, -math.inf] and math.isnan(inf_nan[2])


def test_lreal_range():
    lreal = TYPES["LREAL"]
    assert lreal.decode(lreal.encode([1.7976931348623157e308])) == [1.7976931348623157e308]
    with pytest.raises(EncodeError):
        lreal.encode([10**400])
    for bad in (True, "1.0", None):
        with pytest.raises(EncodeError):
            lreal.encode([bad])


def test_strings_refuse_what_they_cannot_carry():
    with pytest.raises(EncodeError):
        TYPES["SSTRING"].encode(["x" * 256])
    with pytest.raises(EncodeError):
        TYPES["STRING"].encode(["x" * 0x10000])
    with pytest.raises(EncodeError):
        TYPES["STRING"].encode(["\u20ac"])
    with pytest.raises(EncodeError):
        TYPES["SSTRING"].encode([1])
    assert TYPES["SSTRING"].encode(["x" * 255])[0] == 255


@pytest.mark.parametrize(("name", "wire", "count"), [
    ("INT", b"\x01", None), ("DINT", b"\x01\x02\x03\x04\x05", None), ("LREAL", bytes(7), None),
    ("INT", b"\x01\x00", 2), ("UDINT", bytes(4), -1), ("SINT", b"", 1),
    ("STRING", b"\x05\x00abc", None), ("STRING", b"\x01", None), ("SSTRING", b"\x02a", None),
    ("SSTRING", b"", 1), ("SSTRING", b"\x01a", 2),
])
def test_truncated_values(name, wire, count):
    with pytest.raises(DecodeError):
        TYPES[name].decode(wire, 0, count)


def test_offset_past_the_end():
    with pytest.raises(DecodeError):
        TYPES["INT"].decode(b"\x00\x00", 4)
    with pytest.raises(DecodeError):
        TYPES["SSTRING"].decode_one(b"\x05ab")
    with pytest.raises(DecodeError):
        TYPES["SSTRING"].decode_one(b"")


def test_type_word():
    assert encode_type_word(0xC4) == b"\xc4\x00"
    assert encode_type_word(STRUCTURE, 0x8899) == b"\xa0\x02\x99\x88"
    assert decode_type_word(b"\xc4\x00\x01") == (0xC4, None, 2)
    assert decode_type_word(b"\xff\xa0\x02\x99\x88", 1) == (STRUCTURE, 0x8899, 5)
    for bad in (b"", b"\xc4", b"\xa0\x02", b"\xa0\x02\x01"):
        with pytest.raises(DecodeError):
            decode_type_word(bad)
    for code, handle in ((STRUCTURE, None), (STRUCTURE, 0x10000), (STRUCTURE, -1), (0x10000, None), (-1, None)):
        with pytest.raises(EncodeError):
            encode_type_word(code, handle)


def value_strategy(t):
    if isinstance(t, StringType):
        return st.text(st.characters(max_codepoint=255), max_size=20)
    assert isinstance(t, NumericType)
    if t.kind == "float":
        width = 32 if t.size == 4 else 64
        return st.floats(width=width, allow_nan=False)
    return st.integers(t.minimum, t.maximum)


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(sorted(TYPES)).flatmap(
    lambda name: st.tuples(st.just(name), st.lists(value_strategy(TYPES[name]), max_size=10))))
def test_round_trip_every_type(case):
    name, values = case
    t = TYPES[name]
    wire = t.encode(values)
    assert t.decode(wire) == values
    assert t.decode(wire + b"\x00" * 16, 0, len(values)) == values


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(sorted(RANGES)), st.integers(-(2**70), 2**70))
def test_out_of_range_is_never_wrapped(name, value):
    t = TYPES[name]
    lo, hi = RANGES[name]
    if lo <= value <= hi:
        assert t.decode(t.encode([value])) == [value]
    else:
        with pytest.raises(EncodeError):
            t.encode([value])


@settings(max_examples=250, deadline=None)
@given(st.floats(allow_nan=False) | st.integers(-(2**1100), 2**1100))
def test_real_encodes_or_refuses_never_rounds_to_infinity(value):
    real = TYPES["REAL"]
    try:
        wire = real.encode([value])
    except EncodeError:
        assert abs(value) > 3.4028234663852886e38
        return
    (back,) = real.decode(wire)
    assert math.isinf(back) == math.isinf(value)


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(sorted(TYPES)), st.binary(max_size=40), st.none() | st.integers(0, 20))
def test_decoding_random_bytes_raises_only_decode_error(name, wire, count):
    try:
        values = TYPES[name].decode(wire, 0, count)
    except DecodeError:
        return
    assert count is None or len(values) == count


@settings(max_examples=200, deadline=None)
@given(st.just(STRUCTURE) | st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_type_word_round_trip(code, handle):
    handle_or_none = handle if code == STRUCTURE else None
    wire = encode_type_word(code, handle_or_none)
    assert len(wire) == (4 if code == STRUCTURE else 2)
    assert decode_type_word(wire + b"\x01") == (code, handle_or_none, len(wire))
