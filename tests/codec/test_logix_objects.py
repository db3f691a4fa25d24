"""The Logix object codec (cpppo.cip.logix_objects): one table of (value, bytes) cases, each driven
through the encoder and the decoder; round trips of random structures; malformed peer bytes; and
the simulator's structures read back by the client's parser, byte for byte."""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpppo.cip.logix_objects import (
    LOGIX_STRING,
    STRING_DEFINITION,
    STRING_HANDLE,
    STRING_SIZE,
    StructCodec,
    SymbolEntry,
    SymbolType,
    TemplateAttributes,
    TemplateDefinition,
    TemplateMember,
    decode_symbol_entries,
    definition_length,
    definition_words,
)
from cpppo.cip.types import STRUCTURE, TYPES
from cpppo.client.tag_list import LogixTypes, TagListError, parse_symbols, parse_template
from cpppo.device.datatypes import Structure, TypeRegistry
from cpppo.device.symbols import Symbol, instance_attribute_list, template_attributes, template_chunk
from cpppo.device.tags import Attribute
from cpppo.errors import DecodeError, EncodeError


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# -- the layouts of the table: a string type, a UDT with a BOOL run, a BOOL array, an array and a
# string member, and a UDT of an array of those, numbered as the simulator numbers them ----------
M = TemplateMember
STR4 = TemplateDefinition.build("STR4", (M("LEN", 0, 0xC4, 0), M("DATA", 4, 0xC2, 4)))
PUMP = TemplateDefinition.build("Pump", (
    M("ZZZZZZZZZZPump0", 0, 0xC2, 0), M("On", 0, 0xC1, 0), M("Off", 1, 0xC1, 0),  # two BOOLs in a hidden SINT
    M("Flags", 1, 0xD3, 4),  # BOOL[32], as one DWORD
    M("Rate", 2, 0xC3, 8),  # INT[2]
    M("Name", 0, 0x8100, 12)))  # STR4, template instance 0x100
CELL = TemplateDefinition.build("Cell", (M("Pumps", 2, 0x8101, 0), M("N", 0, 0xC2, 40)))  # Pump[2], SINT
DECLARED = ["STR4 = LEN:DINT, DATA:SINT[4]", "Pump = On:BOOL, Off:BOOL, Flags:BOOL[32], Rate:INT[2], Name:STR4",
            "Cell = Pumps:Pump[2], N:SINT"]

CODECS: dict[int, StructCodec] = {}
STR4_CODEC = CODECS[0x100] = StructCodec.from_definition(STR4, 8)
PUMP_CODEC = CODECS[0x101] = StructCodec.from_definition(PUMP, 20, CODECS.__getitem__)
CELL_CODEC = CODECS[0x102] = StructCodec.from_definition(CELL, 44, CODECS.__getitem__)
# BOOLs in a hidden DINT, as a Logix's TIMER has them: bit 31 is bit 7 of the host's fourth byte
TIMER = StructCodec("Timer", 8, (M("ZZZZZZZZZZTimer0", 0, 0xC4, 0), M("EN", 31, 0xC1, 0), M("TT", 7, 0xC1, 0),
                                 M("DN", 29, 0xC1, 0), M("PRE", 0, 0xC4, 4)))
PUMP_WORDS = StructCodec.from_definition(PUMP, 20, CODECS.__getitem__, bool_arrays=False)  # the simulator's view


@dataclass(frozen=True)
class Entries:
    """A Get Instance Attribute List page of ``attributes``."""

    attributes: tuple[int, ...]
    entries: tuple[SymbolEntry, ...]


@dataclass(frozen=True)
class Value:
    """One structure value, of ``codec``."""

    codec: StructCodec
    value: Any


FLAGS = [False] * 32
FLAGS[3] = True
PUMP_A = {"On": True, "Off": False, "Flags": FLAGS, "Rate": [1, -2], "Name": "xy"}
PUMP_B = {"On": False, "Off": True, "Flags": [True] * 32, "Rate": [0, 32767], "Name": "abcd"}
PUMP_A_BYTES = "01000000 08000000 0100feff 02000000 78790000"
PAGE = (h("07000000 0400") + b"GRID" + h("c440 03000000 04000000 00000000")  # 24 bytes
        + h("09000000 0200") + b"M1" + h("0181 00000000 00000000 00000000"))
PUMP_B_BYTES = "02000000 ffffffff 0000ff7f 04000000 61626364"

CASES: list[tuple[Any, bytes]] = [
    # -- symbol type words
    (SymbolType(0xC4), h("c400")),
    (SymbolType(0xC4, dims=2), h("c440")),
    (SymbolType(0xC3, dims=3), h("c360")),
    (SymbolType(0x2C1), h("c102")),  # a BOOL: bit 2 of its host
    (SymbolType(0x101, structure=True), h("0181")),
    (SymbolType(0x101, structure=True, dims=1), h("01a1")),
    (SymbolType(0x068, system=True), h("6810")),  # what a Logix lists for Program:NAME
    (SymbolType(0xFFF, structure=True, system=True, dims=3), h("ffff")),
    # -- symbol entries: a page of attributes 1, 2 and 8, and one of every attribute
    (Entries((1, 2, 8), (SymbolEntry(7, "GRID", SymbolType(0xC4, dims=2), (3, 4)),
                         SymbolEntry(9, "M1", SymbolType(0x101, structure=True)))),
     PAGE),
    (Entries((1, 2, 3, 5, 6, 7, 8, 10), (SymbolEntry(3, "Main", SymbolType(0xC3, dims=1), (10,), element_size=2,
                                                     address=0x30000, object_address=0x30000,
                                                     software_control=1 << 26, external_access=0),)),
     h("03000000 0400") + b"Main" + h("c320 00000300 00000300 00000004 0200 0a000000 00000000 00000000 00")),
    (Entries((2, 1), (SymbolEntry(1, "", SymbolType(0x068, system=True)),)), h("01000000 6810 0000")),
    (Entries((1, 2, 8), ()), b""),
    # -- template attributes (Get Attribute List reply data)
    (TemplateAttributes(0xBEEF, 6, 32, 20), h("0400 0100 0000 efbe 0200 0000 0600 0400 0000 20000000"
                                              "0500 0000 14000000")),
    (TemplateAttributes(STRING_HANDLE, 2, 17, STRING_SIZE), h("0400 0100 0000 ce0f 0200 0000 0200"
                                                             "0400 0000 11000000 0500 0000 58000000")),
    # -- template definitions: member info, "NAME;" and its extra bytes, member names, padding
    (STRING_DEFINITION, h("0000 c400 00000000 5200 c200 04000000") + b"ASCIISTRING82;n\x01\x03\x01\x03\0"
     + b"LEN\0DATA\0" + bytes(3)),
    (STR4, h("0000 c400 00000000 0400 c200 04000000") + b"STR4;n\x01\x03\x01\x03\0LEN\0DATA\0"),
    (PUMP, h("0000 c200 00000000 0000 c100 00000000 0100 c100 00000000 0100 d300 04000000"
             "0200 c300 08000000 0000 0081 0c000000") + b"Pump;n\x01\x04" + b"\x01\x03" * 5 + b"\0"
     + b"ZZZZZZZZZZPump0\0On\0Off\0Flags\0Rate\0Name\0" + bytes(2)),
    (CELL, h("0200 0181 00000000 0000 c200 28000000") + b"Cell;n\x01\x03\x01\x03\0Pumps\0N\0" + bytes(1)),
    (TemplateDefinition("T", (M("X", 0, 0xC4, 0),), b"n"), h("0000 c400 00000000") + b"T;n\0X\0" + bytes(2)),
    # -- structure values: strings, BOOLs in their host byte, BOOL arrays as bools or DWORDs, arrays,
    # nested structures
    (Value(LOGIX_STRING, "abc"), h("03000000 616263") + bytes(81)),
    (Value(LOGIX_STRING, "x" * 82), h("52000000") + b"x" * 82 + bytes(2)),
    (Value(LOGIX_STRING, ""), bytes(STRING_SIZE)),
    (Value(STR4_CODEC, "ab"), h("02000000 61620000")),
    (Value(STR4_CODEC, "\xff\x00\x01"), h("03000000 ff000100")),
    (Value(PUMP_CODEC, PUMP_A), h(PUMP_A_BYTES)),
    (Value(TIMER, {"EN": True, "TT": False, "DN": True, "PRE": 5}), h("000000a0 05000000")),
    (Value(TIMER, {"EN": False, "TT": True, "DN": False, "PRE": -1}), h("80000000 ffffffff")),
    (Value(PUMP_WORDS, {**PUMP_A, "Flags": [8]}), h(PUMP_A_BYTES)),
    (Value(PUMP_CODEC, PUMP_B), h(PUMP_B_BYTES)),
    (Value(CELL_CODEC, {"Pumps": [PUMP_A, PUMP_B], "N": -1}), h(PUMP_A_BYTES + PUMP_B_BYTES + "ff000000")),
]


def encode(value: Any) -> bytes:
    if isinstance(value, Entries):
        return b"".join(e.encode(value.attributes) for e in value.entries)
    if isinstance(value, Value):
        return value.codec.encode([value.value])
    return value.encode()


def decode(like: Any, data: bytes) -> Any:
    """Decode ``data`` as the kind of thing ``like`` is (knowing what a real decoder knows)."""
    if isinstance(like, SymbolType):
        return SymbolType.decode(data)
    if isinstance(like, Entries):
        return Entries(like.attributes, tuple(decode_symbol_entries(data, like.attributes)))
    if isinstance(like, TemplateAttributes):
        return TemplateAttributes.decode(data)
    if isinstance(like, TemplateDefinition):
        return TemplateDefinition.decode(data, len(like.members))  # the count is Template attribute 2
    (value,) = like.codec.decode(data)
    return Value(like.codec, value)


def _id(case: tuple[Any, bytes]) -> str:
    value = case[0]
    if isinstance(value, Value):
        return f"{value.codec.name}:{value.value!r}"[:60]
    return f"{type(value).__name__}:{getattr(value, 'name', '') or encode(value)[:6].hex()}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_table_encodes_and_decodes(case):
    value, wire = case
    assert encode(value) == wire
    assert decode(value, wire) == value
    assert decode(value, bytearray(wire)) == value  # and from any buffer
    if isinstance(value, Value) and value.codec is not LOGIX_STRING:
        twice = value.codec.decode(wire + wire)
        assert twice == [value.value] * 2 and value.codec.encode(twice) == wire + wire


def test_the_symbol_type_word_knows_its_parts():
    grid, motor, program = SymbolType.from_word(0x40C4), SymbolType.from_word(0xA101), SymbolType.from_word(0x1068)
    assert (grid.type_code, grid.template, grid.dims, grid.structure) == (0xC4, None, 2, False)
    assert (motor.type_code, motor.template, motor.dims, motor.structure) == (STRUCTURE, 0x101, 1, True)
    assert program.system and not motor.system
    assert all(SymbolType.from_word(w).word == w for w in range(0x10000))
    with pytest.raises(EncodeError):
        SymbolType(0x1000).encode()
    with pytest.raises(EncodeError):
        SymbolType(0xC4, dims=4).encode()
    with pytest.raises(DecodeError):
        SymbolType.decode(b"\xc4")


def test_template_members_know_their_parts():
    host, on, off, flags, rate, name = PUMP.members
    assert host.hidden and not on.hidden
    assert (on.bit, off.bit, on.count, on.type_code) == (0, 1, 0, 0xC1)
    assert (flags.count, flags.bit, rate.count, rate.type_code) == (1, None, 2, 0xC3)
    assert (name.structure, name.template, name.type_code, name.count) == (True, 0x100, STRUCTURE, 0)
    assert STR4_CODEC.string and LOGIX_STRING.string and not PUMP_CODEC.string
    swapped = StructCodec("Swapped", 8, (M("LEN", 0, 0xC4, 4), M("DATA", 4, 0xC2, 0)))  # DATA first: not a string
    assert not swapped.string and swapped.decode(h("61626364 02000000")) == [{"LEN": 2, "DATA": [97, 98, 99, 100]}]
    assert list(PUMP_CODEC.by_name) == ["on", "off", "flags", "rate", "name"]


def test_bools_take_true_false_0_and_1_and_read_back_as_bools():
    for on, off in ((True, False), (1, 0), (True, 0), (1, False)):
        value = {**PUMP_A, "On": on, "Off": off}
        assert PUMP_CODEC.encode([value]) == h(PUMP_A_BYTES)
        assert PUMP_WORDS.encode([value]) == h(PUMP_A_BYTES)
    assert PUMP_CODEC.decode(h(PUMP_A_BYTES))[0]["On"] is True
    ints = [1 if b else 0 for b in FLAGS]
    assert PUMP_CODEC.encode([{**PUMP_A, "Flags": ints}]) == h(PUMP_A_BYTES)
    assert PUMP_CODEC.encode([{**PUMP_A, "Flags": [8]}]) == h(PUMP_A_BYTES)  # either view writes
    assert PUMP_WORDS.encode([PUMP_A]) == h(PUMP_A_BYTES)
    for bad in (2, -1, 1.0, "1", None):
        with pytest.raises(EncodeError, match=r"Pump\.On is a BOOL"):
            PUMP_CODEC.encode([{**PUMP_A, "On": bad}])
    with pytest.raises(EncodeError, match="needs BOOLs"):
        PUMP_CODEC.encode([{**PUMP_A, "Flags": [2] * 32}])


def test_a_write_must_name_every_member():
    with pytest.raises(EncodeError, match="Pump needs every member; missing Rate, Name"):
        PUMP_CODEC.encode([{"on": True, "OFF": False, "Flags": FLAGS}])  # names are case-insensitive
    with pytest.raises(EncodeError, match="has no member 'Speed'"):
        PUMP_CODEC.encode([{**PUMP_A, "Speed": 1}])
    with pytest.raises(EncodeError, match="no member 'ZZZZZZZZZZPump0'"):
        PUMP_CODEC.encode([{**PUMP_A, "ZZZZZZZZZZPump0": 1}])
    with pytest.raises(EncodeError, match="given twice"):
        PUMP_CODEC.encode([{**PUMP_A, "on": True}])
    with pytest.raises(EncodeError, match="needs a dict"):
        PUMP_CODEC.encode([[1, 2]])


@pytest.mark.parametrize(("member", "value", "why"), [
    ("Rate", [1], "Rate needs 2 values"),
    ("Rate", 1, "Rate needs a list of 2"),
    ("Rate", [1, 40000], r"Pump\.Rate: 40000 is out of range for INT"),
    ("Rate", ["1", 2], "needs an integer"),
    ("Flags", [True] * 31, r"needs 1 values \(or 32 BOOLs\)"),
    ("Name", "abcde", r"5 characters is too long for STR4 \(max 4\)"),
    ("Name", "\u20ac", "outside ISO-8859-1"),
    ("Name", 5, "STR4 needs a str"),
])
def test_member_values_that_cannot_be_written(member, value, why):
    with pytest.raises(EncodeError, match=why):
        PUMP_CODEC.encode([{**PUMP_A, member: value}])


def test_nested_arrays_need_their_length():
    with pytest.raises(EncodeError, match=r"Cell\.Pumps needs 2 values, not 1"):
        CELL_CODEC.encode([{"Pumps": [PUMP_A], "N": 0}])
    with pytest.raises(EncodeError, match="Pump needs every member"):
        CELL_CODEC.encode([{"Pumps": [PUMP_A, {}], "N": 0}])


def test_strings_clamp_their_length_to_their_data():
    assert STR4_CODEC.decode(h("09000000 61626364"))[0] == "abcd"  # LEN past DATA: the DATA there is
    assert STR4_CODEC.decode(h("ffffffff 61626364"))[0] == ""  # a negative LEN: nothing
    assert LOGIX_STRING.decode(h("58000000") + b"y" * 84)[0] == "y" * 82  # never the padding
    with pytest.raises(EncodeError, match=r"too long for STRING \(max 82\)"):
        LOGIX_STRING.encode(["y" * 83])


def test_blank_values():
    assert PUMP_CODEC.blank() == {"On": False, "Off": False, "Flags": [False] * 32, "Rate": [0, 0], "Name": ""}
    assert PUMP_WORDS.blank()["Flags"] == [0]
    assert CELL_CODEC.blank()["Pumps"] == [PUMP_CODEC.blank()] * 2
    assert LOGIX_STRING.blank() == ""


def test_definition_size_is_counted_as_logix_counts_it():
    """Attribute 4 is the definition's 32-bit words plus five: pylogix reads words * 4 - 20 bytes,
    all of it; pycomm3 reads one byte less, and that byte is always padding or a name's NUL."""
    for definition in (STRING_DEFINITION, STR4, PUMP, CELL):
        data = definition.encode()
        assert len(data) % 4 == 0 and data[-1] == 0
        assert definition_length(definition_words(len(data))) == len(data)
        assert TemplateDefinition.decode(data[:-1], len(definition.members)) == definition
    assert definition_words(108) == 32 and definition_length(3) == 0


# -- the other side of the table: bytes a peer should not send --------------------------------------
@pytest.mark.parametrize(("data", "count", "why"), [
    (h("0000 c400"), 1, "1 member definitions need 8 bytes"),
    (h("0000 c400 00000000") + b"T;n", 1, "not NUL-terminated"),
    (h("0000 c400 00000000") + b"T;n\0", 1, "0 member names for 1 members"),
    (h("0000 c400 00000000 0000 c400 04000000") + b"T\0X\0\0\0", 2, "1 member names for 2 members"),
    (b"", -1, "member definitions"),
])
def test_template_definitions_that_do_not_decode(data, count, why):
    with pytest.raises(DecodeError, match=why):
        TemplateDefinition.decode(data, count)


def test_template_attributes_that_do_not_decode():
    failed = h("0400 0100 1400 0200 0000 0600 0400 0000 20000000 0500 0000 14000000")
    with pytest.raises(DecodeError, match="attribute 1 status 0x14"):
        TemplateAttributes.decode(failed)
    with pytest.raises(DecodeError, match="attribute 5 missing"):
        TemplateAttributes.decode(h("0300 0100 0000 efbe 0200 0000 0600 0400 0000 20000000"))
    with pytest.raises(DecodeError, match="truncated"):
        TemplateAttributes.decode(h("0400 0100 0000 efbe 0200 0000 0600 0400 0000 20000000 0500 0000 1400"))
    assert TemplateAttributes(1, 2, 3, 4).encode((1, 9)) == h("0200 0100 0000 0100 0900 1400")


def test_symbol_entries_that_do_not_decode():
    for cut in range(1, len(PAGE)):
        if cut == 24:  # the end of the first entry: a page of one
            assert [e.name for e in decode_symbol_entries(PAGE[:cut])] == ["GRID"]
            continue
        with pytest.raises(DecodeError, match="symbol"):
            decode_symbol_entries(PAGE[:cut])
    with pytest.raises(EncodeError, match="no attribute 4"):
        decode_symbol_entries(PAGE, (1, 4))
    with pytest.raises(EncodeError, match="no attribute 4"):
        SymbolEntry(1, "X").encode((1, 4))
    with pytest.raises(EncodeError, match="at most 3"):
        SymbolEntry(1, "X", dims=(1, 2, 3, 4)).encode((8,))


@pytest.mark.parametrize(("members", "size", "why"), [
    ((M("X", 0, 0xC4, 2),), 4, r"T\.X \(offset 2\) runs past the 4 bytes"),
    ((M("X", 9, 0xC1, 0),), 1, "runs past"),  # a BOOL's bit 9 is in the second byte
    ((M("X", 0, 0xD0, 0),), 4, "type 0xD0 is not an atomic type"),
    ((M("X", 0, 0xC4, 0),), 0, "structure size 0"),
    ((M("X", 0, 0x8077, 0),), 4, "template 119 is not known"),
    ((M("X", 0, 0x8005, 0),), 4, "nest in a loop"),
])
def test_layouts_that_cannot_be_decoded(members, size, why):
    codecs: dict[int, StructCodec] = {}
    codec = codecs[5] = StructCodec("T", size, members, codecs.__getitem__)
    with pytest.raises(DecodeError, match=why):
        codec.decode(bytes(max(size, 1)))
    with pytest.raises(EncodeError, match=why):
        codec.encode([{"X": 0}])


def test_structure_bytes_that_are_not_whole_structures():
    for data in (h(PUMP_A_BYTES)[:-1], h(PUMP_A_BYTES) + b"\0"):
        with pytest.raises(DecodeError, match="not a whole number of Pump"):
            PUMP_CODEC.decode(data)
    assert PUMP_CODEC.decode(b"") == []
    with pytest.raises(DecodeError, match="2 x Pump needs 40 bytes, 20 remain"):
        PUMP_CODEC.decode(h(PUMP_A_BYTES), 0, 2)
    assert PUMP_CODEC.decode(b"\0" + h(PUMP_A_BYTES), 1, 1) == [PUMP_A]


def _mutations(data: bytes, rng: random.Random) -> list[bytes]:
    out = [data[:n] for n in range(len(data))]  # every truncation
    for _ in range(40):
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(3)
            if op == 0 and b:
                b[rng.randrange(len(b))] = rng.randrange(256)
            elif op == 1:
                b.insert(rng.randrange(len(b) + 1), rng.choice((0, 0xFF, rng.randrange(256))))
            elif b:
                del b[rng.randrange(len(b))]
        out.append(bytes(b))
    return out


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_mutated_bytes_decode_or_raise_decode_error(case):
    """Only DecodeError escapes a decoder, whatever the peer sends; so does a layout decoded from
    mutated template bytes, when values are decoded with it."""
    value, wire = case
    rng = random.Random(wire)
    for data in _mutations(wire, rng):
        try:
            got = value.codec.decode(data) if isinstance(value, Value) else decode(value, data)
        except DecodeError:
            continue
        if isinstance(value, TemplateDefinition):
            codec = StructCodec.from_definition(got, rng.choice((4, 20, 44, 88, 0)), CODECS.get)
            for size in (codec.size, 2 * codec.size, 7):
                with contextlib.suppress(DecodeError):
                    codec.decode(bytes(rng.randrange(256) for _ in range(size)))


# -- round trips of random structures ---------------------------------------------------------------
_ATOMIC = {
    "SINT": st.integers(-128, 127), "INT": st.integers(-(2**15), 2**15 - 1), "DINT": st.integers(-(2**31), 2**31 - 1),
    "LINT": st.integers(-(2**63), 2**63 - 1), "USINT": st.integers(0, 255), "UINT": st.integers(0, 0xFFFF),
    "UDINT": st.integers(0, 2**32 - 1), "REAL": st.floats(width=32, allow_nan=False),
    "LREAL": st.floats(allow_nan=False), "DWORD": st.integers(0, 2**32 - 1), "BOOL": st.booleans(),
}
_LATIN1 = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=82)


def values_of(codec: StructCodec) -> st.SearchStrategy[Any]:
    """Values of any structure the codec decodes (BOOL arrays as bools or DWORDs, as it shows them)."""
    if codec.string:
        return st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=codec.by_name["data"].count)
    fields = {}
    for m in codec.by_name.values():
        if m.template is not None:
            one = values_of(codec.nested(m.template))  # type: ignore[misc]
        elif m.type_code == 0xD3 and m.count:
            n = 32 * m.count if codec.bool_arrays else m.count
            fields[m.name] = st.lists(st.booleans() if codec.bool_arrays else _ATOMIC["DWORD"], min_size=n, max_size=n)
            continue
        else:
            one = _ATOMIC[_NAMES[m.type_code]]
        fields[m.name] = st.lists(one, min_size=m.count, max_size=m.count) if m.count else one
    return st.fixed_dictionaries(fields)


_NAMES = {t.code: name for name, t in TYPES.items()}
_MEMBER_TYPES = ["SINT", "INT", "DINT", "LINT", "USINT", "UINT", "UDINT", "REAL", "LREAL", "DWORD", "BOOL", "STRING"]


@st.composite
def declarations(draw: st.DrawFn) -> list[str]:
    """One or two random UDT declarations, the second perhaps holding the first."""
    out = []
    for n in range(draw(st.integers(1, 2))):
        kinds = [*_MEMBER_TYPES, "U0"] if n else _MEMBER_TYPES
        members = []
        for i in range(draw(st.integers(1, 8))):
            kind = draw(st.sampled_from(kinds))
            shape = draw(st.sampled_from(["", "", "[1]", "[3]", "[33]" if kind == "BOOL" else "[2]"]))
            members.append(f"M{i}:{kind}{shape}")
        out.append(f"U{n} = {', '.join(members)}")
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_structures_round_trip_on_both_sides(data):
    """A random UDT declared in the simulator, its template parsed by the client: both codecs encode
    every value to the same bytes, and decode those bytes back to it."""
    registry = TypeRegistry()
    declared = [registry.parse(text) for text in data.draw(declarations())]
    types = _client_templates(registry)
    sim = declared[-1]
    client = types.template_named(sim.name)
    words = data.draw(st.lists(values_of(sim.codec), min_size=1, max_size=3))
    raw = sim.encode(words)
    assert sim.decode(raw) == words
    assert client.encode(words) == raw  # the client writes the simulator's view too...
    bools = client.decode(raw)
    assert client.encode(bools) == raw and sim.encode(bools) == raw  # ...and the simulator the client's


# -- the two sides: what the simulator serves, the client parses ------------------------------------
def _client_templates(registry: TypeRegistry) -> LogixTypes:
    """Each structure's template as the simulator serves it (Get Attribute List, Read Template in
    one page), parsed by the client."""
    types = LogixTypes()
    for s in registry.structures.values():
        status, attributes = template_attributes(s, (1, 2, 4, 5))
        assert status == 0
        status, definition = template_chunk(s, 0, definition_length(s.definition_size), 4002)
        assert status == 0
        types.add_template(parse_template(s.instance_id, attributes, definition, types))
    return types


def _layout(members: Any) -> list[tuple[Any, ...]]:
    return [(m.name, m.offset, m.count, m.bit, m.hidden) for m in members]


MOTOR = "Motor = Speed:REAL, Count:DINT, Running:BOOL, History:DINT[10], Label:STRING"
LINE = "Line = Name:STRING, Motors:Motor[2], Total:LINT, Flags:BOOL[64], Done:BOOL"


def test_the_table_layouts_are_what_the_simulator_declares():
    registry = TypeRegistry()
    for text, definition, codec in zip(DECLARED, (STR4, PUMP, CELL), (STR4_CODEC, PUMP_CODEC, CELL_CODEC)):
        s = registry.parse(text)
        assert s.definition == definition and s.size == codec.size and s.string == codec.string
    assert registry.get("STRING").definition == STRING_DEFINITION
    assert registry.get("STRING").template_data() == STRING_DEFINITION.encode()


def test_a_simulator_structure_parsed_by_the_client_has_the_same_layout_and_values():
    registry = TypeRegistry()
    motor, line = registry.parse(MOTOR), registry.parse(LINE)
    types = _client_templates(registry)
    for sim in (registry.get("STRING"), motor, line):
        client = types.templates[sim.instance_id]
        assert (client.handle, client.size, client.string) == (sim.handle, sim.size, sim.string)
        assert client.name == sim.template_name and client.members == [m.template_member() for m in sim.members]
        assert _layout(client.members) == _layout(sim.members)
    assert types.template_named("Motor").codec.blank() == motor.blank()
    assert types.templates[STRING_HANDLE].type_name == "STRING"
    client_motor, client_line = types.template_named("Motor"), types.template_named("Line")
    assert client_motor.declaration() == MOTOR and client_line.declaration() == LINE

    value = {"Speed": 1.5, "Count": -7, "Running": True, "History": list(range(10)), "Label": "pump"}
    raw = motor.encode([value, motor.blank()])
    assert client_motor.encode([value, motor.blank()]) == raw
    assert client_motor.decode(raw) == motor.decode(raw) == [value, motor.blank()]
    for side in (client_motor, motor):  # bytes that are not whole structures: the peer's fault
        with pytest.raises(DecodeError, match="not a whole number of Motor"):
            side.decode(raw[:-1])
    flags = [False] * 64
    flags[33] = True
    as_bools = {"Name": "L", "Motors": [value, motor.blank()], "Total": -(2**40), "Flags": flags, "Done": 1}
    as_words = {**as_bools, "Flags": [0, 2], "Done": True}
    raw = line.encode([as_words])
    assert line.encode([as_bools]) == client_line.encode([as_bools]) == client_line.encode([as_words]) == raw
    assert line.decode(raw) == [as_words]  # the simulator shows a BOOL[64] member as its DWORDs...
    assert client_line.decode(raw) == [{**as_bools, "Done": True}]  # ...the client as 64 bools


def test_a_tag_list_page_served_by_the_simulator_parsed_by_the_client():
    registry = TypeRegistry()
    motor = registry.parse(MOTOR)
    symbols = [Symbol("D", 1, Attribute("D", TYPES["DINT"], 0)),
               Symbol("GRID", 2, Attribute("GRID", TYPES["DINT"], [0] * 12), (3, 4)),
               Symbol("Program:Main", 3, None),
               Symbol("MOTORS", 4, Attribute("MOTORS", motor, [0] * 3), (3,))]
    status, page = instance_attribute_list(symbols, 0, (1, 2, 8), 4002)
    assert status == 0
    tags, last = parse_symbols(page, "")
    assert last == 4
    assert [(t.name, t.instance, t.type_word, t.dims) for t in tags] == [
        (s.name, s.instance, s.type_word, s.dims) for s in symbols]
    assert [(t.type_code, t.template, t.symbol_type.system) for t in tags] == [
        (0xC4, None, False), (0xC4, None, False), (0x68, None, True), (STRUCTURE, motor.instance_id, False)]
    assert decode_symbol_entries(page) == [SymbolEntry(s.instance, s.name, s.symbol_type, s.dims) for s in symbols]
    status, full = instance_attribute_list(symbols, 0, (1, 2, 3, 5, 6, 7, 8, 10), 4002)
    assert decode_symbol_entries(full, (1, 2, 3, 5, 6, 7, 8, 10)) == [s.entry for s in symbols]
    assert instance_attribute_list(symbols, 0, (1, 4), 4002) == (0x14, b"")
    with pytest.raises(TagListError, match="truncated at byte"):
        parse_symbols(page[:-1])


def test_structure_keyword_string_is_gone_the_layout_decides():
    registry = TypeRegistry()
    s20 = registry.parse("STRING20 = LEN:DINT, DATA:SINT[20]")
    assert s20.string and s20.size == 24 and s20.blank() == ""
    assert s20.decode(s20.encode(["twenty characters!!!"])) == ["twenty characters!!!"]
    not_string = Structure("Pair", [("LEN", TYPES["DINT"], 0), ("DATA", TYPES["INT"], 4)])
    assert not not_string.string and not_string.blank() == {"LEN": 0, "DATA": [0] * 4}
    with pytest.raises(EncodeError, match="two member types share template instance 0"):
        Structure("Both", [("A", Structure("A", [("X", TYPES["DINT"], 0)]), 0),
                           ("B", Structure("B", [("Y", TYPES["INT"], 0)]), 0)])
