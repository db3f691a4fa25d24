"""Connection Manager (class 0x06) service data: Unconnected Send, Forward Open, Forward Close.

Unconnected Send (0x52) request data::

    priority/time tick USINT | timeout ticks USINT | message size UINT | message [pad] |
    route path size USINT (words) | reserved USINT | route path

A request timeout is ``2**(tick & 0x0F) * timeout_ticks`` milliseconds.

Forward Open (0x54; Large Forward Open 0x5B has 32-bit connection parameters)::

    priority/time tick | timeout ticks | O->T id UDINT | T->O id UDINT | serial UINT | vendor UINT |
    originator serial UDINT | timeout multiplier USINT | reserved x3 | O->T RPI UDINT |
    O->T params WORD/DWORD | T->O RPI UDINT | T->O params | transport USINT |
    path size USINT (words) | connection path
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import DecodeError, EncodeError
from .epath import Path, decode_path, encode_path
from .status import GeneralStatus

__all__ = [
    "ConnectionFailure",
    "ConnectionParams",
    "ForwardClose",
    "ForwardCloseReply",
    "ForwardOpen",
    "ForwardOpenReply",
    "UnconnectedSend",
    "decode_connection_failure",
    "decode_forward_close",
    "decode_forward_close_reply",
    "decode_forward_open",
    "decode_forward_open_reply",
    "decode_unconnected_send",
]

_US_HEAD = struct.Struct("<BBH")
_NEED = GeneralStatus.NOT_ENOUGH_DATA


@dataclass(frozen=True, slots=True)
class UnconnectedSend:
    """An Unconnected Send: the embedded ``message`` bytes, and where to route them.

    ``route_path`` is None when the request carries no route path at all (as some simple
    devices' clients send), and ``()`` when it carries an empty one.
    """

    message: bytes
    route_path: Path | None = ()
    priority_time_tick: int = 5
    timeout_ticks: int = 157

    def encode(self) -> bytes:
        if not (0 <= self.priority_time_tick <= 0xFF and 0 <= self.timeout_ticks <= 0xFF):
            raise EncodeError("priority/time tick and timeout ticks are single bytes")
        if len(self.message) > 0xFFFF:
            raise EncodeError(f"Unconnected Send message of {len(self.message)} bytes is too long")
        try:
            out = _US_HEAD.pack(self.priority_time_tick, self.timeout_ticks, len(self.message)) + self.message
        except struct.error as exc:
            raise EncodeError(f"Unconnected Send field out of range: {exc}") from None
        if len(self.message) % 2:
            out += b"\0"
        if self.route_path is not None:
            raw = encode_path(self.route_path)
            if len(raw) > 510:
                raise EncodeError(f"route path of {len(raw)} bytes is longer than 255 words")
            out += bytes((len(raw) // 2, 0)) + raw
        return out

    @property
    def timeout_ms(self) -> int:
        return (1 << (self.priority_time_tick & 0x0F)) * self.timeout_ticks


def decode_unconnected_send(data: bytes | memoryview) -> UnconnectedSend:
    if len(data) < 4:
        raise DecodeError("Unconnected Send header truncated", 0, _NEED)
    tick, ticks, size = _US_HEAD.unpack_from(data, 0)
    end = 4 + size
    if end > len(data):
        raise DecodeError(f"Unconnected Send message of {size} bytes truncated", 2, _NEED)
    message = bytes(data[4:end])
    at = end + (size & 1)
    route: Path | None
    if at >= len(data):
        route = None
    else:
        if at + 2 > len(data):
            raise DecodeError("Unconnected Send route path size truncated", at, _NEED)
        stop = at + 2 + 2 * data[at]
        if stop > len(data):
            raise DecodeError("Unconnected Send route path truncated", at, GeneralStatus.PATH_SIZE_INVALID)
        route = decode_path(data, at + 2, stop)
        if stop != len(data):
            raise DecodeError("trailing bytes after the Unconnected Send route path", stop,
                              GeneralStatus.TOO_MUCH_DATA)
    return UnconnectedSend(message, route, tick, ticks)


@dataclass(frozen=True, slots=True)
class ConnectionParams:
    """A decoded network connection parameter word (16-bit) or double word (32-bit, large)."""

    size: int
    variable: bool = True
    priority: int = 0  # 0 low, 1 high, 2 scheduled, 3 urgent
    type: int = 2  # 0 null, 1 multicast, 2 point-to-point
    redundant_owner: bool = False

    def encode(self, large: bool) -> int:
        if not (0 <= self.priority <= 3 and 0 <= self.type <= 3):
            raise EncodeError(f"connection priority {self.priority} / type {self.type} must be 0..3")
        if large:
            if not 0 <= self.size <= 0xFFFF:
                raise EncodeError(f"connection size {self.size} out of range")
            return (self.size | self.variable << 25 | (self.priority & 3) << 26
                    | (self.type & 3) << 29 | self.redundant_owner << 31)
        if not 0 <= self.size <= 0x1FF:
            raise EncodeError(f"connection size {self.size} needs a Large Forward Open")
        return (self.size | self.variable << 9 | (self.priority & 3) << 10
                | (self.type & 3) << 13 | self.redundant_owner << 15)

    @classmethod
    def decode(cls, word: int, large: bool) -> ConnectionParams:
        if large:
            return cls(word & 0xFFFF, bool(word >> 25 & 1), word >> 26 & 3, word >> 29 & 3, bool(word >> 31 & 1))
        return cls(word & 0x1FF, bool(word >> 9 & 1), word >> 10 & 3, word >> 13 & 3, bool(word >> 15 & 1))


_FO_HEAD = struct.Struct("<BBIIHHIB3x")
_FO_PARAMS = {False: struct.Struct("<IHIHBB"), True: struct.Struct("<IIIIBB")}


@dataclass(frozen=True, slots=True)
class ForwardOpen:
    """A (Large) Forward Open request; the triad (serial, vendor, originator serial) names it."""

    o_t_connection_id: int
    t_o_connection_id: int
    connection_serial: int
    vendor_id: int
    originator_serial: int
    o_t_rpi: int
    o_t_params: ConnectionParams
    t_o_rpi: int
    t_o_params: ConnectionParams
    connection_path: Path
    timeout_multiplier: int = 0
    transport: int = 0xA3
    priority_time_tick: int = 10
    timeout_ticks: int = 14
    large: bool = False

    @property
    def triad(self) -> tuple[int, int, int]:
        return self.connection_serial, self.vendor_id, self.originator_serial

    @property
    def timeout_s(self) -> float:
        """The target's inactivity timeout for the connection: O->T RPI x (4 << multiplier)."""
        return self.o_t_rpi * (4 << min(self.timeout_multiplier, 7)) / 1e6

    def encode(self) -> bytes:
        path = encode_path(self.connection_path)
        try:
            return (
                _FO_HEAD.pack(self.priority_time_tick, self.timeout_ticks, self.o_t_connection_id,
                              self.t_o_connection_id, self.connection_serial, self.vendor_id,
                              self.originator_serial, self.timeout_multiplier)
                + _FO_PARAMS[self.large].pack(self.o_t_rpi, self.o_t_params.encode(self.large), self.t_o_rpi,
                                              self.t_o_params.encode(self.large), self.transport, len(path) // 2)
                + path
            )
        except struct.error as exc:
            raise EncodeError(f"Forward Open field out of range: {exc}") from None


def decode_forward_open(data: bytes | memoryview, large: bool = False) -> ForwardOpen:
    params = _FO_PARAMS[large]
    head = _FO_HEAD.size + params.size
    if len(data) < head:
        raise DecodeError("Forward Open request truncated", len(data), _NEED)
    tick, ticks, ot_id, to_id, serial, vendor, orig, mult = _FO_HEAD.unpack_from(data, 0)
    ot_rpi, ot_p, to_rpi, to_p, transport, words = params.unpack_from(data, _FO_HEAD.size)
    if head + 2 * words > len(data):
        raise DecodeError("Forward Open connection path truncated", head, GeneralStatus.PATH_SIZE_INVALID)
    if head + 2 * words < len(data):
        raise DecodeError("bytes after the Forward Open connection path", head + 2 * words,
                          GeneralStatus.TOO_MUCH_DATA)
    path = decode_path(data, head, head + 2 * words)
    return ForwardOpen(ot_id, to_id, serial, vendor, orig, ot_rpi, ConnectionParams.decode(ot_p, large),
                       to_rpi, ConnectionParams.decode(to_p, large), path, mult, transport, tick, ticks, large)


_FOR_HEAD = struct.Struct("<IIHHIIIBB")


@dataclass(frozen=True, slots=True)
class ForwardOpenReply:
    """A successful Forward Open reply's data."""

    o_t_connection_id: int
    t_o_connection_id: int
    connection_serial: int
    vendor_id: int
    originator_serial: int
    o_t_api: int
    t_o_api: int
    application_reply: bytes = b""

    def encode(self) -> bytes:
        app = self.application_reply + (b"\0" if len(self.application_reply) % 2 else b"")
        try:
            return _FOR_HEAD.pack(self.o_t_connection_id, self.t_o_connection_id, self.connection_serial,
                                  self.vendor_id, self.originator_serial, self.o_t_api, self.t_o_api,
                                  len(app) // 2, 0) + app
        except struct.error as exc:
            raise EncodeError(f"Forward Open reply field out of range: {exc}") from None


def decode_forward_open_reply(data: bytes | memoryview) -> ForwardOpenReply:
    if len(data) < _FOR_HEAD.size - 2:
        raise DecodeError("Forward Open reply truncated", len(data))
    if len(data) < _FOR_HEAD.size:  # some devices omit the application reply size and reserved byte
        fields = struct.unpack_from("<IIHHIII", data, 0)
        return ForwardOpenReply(*fields)
    *fields, words, _ = _FOR_HEAD.unpack_from(data, 0)
    end = _FOR_HEAD.size + 2 * words
    if end > len(data):
        raise DecodeError("Forward Open application reply truncated", _FOR_HEAD.size)
    return ForwardOpenReply(*fields, bytes(data[_FOR_HEAD.size:end]))


_FC_HEAD = struct.Struct("<BBHHIBB")


@dataclass(frozen=True, slots=True)
class ForwardClose:
    connection_serial: int
    vendor_id: int
    originator_serial: int
    connection_path: Path = ()
    priority_time_tick: int = 10
    timeout_ticks: int = 14

    @property
    def triad(self) -> tuple[int, int, int]:
        return self.connection_serial, self.vendor_id, self.originator_serial

    def encode(self) -> bytes:
        path = encode_path(self.connection_path)
        try:
            return _FC_HEAD.pack(self.priority_time_tick, self.timeout_ticks, self.connection_serial,
                                 self.vendor_id, self.originator_serial, len(path) // 2, 0) + path
        except struct.error as exc:
            raise EncodeError(f"Forward Close field out of range: {exc}") from None


def decode_forward_close(data: bytes | memoryview) -> ForwardClose:
    if len(data) < _FC_HEAD.size:
        raise DecodeError("Forward Close request truncated", len(data), _NEED)
    tick, ticks, serial, vendor, orig, words, _ = _FC_HEAD.unpack_from(data, 0)
    end = _FC_HEAD.size + 2 * words
    if end > len(data):
        raise DecodeError("Forward Close connection path truncated", _FC_HEAD.size, GeneralStatus.PATH_SIZE_INVALID)
    if end < len(data):
        raise DecodeError("bytes after the Forward Close connection path", end, GeneralStatus.TOO_MUCH_DATA)
    return ForwardClose(serial, vendor, orig, decode_path(data, _FC_HEAD.size, end), tick, ticks)


_FCR_HEAD = struct.Struct("<HHIBB")


@dataclass(frozen=True, slots=True)
class ForwardCloseReply:
    connection_serial: int
    vendor_id: int
    originator_serial: int
    application_reply: bytes = b""

    def encode(self) -> bytes:
        app = self.application_reply + (b"\0" if len(self.application_reply) % 2 else b"")
        try:
            return _FCR_HEAD.pack(self.connection_serial, self.vendor_id, self.originator_serial,
                                  len(app) // 2, 0) + app
        except struct.error as exc:
            raise EncodeError(f"Forward Close reply field out of range: {exc}") from None


def decode_forward_close_reply(data: bytes | memoryview) -> ForwardCloseReply:
    if len(data) < _FCR_HEAD.size:
        raise DecodeError("Forward Close reply truncated", len(data))
    serial, vendor, orig, words, _ = _FCR_HEAD.unpack_from(data, 0)
    end = _FCR_HEAD.size + 2 * words
    if end > len(data):
        raise DecodeError("Forward Close application reply truncated", _FCR_HEAD.size)
    return ForwardCloseReply(serial, vendor, orig, bytes(data[_FCR_HEAD.size:end]))


_FAIL_HEAD = struct.Struct("<HHI")


@dataclass(frozen=True, slots=True)
class ConnectionFailure:
    """The data of an unsuccessful Forward Open or Forward Close reply (general status 0x01).

    The triad of the refused request, and the remaining path size (words of the connection path
    not yet consumed) when the device reports it; some devices omit it and its reserved byte.
    """

    connection_serial: int
    vendor_id: int
    originator_serial: int
    remaining_path_size: int | None = None

    def encode(self) -> bytes:
        try:
            out = _FAIL_HEAD.pack(self.connection_serial, self.vendor_id, self.originator_serial)
            if self.remaining_path_size is not None:
                out += struct.pack("<BB", self.remaining_path_size, 0)
        except struct.error as exc:
            raise EncodeError(f"connection failure field out of range: {exc}") from None
        return out


def decode_connection_failure(data: bytes | memoryview) -> ConnectionFailure:
    if len(data) not in (_FAIL_HEAD.size, _FAIL_HEAD.size + 2):
        raise DecodeError(f"unsuccessful Forward Open/Close reply data must be 8 or 10 bytes, not {len(data)}",
                          min(len(data), _FAIL_HEAD.size))
    serial, vendor, orig = _FAIL_HEAD.unpack_from(data, 0)
    remaining = data[_FAIL_HEAD.size] if len(data) > _FAIL_HEAD.size else None
    return ConnectionFailure(serial, vendor, orig, remaining)
