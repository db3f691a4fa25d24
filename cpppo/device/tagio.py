"""The tag services of a simulated Logix: Read/Write Tag [Fragmented], member and bit access,
Read-Modify-Write, Set Attribute Single, and the refreshes that answer repeated reads.

Mixed into :class:`~cpppo.device.controller.Controller`, which resolves a request's path to an
attribute (and a :class:`Part` of it, for structure members) before calling these.  Errors answer
with the Logix statuses: 0xFF/0x2105 for too many elements, 0xFF/0x2104 for a fragment offset past
the end, 0xFF/0x2107 for a write of the wrong type, 0x13/0x15 for too little or too much data.

A read returns its reply and a *refresh*: a function that answers the same request again from the
attribute's bytes as they are then, which the controller's reply cache keeps.  Writes go through
the attribute's commits, which emit their events; reads emit theirs here, when someone listens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..cip.message import Request, encode_reply
from ..cip.services import LogixService
from ..cip.status import GeneralStatus as S
from ..cip.status import LogixErrorStatus
from ..cip.tag_services import decode_read_modify_write, decode_read_tag, decode_write_tag
from ..cip.types import STRUCTURE, CIPType, encode_type_word
from ..errors import DecodeError
from .events import TagEvent, TagEvents, What, read_what
from .failure import Failure
from .tags import Access, Attribute

__all__ = ["READS", "WRITES", "Answer", "IOEvent", "Part", "Refresh", "TagServices"]

Refresh = Callable[[], "bytes | None"]
"""Answers a repeated request again (None: it no longer can; decode it afresh)."""
Answer = tuple[bytes, "Refresh | None"]
"""A reply, and the refresh that answers the same request again (None: do not cache it)."""
IOEvent = TagEvent
"""The name the embedding API's ``io`` log has always used for its events."""

READS = frozenset((LogixService.READ_TAG, LogixService.READ_TAG_FRAGMENTED))
WRITES = frozenset((LogixService.WRITE_TAG, LogixService.WRITE_TAG_FRAGMENTED))
_ACCESS_BEYOND_END = (LogixErrorStatus.ACCESS_BEYOND_END,)
_OFFSET_BEYOND_END = (LogixErrorStatus.OFFSET_BEYOND_END,)
_TYPE_MISMATCH = (LogixErrorStatus.DATA_TYPE_MISMATCH,)


@dataclass(frozen=True, slots=True)
class Part:
    """A part of an attribute below its elements: a structure member (or one of its bits)."""

    offset: int  # bytes into the attribute
    type: CIPType
    count: int  # elements of ``type`` from ``offset`` on
    bit: int | None = None



class TagServices:
    """The tag services, mixed into the Controller (which owns ``events``)."""

    events: TagEvents

    def _read_tag(self, req: Request, attribute: Attribute, start: int, name: str, limit: int) -> Answer:
        fragmented = req.service == LogixService.READ_TAG_FRAGMENTED
        rt = decode_read_tag(req.data, fragmented, strict=False)
        count, offset = rt.count, rt.offset or 0
        if start + count > len(attribute):
            raise Failure(S.GENERAL_ERROR, _ACCESS_BEYOND_END)
        parser = attribute.parser
        type_word = _type_word(parser)
        room = limit - 4 - len(type_word)
        size = parser.size
        if size == 0:  # variable-length strings: fragments are byte ranges of their whole encoding
            whole = attribute.read_bytes(start, count)
            if offset and offset >= len(whole):
                raise Failure(S.GENERAL_ERROR, _OFFSET_BEYOND_END)
            data = whole[offset : offset + room]
            status = S.PARTIAL_TRANSFER if offset + len(data) < len(whole) else 0
            first, n = start, count
            refresh = None
        else:
            total = count * size
            if offset and offset >= total:
                raise Failure(S.GENERAL_ERROR, _OFFSET_BEYOND_END)
            chunk = _chunk(total - offset, room, size)
            lo = offset // size
            hi = -(-(offset + chunk) // size)
            data = attribute.read_bytes(start + lo, hi - lo)
            skip = offset - lo * size
            if skip or len(data) != chunk:
                data = data[skip : skip + chunk]
            status = S.PARTIAL_TRANSFER if offset + chunk < total else 0
            first, n = start + lo, hi - lo
            refresh = None if attribute._custom_io else _read_refresh(
                attribute, encode_reply(req.service, status, (), type_word), (start + lo) * size + skip, chunk,
                events=self.events, name=name, first=first, count=n)
        sink = self.events.read_sink
        if sink is not None:  # from the bytes read: a custom __getitem__ runs once per request
            sink(read_what(name, first, n, data, parser))
        return encode_reply(req.service, status, (), type_word + data), refresh

    def _write_tag(self, req: Request, attribute: Attribute, start: int, name: str) -> bytes:
        fragmented = req.service == LogixService.WRITE_TAG_FRAGMENTED
        wt = decode_write_tag(req.data, fragmented)
        parser = attribute.parser
        if wt.type_code != parser.code or wt.handle != getattr(parser, "handle", None):
            raise Failure(S.GENERAL_ERROR, _TYPE_MISMATCH)
        count = wt.count
        if start + count > len(attribute):
            raise Failure(S.GENERAL_ERROR, _ACCESS_BEYOND_END)
        size = parser.size
        data = wt.data
        if size == 0:
            if wt.offset:
                raise Failure(S.GENERAL_ERROR, _OFFSET_BEYOND_END)
            try:
                values = parser.decode(data, 0, count)
            except DecodeError:
                raise Failure(S.NOT_ENOUGH_DATA) from None
            if len(parser.encode(values)) != len(data):
                raise Failure(S.TOO_MUCH_DATA)
            attribute.write_bytes(start, count, data)
        else:
            offset = wt.offset or 0
            data = self._check_write_size(data, count * size, offset, fragmented)
            if offset % size or len(data) % size:
                if attribute._custom_io:
                    raise Failure(S.INVALID_PARAMETER)
                attribute.write_raw_at(start * size + offset, data)
            else:
                attribute.write_bytes(start + offset // size, len(data) // size, data)
        return encode_reply(req.service)

    @staticmethod
    def _check_write_size(data: bytes, total: int, offset: int, fragmented: bool) -> bytes:
        """The bytes of a write that belong to it; status 0x13/0x15/0x2104 when they do not fit.

        Bytes after a whole (unfragmented) write are ignored, as a Logix ignores them: pycomm3
        sends its request again after the data.
        """
        if offset and offset >= total:
            raise Failure(S.GENERAL_ERROR, _OFFSET_BEYOND_END)
        if fragmented:
            if offset + len(data) > total:
                raise Failure(S.TOO_MUCH_DATA)
            return data
        if len(data) < total:
            raise Failure(S.NOT_ENOUGH_DATA)
        return data[:total]

    def _member_service(self, req: Request, attribute: Attribute, sub: Part, name: str, limit: int) -> bytes:
        """Read, write or modify a structure member (or a BOOL member's bit)."""
        service = req.service
        kind = sub.type
        if service in READS:
            rt = decode_read_tag(req.data, service == LogixService.READ_TAG_FRAGMENTED, strict=False)
            count, offset = rt.count, rt.offset or 0
            if count > sub.count:
                raise Failure(S.GENERAL_ERROR, _ACCESS_BEYOND_END)
            type_word = _type_word(kind)
            if sub.bit is not None:
                data = b"\x01" if attribute.read_raw_at(sub.offset, 1)[0] >> sub.bit & 1 else b"\x00"
                status = 0
            else:
                total = count * kind.size
                if offset and offset >= total:
                    raise Failure(S.GENERAL_ERROR, _OFFSET_BEYOND_END)
                chunk = _chunk(total - offset, limit - 4 - len(type_word), kind.size)
                data = attribute.read_raw_at(sub.offset + offset, chunk)
                status = S.PARTIAL_TRANSFER if offset + chunk < total else 0
            sink = self.events.read_sink
            if sink is not None:
                sink(read_what(name, 0, count, data, kind, bit=sub.bit))
            return encode_reply(service, status, (), type_word + data)
        if service in WRITES:
            fragmented = service == LogixService.WRITE_TAG_FRAGMENTED
            wt = decode_write_tag(req.data, fragmented)
            if wt.type_code != kind.code or wt.handle != getattr(kind, "handle", None):
                raise Failure(S.GENERAL_ERROR, _TYPE_MISMATCH)
            if wt.count > sub.count:
                raise Failure(S.GENERAL_ERROR, _ACCESS_BEYOND_END)
            if sub.bit is not None:
                if not wt.data:
                    raise Failure(S.NOT_ENOUGH_DATA)
                mask = bytes((1 << sub.bit,))
                access = Access(name, 0, 1, kind, sub.offset, 1, sub.bit)
                if wt.data[0]:
                    attribute.modify_raw_at(sub.offset, mask, b"\xff", access)
                else:
                    attribute.modify_raw_at(sub.offset, b"\x00", bytes((0xFF ^ mask[0],)), access)
            else:
                offset = wt.offset or 0
                data = self._check_write_size(wt.data, wt.count * kind.size, offset, fragmented)
                attribute.write_raw_at(sub.offset + offset, data,
                                       Access(name, 0, wt.count, kind, sub.offset + offset, len(data)))
            return encode_reply(service)
        if service == LogixService.READ_MODIFY_WRITE and sub.bit is None:
            return self._modify(req, attribute, sub, name)
        raise Failure(S.SERVICE_NOT_SUPPORTED)

    def _modify(self, req: Request, attribute: Attribute, sub: Part, name: str, start: int = 0) -> bytes:
        rmw = decode_read_modify_write(req.data, strict=False)
        size = len(rmw.or_mask)
        if sub.type.size and size > sub.type.size * sub.count:
            raise Failure(S.INVALID_PARAMETER)
        width = sub.type.size or 1
        count = max(1, -(-size // width))
        attribute.modify_raw_at(sub.offset, rmw.or_mask, rmw.and_mask,
                                Access(name, start, count, sub.type, sub.offset, count * width))
        return encode_reply(req.service)

    def _set_attribute(self, req: Request, attribute: Attribute, name: str) -> bytes:
        n = len(attribute)
        data = req.data
        parser = attribute.parser
        if parser.size:
            if len(data) < n * parser.size:
                raise Failure(S.NOT_ENOUGH_DATA)
            if len(data) > n * parser.size:
                raise Failure(S.TOO_MUCH_DATA)
        else:
            try:
                values = parser.decode(data, 0, n)
            except DecodeError:
                raise Failure(S.NOT_ENOUGH_DATA) from None
            if len(parser.encode(values)) != len(data):
                raise Failure(S.TOO_MUCH_DATA)
        attribute.write_bytes(0, n, data)
        return encode_reply(req.service)


def _read_refresh(attribute: Attribute, head: bytes, offset: int, size: int, *, events: TagEvents, name: str,
                  first: int, count: int) -> Refresh:
    """Answer a repeated read: the same reply head, and the attribute's bytes as they are now.

    The reply is rebuilt only when the attribute has committed a change since it was last built
    (its ``_version`` moved); between changes the same bytes go out again.
    """
    read = attribute.read_raw_at
    kind = attribute.parser
    # (version, reply, what was read), swapped whole: safe across threads
    built: tuple[int, bytes, What] = (-1, b"", ())

    def refresh() -> bytes | None:
        nonlocal built
        if attribute.error:
            return None
        version = attribute._version  # read before the bytes: a later change is caught next time
        now = built
        if now[0] != version:
            data = read(offset, size)
            now = built = (version, head + data, read_what(name, first, count, data, kind))
        sink = events.read_sink
        if sink is not None:  # one prebuilt What per version: a listener's read costs a call
            sink(now[2])
        return now[1]

    return refresh


def _chunk(remaining: int, room: int, size: int) -> int:
    """How many of ``remaining`` bytes to send in ``room``: whole elements when one fits."""
    if room <= 0:
        raise Failure(S.REPLY_DATA_TOO_LARGE)
    step = size if 0 < size <= room else 4
    fit = room - room % step if room >= step else room
    if fit <= 0:
        raise Failure(S.REPLY_DATA_TOO_LARGE)
    return min(remaining, fit)


def _type_word(kind: CIPType) -> bytes:
    return encode_type_word(kind.code, getattr(kind, "handle", None) if kind.code == STRUCTURE else None)
