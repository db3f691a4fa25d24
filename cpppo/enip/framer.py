"""A streaming framer that turns TCP byte chunks into whole encapsulation frames.

Feed it whatever ``recv`` returned: a frame split over many reads, or many frames in one read.
The header's length field is checked before any of the body is kept, so a peer announcing a huge
frame is refused at once and the buffer never holds more than one frame plus the chunk being fed.
After an error the framer stays broken: the byte stream has lost its frame boundaries.
"""

from __future__ import annotations

from ..errors import DecodeError, FrameTooLarge
from .encapsulation import HEADER, MAX_LENGTH, EncapStatus, Encapsulation

__all__ = ["Framer"]

_HEADER_SIZE = HEADER.size


class Framer:
    """Bytes in (:meth:`feed`), :class:`Encapsulation` frames out."""

    __slots__ = ("_buf", "error", "max_length")

    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        self.max_length = max_length
        self._buf = bytearray()
        self.error: DecodeError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a whole frame."""
        return len(self._buf)

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[Encapsulation]:
        """Add ``chunk``; return the frames it completed (possibly none).

        Raises :class:`FrameTooLarge` for an oversized frame; when whole frames came before it in
        the same chunk they are returned first, :attr:`error` is set, and the next call raises.
        """
        if self.error is not None:
            raise self.error
        buf = self._buf
        buf += chunk
        frames: list[Encapsulation] = []
        at = 0
        end = len(buf)
        unpack = HEADER.unpack_from
        while end - at >= _HEADER_SIZE:
            command, length, session, status, context, options = unpack(buf, at)
            if length > self.max_length:
                self.error = FrameTooLarge(
                    f"frame length {length} exceeds the maximum of {self.max_length}", at + 2,
                    EncapStatus.INVALID_LENGTH)
                buf.clear()
                if frames:  # the whole frames before it still count; the error comes next time
                    return frames
                raise self.error
            stop = at + _HEADER_SIZE + length
            if stop > end:
                break
            frames.append(Encapsulation(command, session, status, context, options,
                                        bytes(buf[at + _HEADER_SIZE : stop])))
            at = stop
        if at:
            del buf[:at]
        return frames
