"""The Logix objects that describe a controller's tags to its clients.

* Symbol (class 0x6B): one instance per tag, listed page by page with Get Instance Attribute
  List (0x55) -- the "tag list upload" of pycomm3's ``get_tag_list`` and pylogix's
  ``GetTagList`` -- and usable as a tag address (``20 6B 25 00 <instance>``).
* Template (class 0x6C): one instance per structure type; Get Attribute List gives its handle,
  member count and sizes, Read Template (0x4C) its member layout and names.

A symbol's *type word*: bits 0-11 the atomic type code or a structure's template instance,
bit 12 a system tag, bits 13-14 the number of array dimensions, bit 15 set for a structure.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from ..cip.logix import AttributeValue, decode_attribute_list_request, encode_attribute_list_reply
from ..cip.message import Request, encode_reply
from ..cip.services import CommonService, LogixService
from ..cip.status import GeneralStatus as S
from .datatypes import Structure
from .failure import Failure
from .tags import Attribute

__all__ = ["PROGRAM_TYPE", "Symbol", "instance_attribute_list", "read_template", "template_attributes", "template_request"]

PROGRAM_TYPE = 0x1068
"""The type word real controllers give ``Program:NAME`` symbols."""
BASE_TAG = 1 << 26  # software control: a base tag, not an alias
_UDINT = struct.Struct("<I")
_READ_TEMPLATE = struct.Struct("<IH")


@dataclass(eq=False)
class Symbol:
    """A tag as the Symbol object lists it."""

    name: str  # the name within its scope ("Tag", or "Program:Main" for a program)
    instance: int
    attribute: Attribute | None  # None for a program entry
    dims: tuple[int, ...] = ()
    program: str | None = None  # the program scope, or None for controller scope

    @property
    def type_word(self) -> int:
        if self.attribute is None:
            return PROGRAM_TYPE
        t = self.attribute.parser
        word = (0x8000 | t.instance_id) if isinstance(t, Structure) else t.code & 0xFF
        return word | (len(self.dims) & 3) << 13

    def value(self, attribute_id: int) -> bytes | None:
        """The encoded value of one Symbol attribute, or None if it has none."""
        if attribute_id == 1:
            raw = self.name.encode("iso-8859-1")
            return struct.pack("<H", len(raw)) + raw
        if attribute_id == 2:
            return struct.pack("<H", self.type_word)
        if attribute_id in (3, 5):  # symbol address, symbol object address: only identifiers here
            return _UDINT.pack(0x10000 * self.instance)
        if attribute_id == 6:
            return _UDINT.pack(BASE_TAG)
        if attribute_id == 7:
            return struct.pack("<H", self.attribute.parser.size if self.attribute is not None else 0)
        if attribute_id == 8:
            dims = (*self.dims, 0, 0, 0)[:3]
            return struct.pack("<3I", *dims)
        if attribute_id == 10:
            return b"\x00"  # external access: read/write
        return None


def instance_attribute_list(symbols: Sequence[Symbol], start: int, attributes: Sequence[int],
                            limit: int) -> tuple[int, bytes]:
    """Get Instance Attribute List: the symbols from instance ``start`` on, as many as fit."""
    room = limit - 4
    out = bytearray()
    # symbols are listed in instance order: start where the client asked, not at the beginning
    for sym in symbols[bisect.bisect_left(symbols, start, key=lambda sym: sym.instance):]:
        entry = bytearray(_UDINT.pack(sym.instance))
        for a in attributes:
            value = sym.value(a)
            if value is None:
                return S.ATTRIBUTE_NOT_SUPPORTED, b""
            entry += value
        if len(out) + len(entry) > room:
            if not out:
                return S.REPLY_DATA_TOO_LARGE, b""
            return S.PARTIAL_TRANSFER, bytes(out)
        out += entry
    return S.SUCCESS, bytes(out)


def template_attributes(template: Structure, attributes: Sequence[int]) -> tuple[int, bytes]:
    """Get Attribute List on a Template instance: 1 handle, 2 member count, 4 definition size (words), 5 size."""
    values = {
        1: struct.pack("<H", template.handle),
        2: struct.pack("<H", len(template.members)),
        3: struct.pack("<H", len(template.members)),  # undocumented; pylogix asks for it as a UINT
        4: _UDINT.pack(template.definition_size),
        5: _UDINT.pack(template.size),
    }
    entries = [AttributeValue(a, 0, values[a]) if a in values else AttributeValue(a, S.ATTRIBUTE_NOT_SUPPORTED)
               for a in attributes]
    failed = any(e.status for e in entries)
    return (S.ATTRIBUTE_LIST_ERROR if failed else S.SUCCESS), encode_attribute_list_reply(entries)


def read_template(template: Structure, offset: int, count: int, limit: int) -> tuple[int, bytes]:
    """Read Template: ``count`` bytes of the template data from ``offset``, as many as fit."""
    data = template.template_data()
    if offset > len(data):
        return S.GENERAL_ERROR, b""
    end = min(len(data), offset + count)
    room = (limit - 4) & ~3
    if end - offset > room:
        return S.PARTIAL_TRANSFER, data[offset : offset + room]
    return S.SUCCESS, data[offset:end]


def template_request(template: Structure, req: Request, limit: int) -> bytes:
    """Get Attribute List and Read Template (0x4C: offset UDINT, size UINT) on a Template instance."""
    if req.service == CommonService.GET_ATTRIBUTE_LIST:
        status, data = template_attributes(template, decode_attribute_list_request(req.data))
        return encode_reply(req.service, status, (), data)
    if req.service == LogixService.READ_TAG:
        if len(req.data) < 6:
            raise Failure(S.NOT_ENOUGH_DATA)
        offset, count = _READ_TEMPLATE.unpack_from(req.data, 0)
        status, data = read_template(template, offset, count, limit)
        return encode_reply(req.service, status, (), data)
    raise Failure(S.SERVICE_NOT_SUPPORTED)
