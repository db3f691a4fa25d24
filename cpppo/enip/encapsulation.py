"""The EtherNet/IP encapsulation header and the commands it carries.

Every EtherNet/IP message, over TCP or UDP, is one encapsulation frame::

     0      2      4              8              12                     20             24
    +------+------+--------------+--------------+----------------------+--------------+------
    |command|length| session handle| status       | sender context (8)   | options      | data
    +------+------+--------------+--------------+----------------------+--------------+------

little-endian, ``length`` counting the data only.  A reply echoes the request's sender context,
which is how a pipelining client matches replies to requests.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from ..errors import DecodeError, EncodeError

__all__ = [
    "HEADER",
    "Command",
    "EncapStatus",
    "Encapsulation",
    "RegisterSession",
    "decode_frame",
    "decode_register_session",
]

HEADER = struct.Struct("<HHII8sI")
"""command, length, session handle, status, sender context, options."""

MAX_LENGTH = 0xFFFF
_ZERO_CONTEXT = bytes(8)


@enum.unique
class Command(enum.IntEnum):
    NOP = 0x0000
    LEGACY_0001 = 0x0001  # undocumented; answered by many A-B devices like List Identity
    LIST_SERVICES = 0x0004
    LIST_IDENTITY = 0x0063
    LIST_INTERFACES = 0x0064
    REGISTER_SESSION = 0x0065
    UNREGISTER_SESSION = 0x0066
    SEND_RR_DATA = 0x006F
    SEND_UNIT_DATA = 0x0070


@enum.unique
class EncapStatus(enum.IntEnum):
    SUCCESS = 0x0000
    INVALID_COMMAND = 0x0001
    NO_RESOURCES = 0x0002
    INCORRECT_DATA = 0x0003
    INVALID_SESSION = 0x0064
    INVALID_LENGTH = 0x0065
    UNSUPPORTED_PROTOCOL = 0x0069


@dataclass(frozen=True, slots=True)
class Encapsulation:
    """One encapsulation frame: the header fields and the command-specific data."""

    command: int
    session: int = 0
    status: int = 0
    context: bytes = _ZERO_CONTEXT
    options: int = 0
    data: bytes = b""

    def encode(self) -> bytes:
        if len(self.data) > MAX_LENGTH:
            raise EncodeError(f"encapsulated data of {len(self.data)} bytes exceeds {MAX_LENGTH}")
        if len(self.context) != 8:
            raise EncodeError(f"sender context must be 8 bytes, not {len(self.context)}")
        try:
            return HEADER.pack(self.command, len(self.data), self.session, self.status, self.context,
                               self.options) + self.data
        except struct.error as exc:
            raise EncodeError(f"encapsulation header field out of range: {exc}") from None

    def reply(self, data: bytes = b"", status: int = 0, session: int | None = None) -> Encapsulation:
        """The reply to this frame: same command and context, with ``data`` and ``status``."""
        return Encapsulation(self.command, self.session if session is None else session, status,
                             self.context, self.options, data)


def decode_frame(buf: bytes | memoryview) -> Encapsulation:
    """Decode exactly one frame occupying all of ``buf`` (a UDP datagram, a captured frame)."""
    if len(buf) < HEADER.size:
        raise DecodeError(f"encapsulation header truncated: {len(buf)} of 24 bytes", len(buf),
                          EncapStatus.INVALID_LENGTH)
    command, length, session, status, context, options = HEADER.unpack_from(buf, 0)
    if HEADER.size + length != len(buf):
        raise DecodeError(f"encapsulation length {length} disagrees with {len(buf) - HEADER.size} data bytes",
                          2, EncapStatus.INVALID_LENGTH)
    return Encapsulation(command, session, status, context, options, bytes(buf[HEADER.size:]))


_REGISTER = struct.Struct("<HH")


@dataclass(frozen=True, slots=True)
class RegisterSession:
    """RegisterSession data: protocol version (1) and options (0)."""

    version: int = 1
    options: int = 0

    def encode(self) -> bytes:
        try:
            return _REGISTER.pack(self.version, self.options)
        except struct.error as exc:
            raise EncodeError(f"RegisterSession field out of range: {exc}") from None


def decode_register_session(data: bytes | memoryview) -> RegisterSession:
    if len(data) != _REGISTER.size:
        raise DecodeError(f"RegisterSession data must be 4 bytes, not {len(data)}", 0, EncapStatus.INVALID_LENGTH)
    return RegisterSession(*_REGISTER.unpack_from(data, 0))
