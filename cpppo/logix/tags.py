"""Attributes: the values a simulated device holds, reachable as tags and as @class/instance/attribute.

An :class:`Attribute` is an array of elements of one CIP type (a scalar is an array of one).
Numeric values are stored as their wire bytes, so Read Tag replies are a slice of that buffer and
Write Tag requests a slice assignment: no per-element work on the hot path.  Every access holds
the attribute's lock, so a multi-element write is never seen half done.

Subclasses may override ``__getitem__``/``__setitem__`` to intercept every read and write (the
documented customization); the server then goes through them with an index or a slice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from ..cip.status import GeneralStatus
from ..cip.types import CIPType, StringType
from ..errors import DecodeError, EncodeError

__all__ = ["Attribute"]

log = logging.getLogger(__name__)


def _as_type(type_cls: Any) -> CIPType:
    if isinstance(type_cls, CIPType):
        return type_cls
    if isinstance(type_cls, type) and issubclass(type_cls, CIPType):
        from ..cip.types import TYPES

        for t in TYPES.values():
            if type(t) is type_cls:
                return t
    raise EncodeError(f"not a CIP type: {type_cls!r}")


@contextlib.contextmanager
def _custom_failure(attribute: Attribute) -> Iterator[None]:
    """An exception from a customized ``__getitem__``/``__setitem__`` fails only that request.

    It becomes a DecodeError carrying CIP General Error (0xFF), which the controller answers with.
    """
    try:
        yield
    except (DecodeError, EncodeError):
        raise
    except Exception as exc:
        log.warning("%s: custom attribute access failed: %r", attribute.name, exc)
        raise DecodeError(f"{attribute.name}: {exc}", 0, GeneralStatus.GENERAL_ERROR) from exc


class Attribute:
    """A named, typed array of values.

    ``Attribute('SCADA', INT, default=[0] * 1000)`` or ``Attribute('FLOAT', REAL, default=0.0)``.
    ``parser`` is the CIP type; ``error`` a CIP general status every access fails with (0: none).
    ``mask`` is accepted, and kept, for scripts written against the documented signature; the
    simulator does not use it.
    """

    _custom_io = False  # set for subclasses that override __getitem__ / __setitem__

    def __init_subclass__(cls, **kwds: Any) -> None:
        super().__init_subclass__(**kwds)
        cls._custom_io = cls.__getitem__ is not Attribute.__getitem__ or cls.__setitem__ is not Attribute.__setitem__

    def __init__(self, name: str, type_cls: Any, default: Any = 0, error: int = 0x00, mask: int = 0) -> None:
        self.name = name
        self.parser: CIPType = _as_type(type_cls)
        self.error = error
        self.mask = mask
        self.lock = threading.Lock()
        values = list(default) if isinstance(default, (list, tuple)) else [default]
        blank = getattr(self.parser, "blank", None)  # structures know their own zero value
        if blank is not None:
            values = [blank() if v == 0 else v for v in values]
        elif isinstance(self.parser, StringType) and values == [0]:
            values = [""]
        self._length = len(values)
        if self.parser.size:  # fixed-size elements (numbers, structures) live as their wire bytes
            self._raw: bytearray | None = bytearray(self.parser.encode(values))
            self._values: list[Any] | None = None
        else:
            self.parser.encode(values)  # validates
            self._raw = None
            self._values = values

    # -- the documented element interface ---------------------------------------------------------
    def __len__(self) -> int:
        return self._length

    @property
    def size(self) -> int:
        """Bytes per element (0 for variable-length strings)."""
        return self.parser.size

    def _validate_key(self, key: int | slice) -> type:
        """``slice`` or ``int``, after checking ``key`` lies within the attribute."""
        if isinstance(key, slice):
            in_range = all(k is None or 0 <= k <= self._length for k in (key.start, key.stop))
            if key.step not in (None, 1) or not in_range:
                raise IndexError(f"{self.name}: slice {key} outside 0..{self._length}")
            return slice
        if not isinstance(key, int) or not 0 <= key < self._length:
            raise IndexError(f"{self.name}: index {key!r} outside 0..{self._length - 1}")
        return int

    def __getitem__(self, key: int | slice) -> Any:
        kind = self._validate_key(key)
        start, stop = (key.indices(self._length)[:2]) if kind is slice else (key, key + 1)  # type: ignore[union-attr]
        with self.lock:
            values = self._get(start, stop - start)
        return values if kind is slice else values[0]

    def __setitem__(self, key: int | slice, value: Any) -> None:
        kind = self._validate_key(key)
        if kind is slice:
            start, stop = key.indices(self._length)[:2]  # type: ignore[union-attr]
            values = list(value)
            if len(values) != stop - start:
                raise ValueError(f"{self.name}: {len(values)} values for {stop - start} elements")
        else:
            start, values = key, [value]  # type: ignore[assignment]
        data = self.parser.encode(values)
        with self.lock:
            self._put(start, values, data)

    @property
    def value(self) -> Any:
        """All values: a list for an array, the value itself for a scalar."""
        values = self[0 : self._length]
        return values if self._length != 1 else values[0]

    @value.setter
    def value(self, new: Any) -> None:
        values = list(new) if isinstance(new, (list, tuple)) else [new]
        self[0 : len(values)] = values

    # -- wire-level access, used by the server ------------------------------------------------------
    def _get(self, start: int, count: int) -> list[Any]:
        if self._raw is not None:
            size = self.parser.size
            return self.parser.decode(self._raw, start * size, count)
        assert self._values is not None
        return self._values[start : start + count]

    def _put(self, start: int, values: Sequence[Any], data: bytes) -> None:
        if self._raw is not None:
            size = self.parser.size
            self._raw[start * size : start * size + len(data)] = data
        else:
            assert self._values is not None
            self._values[start : start + len(values)] = values

    def read_bytes(self, start: int, count: int) -> bytes:
        """The wire encoding of ``count`` elements from ``start`` (bounds already checked)."""
        if self._custom_io:
            with _custom_failure(self):
                values = self[start : start + count]
                return self.parser.encode(values)
        if self._raw is not None:
            size = self.parser.size
            with self.lock:
                return bytes(self._raw[start * size : (start + count) * size])
        with self.lock:
            values = self._values[start : start + count]  # type: ignore[index]
        return self.parser.encode(values)

    def write_bytes(self, start: int, count: int, data: bytes) -> list[Any] | None:
        """Store ``count`` elements from their wire encoding ``data``.

        Returns the decoded values when they had to be decoded anyway (strings, custom
        attributes), else None; raises DecodeError if ``data`` is not ``count`` elements.
        """
        if self._custom_io or self._raw is None:
            values = self.parser.decode(data, 0, count)
            if self._custom_io:
                with _custom_failure(self):
                    self[start : start + count] = values
            else:
                with self.lock:
                    self._values[start : start + count] = values  # type: ignore[index]
            return values
        size = self.parser.size
        with self.lock:
            self._raw[start * size : (start + count) * size] = data
        return None

    def write_raw_at(self, byte_offset: int, data: bytes) -> None:
        """Store raw bytes at a byte offset (fragments, structure members)."""
        if self._custom_io or self._raw is None:
            raise EncodeError(f"{self.name}: byte-offset writes need a plain fixed-size attribute")
        with self.lock:
            self._raw[byte_offset : byte_offset + len(data)] = data

    def read_raw_at(self, byte_offset: int, size: int) -> bytes:
        """The raw bytes at a byte offset (structure members, bits)."""
        if self._custom_io or self._raw is None:
            raise EncodeError(f"{self.name}: byte-offset reads need a plain fixed-size attribute")
        with self.lock:
            return bytes(self._raw[byte_offset : byte_offset + size])

    def modify_raw_at(self, byte_offset: int, or_mask: bytes, and_mask: bytes) -> None:
        """Read-Modify-Write: set the bits of ``or_mask``, keep only the bits of ``and_mask``."""
        if self._custom_io or self._raw is None:
            raise EncodeError(f"{self.name}: bit writes need a plain fixed-size attribute")
        n = len(or_mask)
        with self.lock:
            old = int.from_bytes(self._raw[byte_offset : byte_offset + n], "little")
            new = (old & int.from_bytes(and_mask, "little")) | int.from_bytes(or_mask, "little")
            self._raw[byte_offset : byte_offset + n] = new.to_bytes(n, "little")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.parser.name}[{self._length}]>"
