"""The exceptions of cpppo, split by who is to blame.

* :class:`DecodeError`: the *peer* sent bytes that are not a valid message (truncated, over-long,
  inconsistent).  It carries the offset where decoding failed and, where the protocol has one, the
  status a server should answer with.  It is the only exception the codecs raise on bad input.
* :class:`EncodeError`: the *caller* asked for something that cannot be put on the wire (a value
  out of its type's range, a path segment that does not exist).
* :class:`CommunicationError`: the transport failed (refused, reset, timed out).
"""

from __future__ import annotations

__all__ = ["CommunicationError", "CpppoError", "DecodeError", "EncodeError", "FrameTooLarge", "ListenError"]


class CpppoError(Exception):
    """Base of every exception cpppo raises on purpose."""


class DecodeError(CpppoError, ValueError):
    """Input bytes are not a valid message.

    ``what`` names the element being decoded, ``offset`` is the byte offset into the buffer handed
    to the decoder, and ``status`` is the protocol status code a server should reply with (an
    encapsulation status for framing errors, a CIP general status for request errors), or None.
    """

    def __init__(self, what: str, offset: int = 0, status: int | None = None) -> None:
        super().__init__(f"{what} (at byte {offset})")
        self.what = what
        self.offset = offset
        self.status = status


class FrameTooLarge(DecodeError):
    """A frame's length field announces more than the configured maximum; it is never buffered."""


class EncodeError(CpppoError, ValueError):
    """A value or message cannot be encoded (out of range, wrong type, unknown name)."""


class CommunicationError(CpppoError, OSError):
    """The transport to a device failed: connection refused or reset, or no reply in time."""


class ListenError(OSError):
    """A service cannot listen on its address; the message names the service and the address."""

    def __str__(self) -> str:
        return str(self.strerror)
