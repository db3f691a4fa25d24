"""CIP elementary data types: type codes, and whole-buffer encoders/decoders.

Each numeric type packs and unpacks an entire array with one ``struct`` call, so a 1000-element
DINT costs the same Python overhead as one.  Values outside a type's range raise
:class:`~cpppo.errors.EncodeError`; nothing is silently wrapped.  Strings are the two CIP string
encodings with a length prefix (STRING: UINT, SSTRING: USINT); the Logix STRING structure is a
structure, not one of these.

Reply and write payloads start with a *type word*: a UINT type code, or the structured marker
0x02A0 followed by a UINT structure handle (``A0 02 <handle>`` on the wire).
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Sequence
from typing import Any

from ..errors import DecodeError, EncodeError

__all__ = [
    "STRUCTURE",
    "TYPES",
    "CIPType",
    "NumericType",
    "StringType",
    "TypeCode",
    "decode_type_word",
    "encode_type_word",
    "type_by_code",
    "type_by_name",
]

STRUCTURE = 0x02A0
"""The type word of a structured (UDT) value; a UINT structure handle follows it."""


@enum.unique
class TypeCode(enum.IntEnum):
    """Elementary type codes, as they appear in the type word of tag services."""

    BOOL = 0xC1
    SINT = 0xC2
    INT = 0xC3
    DINT = 0xC4
    LINT = 0xC5
    USINT = 0xC6
    UINT = 0xC7
    UDINT = 0xC8
    ULINT = 0xC9
    REAL = 0xCA
    LREAL = 0xCB
    STRING = 0xD0
    BYTE = 0xD1
    WORD = 0xD2
    DWORD = 0xD3
    LWORD = 0xD4
    SSTRING = 0xDA


class CIPType:
    """A CIP data type that can encode a sequence of values and decode them back."""

    name: str
    code: int
    size: int  # bytes per element; 0 for variable-length types

    def encode(self, values: Sequence[Any]) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def decode(self, buf: bytes | memoryview, offset: int = 0, count: int | None = None) -> list[Any]:
        raise NotImplementedError  # pragma: no cover - interface

    def __repr__(self) -> str:
        return self.name

    # cpppo 5's class-level view of a type (``REAL.tag_type``, ``REAL.produce(1.5)``), kept for the
    # documented ``cpppo.server.enip.parser``: each type's class knows its one instance.
    tag_type: int
    struct_calcsize: int
    the: CIPType

    @classmethod
    def produce(cls, value: Any) -> bytes:
        """One value encoded (as cpppo 5's ``TYPE.produce``)."""
        return cls.the.encode([value])


class NumericType(CIPType):
    """A fixed-size integer, float, or bit-string type, little-endian."""

    __slots__ = ("code", "fmt", "kind", "maximum", "minimum", "name", "size")

    def __init__(self, name: str, code: int, fmt: str, kind: str) -> None:
        self.name = name
        self.code = code
        self.fmt = fmt
        self.size = struct.calcsize("<" + fmt)
        self.kind = kind  # "int", "float" or "bool"
        if kind == "int":
            bits = self.size * 8
            signed = fmt.islower()
            self.minimum = -(1 << (bits - 1)) if signed else 0
            self.maximum = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
        elif kind == "bool":
            self.minimum, self.maximum = 0, 1
        else:
            self.minimum = self.maximum = 0

    def check(self, values: Sequence[Any]) -> None:
        """Raise EncodeError unless every value is representable in this type."""
        if not values:
            return
        if self.kind == "float":
            for v in values:
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    raise EncodeError(f"{self.name} needs a number, not {v!r}")
            if self.size == 4:
                hi = max(values)
                lo = min(values)
                for v in (hi, lo):
                    if abs(v) != math.inf and abs(v) > 3.4028235677973366e38:  # no float(): ints may be huge
                        raise EncodeError(f"{v!r} is out of range for {self.name}")
            return
        for v in values:
            if not isinstance(v, int):
                raise EncodeError(f"{self.name} needs an integer, not {v!r}")
        lo, hi = min(values), max(values)
        if lo < self.minimum or hi > self.maximum:
            bad = lo if lo < self.minimum else hi
            raise EncodeError(f"{bad!r} is out of range for {self.name} ({self.minimum}..{self.maximum})")

    def encode(self, values: Sequence[Any]) -> bytes:
        # struct refuses what does not fit (ints out of range, non-numbers, floats past REAL), so
        # the per-value check runs only to say what was wrong -- except for what struct would take:
        # BOOLs other than 0/1 (a byte), and bools given for floats.
        if self.kind != "int" and (self.kind == "bool" or any(v is True or v is False for v in values)):
            self.check(values)
        try:
            return struct.pack(f"<{len(values)}{self.fmt}", *values)
        except (struct.error, OverflowError, TypeError) as exc:
            self.check(values)  # raises EncodeError naming the value
            raise EncodeError(f"a value is out of range for {self.name}: {exc}") from None

    def decode(self, buf: bytes | memoryview, offset: int = 0, count: int | None = None) -> list[Any]:
        avail = len(buf) - offset
        if count is None:
            if avail < 0 or avail % self.size:
                raise DecodeError(f"{avail} bytes is not a whole number of {self.name} ({self.size} bytes each)", offset)
            count = avail // self.size
        elif count < 0 or count * self.size > avail:
            raise DecodeError(f"{count} x {self.name} needs {count * self.size} bytes, {max(avail, 0)} remain", offset)
        values = list(struct.unpack_from(f"<{count}{self.fmt}", buf, offset))
        if self.kind == "bool":
            return [1 if v else 0 for v in values]
        return values


class StringType(CIPType):
    """A CIP string with a length prefix: STRING (UINT length) or SSTRING (USINT length).

    Characters are ISO-8859-1, so every byte value survives a round trip.
    """

    __slots__ = ("code", "maximum", "name", "prefix", "size")

    def __init__(self, name: str, code: int, prefix: str) -> None:
        self.name = name
        self.code = code
        self.prefix = struct.Struct("<" + prefix)
        self.maximum = (1 << (8 * self.prefix.size)) - 1
        self.size = 0

    def encode(self, values: Sequence[Any]) -> bytes:
        out = bytearray()
        for v in values:
            if not isinstance(v, str):
                raise EncodeError(f"{self.name} needs a str, not {v!r}")
            try:
                raw = v.encode("iso-8859-1")
            except UnicodeEncodeError as exc:
                raise EncodeError(f"{v!r} has characters {self.name} cannot carry") from exc
            if len(raw) > self.maximum:
                raise EncodeError(f"{len(raw)} characters is too long for {self.name} (max {self.maximum})")
            out += self.prefix.pack(len(raw))
            out += raw
        return bytes(out)

    def decode(self, buf: bytes | memoryview, offset: int = 0, count: int | None = None) -> list[Any]:
        out: list[str] = []
        end = len(buf)
        while (count is None and offset < end) or (count is not None and len(out) < count):
            if offset + self.prefix.size > end:
                raise DecodeError(f"{self.name} length prefix truncated", offset)
            (n,) = self.prefix.unpack_from(buf, offset)
            offset += self.prefix.size
            if offset + n > end:
                raise DecodeError(f"{self.name} of {n} characters truncated", offset)
            out.append(bytes(buf[offset : offset + n]).decode("iso-8859-1"))
            offset += n
        return out

    def decode_one(self, buf: bytes | memoryview, offset: int = 0) -> tuple[str, int]:
        """Decode one string at ``offset``; return it and the offset just past it."""
        if offset + self.prefix.size > len(buf):
            raise DecodeError(f"{self.name} length prefix truncated", offset)
        (n,) = self.prefix.unpack_from(buf, offset)
        start = offset + self.prefix.size
        if start + n > len(buf):
            raise DecodeError(f"{self.name} of {n} characters truncated", start)
        return bytes(buf[start : start + n]).decode("iso-8859-1"), start + n


def _numeric(name: str, code: int, fmt: str, kind: str) -> NumericType:
    # Each type gets its own class, so ``isinstance(attribute.parser, REAL)`` reads as in the documents.
    cls = type(name, (NumericType,), {"__slots__": ()})
    return _classed(cls, cls(name, code, fmt, kind))


def _string(name: str, code: int, prefix: str) -> StringType:
    cls = type(name, (StringType,), {"__slots__": ()})
    return _classed(cls, cls(name, code, prefix))


def _classed(cls: type, the: Any) -> Any:
    cls.the, cls.tag_type, cls.struct_calcsize = the, the.code, the.size
    return the


BOOL = _numeric("BOOL", TypeCode.BOOL, "B", "bool")
SINT = _numeric("SINT", TypeCode.SINT, "b", "int")
INT = _numeric("INT", TypeCode.INT, "h", "int")
DINT = _numeric("DINT", TypeCode.DINT, "i", "int")
LINT = _numeric("LINT", TypeCode.LINT, "q", "int")
USINT = _numeric("USINT", TypeCode.USINT, "B", "int")
UINT = _numeric("UINT", TypeCode.UINT, "H", "int")
UDINT = _numeric("UDINT", TypeCode.UDINT, "I", "int")
ULINT = _numeric("ULINT", TypeCode.ULINT, "Q", "int")
REAL = _numeric("REAL", TypeCode.REAL, "f", "float")
LREAL = _numeric("LREAL", TypeCode.LREAL, "d", "float")
BYTE = _numeric("BYTE", TypeCode.BYTE, "B", "int")
WORD = _numeric("WORD", TypeCode.WORD, "H", "int")
DWORD = _numeric("DWORD", TypeCode.DWORD, "I", "int")
LWORD = _numeric("LWORD", TypeCode.LWORD, "Q", "int")
STRING = _string("STRING", TypeCode.STRING, "H")
SSTRING = _string("SSTRING", TypeCode.SSTRING, "B")

TYPES: dict[str, CIPType] = {
    t.name: t
    for t in (BOOL, SINT, INT, DINT, LINT, USINT, UINT, UDINT, ULINT, REAL, LREAL,
              BYTE, WORD, DWORD, LWORD, STRING, SSTRING)
}
_BY_CODE: dict[int, CIPType] = {t.code: t for t in TYPES.values()}


def type_by_name(name: str) -> CIPType:
    """The type called ``name`` (case-insensitive); EncodeError if there is none."""
    try:
        return TYPES[name.upper()]
    except KeyError:
        raise EncodeError(f"unknown CIP type {name!r}; known: {', '.join(TYPES)}") from None


def type_by_code(code: int) -> CIPType | None:
    """The elementary type with type code ``code``, or None (structures, vendor codes)."""
    return _BY_CODE.get(code)


_UINT = struct.Struct("<H")
_UINT2 = struct.Struct("<HH")


def decode_type_word(buf: bytes | memoryview, offset: int = 0) -> tuple[int, int | None, int]:
    """Decode a type word at ``offset``: (type code, structure handle or None, offset past it)."""
    if offset + 2 > len(buf):
        raise DecodeError("type word truncated", offset)
    (code,) = _UINT.unpack_from(buf, offset)
    if code == STRUCTURE:
        if offset + 4 > len(buf):
            raise DecodeError("structure handle truncated", offset + 2)
        return code, _UINT.unpack_from(buf, offset + 2)[0], offset + 4
    return code, None, offset + 2


def encode_type_word(code: int, handle: int | None = None) -> bytes:
    """The type word for ``code`` (with its structure handle when ``code`` is STRUCTURE)."""
    if code == STRUCTURE:
        if handle is None or not 0 <= handle <= 0xFFFF:
            raise EncodeError(f"a structure type word needs a 16-bit handle, not {handle!r}")
        return _UINT2.pack(code, handle)
    if not 0 <= code <= 0xFFFF:
        raise EncodeError(f"type code {code!r} is not 16 bits")
    return _UINT.pack(code)
