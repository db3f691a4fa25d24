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

from pymodbus.framer import FramerRTU

__all__ = ["MAX_RTU_FRAME", "HuntingFramerRTU", "install_rtu_framer"]

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
