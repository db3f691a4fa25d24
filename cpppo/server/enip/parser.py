"""``cpppo.server.enip.parser``: the CIP data type names and ``typed_data``, as cpppo 5 named them.

cpppo 5 parsed CIP data with state machines; ours are whole-buffer ``struct`` codecs in
:mod:`cpppo.cip.types`, so this module only gives the documented names a home:

* the type classes (``REAL``, ``DINT``, ``SSTRING``, ...), each with ``tag_type`` (the CIP type
  code), ``struct_calcsize`` (bytes per element, 0 for strings) and ``produce(value) -> bytes``;
* :class:`typed_data`, which turns a list of values of a type into bytes (``produce``), back
  (``parse``), and says how many bytes a count of them takes (``datasize``) -- what
  ``set_attribute_single`` uses to send typed values as raw USINTs;
* ``enip_format``, the JSON rendering of a reply.

Differences from cpppo 5, on purpose: a BOOL ``True`` encodes as 0x01 (as our server stores and
Logix controllers report it), not 0xFF; a STRUCT value has no generic encoding here (a UDT's
layout comes from its template: see :mod:`cpppo.cip.logix_objects`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ...cip import types as _types
from ...client.replies import enip_format
from . import (
    BOOL,
    DINT,
    DWORD,
    INT,
    LINT,
    LREAL,
    REAL,
    SINT,
    SSTRING,
    STRING,
    UDINT,
    UINT,
    ULINT,
    USINT,
    WORD,
)

__all__ = [
    "BOOL", "DINT", "DWORD", "INT", "LINT", "LREAL", "REAL", "SINT", "SSTRING", "STRING", "UDINT", "UINT",
    "ULINT", "USINT", "WORD", "enip_format", "typed_data",
]


class typed_data:  # the documented (lower-case) name
    """Typed CIP data <-> bytes, by CIP type code (``REAL.tag_type`` = 0xCA, ...)."""

    TYPES_SUPPORTED: ClassVar[dict[int, type]] = {
        t.tag_type: t for t in (BOOL, SINT, USINT, INT, UINT, DINT, UDINT, LINT, ULINT, REAL, LREAL,
                                WORD, DWORD, SSTRING, STRING)
    }

    @classmethod
    def _type(cls, tag_type: int | None) -> _types.CIPType:
        kind = cls.TYPES_SUPPORTED.get(tag_type) if isinstance(tag_type, int) else None
        if kind is None:
            known = ", ".join(f"{t.__name__} (0x{code:02X})" for code, t in cls.TYPES_SUPPORTED.items())
            raise ValueError(f"unsupported CIP data type {tag_type!r}; supported: {known}")
        return kind.the  # type: ignore[attr-defined, no-any-return]

    @classmethod
    def produce(cls, data: Mapping[str, Any] | Sequence[Any], tag_type: int | None = None) -> bytes:
        """The bytes of ``data``: a list of values, or (as cpppo 5 took it) a mapping with ``.data``
        and, when ``tag_type`` is not given, ``.type`` or ``.tag_type``."""
        if isinstance(data, Mapping):
            if tag_type is None:
                tag_type = data.get("type") or data.get("tag_type")
            values = data.get("data")
        else:
            values = data
        kind = cls._type(tag_type)
        if values is None or isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"{kind.name} data must be a sequence of values, not {values!r}")
        return kind.encode(list(values))

    @classmethod
    def parse(cls, raw: bytes | bytearray | memoryview, tag_type: int) -> list[Any]:
        """The values in ``raw`` (whole elements only; DecodeError otherwise)."""
        return cls._type(tag_type).decode(raw)

    @classmethod
    def datasize(cls, tag_type: int, size: int = 1) -> int:
        """Bytes taken by ``size`` elements of a fixed-size type (strings vary: 0)."""
        return cls._type(tag_type).size * size
