"""Values of tag reads and writes beyond the elementary types: the Logix STRING structure.

Elementary types decode with one ``struct`` call (:mod:`cpppo.cip.types`).  A read whose type
word is a structure (0x02A0 and a handle) is decoded here when the structure is known; the
Logix STRING (handle 0x0FCE) always is; other structures are decoded into dicts by the
templates a connection has read (:mod:`.logix`), and until then come back as
:class:`RawStructure`: the raw USINT bytes, remembering their handle.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

from ..cip.types import STRUCTURE, CIPType, type_by_code
from ..errors import DecodeError, EncodeError

__all__ = ["LOGIX_STRING_HANDLE", "RawStructure", "decode_value", "encode_logix_strings"]

LOGIX_STRING_HANDLE = 0x0FCE
"""Structure handle of the Logix STRING (DINT LEN, SINT DATA[82], 88 bytes)."""
_LOGIX_STRING = struct.Struct("<i82s2x")


class RawStructure(list):  # type: ignore[type-arg]
    """Values of a structure whose template is not known: its bytes as USINTs, and its handle."""

    def __init__(self, handle: int, data: bytes) -> None:
        super().__init__(data)
        self.handle = handle
        self.data = bytes(data)


def encode_logix_strings(values: Iterable[Any]) -> bytes:
    """Logix STRING structures (what a ``(STRING)`` write to a Logix tag sends)."""
    out = bytearray()
    for v in values:
        raw = str(v).encode("iso-8859-1")
        if len(raw) > 82:
            raise EncodeError(f"{len(raw)} characters is too long for a Logix STRING (max 82)")
        out += _LOGIX_STRING.pack(len(raw), raw)
    return bytes(out)


def decode_value(type_code: int | None, handle: int | None, data: bytes, types: Any = None) -> Any:
    """Values of a read: a list of the elementary type's values, Logix STRINGs as str, structures
    as dicts when ``types`` (a :class:`~.logix.LogixTypes`) knows their handle, else the raw
    bytes as USINTs (a :class:`RawStructure` for a structure).
    """
    if type_code == STRUCTURE:
        if handle == LOGIX_STRING_HANDLE and len(data) % _LOGIX_STRING.size == 0:
            return [raw[: max(0, min(n, 82))].decode("iso-8859-1") for n, raw in _LOGIX_STRING.iter_unpack(data)]
        if types is not None:
            found = types.decode(type_code, handle, data)
            if found is not None:
                return found
        return RawStructure(handle or 0, data)
    ctype: CIPType | None = type_by_code(type_code) if type_code is not None else None
    if ctype is not None:
        try:
            return ctype.decode(data)
        except DecodeError:
            pass
    return list(data)
