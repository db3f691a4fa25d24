"""A Modbus/RTU framer that finds frames in a noisy byte stream.

An RTU frame has no start marker, only a trailing CRC::

    +------+----------+----------------------+---------+
    | unit | function | data (0-252 bytes)   | CRC-16  |
    |  1   |    1     | length by function   | 2 (LE)  |
    +------+----------+----------------------+---------+

pymodbus 3's ``FramerRTU.decode`` takes the first position whose second byte is a known function
code as the frame start, and when that candidate's CRC fails it throws the *whole buffer* away,
including the real frame that follows the noise.  One stray byte on the line ahead of a request
(0x55 then 0x01 reads as "unit 0x55, read coils") costs the request.  :class:`HuntingFramerRTU`
instead tries every position: the first candidate whose CRC checks is the frame, and noise ahead
of it is dropped; if none checks yet, it waits for more bytes, keeping at most one maximum-size
frame of buffered data.  See ``tests/modbus/test_modbus_rtu.py`` for both behaviours side by side.
"""

from __future__ import annotations

import time
from typing import Protocol

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU

__all__ = ["MAX_RTU_FRAME", "HuntingFramerRTU", "install_rtu_framer", "read_rtu_frame"]

#: Largest RTU ADU: unit + 253-byte PDU + CRC.
MAX_RTU_FRAME = 256


class HuntingFramerRTU(FramerRTU):
    """pymodbus's RTU framer, with a decode that hunts past noise instead of discarding frames."""

    def decode(self, data: bytes) -> tuple[int, int, int, bytes]:
        length = len(data)
        waiting: int | None = None  # earliest position of a candidate still arriving
        for pos in range(length - self.MIN_SIZE + 1):
            frame = data[pos:]
            try:
                pdu_class = self.decoder.lookupPduClass(frame)
                size = pdu_class.calculateRtuFrameSize(frame) if pdu_class else 0
            except Exception:  # an unknown sub-function or short sub-header is just noise
                continue
            if pdu_class is None or size > MAX_RTU_FRAME:
                continue
            if not size or pos + size > length:
                if waiting is None and length - pos < MAX_RTU_FRAME:
                    waiting = pos
                continue
            crc = int.from_bytes(data[pos + size - 2:pos + size], "big")
            if self.check_CRC(data[pos:pos + size - 2], crc):
                return pos + size, int(data[pos]), 0, data[pos + 1:pos + size - 2]
        # No complete frame: drop what cannot start one, keep the rest for the next read.
        if waiting is None:
            waiting = max(0, length - self.MIN_SIZE + 1)
        return waiting, 0, 0, self.EMPTY


def install_rtu_framer(client_or_server: object) -> None:
    """Make a pymodbus serial client or server (or RTU-over-TCP one) frame with HuntingFramerRTU.

    pymodbus chooses framers from a fixed name table, so there is no constructor argument for a
    custom one; clients hold a framer instance (shared with their transaction manager) and servers
    a framer class instantiated per connection.
    """
    framer = getattr(client_or_server, "framer", None)
    if isinstance(framer, type):
        if not issubclass(framer, FramerRTU):
            raise TypeError("not an RTU server")
        client_or_server.framer = HuntingFramerRTU  # type: ignore[attr-defined]
        return
    if not isinstance(framer, FramerRTU):
        raise TypeError("not an RTU client")
    hunting = HuntingFramerRTU(framer.decoder)
    client_or_server.framer = hunting  # type: ignore[attr-defined]
    client_or_server.transaction.framer = hunting  # type: ignore[attr-defined]


class _Line(Protocol):
    """What :func:`read_rtu_frame` needs of a serial port (a ``serial.Serial`` has it)."""

    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...


def read_rtu_frame(line: _Line, *, timeout: float, requests: bool = True) -> tuple[int, bytes] | None:
    """Read one whole RTU frame from ``line``: ``(unit, pdu)``, or None if ``timeout`` passes first.

    A serial port is not a socket: ``read(n)`` blocks until n bytes or the port's own timeout, so
    asking for a large block (as pymodbus 1.x did) stalls after every short frame.  We read what
    is waiting, a byte at a time at worst, and let :class:`HuntingFramerRTU` find the frame
    (skipping noise ahead of it) after each read.  ``requests`` says which side's frames to expect:
    requests (a server reading) or replies (a client).  Bytes after the frame are discarded.
    """
    framer = HuntingFramerRTU(DecodePDU(requests))
    deadline = time.monotonic() + timeout
    buffered = b""
    saved = line.timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            line.timeout = min(left, 0.05)
            waiting = getattr(line, "in_waiting", 0) or 1
            chunk = line.read(min(waiting, MAX_RTU_FRAME))
            if not chunk:
                continue
            buffered += chunk
            used, unit, _, pdu = framer.decode(buffered)
            if pdu:
                return unit, pdu
            buffered = buffered[used:]
    finally:
        line.timeout = saved
