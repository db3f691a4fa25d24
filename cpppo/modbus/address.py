"""The Modbus data model's numbering: which table an address names, and the register syntax.

Users (and the documents) number Modbus data the way PLC manuals do: 5 or 6 digit addresses whose
leading digit picks the table and whose rest is a 1-based index::

    From    To      Read Write  Table (function codes)
    1       9999    yes  yes    coils              (1 read, 5/15 write)
    10001   19999   yes  no     discrete inputs    (2)
    100001  165536
    30001   39999   yes  no     input registers    (4)
    300001  365536
    40001   99999   yes  yes    holding registers  (3 read, 6/16 write)
    400001  465536

On the wire each table is addressed 0-based, so ``40001`` is holding register offset 0.  This
module converts between the two and parses the command line syntax
``<beg>[-<end>][:<type>][=<v>[,<v>...]]`` into :class:`RegisterSpec`; values repeat to fill a range.
It does no I/O.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import ModbusUsageError
from .typed import RAW, RegisterType, parse_type

__all__ = [
    "MAX_READ_BITS",
    "MAX_READ_REGISTERS",
    "MAX_WRITE_BITS",
    "MAX_WRITE_REGISTERS",
    "RegisterSpec",
    "Table",
    "make_address",
    "merge_ranges",
    "parse_register_spec",
    "split_register",
]

#: Modbus PDU limits (Modbus Application Protocol v1.1b3, functions 1-4, 15, 16).
MAX_READ_BITS = 2000
MAX_READ_REGISTERS = 125
MAX_WRITE_BITS = 1968
MAX_WRITE_REGISTERS = 123


@enum.unique
class Table(enum.Enum):
    """The four Modbus data tables; the value is the 5-digit numbering's base address."""

    COILS = 1
    DISCRETE_INPUTS = 10001
    INPUT_REGISTERS = 30001
    HOLDING_REGISTERS = 40001

    @property
    def is_bits(self) -> bool:
        return self in (Table.COILS, Table.DISCRETE_INPUTS)

    @property
    def writable(self) -> bool:
        return self in (Table.COILS, Table.HOLDING_REGISTERS)

    @property
    def max_read(self) -> int:
        return MAX_READ_BITS if self.is_bits else MAX_READ_REGISTERS

    @property
    def max_write(self) -> int:
        return MAX_WRITE_BITS if self.is_bits else MAX_WRITE_REGISTERS


#: (first address, last address, table, address of offset 0), checked in order.
_RANGES: tuple[tuple[int, int, Table, int], ...] = (
    (1, 9999, Table.COILS, 1),
    (10001, 19999, Table.DISCRETE_INPUTS, 10001),
    (30001, 39999, Table.INPUT_REGISTERS, 30001),
    (40001, 99999, Table.HOLDING_REGISTERS, 40001),
    (100001, 165536, Table.DISCRETE_INPUTS, 100001),
    (300001, 365536, Table.INPUT_REGISTERS, 300001),
    (400001, 465536, Table.HOLDING_REGISTERS, 400001),
)


def split_register(address: int) -> tuple[Table, int]:
    """Return the (table, 0-based wire offset) that a PLC-style address names."""
    if isinstance(address, bool) or not isinstance(address, int):
        raise ModbusUsageError(f"Modbus address must be an integer, not {address!r}")
    for first, last, table, base in _RANGES:
        if first <= address <= last:
            return table, address - base
    raise ModbusUsageError(f"{address} is not a Modbus address (coils 1-9999, discrete inputs "
                           "10001-19999, input registers 30001-39999, holding registers 40001-99999, "
                           "or the 6-digit forms 100001-465536)")


def make_address(table: Table, offset: int) -> int:
    """The PLC-style address of ``offset`` in ``table``: 5 digits where they reach, else 6."""
    if not 0 <= offset <= 0xFFFF:
        raise ModbusUsageError(f"offset {offset} is outside 0-65535")
    if table.value + offset <= _LAST5[table]:
        return table.value + offset
    if table is Table.COILS:
        raise ModbusUsageError(f"coil offset {offset} has no address (coils are 1-9999)")
    return table.value * 10 - 9 + offset


_LAST5 = {Table.COILS: 9999, Table.DISCRETE_INPUTS: 19999, Table.INPUT_REGISTERS: 39999,
          Table.HOLDING_REGISTERS: 99999}


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    """One command line register argument: a run of addresses, a view type, optional values.

    ``address`` is the PLC-style first address, ``count`` the number of items of ``kind`` (one
    register or bit each for the raw view; a float32 covers two registers).  ``values`` is None for
    a plain poll, or exactly ``count`` values after repetition.
    """

    address: int
    table: Table
    offset: int
    count: int
    kind: RegisterType
    values: tuple[int | float | str, ...] | None

    @property
    def width(self) -> int:
        """Number of registers (or bits) the spec covers."""
        return self.count * self.kind.width

    def addresses(self) -> list[int]:
        """Every PLC-style address the spec covers (5 digits where they reach, else 6)."""
        return [make_address(self.table, self.offset + i) for i in range(self.width)]

    def item_addresses(self) -> list[int]:
        """The first address of each item."""
        return self.addresses()[:: self.kind.width]

    def raw_values(self, byte_order: str = "big", word_order: str = "big") -> list[int]:
        """The values as raw 16-bit words (or 0/1 bits), ready to write."""
        if self.values is None:
            raise ModbusUsageError(f"{self.address}: no values given")
        words: list[int] = []
        for value in self.values:
            words.extend(self.kind.encode(value, byte_order=byte_order, word_order=word_order))
        return words


_SPEC = re.compile(r"^\s*(?P<beg>\d+)(?:\s*-\s*(?P<end>\d+))?(?::(?P<type>[^=]+))?(?:=(?P<vals>.*))?$")


def parse_register_spec(text: str) -> RegisterSpec:
    """Parse ``<beg>[-<end>][:<type>][=<v>[,<v>...]]``; raise ModbusUsageError on bad input."""
    match = _SPEC.match(text)
    if not match:
        raise ModbusUsageError(f"bad register spec {text!r}: expected <beg>[-<end>][:<type>][=<v>[,<v>...]]")
    beg = int(match["beg"])
    end = int(match["end"]) if match["end"] else None
    table, offset = split_register(beg)
    kind = parse_type(match["type"]) if match["type"] else RAW
    if table.is_bits and kind is not RAW:
        raise ModbusUsageError(f"{text!r}: coils and discrete inputs hold bits; they take no :type")
    if end is None:
        count = 1
    else:
        end_table, end_offset = split_register(end)
        if end_table is not table or end_offset < offset:
            raise ModbusUsageError(f"{text!r}: range must run upward within one table")
        span = end_offset - offset + 1
        if span % kind.width:
            raise ModbusUsageError(f"{text!r}: {span} registers is not a whole number of {kind.name}")
        count = span // kind.width
    if offset + count * kind.width - 1 > 0xFFFF:
        raise ModbusUsageError(f"{text!r}: runs past the end of the table")
    values: tuple[int | float | str, ...] | None = None
    if match["vals"] is not None:
        if kind.is_string:
            given: list[int | float | str] = [match["vals"]]
        else:
            given = [_parse_value(v, kind, table, text) for v in match["vals"].split(",")]
        if not given or len(given) > count:
            raise ModbusUsageError(f"{text!r}: {len(given)} values for {count} items")
        values = tuple(given[i % len(given)] for i in range(count))
        for value in values:
            kind.encode(value)  # range check now, not at write time
    return RegisterSpec(beg, table, offset, count, kind, values)


def _parse_value(text: str, kind: RegisterType, table: Table, spec: str) -> int | float:
    word = text.strip()
    try:
        if kind.is_float:
            return float(word)
        if table.is_bits and word.lower() in ("true", "false", "on", "off"):
            return int(word.lower() in ("true", "on"))
        value = int(word, 0)
    except ValueError:
        raise ModbusUsageError(f"{spec!r}: bad value {word!r}") from None
    if table.is_bits and value not in (0, 1):
        raise ModbusUsageError(f"{spec!r}: a bit is 0 or 1, not {value}")
    return value


def merge_ranges(offsets: Iterable[int], *, reach: int = 0,
                 limit: int = MAX_READ_REGISTERS) -> list[tuple[int, int]]:
    """Merge 0-based offsets into (start, count) reads no longer than ``limit``.

    Offsets closer than ``reach`` apart are read in one request (reading the gap too), which
    trades a few extra registers for fewer round trips.
    """
    if limit < 1:
        raise ModbusUsageError("limit must be at least 1")
    result: list[tuple[int, int]] = []
    start = last = None
    for offset in sorted(set(offsets)):
        if start is not None and last is not None:
            if offset - last <= reach + 1 and offset - start < limit:
                last = offset
                continue
            result.append((start, last - start + 1))
        start = last = offset
    if start is not None and last is not None:
        result.append((start, last - start + 1))
    return result
