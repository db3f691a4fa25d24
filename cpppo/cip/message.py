"""CIP Message Router requests and replies, and the Multiple Service Packet that bundles them.

Request::

    service USINT | path size USINT (words) | path (padded EPATH) | request data

Reply::

    service|0x80 USINT | reserved USINT | general status USINT |
    extended status size USINT (words) | extended status UINT... | reply data

Multiple Service Packet data (request and reply alike)::

    count UINT | offset UINT x count (from the start of count) | embedded messages
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import DecodeError, EncodeError
from .epath import Path, decode_path, encode_path
from .services import REPLY, CommonService
from .status import GeneralStatus, status_name

__all__ = [
    "Reply",
    "Request",
    "decode_multiple",
    "decode_reply",
    "decode_request",
    "encode_multiple",
    "multiple_request",
]

_UINT = struct.Struct("<H")
_REPLY_HEAD = struct.Struct("<BBBB")


@dataclass(frozen=True, slots=True)
class Request:
    """A CIP request: ``service`` on the object at ``path``, with service-specific ``data``."""

    service: int
    path: Path
    data: bytes = b""

    def encode(self) -> bytes:
        return encode_request(self.service, self.path, self.data)


@dataclass(frozen=True, slots=True)
class Reply:
    """A CIP reply.  ``service`` is the request's service code (without the 0x80 bit)."""

    service: int
    status: int = 0
    ext_status: tuple[int, ...] = ()
    data: bytes = b""
    reserved: int = field(default=0, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == GeneralStatus.SUCCESS

    @property
    def status_text(self) -> str:
        return status_name(self.status)

    def encode(self) -> bytes:
        return encode_reply(self.service, self.status, self.ext_status, self.data)


def encode_request(service: int, path: Path | bytes, data: bytes = b"") -> bytes:
    """Request bytes; ``path`` may be segments or already-encoded padded EPATH bytes."""
    raw = path if isinstance(path, (bytes, bytearray)) else encode_path(path)
    if not 0 <= service < REPLY:
        raise EncodeError(f"service code 0x{service:X} out of range")
    if len(raw) % 2 or len(raw) > 510:
        raise EncodeError(f"request path of {len(raw)} bytes is not a whole number of words <= 255")
    return bytes((service, len(raw) // 2)) + raw + data


def decode_request(buf: bytes | memoryview, offset: int = 0, end: int | None = None) -> Request:
    """Decode a request occupying ``buf[offset:end]``."""
    if end is None:
        end = len(buf)
    if end - offset < 2:
        raise DecodeError("CIP request truncated: no service and path size", offset,
                          GeneralStatus.NOT_ENOUGH_DATA)
    service = buf[offset]
    if service & REPLY:
        raise DecodeError(f"service 0x{service:02X} is a reply, not a request", offset,
                          GeneralStatus.SERVICE_NOT_SUPPORTED)
    path_end = offset + 2 + 2 * buf[offset + 1]
    if path_end > end:
        raise DecodeError("CIP request path runs past the end of the request", offset + 1,
                          GeneralStatus.PATH_SIZE_INVALID)
    path = decode_path(buf, offset + 2, path_end)
    return Request(service, path, bytes(buf[path_end:end]))


def encode_reply(service: int, status: int = 0, ext_status: Sequence[int] = (), data: bytes = b"") -> bytes:
    if not 0 <= service <= 0xFF:  # the request's code, or already with the reply bit
        raise EncodeError(f"service code 0x{service:X} out of range")
    service &= 0x7F
    if not 0 <= status <= 0xFF or len(ext_status) > 0xFF:
        raise EncodeError(f"reply status {status!r} / extended {ext_status!r} out of range")
    head = _REPLY_HEAD.pack(service | REPLY, 0, status, len(ext_status))
    if ext_status:
        try:
            head += struct.pack(f"<{len(ext_status)}H", *ext_status)
        except struct.error as exc:
            raise EncodeError(f"extended status {ext_status!r}: {exc}") from None
    return head + data


def decode_reply(buf: bytes | memoryview, offset: int = 0, end: int | None = None) -> Reply:
    """Decode a reply occupying ``buf[offset:end]``."""
    if end is None:
        end = len(buf)
    if end - offset < 4:
        raise DecodeError("CIP reply truncated: fewer than 4 header bytes", offset)
    service, reserved, status, ext_words = _REPLY_HEAD.unpack_from(buf, offset)
    if not service & REPLY:
        raise DecodeError(f"service 0x{service:02X} is a request, not a reply", offset)
    data_at = offset + 4 + 2 * ext_words
    if data_at > end:
        raise DecodeError(f"extended status of {ext_words} words truncated", offset + 3)
    ext = struct.unpack_from(f"<{ext_words}H", buf, offset + 4) if ext_words else ()
    return Reply(service & 0x7F, status, tuple(ext), bytes(buf[data_at:end]), reserved)


def encode_multiple(messages: Sequence[bytes]) -> bytes:
    """Multiple Service Packet data: count, offsets, then the encoded messages."""
    count = len(messages)
    if count > 0xFFFF:
        raise EncodeError("too many services for one Multiple Service Packet")
    offsets = []
    at = 2 + 2 * count
    for m in messages:
        offsets.append(at)
        at += len(m)
    if at > 0xFFFF:
        raise EncodeError(f"Multiple Service Packet of {at} bytes is too large")
    return struct.pack(f"<H{count}H", count, *offsets) + b"".join(messages)


def decode_multiple(buf: bytes | memoryview, offset: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The (start, end) byte spans of the messages in Multiple Service Packet data.

    Offsets must lie inside the data and ascend; a packet with none is valid.
    """
    if end is None:
        end = len(buf)
    if end - offset < 2:
        raise DecodeError("Multiple Service Packet count truncated", offset, GeneralStatus.NOT_ENOUGH_DATA)
    (count,) = _UINT.unpack_from(buf, offset)
    table_end = offset + 2 + 2 * count
    if table_end > end:
        raise DecodeError(f"Multiple Service Packet offset table for {count} services truncated",
                          offset, GeneralStatus.NOT_ENOUGH_DATA)
    offs = struct.unpack_from(f"<{count}H", buf, offset + 2)
    spans: list[tuple[int, int]] = []
    for i, rel in enumerate(offs):
        start = offset + rel
        stop = offset + offs[i + 1] if i + 1 < count else end
        if start < table_end or stop > end or start > stop:
            raise DecodeError(f"Multiple Service Packet offset {rel} of service {i} is invalid",
                              offset + 2 + 2 * i, GeneralStatus.INVALID_PARAMETER)
        spans.append((start, stop))
    return spans


def multiple_request(path: Path, requests: Sequence[Request | bytes]) -> Request:
    """A Multiple Service Packet request to ``path`` (usually the Message Router @2/1)."""
    raw = [r if isinstance(r, (bytes, bytearray)) else r.encode() for r in requests]
    return Request(CommonService.MULTIPLE_SERVICE_PACKET, path, encode_multiple(raw))
