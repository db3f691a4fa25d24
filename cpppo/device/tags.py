"""Attributes: the values a simulated device holds, reachable as tags and as @class/instance/attribute.

An :class:`Attribute` is an array of elements of one CIP type (a scalar is an array of one).
Numeric values are stored as their wire bytes, so Read Tag replies are a slice of that buffer and
Write Tag requests a slice assignment: no per-element work on the hot path.  Every access holds
the attribute's lock, so a multi-element write is never seen half done.

Every change, whatever its source, ends in one of two commits (``_put`` for elements given as
values, ``_store`` for bytes at an offset), which count it in ``_version`` and, when someone
listens, hand it to the controller's :class:`~cpppo.device.events.TagEvents` with the bytes
before and after.

Subclasses may override ``__getitem__``/``__setitem__`` to intercept every read and write (the
documented customization); the server then goes through them with an index or a slice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..cip.status import GeneralStatus
from ..cip.types import CIPType, StringType
from ..errors import DecodeError, EncodeError
from .events import TagEvents

__all__ = ["Access", "Attribute"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Access:
    """How a request named the bytes it changes (``M1.Speed``, element 0, a REAL): for its event."""

    tag: str
    start: int
    count: int
    type: CIPType
    offset: int  # bytes into the attribute
    size: int  # bytes from there
    bit: int | None = None


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
        self._events: TagEvents | None = None  # the controller's, once this attribute is a tag
        self.tag_name = name  # the tag it is, for its events
        self._version = 0  # counts commits: a cached reply of these bytes is stale once it moves
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
        self._put(start, values, self.parser.encode(values))

    @property
    def value(self) -> Any:
        """All values: a list for an array, the value itself for a scalar."""
        values = self[0 : self._length]
        return values if self._length != 1 else values[0]

    @value.setter
    def value(self, new: Any) -> None:
        values = list(new) if isinstance(new, (list, tuple)) else [new]
        self[0 : len(values)] = values

    # -- the one place values change: every write path below ends in _put or _store ------------------
    def _put(self, start: int, values: Sequence[Any], data: bytes) -> None:
        """Store elements from ``start`` (given as values and as their wire encoding ``data``)."""
        events = self._events
        watching = events is not None and events.writes
        old = b""
        with self.lock:
            self._version += 1
            if self._raw is not None:
                at = start * self.parser.size
                if watching:
                    old = bytes(self._raw[at : at + len(data)])
                self._raw[at : at + len(data)] = data
            else:
                assert self._values is not None
                if watching:
                    old = self.parser.encode(self._values[start : start + len(values)])
                self._values[start : start + len(values)] = values
        if watching:
            assert events is not None
            events.write(self.tag_name, start, len(values), data, self.parser, old=old)

    def _store(self, offset: int, data: bytes | None = None, masks: tuple[bytes, bytes] | None = None,
               access: Access | None = None) -> None:
        """Store raw bytes at a byte offset, or Read-Modify-Write them with (or_mask, and_mask).

        ``access`` says how the request named those bytes (a structure member, say), for the event;
        without it the event covers the whole elements the bytes fall in.
        """
        raw = self._raw
        assert raw is not None
        events = self._events
        watching = events is not None and events.writes
        n = len(data) if data is not None else len(masks[0])  # type: ignore[index]
        if watching:
            if access is not None:
                lo, hi = access.offset, access.offset + access.size
            else:
                size = self.parser.size
                lo, hi = offset - offset % size, -(-(offset + n) // size) * size
        with self.lock:
            self._version += 1
            if watching:
                old = bytes(raw[lo:hi])
            if data is not None:
                raw[offset : offset + n] = data
            else:
                or_mask, and_mask = masks  # type: ignore[misc]
                was = int.from_bytes(raw[offset : offset + n], "little")
                now = (was & int.from_bytes(and_mask, "little")) | int.from_bytes(or_mask, "little")
                raw[offset : offset + n] = now.to_bytes(n, "little")
            if watching:
                new = bytes(raw[lo:hi])
        if watching:
            assert events is not None
            if access is None:
                size = self.parser.size
                events.write(self.tag_name, lo // size, (hi - lo) // size, new, self.parser, old=old)
            elif access.bit is not None:
                bit = access.bit
                events.write(access.tag, access.start, access.count, bytes((new[0] >> bit & 1,)), access.type,
                             old=bytes((old[0] >> bit & 1,)), bit=bit)
            else:
                events.write(access.tag, access.start, access.count, new, access.type, old=old)

    # -- wire-level access, used by the server ------------------------------------------------------
    def _get(self, start: int, count: int) -> list[Any]:
        if self._raw is not None:
            size = self.parser.size
            return self.parser.decode(self._raw, start * size, count)
        assert self._values is not None
        return self._values[start : start + count]

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
        A custom attribute's ``__setitem__`` gets the values (and, if it stores them with
        ``super().__setitem__``, the change is committed and seen like any other).
        """
        if self._custom_io or self._raw is None:
            values = self.parser.decode(data, 0, count)
            if self._custom_io:
                with _custom_failure(self):
                    self[start : start + count] = values
            else:
                self._put(start, values, data)
            return values
        self._store(start * self.parser.size, data)
        return None

    def write_raw_at(self, byte_offset: int, data: bytes, access: Access | None = None) -> None:
        """Store raw bytes at a byte offset (fragments, structure members)."""
        if self._custom_io or self._raw is None:
            raise EncodeError(f"{self.name}: byte-offset writes need a plain fixed-size attribute")
        self._store(byte_offset, data, access=access)

    def read_raw_at(self, byte_offset: int, size: int) -> bytes:
        """The raw bytes at a byte offset (structure members, bits)."""
        if self._custom_io or self._raw is None:
            raise EncodeError(f"{self.name}: byte-offset reads need a plain fixed-size attribute")
        with self.lock:
            return bytes(self._raw[byte_offset : byte_offset + size])

    def modify_raw_at(self, byte_offset: int, or_mask: bytes, and_mask: bytes, access: Access | None = None) -> None:
        """Read-Modify-Write: set the bits of ``or_mask``, keep only the bits of ``and_mask``."""
        if self._custom_io or self._raw is None:
            raise EncodeError(f"{self.name}: bit writes need a plain fixed-size attribute")
        self._store(byte_offset, masks=(or_mask, and_mask), access=access)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.parser.name}[{self._length}]>"
