"""The Logix objects that describe a controller's tags to its clients.

* Symbol (class 0x6B): one instance per tag, listed page by page with Get Instance Attribute
  List (0x55) -- the "tag list upload" of pycomm3's ``get_tag_list`` and pylogix's
  ``GetTagList`` -- and usable as a tag address (``20 6B 25 00 <instance>``).
* Template (class 0x6C): one instance per structure type; Get Attribute List gives its handle,
  member count and sizes, Read Template (0x4C) its member layout and names.

The entries, type words and template bytes are encoded by :mod:`cpppo.cip.logix_objects`, the
codec the client decodes them with; this module decides what a simulated controller serves.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ..cip.logix_objects import (
    SYMBOL_ATTRIBUTES,
    TEMPLATE_ATTRIBUTE_SIZES,
    SymbolEntry,
    SymbolType,
    TemplateAttributes,
)
from ..cip.message import Request, encode_reply
from ..cip.services import CommonService, LogixService
from ..cip.status import GeneralStatus as S
from ..cip.tag_services import decode_attribute_list_request
from .datatypes import Structure
from .failure import Failure
from .tags import Attribute

__all__ = ["PROGRAM_TYPE", "Symbol", "instance_attribute_list", "template_attributes", "template_chunk", "template_request"]

PROGRAM_TYPE = 0x1068
"""The type word real controllers give ``Program:NAME`` symbols."""
BASE_TAG = 1 << 26  # software control: a base tag, not an alias
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
    def symbol_type(self) -> SymbolType:
        if self.attribute is None:
            return SymbolType.from_word(PROGRAM_TYPE)
        t = self.attribute.parser
        if isinstance(t, Structure):
            return SymbolType(t.instance_id, structure=True, dims=len(self.dims))
        return SymbolType(t.code & 0xFF, dims=len(self.dims))

    @property
    def type_word(self) -> int:
        return self.symbol_type.word

    @cached_property
    def entry(self) -> SymbolEntry:
        """What the Symbol object lists for this tag (its address attributes are only identifiers)."""
        size = self.attribute.parser.size if self.attribute is not None else 0
        address = 0x10000 * self.instance
        return SymbolEntry(self.instance, self.name, self.symbol_type, self.dims, element_size=size,
                           address=address, object_address=address, software_control=BASE_TAG)

    def value(self, attribute_id: int) -> bytes | None:
        """The encoded value of one Symbol attribute, or None if it has none."""
        return self.entry.value(attribute_id)


def instance_attribute_list(symbols: Sequence[Symbol], start: int, attributes: Sequence[int],
                            limit: int) -> tuple[int, bytes]:
    """Get Instance Attribute List: the symbols from instance ``start`` on, as many as fit."""
    room = limit - 4
    out = bytearray()
    supported = all(a in SYMBOL_ATTRIBUTES for a in attributes)
    # symbols are listed in instance order: start where the client asked, not at the beginning
    for sym in symbols[bisect.bisect_left(symbols, start, key=lambda sym: sym.instance):]:
        if not supported:
            return S.ATTRIBUTE_NOT_SUPPORTED, b""
        entry = sym.entry.encode(attributes)
        if len(out) + len(entry) > room:
            if not out:
                return S.REPLY_DATA_TOO_LARGE, b""
            return S.PARTIAL_TRANSFER, bytes(out)
        out += entry
    return S.SUCCESS, bytes(out)


def template_attributes(template: Structure, attributes: Sequence[int]) -> tuple[int, bytes]:
    """Get Attribute List on a Template instance: 1 handle, 2 member count, 4 definition size (words), 5 size."""
    values = TemplateAttributes(template.handle, len(template.members), template.definition_size, template.size)
    failed = any(a not in TEMPLATE_ATTRIBUTE_SIZES for a in attributes)
    return (S.ATTRIBUTE_LIST_ERROR if failed else S.SUCCESS), values.encode(attributes)


def template_chunk(template: Structure, offset: int, count: int, limit: int) -> tuple[int, bytes]:
    """What Read Template (0x4C) answers: ``count`` bytes of the template data from ``offset``, as many as fit."""
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
        status, data = template_chunk(template, offset, count, limit)
        return encode_reply(req.service, status, (), data)
    raise Failure(S.SERVICE_NOT_SUPPORTED)
