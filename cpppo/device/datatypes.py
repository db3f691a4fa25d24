"""Logix structures (UDTs and the built-in STRING) and the per-controller registry of data types.

A :class:`Structure` lays its members out as a Logix controller does: each member aligned to its
own size (structures to 4 or 8 bytes), BOOL members packed eight to a hidden SINT host, and the
whole padded to its alignment.  That layout is written down as the template definition the
Template object (class 0x6C) serves, and the structure's values are encoded and decoded by the
:class:`~cpppo.cip.logix_objects.StructCodec` built from that same definition -- the codec a
client builds from the template it reads -- so pycomm3, pylogix and our client see exactly the
layout we store (the byte layouts are drawn in :mod:`cpppo.cip.logix_objects`).

Declaration syntax (``--udt`` and the ``[UDT]`` section of cpppo.cfg)::

    Motor = Speed:REAL, Count:DINT, Running:BOOL, History:DINT[10], Name:STRING
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..cip.logix_objects import (
    STRING_CAPACITY,
    STRING_DEFINITION,
    STRING_HANDLE,
    StructCodec,
    TemplateDefinition,
    TemplateMember,
    definition_words,
)
from ..cip.types import DINT, DWORD, SINT, STRUCTURE, TYPES, CIPType
from ..errors import EncodeError

__all__ = ["STRING_HANDLE", "DataType", "Structure", "StructureMember", "TypeRegistry", "logix_string"]

DataType = CIPType  # an elementary type, or a Structure (which is a CIPType too)


@dataclass(frozen=True)
class StructureMember:
    """A member as declared and laid out: its CIP type (a Structure for a nested structure)."""

    name: str
    type: CIPType
    offset: int
    count: int = 0  # array length; 0 for a scalar
    bit: int | None = None  # BOOL members: the bit in the host SINT at ``offset``
    hidden: bool = False

    @property
    def size(self) -> int:
        return self.type.size * max(self.count, 1)

    def template_member(self) -> TemplateMember:
        """The member as the template definition gives it."""
        if isinstance(self.type, Structure):
            kind = TemplateMember.structure_type(self.type.instance_id)
        else:
            kind = self.type.code
        return TemplateMember(self.name, self.bit if self.bit is not None else self.count, kind, self.offset)


def _align_of(t: CIPType) -> int:
    if isinstance(t, Structure):
        return t.align
    return max(1, min(t.size, 8))


class Structure(CIPType):
    """A structured type: named members at fixed offsets in ``size`` bytes.

    Its values are dicts of every member (BOOL members as bools, ``BOOL[n]`` members as their
    DWORDs); a structure laid out as ``LEN`` DINT, ``DATA`` SINT[n] is a string type, and its
    values are str.
    """

    code = STRUCTURE

    def __init__(self, name: str, members: Sequence[tuple[str, CIPType, int]], *, handle: int | None = None,
                 instance_id: int = 0, template_name: str | None = None) -> None:
        self.name = name
        self.template_name = template_name or name
        self.instance_id = instance_id
        self.members: list[StructureMember] = []
        offset = 0
        align = 4
        host_offset: int | None = None  # the hidden SINT that the current run of BOOLs live in
        host_bits = 0
        for mname, mtype, count in members:
            if mtype.code == 0xC1 and count == 0:  # a BOOL: the next bit of a hidden SINT host
                if host_offset is None or host_bits == 8:
                    host_offset, host_bits = offset, 0
                    self.members.append(StructureMember(f"ZZZZZZZZZZ{name}{offset}", SINT, offset, hidden=True))
                    offset += 1
                self.members.append(StructureMember(mname, mtype, host_offset, 0, host_bits))
                host_bits += 1
                continue
            host_offset = None
            # BOOL arrays are stored as DWORDs of 32 bits
            kind, n = (DWORD, -(-count // 32)) if mtype.code == 0xC1 else (mtype, count)
            a = _align_of(kind)
            align = max(align, a)
            offset = -(-offset // a) * a
            member = StructureMember(mname, kind, offset, n)
            self.members.append(member)
            offset += member.size
        self.align = align
        self.size = -(-offset // align) * align if offset else align
        self.by_name = {m.name.lower(): m for m in self.members if not m.hidden}
        names = ";".join(f"{m.name}:{m.type.name}:{m.offset}:{m.count}:{m.bit}" for m in self.members)
        self.handle = handle if handle is not None else (zlib.crc32(f"{name}|{names}".encode()) & 0xFFFF) or 1
        self.definition = TemplateDefinition.build(self.template_name, (m.template_member() for m in self.members))
        nested: dict[int, StructCodec] = {}
        for m in self.members:
            if isinstance(m.type, Structure) and nested.setdefault(m.type.instance_id, m.type.codec) is not m.type.codec:
                raise EncodeError(f"structure {name!r}: two member types share template instance {m.type.instance_id}")
        self.codec = StructCodec.from_definition(self.definition, self.size, nested.__getitem__, bool_arrays=False)
        self.codec.validate()
        self.string = self.codec.string
        self._template = self.definition.encode()

    # -- values: the codec's ------------------------------------------------------------------------
    def decode(self, buf: bytes | memoryview, offset: int = 0, count: int | None = None) -> list[Any]:
        return self.codec.decode(buf, offset, count)

    def encode(self, values: Sequence[Any]) -> bytes:
        return self.codec.encode(values)

    def blank(self) -> Any:
        return self.codec.blank()

    # -- the Template object ----------------------------------------------------------------------
    def template_data(self) -> bytes:
        """What Read Template serves."""
        return self._template

    @property
    def definition_size(self) -> int:
        """Template attribute 4: the template's size in 32-bit words, as Logix counts it.

        Clients read ``definition_size * 4 - 20`` (pylogix) or ``- 21`` (pycomm3) bytes.
        """
        return definition_words(len(self._template))

    def __repr__(self) -> str:
        return f"<Structure {self.name} {self.size} bytes, handle 0x{self.handle:04X}>"


def logix_string() -> Structure:
    """The built-in Logix STRING: DINT LEN and SINT DATA[82] (88 bytes, handle 0x0FCE)."""
    return Structure("STRING", [("LEN", DINT, 0), ("DATA", SINT, STRING_CAPACITY)], handle=STRING_HANDLE,
                     instance_id=STRING_HANDLE, template_name=STRING_DEFINITION.name)


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

