"""The objects a Logix controller describes its tags with, on the wire: one codec for both sides.

The simulator (:mod:`cpppo.device`) encodes these and the client (:mod:`cpppo.client.tag_list`)
decodes them; both go through this module, so the two cannot drift apart.  All little-endian.

Symbol type word (Symbol attribute 2, a UINT)::

    bit  15          14-13        12       11 ................................ 0
         structure   dimensions   system   atomic: type code in 0-7 (a BOOL's bit in 8-10)
                     (0..3)                structure: its template instance

Symbol entry (class 0x6B): one per instance in a Get Instance Attribute List (0x55) reply::

    instance UDINT, then the value of each attribute asked for, in the order asked:
      1 name              UINT length | ISO-8859-1 characters
      2 type word         UINT                       6 software control   UDINT
      3 address           UDINT                      7 element size       UINT
      5 object address    UDINT                      8 dimensions         UDINT x 3
                                                    10 external access    USINT

Template attributes (class 0x6C, Get Attribute List)::

    1 structure handle UINT     2 member count UINT     3 member count UINT (pylogix asks)
    4 definition size UDINT, in 32-bit words            5 structure size UDINT, in bytes

Template definition (Read Template, 0x4C on class 0x6C): ``definition size * 4 - 20`` bytes::

    +-----------+-----------+---------------+
    | info UINT | type UINT | offset UDINT  |  x member count
    +-----------+-----------+---------------+
    | NAME ";" extra NUL                    |  info: array length, or a BOOL member's bit
    | member name NUL  x member count       |  type: atomic type code, or 0x8000 | template instance
    | NUL padding to a whole 32-bit word    |  offset: bytes from the start of the structure
    +---------------------------------------+

The Logix STRING (template ``ASCIISTRING82``, handle 0x0FCE), 88 bytes::

    LEN DINT | DATA SINT[82] | 2 pad bytes

:class:`StructCodec` turns a structure's bytes into a dict of member values and back, from the
template's members alone: the simulator builds it from the template it serves, the client from
the template it read, so a layout is decoded one way everywhere.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DecodeError, EncodeError
from .status import GeneralStatus
from .tag_services import AttributeValue, decode_attribute_list_reply, encode_attribute_list_reply
from .types import DWORD, STRUCTURE, NumericType, TypeCode, type_by_code

__all__ = [
    "LOGIX_STRING",
    "STRING_CAPACITY",
    "STRING_DEFINITION",
    "STRING_HANDLE",
    "STRING_SIZE",
    "SYMBOL_ATTRIBUTES",
    "TEMPLATE_ATTRIBUTE_SIZES",
    "StructCodec",
    "SymbolEntry",
    "SymbolType",
    "TemplateAttributes",
    "TemplateDefinition",
    "TemplateMember",
    "decode_symbol_entries",
    "decode_template_attribute_list",
    "definition_length",
    "definition_words",
]

STRING_HANDLE = 0x0FCE
"""Structure handle (and template instance) of the built-in Logix STRING."""
STRING_CAPACITY = 82
"""Characters a Logix STRING holds (its SINT DATA[82])."""
STRING_SIZE = 88
"""Bytes of a Logix STRING: DINT LEN, SINT DATA[82], padded to a 32-bit word."""

_UINT = struct.Struct("<H")
_UDINT = struct.Struct("<I")
_USINT = struct.Struct("<B")
_DIMS = struct.Struct("<3I")
_MEMBER = struct.Struct("<HHI")
_STRUCTURE_BIT = 0x8000
_HIDDEN = ("ZZZZZZZZZZ", "__")  # the SINT hosts of BOOL members, and Logix's own hidden members


def _latin1(text: str, what: str) -> bytes:
    try:
        return text.encode("iso-8859-1")
    except UnicodeEncodeError:
        raise EncodeError(f"{what} {text!r} has characters outside ISO-8859-1") from None


def _pack(packer: struct.Struct, what: str, *values: Any) -> bytes:
    try:
        return packer.pack(*values)
    except (struct.error, TypeError):
        raise EncodeError(f"{what} {values if len(values) > 1 else values[0]!r} is out of range") from None


# -- the symbol type word -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SymbolType:
    """A symbol's type word, taken apart.

    ``code`` is bits 0-11: the atomic type code (a BOOL's bit number in bits 8-10), or the
    template instance of a structure.  Every 16-bit word decodes, and encodes back unchanged.
    """

    code: int
    structure: bool = False
    system: bool = False
    dims: int = 0  # number of array dimensions, 0..3

    @classmethod
    def from_word(cls, word: int) -> SymbolType:
        return cls(word & 0x0FFF, bool(word & _STRUCTURE_BIT), bool(word & 0x1000), word >> 13 & 3)

    @property
    def word(self) -> int:
        if not 0 <= self.code <= 0x0FFF or not 0 <= self.dims <= 3:
            raise EncodeError(f"symbol type code 0x{self.code:X} or {self.dims} dimensions out of range")
        return self.code | self.system << 12 | self.dims << 13 | self.structure << 15

    def encode(self) -> bytes:
        return _UINT.pack(self.word)

    @classmethod
    def decode(cls, data: bytes | memoryview, offset: int = 0) -> SymbolType:
        if offset < 0 or offset + 2 > len(data):
            raise DecodeError("symbol type word truncated", offset)
        return cls.from_word(_UINT.unpack_from(data, offset)[0])

    @property
    def template(self) -> int | None:
        """The template instance of a structure; None for an atomic type."""
        return self.code if self.structure else None

    @property
    def type_code(self) -> int:
        """The atomic type code, or STRUCTURE (0x02A0) for a structure."""
        return STRUCTURE if self.structure else self.code & 0xFF


# -- symbol entries -----------------------------------------------------------------------------
_SYMBOL_FIXED: dict[int, tuple[str, struct.Struct]] = {
    3: ("address", _UDINT),
    5: ("object_address", _UDINT),
    6: ("software_control", _UDINT),
    7: ("element_size", _UINT),
    10: ("external_access", _USINT),
}
SYMBOL_ATTRIBUTES = frozenset((1, 2, 8, *_SYMBOL_FIXED))
"""The Symbol attributes an entry carries (what a Logix, and the simulator, lists)."""


@dataclass(frozen=True, slots=True)
class SymbolEntry:
    """One Symbol instance as Get Instance Attribute List lists it.

    Fields not in the attribute list a page was asked for decode as their defaults.
    """

    instance: int
    name: str = ""  # attribute 1: the name within its scope ("Tag", "Program:Main")
    type: SymbolType = SymbolType(0)  # attribute 2
    dims: tuple[int, ...] = ()  # attribute 8: up to 3 array dimensions
    element_size: int = 0  # attribute 7: bytes per element
    address: int = 0  # attribute 3
    object_address: int = 0  # attribute 5
    software_control: int = 0  # attribute 6
    external_access: int = 0  # attribute 10: 0 read/write

    def value(self, attribute: int) -> bytes | None:
        """The encoded value of one attribute; None for an attribute a symbol does not have."""
        if attribute == 1:
            raw = _latin1(self.name, "symbol name")
            return _pack(_UINT, "symbol name length", len(raw)) + raw
        if attribute == 2:
            return self.type.encode()
        if attribute == 8:
            if len(self.dims) > 3:
                raise EncodeError(f"symbol {self.name!r} has {len(self.dims)} dimensions; at most 3")
            return _pack(_DIMS, "symbol dimensions", *self.dims, *(0,) * (3 - len(self.dims)))
        fixed = _SYMBOL_FIXED.get(attribute)
        if fixed is None:
            return None
        name, packer = fixed
        return _pack(packer, f"symbol {name}", getattr(self, name))

    def encode(self, attributes: Sequence[int]) -> bytes:
        """The entry: the instance and each attribute's value, in the order given."""
        out = [_pack(_UDINT, "symbol instance", self.instance)]
        for a in attributes:
            value = self.value(a)
            if value is None:
                raise EncodeError(f"a symbol has no attribute {a}")
            out.append(value)
        return b"".join(out)


def decode_symbol_entries(data: bytes | memoryview, attributes: Sequence[int] = (1, 2, 8)) -> list[SymbolEntry]:
    """The entries of one Get Instance Attribute List page that asked for ``attributes``.

    Dimensions are as many as the type word counts (without attribute 2, the non-zero ones).
    """
    unknown = [a for a in attributes if a not in SYMBOL_ATTRIBUTES]
    if unknown:
        raise EncodeError(f"a symbol has no attribute {unknown[0]}: its size is not known")
    out: list[SymbolEntry] = []
    at, end = 0, len(data)
    while at < end:
        if at + 4 > end:
            raise DecodeError("symbol entry truncated in its instance", at)
        (instance,) = _UDINT.unpack_from(data, at)
        at += 4
        fields: dict[str, Any] = {}
        dims: tuple[int, ...] | None = None
        for a in attributes:
            if a == 1:
                if at + 2 > end:
                    raise DecodeError(f"symbol {instance}: name length truncated", at)
                (n,) = _UINT.unpack_from(data, at)
                if at + 2 + n > end:
                    raise DecodeError(f"symbol {instance}: name of {n} characters truncated", at)
                fields["name"] = bytes(data[at + 2 : at + 2 + n]).decode("iso-8859-1")
                at += 2 + n
                continue
            size = 2 if a == 2 else 12 if a == 8 else _SYMBOL_FIXED[a][1].size
            if at + size > end:
                raise DecodeError(f"symbol {instance}: attribute {a} truncated", at)
            if a == 2:
                fields["type"] = SymbolType.from_word(_UINT.unpack_from(data, at)[0])
            elif a == 8:
                dims = _DIMS.unpack_from(data, at)
            else:
                name, packer = _SYMBOL_FIXED[a]
                fields[name] = packer.unpack_from(data, at)[0]
            at += size
        if dims is not None:
            kind = fields.get("type")
            fields["dims"] = dims[: kind.dims] if kind is not None else tuple(d for d in dims if d)
        out.append(SymbolEntry(instance, **fields))
    return out


# -- template attributes ------------------------------------------------------------------------
TEMPLATE_ATTRIBUTE_SIZES = {1: 2, 2: 2, 3: 2, 4: 4, 5: 4}
"""Bytes of each Template attribute's value (what a Get Attribute List reply leaves unsaid)."""
_TEMPLATE_FIELDS = {1: "handle", 2: "member_count", 4: "definition_size", 5: "structure_size"}


def definition_words(length: int) -> int:
    """Template attribute 4 for a definition of ``length`` bytes: 32-bit words, 20 bytes more, as a
    Logix counts them (pylogix reads ``words * 4 - 20`` bytes, pycomm3 one byte less)."""
    return (length + 20) // 4


def definition_length(words: int) -> int:
    """The definition bytes to read for attribute 4 = ``words``: ``words * 4 - 20``."""
    return max(0, words * 4 - 20)


@dataclass(frozen=True, slots=True)
class TemplateAttributes:
    """A Template instance's attributes 1, 2, 4 and 5."""

    handle: int  # the structure handle a read's type word carries
    member_count: int
    definition_size: int  # 32-bit words: see definition_words
    structure_size: int  # bytes of one structure value

    def value(self, attribute: int) -> bytes | None:
        """One attribute's encoded value (3 is the member count again); None for any other."""
        if attribute in (1, 2, 3):
            number = (self.handle, self.member_count, self.member_count)[attribute - 1]
            return _pack(_UINT, f"template attribute {attribute}", number)
        if attribute in (4, 5):
            number = self.definition_size if attribute == 4 else self.structure_size
            return _pack(_UDINT, f"template attribute {attribute}", number)
        return None

    def encode(self, attributes: Sequence[int] = (1, 2, 4, 5)) -> bytes:
        """The Get Attribute List reply data; an attribute a template does not have fails with 0x14."""
        entries = []
        for a in attributes:
            value = self.value(a)
            entries.append(AttributeValue(a, 0, value) if value is not None
                           else AttributeValue(a, GeneralStatus.ATTRIBUTE_NOT_SUPPORTED))
        return encode_attribute_list_reply(entries)

    @classmethod
    def decode(cls, data: bytes | memoryview) -> TemplateAttributes:
        """From Get Attribute List reply data that holds attributes 1, 2, 4 and 5."""
        return cls.from_entries(decode_template_attribute_list(data).values())

    @classmethod
    def from_entries(cls, entries: Iterable[AttributeValue]) -> TemplateAttributes:
        """From decoded entries; DecodeError names a failed or missing attribute."""
        values: dict[str, int] = {}
        for e in entries:
            if e.status:
                raise DecodeError(f"attribute {e.attribute} status 0x{e.status:02X}")
            if e.attribute in _TEMPLATE_FIELDS:
                values[_TEMPLATE_FIELDS[e.attribute]] = int.from_bytes(e.value, "little")
        missing = [a for a, name in _TEMPLATE_FIELDS.items() if name not in values]
        if missing:
            raise DecodeError(f"attribute {missing[0]} missing")
        return cls(**values)


def decode_template_attribute_list(data: bytes | memoryview) -> dict[int, AttributeValue]:
    """A Template's Get Attribute List reply by attribute; a failed one carries its status, no value."""
    return {e.attribute: e for e in decode_attribute_list_reply(data, TEMPLATE_ATTRIBUTE_SIZES.get)}


# -- template definitions -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TemplateMember:
    """One member of a template definition: its name and its ``info``, ``type`` and ``offset``."""

    name: str
    info: int  # array length (0: a scalar), or a BOOL member's bit number
    type: int  # atomic type code, or 0x8000 | template instance
    offset: int

    @property
    def structure(self) -> bool:
        return bool(self.type & _STRUCTURE_BIT)

    @property
    def template(self) -> int | None:
        """A structure member's template instance."""
        return self.type & 0x0FFF if self.type & _STRUCTURE_BIT else None

    @property
    def type_code(self) -> int:
        """The atomic type code, or STRUCTURE (0x02A0)."""
        return STRUCTURE if self.type & _STRUCTURE_BIT else self.type & 0xFF

    @property
    def bit(self) -> int | None:
        """A BOOL member's bit, counted from the byte at ``offset``."""
        return self.info if self.type_code == TypeCode.BOOL else None

    @property
    def count(self) -> int:
        """The array length; 0 for a scalar (and for a BOOL member)."""
        return 0 if self.type_code == TypeCode.BOOL else self.info

    @staticmethod
    def structure_type(instance: int) -> int:
        """The ``type`` of a member of the structure whose template is ``instance``."""
        if not 0 <= instance <= 0x0FFF:
            raise EncodeError(f"template instance {instance} is not 12 bits")
        return _STRUCTURE_BIT | instance

    @property
    def hidden(self) -> bool:
        """A member values leave out: the SINT hosts of BOOLs (``ZZZZZZZZZZ...``), ``__...``."""
        return self.name.startswith(_HIDDEN)


@dataclass(frozen=True, slots=True)
class TemplateDefinition:
    """What Read Template returns: the template's name and its members."""

    name: str
    members: tuple[TemplateMember, ...]
    extra: bytes = b""  # what follows "NAME;" in the name string

    @classmethod
    def build(cls, name: str, members: Iterable[TemplateMember]) -> TemplateDefinition:
        """A definition as the simulator serves it: ``extra`` is "n" then two bytes per member
        (0x01, and 0x04 for a hidden member, 0x03 for the others)."""
        members = tuple(members)
        extra = b"n" + b"".join(b"\x01\x04" if m.hidden else b"\x01\x03" for m in members)
        return cls(name, members, extra)

    def encode(self) -> bytes:
        flat = [v for m in self.members for v in (m.info, m.type, m.offset)]
        try:
            info = struct.pack(f"<{'HHI' * len(self.members)}", *flat)
        except struct.error:
            raise EncodeError(f"template {self.name}: a member's info, type or offset is out of range") from None
        if b"\0" in self.extra:
            raise EncodeError(f"template {self.name}: the bytes after its name hold a NUL")
        names = [_latin1(self.name, "template name") + b";" + self.extra]
        names += [_latin1(m.name, "member name") for m in self.members]
        if any(b"\0" in n or not n for n in names[1:]) or b"\0" in names[0]:
            raise EncodeError(f"template {self.name}: a name is empty or holds a NUL")
        data = info + b"\0".join(names) + b"\0"
        return data + bytes(-len(data) % 4)

    @classmethod
    def decode(cls, data: bytes | memoryview, member_count: int) -> TemplateDefinition:
        """The definition of a template of ``member_count`` members (Template attribute 2)."""
        head = 8 * member_count
        if member_count < 0 or head > len(data):
            raise DecodeError(f"{member_count} member definitions need {head} bytes, {len(data)} given", 0)
        view = memoryview(data)
        infos = list(_MEMBER.iter_unpack(view[:head]))
        text = bytes(view[head:])
        title, found, rest = text.partition(b"\0")
        if not found:
            raise DecodeError("template name not NUL-terminated", head)
        name, _, extra = title.partition(b";")
        names = rest.split(b"\0")[:member_count]
        if len(names) < member_count or not all(names):
            got = sum(1 for n in names if n)
            raise DecodeError(f"template {name.decode('iso-8859-1')}: {got} member names for {member_count} members",
                              head + len(title) + 1)
        members = tuple(TemplateMember(n.decode("iso-8859-1"), info, kind, offset)
                        for n, (info, kind, offset) in zip(names, infos))
        return cls(name.decode("iso-8859-1"), members, extra)


# -- structure values ---------------------------------------------------------------------------
_ATOMIC, _BIT, _BITS, _NESTED = range(4)
_MAX_DEPTH = 32  # structures nested deeper than this (or in a loop) are refused


class _LayoutError(Exception):
    """A layout that cannot be decoded or encoded; becomes DecodeError or EncodeError by direction."""


def _is_bit(value: Any) -> bool:
    return isinstance(value, int) and value in (0, 1)  # True and False are ints


class StructCodec:
    """Values of one structure type: its bytes to a dict of member values and back.

    Built from the template's members, so the simulator and the client decode one layout one way:

    * BOOL members (info: the bit number) are bools, read from bit ``info % 8`` of the byte at
      ``offset + info // 8``; writes take True, False, 0 or 1;
    * DWORD array members are BOOL arrays, as a Logix stores ``BOOL[n]``: with ``bool_arrays``
      lists of 32 bools per DWORD (what the client shows), else lists of DWORDs (the simulator);
      writes take either (the lengths differ);
    * structure members decode with the codec ``nested(template instance)`` gives, arrays of
      anything as lists; hidden members (the SINT hosts of BOOLs) are left out;
    * a structure whose visible members are ``LEN`` DINT then ``DATA`` SINT[n] is a string type:
      its value is a str of at most n ISO-8859-1 characters.

    Writes take a dict of *every* visible member (names case-insensitive): a member left out is an
    EncodeError, never silently zero.  Bad bytes (and layouts that do not fit the structure's
    size) raise DecodeError.  ``nested`` is looked up when first needed, so templates may arrive
    in any order.
    """

    __slots__ = ("_slots", "_string", "bool_arrays", "by_name", "members", "name", "nested", "size", "string")

    def __init__(self, name: str, size: int, members: Iterable[TemplateMember],
                 nested: Callable[[int], StructCodec] | None = None, *, bool_arrays: bool = True) -> None:
        self.name = name
        self.size = size
        self.members = tuple(members)
        self.nested = nested
        self.bool_arrays = bool_arrays
        visible = [m for m in self.members if not m.hidden]
        self.by_name: dict[str, TemplateMember] = {m.name.lower(): m for m in visible}
        self.string = (len(visible) == 2 and visible[0].name.upper() == "LEN" and visible[0].type_code == TypeCode.DINT
                       and not visible[0].info and visible[1].name.upper() == "DATA"
                       and visible[1].type_code == TypeCode.SINT and visible[1].info > 0
                       and visible[1].offset >= visible[0].offset + 4)
        self._slots: tuple[tuple[Any, ...], ...] | None = None
        self._string: tuple[struct.Struct, int] | None = None

    @classmethod
    def from_definition(cls, definition: TemplateDefinition, size: int,
                        nested: Callable[[int], StructCodec] | None = None, *, bool_arrays: bool = True) -> StructCodec:
        return cls(definition.name, size, definition.members, nested, bool_arrays=bool_arrays)

    def __repr__(self) -> str:
        return f"<StructCodec {self.name} {self.size} bytes>"

    # -- the layout, worked out once
    def validate(self) -> None:
        """Work the layout out now (nested codecs known, every member within the size); EncodeError if it cannot be."""
        try:
            self._compile(())
        except _LayoutError as exc:
            raise EncodeError(str(exc)) from None

    def _compile(self, outer: tuple[StructCodec, ...]) -> tuple[tuple[Any, ...], ...]:
        if self._slots is not None:
            return self._slots
        if self in outer or len(outer) > _MAX_DEPTH:
            raise _LayoutError(f"{self.name}: structures nest in a loop, or too deep")
        if self.size <= 0:
            raise _LayoutError(f"{self.name}: structure size {self.size}")
        slots = []
        for m in self.members:
            if m.hidden:
                continue
            where = f"{self.name}.{m.name}"
            n = max(m.info, 1)
            if m.structure:
                try:
                    codec = self.nested(m.template) if self.nested is not None and m.template is not None else None
                except LookupError:
                    codec = None
                if codec is None:
                    raise _LayoutError(f"{where}: template {m.template} is not known")
                codec._compile((*outer, self))
                slot: tuple[Any, ...] = (_NESTED, m.name, m.name.lower(), m.offset, m.info, codec)
                extent = m.offset + codec.size * n
            elif m.type_code == TypeCode.BOOL:
                slot = (_BIT, m.name, m.name.lower(), m.offset + m.info // 8, 0, 1 << m.info % 8)
                extent = m.offset + m.info // 8 + 1
            else:
                ctype = type_by_code(m.type_code)
                if not isinstance(ctype, NumericType):
                    raise _LayoutError(f"{where}: type 0x{m.type_code:02X} is not an atomic type")
                kind = _BITS if ctype is DWORD and m.info else _ATOMIC
                slot = (kind, m.name, m.name.lower(), m.offset, m.info, (ctype, struct.Struct(f"<{n}{ctype.fmt}")))
                extent = m.offset + ctype.size * n
            if extent > self.size:
                raise _LayoutError(f"{where} (offset {m.offset}) runs past the {self.size} bytes of {self.name}")
            slots.append(slot)
        if self.string:  # LEN, then DATA, both within the size (checked above)
            length, data = self.by_name["len"], self.by_name["data"]
            layout = f"<{length.offset}xi{data.offset - length.offset - 4}x{data.info}s{self.size - data.offset - data.info}x"
            self._string = (struct.Struct(layout), data.info)
        self._slots = tuple(slots)
        return self._slots

    # -- bytes to values
    def decode(self, buf: bytes | memoryview, offset: int = 0, count: int | None = None) -> list[Any]:
        """``count`` structures from ``offset`` (by default all the rest, a whole number of them)."""
        try:
            self._compile(())
        except _LayoutError as exc:
            raise DecodeError(str(exc), offset) from None
        avail = len(buf) - offset
        if count is None:
            if avail < 0 or avail % self.size:
                raise DecodeError(f"{avail} bytes is not a whole number of {self.name} ({self.size} bytes)", offset)
            count = avail // self.size
        elif count < 0 or offset < 0 or count * self.size > avail:
            raise DecodeError(f"{count} x {self.name} needs {count * self.size} bytes, {max(avail, 0)} remain", offset)
        return self._many(buf, offset, count)

    def _many(self, buf: bytes | memoryview, at: int, count: int) -> list[Any]:
        if self._string is not None:
            # DATA is ``cap`` bytes, so slicing it clamps LEN; a LEN below 0 is an empty string
            view = memoryview(buf)[at : at + count * self.size]
            return [raw[:n].decode("iso-8859-1") if n > 0 else "" for n, raw in self._string[0].iter_unpack(view)]
        size = self.size
        return [self._one(buf, at + i * size) for i in range(count)]

    def _one(self, buf: bytes | memoryview, at: int) -> Any:
        if self._string is not None:
            n, raw = self._string[0].unpack_from(buf, at)
            return raw[:n].decode("iso-8859-1") if n > 0 else ""
        out: dict[str, Any] = {}
        for kind, name, _, off, count, arg in self._slots:  # type: ignore[union-attr]
            where = at + off
            if kind == _ATOMIC:
                values = arg[1].unpack_from(buf, where)
                out[name] = list(values) if count else values[0]
            elif kind == _BIT:
                out[name] = bool(buf[where] & arg)
            elif kind == _BITS:
                if self.bool_arrays:
                    word = int.from_bytes(buf[where : where + 4 * count], "little")
                    out[name] = list(map("1".__eq__, format(word, f"0{32 * count}b")[::-1]))
                else:
                    out[name] = list(arg[1].unpack_from(buf, where))
            else:
                out[name] = arg._many(buf, where, count) if count else arg._one(buf, where)
        return out

    def blank(self) -> Any:
        """The value of all-zero bytes ("" for a string type)."""
        return self.decode(bytes(self.size))[0]

    # -- values to bytes
    def encode(self, values: Iterable[Any]) -> bytes:
        """Structures as the controller stores them: dicts of every member (str for string types)."""
        items = list(values)
        try:
            self._compile(())
        except _LayoutError as exc:
            raise EncodeError(str(exc)) from None
        out = bytearray(self.size * len(items))
        for i, value in enumerate(items):
            self._put(value, out, i * self.size)
        return bytes(out)

    def _put(self, value: Any, out: bytearray, at: int) -> None:
        if self._string is not None:
            packer, cap = self._string
            if not isinstance(value, str):
                raise EncodeError(f"{self.name} needs a str, not {value!r}")
            raw = _latin1(value, self.name)
            if len(raw) > cap:
                raise EncodeError(f"{len(raw)} characters is too long for {self.name} (max {cap})")
            packer.pack_into(out, at, len(raw), raw)
            return
        if not isinstance(value, Mapping):
            raise EncodeError(f"{self.name} needs a dict of member values, not {value!r}")
        given: dict[str, Any] = {}
        for key, v in value.items():
            k = str(key).lower()
            if k not in self.by_name:
                raise EncodeError(f"{self.name} has no member {key!r}")
            if k in given:
                raise EncodeError(f"{self.name}: member {key!r} is given twice")
            given[k] = v
        if len(given) != len(self.by_name):
            missing = [m.name for k, m in self.by_name.items() if k not in given]
            raise EncodeError(f"{self.name} needs every member; missing {', '.join(missing)}")
        for kind, name, key, off, count, arg in self._slots:  # type: ignore[union-attr]
            v = given[key]
            where = at + off
            if kind == _BIT:
                if not _is_bit(v):
                    raise EncodeError(f"{self.name}.{name} is a BOOL, not {v!r}")
                out[where] = out[where] | arg if v else out[where] & ~arg
                continue
            items = self._items(name, count, v)
            if kind == _NESTED:
                if len(items) != max(count, 1):
                    raise EncodeError(f"{self.name}.{name} needs {max(count, 1)} values, not {len(items)}")
                for i, item in enumerate(items):
                    arg._put(item, out, where + i * arg.size)
                continue
            ctype = arg[0]
            if kind == _BITS and len(items) == 32 * count:
                if not all(map(_is_bit, items)):
                    raise EncodeError(f"{self.name}.{name} needs BOOLs, not {items!r}")
                data = sum(1 << i for i, b in enumerate(items) if b).to_bytes(4 * count, "little")
            elif len(items) != max(count, 1):
                more = f" (or {32 * count} BOOLs)" if kind == _BITS else ""
                raise EncodeError(f"{self.name}.{name} needs {max(count, 1)} values{more}, not {len(items)}")
            else:
                try:
                    data = ctype.encode(items)
                except EncodeError as exc:
                    raise EncodeError(f"{self.name}.{name}: {exc}") from None
            out[where : where + len(data)] = data

    def _items(self, name: str, count: int, value: Any) -> list[Any]:
        if not count:
            return [value]
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes, bytearray)):
            raise EncodeError(f"{self.name}.{name} needs a list of {count} values, not {value!r}")
        return list(value)


STRING_DEFINITION = TemplateDefinition.build("ASCIISTRING82", (
    TemplateMember("LEN", 0, TypeCode.DINT, 0), TemplateMember("DATA", STRING_CAPACITY, TypeCode.SINT, 4)))
"""The template definition of the built-in Logix STRING."""
LOGIX_STRING = StructCodec("STRING", STRING_SIZE, STRING_DEFINITION.members)
"""Values of the built-in Logix STRING: str, at most 82 characters."""
