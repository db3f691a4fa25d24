"""What a client learns from a Logix controller: its tag list and its structures (sans-I/O).

(:mod:`.plan` passes a stream of operations through what is learned here.)

A Logix controller describes itself through two objects, read here without any I/O:

* the Symbol object (class 0x6B), listed page by page with Get Instance Attribute List (0x55):
  status 0x06 means "more follow from the last instance + 1".  Each entry is the instance, the
  name (attribute 1), the type word (2: atomic code or 0x8000 | template instance, bits 13-14
  the number of dimensions) and the dimensions (8).  ``Program:NAME`` entries lead to each
  program's own list (``Program:NAME`` then ``@6B/instance``);
* the Template object (class 0x6C): Get Attribute List of attributes 1 (the structure handle a
  read's type word carries), 2 (member count), 4 (definition size in 32-bit words) and 5 (the
  structure's size in bytes), then Read Template (0x4C: offset UDINT, size UINT), paged on status
  0x06, of ``definition size * 4 - 20`` bytes::

      (info UINT | type UINT | offset UDINT) x members     info: array length, or a BOOL's bit
      "NAME;n...\\0" then each member's name, NUL-terminated

:class:`LogixTypes` holds what one connection learned; :func:`upload` is the procedure that
learns it, a generator that yields batches of operations and is sent their results, so the
blocking and asyncio connectors run it with their ordinary engines (``procedures.run_batches``).
"""

from __future__ import annotations

import struct
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..cip.logix_objects import (
    STRING_HANDLE,
    StructCodec,
    SymbolType,
    TemplateAttributes,
    TemplateDefinition,
    TemplateMember,
    decode_symbol_entries,
    decode_template_attribute_list,
    definition_length,
)
from ..cip.services import ClassCode, CommonService, LogixService
from ..cip.status import GeneralStatus
from ..cip.tag_services import AttributeValue, encode_attribute_list_request
from ..cip.types import STRUCTURE, TypeCode, type_by_code
from ..errors import CpppoError, DecodeError, EncodeError
from .operations import OperationError, describe
from .replies import status_text

__all__ = [
    "Batches",
    "LogixTypes",
    "TagInfo",
    "TagListError",
    "Template",
    "parse_symbols",
    "parse_template",
    "read_template",
    "upload",
]

Result = tuple[int, str, dict[str, Any], Any, Any, Any]
Batches = Generator[list[dict[str, Any]], list[Result], Any]
"""A procedure of operation batches: it yields a batch of operations and is sent their results
(``procedures.run_batches`` runs each batch through an engine); not a ``procedures.Procedure``."""

_PARTIAL = GeneralStatus.PARTIAL_TRANSFER
_SYMBOL_ATTRIBUTES = (1, 2, 8)
_TEMPLATE_ATTRIBUTES = (1, 2, 4, 5)
_READ_TEMPLATE = struct.Struct("<IH")
_TEMPLATE_CHUNK = 0xFFFF  # ask for everything; the controller answers what fits, with status 0x06


class TagListError(CpppoError):
    """The controller refused (or garbled) a tag list or template request."""


@dataclass(frozen=True, slots=True)
class TagInfo:
    """A tag as the controller lists it."""

    name: str  # "Tag", or "Program:Main.Tag"
    instance: int
    type_word: int
    dims: tuple[int, ...] = ()
    type_name: str = ""  # atomic type name, or the structure's name once its template is read

    @property
    def symbol_type(self) -> SymbolType:
        """The type word, taken apart."""
        return SymbolType.from_word(self.type_word)

    @property
    def structure(self) -> bool:
        return self.symbol_type.structure

    @property
    def template(self) -> int | None:
        """The template instance of a structure tag."""
        return self.symbol_type.template

    @property
    def type_code(self) -> int:
        """The atomic type code, or STRUCTURE (0x02A0)."""
        return self.symbol_type.type_code

    @property
    def bool_array(self) -> bool:
        """A DWORD array: how a Logix stores a BOOL array (32 BOOLs to each DWORD)."""
        return self.type_code == TypeCode.DWORD and bool(self.dims)

    @property
    def declaration(self) -> str:
        """``DINT``, ``DINT[3,4]``, ``Motor[3]``."""
        shape = f"[{','.join(map(str, self.dims))}]" if self.dims else ""
        return f"{self.type_name}{shape}"


@dataclass(eq=False)
class Template:
    """A structure type read from the Template object: decodes and encodes its values.

    Values are those of :class:`~cpppo.cip.logix_objects.StructCodec`: dicts of every member
    (BOOL array members as lists of bools), str for string types.
    """

    instance: int
    handle: int
    name: str
    size: int
    members: list[TemplateMember]
    types: LogixTypes = field(repr=False)

    def __post_init__(self) -> None:
        self.codec = StructCodec(self.name, self.size, self.members, self._nested, bool_arrays=True)
        self.by_name = self.codec.by_name
        self.string = self.codec.string  # the Logix STRING and other string types: DINT LEN, SINT DATA[n]

    def _nested(self, instance: int) -> StructCodec:
        return self.types.templates[instance].codec

    @property
    def type_name(self) -> str:
        """The name tags of this type show: ``STRING`` for the Logix STRING (template ASCIISTRING82)."""
        return "STRING" if self.handle == STRING_HANDLE else self.name

    def member_template(self, m: TemplateMember) -> Template:
        found = self.types.templates.get(m.template or 0)
        if found is None:
            raise EncodeError(f"{self.name}.{m.name}: template {m.template} is not known")
        return found

    # -- values -----------------------------------------------------------------------------------
    def decode(self, data: bytes | memoryview) -> list[Any]:
        """The values of ``data``: whole structures, as dicts (strings as str); DecodeError if it is not."""
        return self.codec.decode(data)

    def encode(self, values: Iterable[Any]) -> bytes:
        """Structures (dicts of every member's value; str for string types) as the controller stores them."""
        return self.codec.encode(values)

    def declaration(self) -> str:
        """``Motor = Speed:REAL, Count:DINT, ...``: the simulator's compact form."""
        parts = []
        for m in self.members:
            if m.hidden:
                continue
            if m.template is not None:
                kind = self.member_template(m).type_name
            elif m.type_code == TypeCode.DWORD and m.count:
                parts.append(f"{m.name}:BOOL[{32 * m.count}]")
                continue
            else:
                ctype = type_by_code(m.type_code)
                kind = ctype.name if ctype is not None else f"0x{m.type_code:02X}"
            parts.append(f"{m.name}:{kind}" + (f"[{m.count}]" if m.count else ""))
        return f"{self.name} = {', '.join(parts)}"


class LogixTypes:
    """One connection's knowledge of a Logix controller: its tags and structure templates."""

    def __init__(self) -> None:
        self.tags: dict[str, TagInfo] = {}  # lower-case full name -> tag
        self.templates: dict[int, Template] = {}  # template instance -> template
        self.by_handle: dict[int, Template] = {}  # structure handle -> template
        self.loaded = False  # the tag list and its templates have been read
        self.failed: str | None = None  # why they could not be (not a Logix?)
        # connector(logix=True): DWORD array elements are BOOLs, and writes take the tag's own type
        self.logix = False

    @property
    def available(self) -> bool:
        return self.loaded or self.failed is not None

    def tag(self, name: str) -> TagInfo | None:
        return self.tags.get(name.lower())

    def template_named(self, name: str) -> Template | None:
        return next((t for t in self.templates.values() if t.name.lower() == name.lower()), None)

    def decode(self, type_code: int | None, handle: int | None, data: bytes) -> Any:
        """Structure values by their handle (None if the structure is not known)."""
        if type_code == STRUCTURE and handle is not None:
            t = self.by_handle.get(handle)
            if t is not None and t.size and len(data) % t.size == 0:
                return t.decode(data)
        return None

    def add_template(self, t: Template) -> None:
        self.templates[t.instance] = t
        self.by_handle[t.handle] = t

    # -- what a path names ------------------------------------------------------------------------
    def resolve(self, path: list[dict[str, Any]]) -> tuple[TagInfo, int, Template | None, bool]:
        """(tag, type code, template, array?) of the value a symbolic path names; ``array`` when it
        names a whole array (a tag or member with dimensions, not indexed)."""
        segs = list(path)
        if not segs or "symbolic" not in segs[0]:
            raise OperationError(f"{describe({'path': path})}: not a symbolic tag path")
        name = segs.pop(0)["symbolic"]
        if name.lower().startswith("program:") and segs and "symbolic" in segs[0]:
            name = f"{name}.{segs.pop(0)['symbolic']}"
        tag = self.tag(name)
        if tag is None:
            why = f" ({self.failed})" if self.failed else ""
            raise OperationError(f"{describe({'path': path})}: {name!r} is not in the controller's tag list{why}")
        indexes = 0
        while segs and "element" in segs[0]:
            segs.pop(0)
            indexes += 1
        array = bool(tag.dims) and not indexes
        code = tag.type_code
        template = self.templates.get(tag.template) if tag.template is not None else None
        while segs:
            seg = segs.pop(0)
            if "symbolic" not in seg or template is None:
                raise OperationError(f"{describe({'path': path})}: cannot follow {seg!r}")
            member = template.by_name.get(seg["symbolic"].lower())
            if member is None:
                raise OperationError(f"{describe({'path': path})}: {template.name} has no member {seg['symbolic']!r}")
            array = member.count > 0 and member.bit is None
            while segs and "element" in segs[0]:
                segs.pop(0)
                array = False
            code = STRUCTURE if member.template is not None else member.type_code
            template = template.member_template(member) if member.template is not None else None
            if member.bit is not None:
                code = TypeCode.BOOL
        return tag, code, template, array


# -- the procedures: operations out, results in ---------------------------------------------------
def _check(result: Result, what: str, partial: bool = False) -> tuple[int, bytes]:
    """(status, data) of a successful reply (0x06 too, if ``partial``); TagListError otherwise."""
    sts, val = result[4], result[5]
    if val is None or sts not in (0, _PARTIAL) or (sts == _PARTIAL and not partial):
        raise TagListError(f"{what}: {status_text(sts)}")
    return sts, bytes(val)


def _service(service: int, path: list[dict[str, Any]], data: bytes) -> dict[str, Any]:
    return {"method": "service", "service": int(service), "path": path, "data": data, "raw": True}


def parse_symbols(data: bytes, prefix: str = "") -> tuple[list[TagInfo], int]:
    """One Get Instance Attribute List page of attributes 1, 2 and 8: (tags, last instance)."""
    try:
        entries = decode_symbol_entries(data, _SYMBOL_ATTRIBUTES)
    except DecodeError as exc:
        raise TagListError(f"tag list page truncated at byte {exc.offset}") from None
    tags = [TagInfo(prefix + e.name, e.instance, e.type.word, e.dims) for e in entries]
    return tags, entries[-1].instance if entries else -1


def _template_attributes(attributes: bytes, what: str) -> dict[int, AttributeValue]:
    """A template's Get Attribute List reply (1 handle, 2 members, 4 definition words, 5 size), by
    attribute; a failed attribute carries its status and no value."""
    try:
        return decode_template_attribute_list(attributes)
    except DecodeError:
        raise TagListError(f"{what}: attributes truncated") from None


def parse_template(instance: int, attributes: bytes, definition: bytes, types: LogixTypes) -> Template:
    """A template from its Get Attribute List reply (1, 2, 4, 5) and its Read Template data."""
    values = _template_attributes(attributes, f"template {instance}")
    try:
        attrs = TemplateAttributes.from_entries(values.values())
        layout = TemplateDefinition.decode(definition, attrs.member_count)
    except DecodeError as exc:
        raise TagListError(f"template {instance}: {exc.what}") from None
    return Template(instance, attrs.handle, layout.name, attrs.structure_size, list(layout.members), types)


def read_template(instance: int, types: LogixTypes) -> Batches:
    """Read one template (its attributes, then its definition page by page)."""
    path = [{"class": ClassCode.TEMPLATE}, {"instance": instance}]
    what = f"template {instance}"
    (res,) = yield [_service(CommonService.GET_ATTRIBUTE_LIST, path, encode_attribute_list_request(
        _TEMPLATE_ATTRIBUTES))]
    _, attributes = _check(res, what)
    entry = _template_attributes(attributes, what).get(4)
    words = int.from_bytes(entry.value, "little") if entry is not None and not entry.status else None
    if words is None:
        raise TagListError(f"{what}: no definition size")
    total = definition_length(words)
    definition = bytearray()
    while len(definition) < total:
        want = min(total - len(definition), _TEMPLATE_CHUNK)
        (res,) = yield [_service(LogixService.READ_TAG, path, _READ_TEMPLATE.pack(len(definition), want))]
        sts, data = _check(res, what, partial=True)
        definition += data
        if sts == 0 or not data:
            break
    return parse_template(instance, attributes, bytes(definition), types)


def upload(types: LogixTypes, programs: bool = True) -> Batches:
    """Learn the tag list (controller scope, and each program's when ``programs``) and every
    structure template the tags use; store them in ``types`` and return the tags."""
    scopes: list[str | None] = [None]
    tags: list[TagInfo] = []
    request = encode_attribute_list_request(_SYMBOL_ATTRIBUTES)
    for scope in scopes:
        base = [{"symbolic": scope}] if scope else []
        start = 0
        while True:
            path = [*base, {"class": ClassCode.SYMBOL}, {"instance": start}]
            (res,) = yield [_service(LogixService.GET_INSTANCE_ATTRIBUTE_LIST, path, request)]
            sts, data = _check(res, f"tag list{' of ' + scope if scope else ''}", partial=True)
            page, last = parse_symbols(data, f"{scope}." if scope else "")
            for t in page:
                short = t.name.rsplit(".", 1)[-1] if scope else t.name
                if short.lower().startswith("program:"):
                    if programs and scope is None:
                        scopes.append(short)
                    continue
                if t.symbol_type.system or short.startswith("__") or ":" in short:
                    continue  # system tags, routines, modules' I/O
                tags.append(t)
            if sts == 0 or last < start:
                break
            start = last + 1
    wanted = [t.template for t in tags if t.template is not None]
    seen: set[int] = set(types.templates)
    while wanted:
        instance = wanted.pop()
        if instance in seen:
            continue
        seen.add(instance)
        template = yield from read_template(instance, types)
        types.add_template(template)
        wanted.extend(m.template for m in template.members if m.template is not None)
    named: list[TagInfo] = []
    for t in tags:
        if t.template is not None:
            type_name = types.templates[t.template].type_name
        else:
            ctype = type_by_code(t.type_code)
            type_name = ctype.name if ctype is not None else f"0x{t.type_code:02X}"
        named.append(TagInfo(t.name, t.instance, t.type_word, t.dims, type_name))
    types.tags = {t.name.lower(): t for t in named}
    types.loaded = True
    types.failed = None
    return named
