"""Values of tag reads and writes beyond the elementary types: the Logix STRING structure.

Elementary types decode with one ``struct`` call (:mod:`cpppo.cip.types`).  A read whose type
word is a structure (0x02A0 and a handle) is decoded here when the structure is known; the
Logix STRING (handle 0x0FCE, :data:`cpppo.cip.logix_objects.LOGIX_STRING`) always is; other
structures are decoded into dicts by the templates a connection has read (:mod:`.logix`), and
until then come back as :class:`RawStructure`: the raw USINT bytes, remembering their handle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..cip.logix_objects import LOGIX_STRING, STRING_HANDLE
from ..cip.types import STRUCTURE, CIPType, type_by_code
from ..errors import DecodeError

__all__ = ["LOGIX_STRING_HANDLE", "RawStructure", "as_values", "decode_value", "encode_logix_strings"]

LOGIX_STRING_HANDLE = STRING_HANDLE
"""Structure handle of the Logix STRING (DINT LEN, SINT DATA[82], 88 bytes)."""


class RawStructure(list):  # type: ignore[type-arg]
    """Values of a structure whose template is not known: its bytes as USINTs, and its handle."""

    def __init__(self, handle: int, data: bytes) -> None:
        super().__init__(data)
        self.handle = handle
        self.data = bytes(data)


def as_values(data: Any) -> list[Any]:
    """A write's data as its list of values.  A str is one STRING value (never its characters), a
    dict one structure, and a number one element; other iterables give their items."""
    if type(data) is list:
        return data
    if isinstance(data, (str, Mapping)) or not isinstance(data, Iterable):
        return [data]
    return list(data)


def encode_logix_strings(values: Iterable[Any]) -> bytes:
    """Logix STRING structures (what a ``(STRING)`` write to a Logix tag sends)."""
    return LOGIX_STRING.encode([str(v) for v in as_values(values)])


def decode_value(type_code: int | None, handle: int | None, data: bytes, types: Any = None) -> Any:
    """Values of a read: a list of the elementary type's values, Logix STRINGs as str, structures
    as dicts when ``types`` (a :class:`~.logix.LogixTypes`) knows their handle, else the raw
    bytes as USINTs (a :class:`RawStructure` for a structure).
    """
    if type_code == STRUCTURE:
        if handle == STRING_HANDLE and len(data) % LOGIX_STRING.size == 0:
            return LOGIX_STRING.decode(data)
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
