"""What a Modbus/TCP server checks before pymodbus decodes a request (sans I/O).

pymodbus 3.16's server goes wrong on requests it cannot decode: one bad MBAP header leaves the
connection silent for ever (its framer never finds the next frame), an unknown function code or
an out-of-range quantity is answered with function code 0x80 instead of the request's code | 0x80,
and a request whose function code has the exception bit set logs a traceback.  The simulator
checks each request here first:

    MBAP header:  transaction UINT | protocol UINT (0) | length UINT (unit + PDU: 2..254) | unit USINT
    PDU:          function USINT | data

* :func:`mbap_frame` -- the length of the whole frame at the front of a buffer, 0 when it is not
  all there yet, or :class:`Unframed` when the header cannot be a Modbus/TCP header (the stream
  has no boundaries left: the connection must close);
* :func:`request_exception` -- the exception code the Modbus specification gives a request
  (01 illegal function, 02 illegal data address, 03 illegal data value), or None to serve it.
"""

from __future__ import annotations

import struct

from .codes import ExceptionCode, FunctionCode

__all__ = ["MBAP", "MBAP_SIZE", "Unframed", "mbap_frame", "request_exception"]

MBAP = struct.Struct(">HHHB")
MBAP_SIZE = MBAP.size  # 7: the unit id is the last byte of the header
_MAX_LENGTH = 254  # the length field counts the unit id and a PDU of at most 253 bytes
_F = FunctionCode
_E = ExceptionCode
_UINT2 = struct.Struct(">HH")


class Unframed(ValueError):
    """Bytes that cannot start a Modbus/TCP frame: the stream is lost."""


def mbap_frame(buf: bytes | memoryview, at: int = 0) -> int:
    """The size of the frame at ``buf[at:]``, or 0 if more bytes must come first."""
    if len(buf) - at < MBAP_SIZE:
        return 0
    _, protocol, length, _ = MBAP.unpack_from(buf, at)
    if protocol != 0:
        raise Unframed(f"protocol id {protocol} is not Modbus (0)")
    if not 2 <= length <= _MAX_LENGTH:
        raise Unframed(f"MBAP length {length} is not 2..{_MAX_LENGTH}")
    size = 6 + length
    return size if len(buf) - at >= size else 0


# function code: (PDU size, or None for "byte count decides"; how to check the data)
def request_exception(pdu: bytes | memoryview, served: frozenset[int]) -> int | None:
    """The exception code ``pdu`` (function code and data) gets, or None if it is to be served.

    ``served`` are the function codes the server answers; any other is illegal (01).
    """
    if not pdu:
        return _E.ILLEGAL_FUNCTION
    code = pdu[0]
    if code & 0x80 or code not in served:
        return _E.ILLEGAL_FUNCTION
    data = bytes(pdu[1:])
    check = _CHECKS.get(code)
    return check(data) if check is not None else None


def _read(limit: int) -> object:
    def check(data: bytes) -> int | None:
        if len(data) != 4:
            return _E.ILLEGAL_DATA_VALUE
        address, count = _UINT2.unpack(data)
        if not 1 <= count <= limit:
            return _E.ILLEGAL_DATA_VALUE
        if address + count > 0x10000:
            return _E.ILLEGAL_DATA_ADDRESS
        return None

    return check


def _write_coil(data: bytes) -> int | None:
    if len(data) != 4 or _UINT2.unpack(data)[1] not in (0x0000, 0xFF00):
        return _E.ILLEGAL_DATA_VALUE
    return None


def _fixed(size: int) -> object:
    def check(data: bytes) -> int | None:
        return None if len(data) == size else _E.ILLEGAL_DATA_VALUE

    return check


def _write_many(limit: int, bytes_for: object) -> object:
    def check(data: bytes) -> int | None:
        if len(data) < 5:
            return _E.ILLEGAL_DATA_VALUE
        address, count = _UINT2.unpack_from(data, 0)
        if not 1 <= count <= limit or data[4] != bytes_for(count) or len(data) != 5 + data[4]:  # type: ignore[operator]
            return _E.ILLEGAL_DATA_VALUE
        if address + count > 0x10000:
            return _E.ILLEGAL_DATA_ADDRESS
        return None

    return check


def _read_write(data: bytes) -> int | None:
    if len(data) < 9:
        return _E.ILLEGAL_DATA_VALUE
    read_at, reads, write_at, writes = struct.unpack_from(">HHHH", data, 0)
    if not 1 <= reads <= 0x7D or not 1 <= writes <= 0x79 or data[8] != 2 * writes or len(data) != 9 + data[8]:
        return _E.ILLEGAL_DATA_VALUE
    if read_at + reads > 0x10000 or write_at + writes > 0x10000:
        return _E.ILLEGAL_DATA_ADDRESS
    return None


_CHECKS = {
    _F.READ_COILS: _read(0x7D0),
    _F.READ_DISCRETE_INPUTS: _read(0x7D0),
    _F.READ_HOLDING_REGISTERS: _read(0x7D),
    _F.READ_INPUT_REGISTERS: _read(0x7D),
    _F.WRITE_SINGLE_COIL: _write_coil,
    _F.WRITE_SINGLE_REGISTER: _fixed(4),
    _F.WRITE_MULTIPLE_COILS: _write_many(0x7B0, lambda n: -(-n // 8)),
    _F.WRITE_MULTIPLE_REGISTERS: _write_many(0x7B, lambda n: 2 * n),
    _F.MASK_WRITE_REGISTER: _fixed(6),
    _F.READ_WRITE_MULTIPLE_REGISTERS: _read_write,
}
