"""Request and reply data of the Logix tag services and the generic attribute services.

Read Tag (0x4C)              request: count UINT                   reply: type word | data
Read Tag Fragmented (0x52)   request: count UINT | offset UDINT     reply: type word | data
Write Tag (0x4D)             request: type word | count UINT | data
Write Tag Fragmented (0x53)  request: type word | count UINT | offset UDINT | data
Read-Modify-Write (0x4E)     request: mask size UINT | OR mask | AND mask
Get Attribute List (0x03)    request: count UINT | attribute UINT...
                             reply:   count UINT | (attribute UINT | status UINT | value)...
Get Attribute Single (0x0E), Get Attributes All (0x01): no request data; reply: the value(s)
Set Attribute Single (0x10)  request: the value

Offsets are in bytes; counts are in elements.  A fragmented reply whose data did not all fit
carries general status 0x06 (partial transfer).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import DecodeError, EncodeError
from .status import GeneralStatus
from .types import decode_type_word, encode_type_word

__all__ = [
    "AttributeValue",
    "ReadModifyWrite",
    "ReadTag",
    "TypedData",
    "WriteTag",
    "decode_attribute_list_reply",
    "decode_attribute_list_request",
    "decode_read_modify_write",
    "decode_read_tag",
    "decode_typed_data",
    "decode_write_tag",
    "encode_attribute_list_reply",
    "encode_attribute_list_request",
]

_UINT = struct.Struct("<H")
_COUNT_OFFSET = struct.Struct("<HI")
_NEED = GeneralStatus.NOT_ENOUGH_DATA
_TOO_MUCH = GeneralStatus.TOO_MUCH_DATA


@dataclass(frozen=True, slots=True)
class ReadTag:
    """Read ``count`` elements; ``offset`` (bytes) is set for Read Tag Fragmented."""

    count: int = 1
    offset: int | None = None

    def encode(self) -> bytes:
        try:
            if self.offset is None:
                return _UINT.pack(self.count)
            return _COUNT_OFFSET.pack(self.count, self.offset)
        except struct.error:
            raise EncodeError(f"element count {self.count} or offset {self.offset} out of range") from None


def decode_read_tag(data: bytes | memoryview, fragmented: bool, *, strict: bool = True) -> ReadTag:
    """Decode Read Tag [Fragmented] data; ``strict=False`` ignores trailing bytes, as a Logix does."""
    size = 6 if fragmented else 2
    if strict and len(data) > size:
        raise DecodeError(f"{len(data) - size} bytes after the Read Tag request data", size, _TOO_MUCH)
    if fragmented:
        if len(data) < 6:
            raise DecodeError("Read Tag Fragmented needs an element count and a byte offset", 0, _NEED)
        count, offset = _COUNT_OFFSET.unpack_from(data, 0)
        return ReadTag(count, offset)
    if len(data) < 2:
        raise DecodeError("Read Tag needs an element count", 0, _NEED)
    return ReadTag(_UINT.unpack_from(data, 0)[0])


@dataclass(frozen=True, slots=True)
class TypedData:
    """A type word and the raw data after it (Read Tag replies, template and symbol values)."""

    type_code: int
    data: bytes = b""
    handle: int | None = None

    def encode(self) -> bytes:
        return encode_type_word(self.type_code, self.handle) + self.data


def decode_typed_data(data: bytes | memoryview) -> TypedData:
    code, handle, at = decode_type_word(data, 0)
    return TypedData(code, bytes(data[at:]), handle)


@dataclass(frozen=True, slots=True)
class WriteTag:
    """Write ``count`` elements of ``type_code`` (at byte ``offset`` when fragmented)."""

    type_code: int
    count: int
    data: bytes
    offset: int | None = None
    handle: int | None = None

    def encode(self) -> bytes:
        head = encode_type_word(self.type_code, self.handle)
        try:
            if self.offset is None:
                return head + _UINT.pack(self.count) + self.data
            return head + _COUNT_OFFSET.pack(self.count, self.offset) + self.data
        except struct.error:
            raise EncodeError(f"element count {self.count} or offset {self.offset} out of range") from None


def decode_write_tag(data: bytes | memoryview, fragmented: bool) -> WriteTag:
    code, handle, at = decode_type_word(data, 0)
    if fragmented:
        if at + 6 > len(data):
            raise DecodeError("Write Tag Fragmented needs an element count and a byte offset", at, _NEED)
        count, offset = _COUNT_OFFSET.unpack_from(data, at)
        return WriteTag(code, count, bytes(data[at + 6 :]), offset, handle)
    if at + 2 > len(data):
        raise DecodeError("Write Tag needs an element count", at, _NEED)
    (count,) = _UINT.unpack_from(data, at)
    return WriteTag(code, count, bytes(data[at + 2 :]), None, handle)


@dataclass(frozen=True, slots=True)
class ReadModifyWrite:
    """Set the bits of ``or_mask`` and clear the bits not in ``and_mask`` (masks of 1..8 bytes)."""

    or_mask: bytes
    and_mask: bytes

    def encode(self) -> bytes:
        if len(self.or_mask) != len(self.and_mask) or not 1 <= len(self.or_mask) <= 8:
            raise EncodeError("Read-Modify-Write masks must be of equal size, 1..8 bytes")
        return _UINT.pack(len(self.or_mask)) + self.or_mask + self.and_mask


def decode_read_modify_write(data: bytes | memoryview, *, strict: bool = True) -> ReadModifyWrite:
    """Decode Read-Modify-Write data; ``strict=False`` ignores bytes after the masks (pycomm3 sends
    an 8-byte AND mask with a 4-byte OR mask), as a Logix does."""
    if len(data) < 2:
        raise DecodeError("Read-Modify-Write mask size truncated", 0, _NEED)
    (size,) = _UINT.unpack_from(data, 0)
    if not 1 <= size <= 8:
        raise DecodeError(f"Read-Modify-Write mask size {size} is not 1..8", 0, GeneralStatus.INVALID_PARAMETER)
    if 2 + 2 * size > len(data):
        raise DecodeError("Read-Modify-Write masks truncated", 2, _NEED)
    if strict and 2 + 2 * size < len(data):
        raise DecodeError("bytes after the Read-Modify-Write masks", 2 + 2 * size, _TOO_MUCH)
    return ReadModifyWrite(bytes(data[2 : 2 + size]), bytes(data[2 + size : 2 + 2 * size]))


def encode_attribute_list_request(attributes: Sequence[int]) -> bytes:
    try:
        return struct.pack(f"<H{len(attributes)}H", len(attributes), *attributes)
    except struct.error:
        raise EncodeError(f"attribute list {list(attributes)!r} out of range") from None


def decode_attribute_list_request(data: bytes | memoryview) -> list[int]:
    if len(data) < 2:
        raise DecodeError("Get Attribute List count truncated", 0, _NEED)
    (count,) = _UINT.unpack_from(data, 0)
    if 2 + 2 * count > len(data):
        raise DecodeError(f"Get Attribute List of {count} attributes truncated", 2, _NEED)
    if 2 + 2 * count < len(data):
        raise DecodeError("bytes after the Get Attribute List attributes", 2 + 2 * count, _TOO_MUCH)
    return list(struct.unpack_from(f"<{count}H", data, 2))


@dataclass(frozen=True, slots=True)
class AttributeValue:
    """One entry of a Get Attribute List reply: the attribute, its status, its raw value."""

    attribute: int
    status: int
    value: bytes = b""


def encode_attribute_list_reply(entries: Sequence[AttributeValue]) -> bytes:
    if len(entries) > 0xFFFF:
        raise EncodeError(f"{len(entries)} attributes is too many for one Get Attribute List reply")
    out = bytearray(_UINT.pack(len(entries)))
    for e in entries:
        try:
            out += struct.pack("<HH", e.attribute, e.status)
        except struct.error:
            raise EncodeError(f"attribute {e.attribute!r} or status {e.status!r} out of range") from None
        out += e.value
    return bytes(out)


def decode_attribute_list_reply(
    data: bytes | memoryview, size_of: Callable[[int], int | None]
) -> list[AttributeValue]:
    """Decode a Get Attribute List reply.

    The wire carries no value lengths, so ``size_of(attribute)`` must say how many bytes each
    successful attribute's value has (None: the rest of the data belongs to it).
    """
    if len(data) < 2:
        raise DecodeError("Get Attribute List reply count truncated", 0)
    (count,) = _UINT.unpack_from(data, 0)
    at = 2
    out: list[AttributeValue] = []
    for _ in range(count):
        if at + 4 > len(data):
            raise DecodeError("Get Attribute List reply entry truncated", at)
        attr, status = struct.unpack_from("<HH", data, at)
        at += 4
        if status:
            out.append(AttributeValue(attr, status))
            continue
        size = size_of(attr)
        stop = len(data) if size is None else at + size
        if stop > len(data):
            raise DecodeError(f"value of attribute {attr} truncated", at)
        out.append(AttributeValue(attr, status, bytes(data[at:stop])))
        at = stop
    if at != len(data):
        raise DecodeError(f"{len(data) - at} bytes left over after Get Attribute List reply", at)
    return out
