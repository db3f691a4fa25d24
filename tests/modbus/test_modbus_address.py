"""The PLC address map, the register syntax, range merging and typed register views."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpppo.modbus import (
    ModbusUsageError,
    Table,
    make_address,
    merge_ranges,
    parse_register_spec,
    split_register,
)
from cpppo.modbus.typed import parse_type


@pytest.mark.parametrize(("address", "table", "offset"), [
    (1, Table.COILS, 0), (9999, Table.COILS, 9998),
    (10001, Table.DISCRETE_INPUTS, 0), (19999, Table.DISCRETE_INPUTS, 9998),
    (100001, Table.DISCRETE_INPUTS, 0), (165536, Table.DISCRETE_INPUTS, 65535),
    (30001, Table.INPUT_REGISTERS, 0), (39999, Table.INPUT_REGISTERS, 9998),
    (300001, Table.INPUT_REGISTERS, 0), (365536, Table.INPUT_REGISTERS, 65535),
    (40001, Table.HOLDING_REGISTERS, 0), (99999, Table.HOLDING_REGISTERS, 59998),
    (400001, Table.HOLDING_REGISTERS, 0), (465536, Table.HOLDING_REGISTERS, 65535),
])
def test_documented_address_ranges(address, table, offset):
    assert split_register(address) == (table, offset)
    assert split_register(make_address(table, offset)) == (table, offset)


@pytest.mark.parametrize("address", [0, 10000, 20001, 29999, 40000, 100000, 165537, 299999, 465537, -1])
def test_addresses_outside_the_map_are_refused(address):
    with pytest.raises(ModbusUsageError):
        split_register(address)


def test_read_only_and_bit_tables():
    assert Table.COILS.writable and Table.HOLDING_REGISTERS.writable
    assert not Table.DISCRETE_INPUTS.writable and not Table.INPUT_REGISTERS.writable
    assert Table.COILS.max_read == 2000 and Table.HOLDING_REGISTERS.max_read == 125


def test_register_syntax_values_repeat_to_fill():
    spec = parse_register_spec("40001-40100=99")
    assert (spec.table, spec.offset, spec.count) == (Table.HOLDING_REGISTERS, 0, 100)
    assert spec.values == (99,) * 100
    assert parse_register_spec("40001-40004=1,2").values == (1, 2, 1, 2)
    assert parse_register_spec("40001").values is None
    assert parse_register_spec("1-3=1").raw_values() == [1, 1, 1]
    assert parse_register_spec("465536=0x10").values == (16,)


def test_typed_register_syntax():
    spec = parse_register_spec("40001-40004:float32=1.5")
    assert spec.count == 2 and spec.width == 4
    assert spec.raw_values() == [0x3FC0, 0, 0x3FC0, 0]
    assert parse_register_spec("40020:str[10]=hello").raw_values() == [0x6865, 0x6C6C, 0x6F00, 0, 0]
    assert parse_register_spec("40010:int32=-2").raw_values("big", "little") == [0xFFFE, 0xFFFF]


@pytest.mark.parametrize("text", [
    "", "abc", "40010-40001", "40001-30001", "0", "40001=", "40001=x", "1=2", "40001=70000",
    "40001-40003:float32", "40001:float99", "10001:int32", "40001-40002=1,2,3", "40001:str[3]=toolong",
    "465536:int32",
])
def test_bad_register_specs_are_refused(text):
    with pytest.raises(ModbusUsageError):
        parse_register_spec(text)


def test_merge_ranges_respects_reach_and_limit():
    assert merge_ranges([0, 1, 2, 10, 300], reach=10) == [(0, 11), (300, 1)]
    assert merge_ranges([0, 1, 2, 10, 300], reach=0) == [(0, 3), (10, 1), (300, 1)]
    assert merge_ranges(range(300), limit=125) == [(0, 125), (125, 125), (250, 50)]
    assert merge_ranges(range(0, 4000, 2), reach=1, limit=2000) == [(0, 1999), (2000, 1999)]


@given(st.sets(st.integers(0, 65535), max_size=200), st.integers(0, 200), st.integers(1, 2000))
def test_merge_ranges_covers_exactly_within_limits(offsets, reach, limit):
    ranges = merge_ranges(offsets, reach=reach, limit=limit)
    covered = set()
    for start, count in ranges:
        assert 1 <= count <= limit
        assert start in offsets and start + count - 1 in offsets  # never starts or ends in a gap
        covered.update(range(start, start + count))
    assert offsets <= covered
    assert ranges == sorted(ranges)


_NUMERIC = {
    "int16": st.integers(-(2**15), 2**15 - 1), "uint16": st.integers(0, 2**16 - 1),
    "int32": st.integers(-(2**31), 2**31 - 1), "uint32": st.integers(0, 2**32 - 1),
    "int64": st.integers(-(2**63), 2**63 - 1), "uint64": st.integers(0, 2**64 - 1),
    "float64": st.floats(allow_nan=False),
    "float32": st.floats(allow_nan=False, width=32),
}


@given(st.data(), st.sampled_from(sorted(_NUMERIC)), st.sampled_from(["big", "little"]),
       st.sampled_from(["big", "little"]))
def test_typed_views_round_trip(data, name, byte_order, word_order):
    kind = parse_type(name)
    value = data.draw(_NUMERIC[name])
    words = kind.encode(value, byte_order, word_order)
    assert len(words) == kind.width and all(0 <= w <= 0xFFFF for w in words)
    back = kind.decode(words, byte_order, word_order)
    assert back == value or (math.isinf(value) and back == value)


@given(st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255), max_size=20))
def test_string_views_round_trip(text):
    kind = parse_type("str[20]")
    assert kind.decode(kind.encode(text)) == text


def test_word_order_swaps_registers():
    kind = parse_type("uint32")
    assert kind.encode(0x12345678) == [0x1234, 0x5678]
    assert kind.encode(0x12345678, word_order="little") == [0x5678, 0x1234]
    assert kind.encode(0x12345678, byte_order="little") == [0x3412, 0x7856]
    with pytest.raises(ModbusUsageError):
        kind.encode(-1)


def test_spec_addresses_cross_from_5_to_6_digits():
    spec = parse_register_spec("99999:int32")
    assert spec.addresses() == [99999, 460000]
    assert split_register(460000) == (Table.HOLDING_REGISTERS, 59999)
    assert parse_register_spec("40001-40004:float32").item_addresses() == [40001, 40003]


_SPEC_ALPHABET = st.sampled_from([*list("0123456789-=:,.[]xabefilnorstu "), "float32", "str[", "int", "40001"])


@given(st.one_of(st.text(max_size=40), st.lists(_SPEC_ALPHABET, max_size=20).map("".join)))
def test_fuzz_register_spec_only_raises_usage_errors(text):
    try:
        spec = parse_register_spec(text)
    except ModbusUsageError:
        return
    assert spec.count >= 1 and len(spec.addresses()) == spec.width
    if spec.values is not None:
        assert len(spec.raw_values()) == spec.width


@given(st.text(max_size=30))
def test_fuzz_fault_and_address_options_only_raise_usage_errors(text):
    import argparse

    from cpppo.modbus.cli import parse_endpoint
    from cpppo.modbus.faults import parse_delay, parse_exception_spec

    args = argparse.Namespace(serial=False, baudrate=19200, parity="N", stopbits=1, bytesize=8)
    for parse in (parse_delay, parse_exception_spec, lambda t: parse_endpoint(t, args)):
        with contextlib.suppress(ModbusUsageError):
            parse(text)


def _endpoint(text, serial=False, default_host=""):
    import argparse

    from cpppo.modbus.cli import parse_endpoint

    args = argparse.Namespace(serial=serial, baudrate=19200, parity="N", stopbits=1, bytesize=8)
    return parse_endpoint(text, args, default_host=default_host)


@pytest.mark.parametrize("text", ["COM3", "com1", "COM12", r"\\.\COM12", r"\\.\com7"])
def test_windows_com_ports_are_serial(text):
    endpoint = _endpoint(text)
    assert endpoint.serial is not None and endpoint.serial.port == text


@pytest.mark.parametrize(("text", "host", "port"), [
    ("compactlogix:502", "compactlogix", 502),
    ("compactlogix", "compactlogix", 502),
    ("COM", "COM", 502),
    ("com3.example.com:1502", "com3.example.com", 1502),
    ("COMPUTER", "COMPUTER", 502),
])
def test_hostnames_starting_with_com_are_tcp(text, host, port):
    endpoint = _endpoint(text)
    assert endpoint.serial is None and (endpoint.host, endpoint.port) == (host, port)


def test_colon_port_endpoints():
    """':PORT' is every interface for the simulator and this host for the poller."""
    assert (_endpoint(":1502").host, _endpoint(":1502").port) == ("", 1502)
    assert _endpoint(":1502", default_host="localhost") == _endpoint("localhost:1502")
    assert (_endpoint("plc").host, _endpoint("plc").port) == ("plc", 502)
    assert (_endpoint("[::1]:1502").host, _endpoint("[::1]:1502").port) == ("::1", 1502)
    assert _endpoint(":1502").serial is None
