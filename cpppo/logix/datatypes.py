"""Logix structures (UDTs and the built-in STRING) and the per-controller registry of data types.

A :class:`Structure` lays its members out as a Logix controller does: each member aligned to its
own size (structures to 4 or 8 bytes), BOOL members packed eight to a hidden SINT host, and the
whole padded to its alignment.  The same description produces what the Template object (class
0x6C) serves, so pycomm3 and pylogix rebuild exactly the layout we store:

    template data = member info (UINT info | UINT type | UDINT offset) x members
                  + "NAME;n\\0" + member names, NUL-terminated

``info`` is a member's array length, or a BOOL member's bit number; ``type`` is an atomic type
code, or 0x8000 | template instance id for a structure member.

Declaration syntax (``--udt`` and the ``[UDT]`` section of cpppo.cfg)::

    Motor = Speed:REAL, Count:DINT, Running:BOOL, History:DINT[10], Name:STRING
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..cip.types import DINT, DWORD, SINT, STRUCTURE, TYPES, CIPType
from ..errors import DecodeError, EncodeError

__all__ = ["STRING_HANDLE", "DataType", "Member", "Structure", "TypeRegistry", "logix_string"]

STRING_HANDLE = 0x0FCE
"""Structure handle (and template instance) of the built-in Logix STRING."""

DataType = CIPType  # an elementary type, or a Structure (which is a CIPType too)


@dataclass(frozen=True)
class Member:
    name: str
    type: CIPType
    offset: int
    count: int = 0  # array length; 0 for a scalar
    bit: int | None = None  # BOOL members: the bit in the host SINT at ``offset``
    hidden: bool = False

    @property
    def size(self) -> int:
        return self.type.size * max(self.count, 1)


def _align_of(t: CIPType) -> int:
    if isinstance(t, Structure):
        return t.align
    return max(1, min(t.size, 8))


class Structure(CIPType):
    """A structured type: named members at fixed offsets in ``size`` bytes."""

    code = STRUCTURE

    def __init__(self, name: str, members: Sequence[tuple[str, CIPType, int]], *, handle: int | None = None,
                 instance_id: int = 0, template_name: str | None = None, string: bool = False) -> None:
        self.name = name
        self.template_name = template_name or name
        self.instance_id = instance_id
        self.string = string
        self.members: list[Member] = []
        offset = 0
        align = 4
        host_offset: int | None = None  # the hidden SINT that the current run of BOOLs live in
        host_bits = 0
        for mname, mtype, count in members:
            if mtype.code == 0xC1 and count == 0:  # a BOOL: the next bit of a hidden SINT host
                if host_offset is None or host_bits == 8:
                    host_offset, host_bits = offset, 0
                    self.members.append(Member(f"ZZZZZZZZZZ{name}{offset}", SINT, offset, hidden=True))
                    offset += 1
                self.members.append(Member(mname, mtype, host_offset, 0, host_bits))
                host_bits += 1
                continue
            host_offset = None
            # BOOL arrays are stored as DWORDs of 32 bits
            kind, n = (DWORD, -(-count // 32)) if mtype.code == 0xC1 else (mtype, count)
            a = _align_of(kind)
            align = max(align, a)
            offset = -(-offset // a) * a
            member = Member(mname, kind, offset, n)
            self.members.append(member)
            offset += member.size
        self.align = align
        self.size = -(-offset // align) * align if offset else align
        self.by_name = {m.name.lower(): m for m in self.members if not m.hidden}
        self._template: bytes | None = None
        names = ";".join(f"{m.name}:{m.type.name}:{m.offset}:{m.count}:{m.bit}" for m in self.members)
        self.handle = handle if handle is not None else (zlib.crc32(f"{name}|{names}".encode()) & 0xFFFF) or 1

    # -- values -----------------------------------------------------------------------------------
    def _decode_one(self, buf: bytes | memoryview, at: int) -> Any:
        if self.string:
            (n,) = struct.unpack_from("<i", buf, at)
            n = max(0, min(n, self.size - 4))
            return bytes(buf[at + 4 : at + 4 + n]).decode("iso-8859-1")
        out: dict[str, Any] = {}
        for m in self.members:
            if m.hidden:
                continue
            if m.bit is not None:
                out[m.name] = bool(buf[at + m.offset] >> m.bit & 1)
            elif m.count:
                out[m.name] = m.type.decode(buf, at + m.offset, m.count)
            else:
                out[m.name] = m.type.decode(buf, at + m.offset, 1)[0]
        return out

    def decode(self, buf: bytes | memoryview, offset: int = 0, count: int | None = None) -> list[Any]:
        avail = len(buf) - offset
        if count is None:
            if avail % self.size:
                raise DecodeError(f"{avail} bytes is not a whole number of {self.name} ({self.size} bytes)", offset)
            count = avail // self.size
        if count * self.size > avail:
            raise DecodeError(f"{count} x {self.name} needs {count * self.size} bytes, {avail} remain", offset)
        return [self._decode_one(buf, offset + i * self.size) for i in range(count)]

    def _encode_into(self, value: Any, out: bytearray, at: int) -> None:
        if self.string:
            if not isinstance(value, str):
                raise EncodeError(f"{self.name} needs a str, not {value!r}")
            raw = value.encode("iso-8859-1", errors="strict")
            if len(raw) > self.size - 4:
                raise EncodeError(f"{len(raw)} characters is too long for {self.name} (max {self.size - 4})")
            out[at : at + 4] = struct.pack("<i", len(raw))
            out[at + 4 : at + 4 + len(raw)] = raw
            return
        if not isinstance(value, Mapping):
            raise EncodeError(f"{self.name} needs a dict of member values, not {value!r}")
        for key, v in value.items():
            m = self.by_name.get(str(key).lower())
            if m is None:
                raise EncodeError(f"{self.name} has no member {key!r}")
            if m.bit is not None:
                if v not in (0, 1, True, False):
                    raise EncodeError(f"{self.name}.{m.name} is a BOOL, not {v!r}")
                if v:
                    out[at + m.offset] |= 1 << m.bit
                else:
                    out[at + m.offset] &= ~(1 << m.bit) & 0xFF
            elif isinstance(m.type, Structure):
                items = list(v) if m.count else [v]
                if len(items) != max(m.count, 1):
                    raise EncodeError(f"{self.name}.{m.name} needs {max(m.count, 1)} values")
                for i, item in enumerate(items):
                    m.type._encode_into(item, out, at + m.offset + i * m.type.size)
            else:
                items = list(v) if m.count else [v]
                if len(items) != max(m.count, 1):
                    raise EncodeError(f"{self.name}.{m.name} needs {max(m.count, 1)} values")
                data = m.type.encode(items)
                out[at + m.offset : at + m.offset + len(data)] = data

    def encode(self, values: Sequence[Any]) -> bytes:
        out = bytearray(self.size * len(values))
        for i, v in enumerate(values):
            self._encode_into(v, out, i * self.size)
        return bytes(out)

    def blank(self) -> Any:
        return "" if self.string else self._decode_one(bytes(self.size), 0)

    # -- the Template object ----------------------------------------------------------------------
    def template_data(self) -> bytes:
        """What Read Template serves (a structure never changes, so it is built once)."""
        if self._template is None:
            self._template = self._build_template()
        return self._template

    def _build_template(self) -> bytes:
        info = bytearray()
        for m in self.members:
            if isinstance(m.type, Structure):
                kind = 0x8000 | m.type.instance_id
            else:
                kind = m.type.code
            extra = m.bit if m.bit is not None else m.count
            info += struct.pack("<HHI", extra, kind, m.offset)
        # "NAME;n" and two bytes per member (their access: 0x04 hidden, 0x03 read/write; never NUL)
        access = b"".join(b"\x01\x04" if m.hidden else b"\x01\x03" for m in self.members)
        names = f"{self.template_name};n".encode("ascii") + access + b"\0"
        names += b"".join(m.name.encode("ascii") + b"\0" for m in self.members)
        data = bytes(info) + names
        return data + bytes(-len(data) % 4)  # padded to whole 32-bit words

    @property
    def definition_size(self) -> int:
        """Template attribute 4: the template's size in 32-bit words, as Logix counts it.

        Clients read ``definition_size * 4 - 20`` (pylogix) or ``- 21`` (pycomm3) bytes.
        """
        return (len(self.template_data()) + 20) // 4

    def __repr__(self) -> str:
        return f"<Structure {self.name} {self.size} bytes, handle 0x{self.handle:04X}>"


def logix_string() -> Structure:
    """The built-in Logix STRING: DINT LEN and SINT DATA[82] (88 bytes, handle 0x0FCE)."""
    return Structure("STRING", [("LEN", DINT, 0), ("DATA", SINT, 82)], handle=STRING_HANDLE,
                     instance_id=STRING_HANDLE, template_name="ASCIISTRING82", string=True)


_MEMBER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[\s*(\w+)\s*\])?\s*$")


class TypeRegistry:
    """The data types one controller knows: the elementary ones, STRING, and declared UDTs.

    ``STRING`` is the Logix STRING structure here; the CIP STRING (UINT length) stays available to
    object attributes through :mod:`cpppo.cip.types`.
    """

    def __init__(self) -> None:
        self.types: dict[str, CIPType] = {k: v for k, v in TYPES.items() if k != "STRING"}
        string = logix_string()
        self.types["STRING"] = string
        self.structures: dict[int, Structure] = {string.instance_id: string}
        self._next_instance = 0x100

    def get(self, name: str) -> CIPType:
        try:
            return self.types[name.upper()]
        except KeyError:
            raise EncodeError(f"unknown data type {name!r}; known: {', '.join(self.types)}") from None

    def declare(self, name: str, members: Iterable[tuple[str, CIPType, int]]) -> Structure:
        if name.upper() in self.types:
            raise EncodeError(f"data type {name!r} is already defined")
        members = list(members)
        if not members:
            raise EncodeError(f"structure {name!r} has no members")
        seen = set()
        for mname, _, count in members:
            if mname.lower() in seen:
                raise EncodeError(f"structure {name!r} has member {mname!r} twice")
            if count < 0 or count > 0xFFFF:
                raise EncodeError(f"structure {name!r} member {mname!r}: bad array length {count}")
            seen.add(mname.lower())
        struct_type = Structure(name, members, instance_id=self._next_instance)
        self._next_instance += 1
        self.types[name.upper()] = struct_type
        self.structures[struct_type.instance_id] = struct_type
        return struct_type

    def parse(self, text: str) -> Structure:
        """Declare a structure from ``NAME = MEMBER:TYPE[n], ...``."""
        name, eq, body = text.partition("=")
        name = name.strip()
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise EncodeError(f"structure {text!r} is not NAME = MEMBER:TYPE[, MEMBER:TYPE[n] ...]")
        members = []
        for part in body.split(","):
            m = _MEMBER.match(part)
            if not m:
                raise EncodeError(f"structure {name!r}: member {part.strip()!r} is not NAME:TYPE or NAME:TYPE[n]")
            count = 0
            if m[3] is not None:
                try:
                    count = int(m[3], 0)
                except ValueError:
                    raise EncodeError(f"structure {name!r}: member {m[1]!r} length {m[3]!r} is not a number") from None
                if count < 1:
                    raise EncodeError(f"structure {name!r}: member {m[1]!r} length must be at least 1")
            members.append((m[1], self.get(m[2]), count))
        return self.declare(name, members)

