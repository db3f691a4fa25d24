"""Fault injection for the simulator, so clients can be tested against a misbehaving PLC.

Faults act at two levels, because pymodbus offers a hook at each:

* per request, in the data store glue: a response *delay* (fixed, or drawn from a range) and a
  Modbus *exception* answered for chosen addresses;
* per reply frame, in pymodbus's ``trace_packet`` hook on the way out: a reply *dropped*,
  *truncated* (cut short at a random length), or *corrupted* (one byte flipped), each with a
  probability.

A :class:`Faults` is plain data plus a seeded random source, so a test can make faults certain
(probability 1.0) or reproducible.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from .address import Table, split_register
from .codes import ExceptionCode
from .errors import ModbusUsageError

__all__ = ["Faults", "parse_delay", "parse_exception_spec"]


@dataclass
class Faults:
    """What goes wrong, and how often.  Probabilities are 0.0-1.0; delays are seconds."""

    delay: tuple[float, float] = (0.0, 0.0)
    drop: float = 0.0
    truncate: float = 0.0
    corrupt: float = 0.0
    exceptions: dict[tuple[Table, int], int] = field(default_factory=dict)
    seed: int | None = None
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lo, hi = self.delay
        if not 0 <= lo <= hi:
            raise ModbusUsageError(f"bad delay range {lo}-{hi}")
        for name in ("drop", "truncate", "corrupt"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ModbusUsageError(f"{name} is a probability 0.0-1.0, not {getattr(self, name)}")
        self._random = random.Random(self.seed)

    @property
    def active(self) -> bool:
        return bool(self.delay[1] or self.drop or self.truncate or self.corrupt or self.exceptions)

    def add_exception(self, first: int, last: int | None = None, code: int = 4) -> None:
        """Answer Modbus exception ``code`` for any request touching addresses first..last."""
        table, offset = split_register(first)
        end_table, end = split_register(last if last is not None else first)
        if end_table is not table or end < offset:
            raise ModbusUsageError(f"bad exception range {first}-{last}")
        if code not in set(ExceptionCode):
            raise ModbusUsageError(f"exception code {code} is not one of {[int(c) for c in ExceptionCode]}")
        for i in range(offset, end + 1):
            self.exceptions[(table, i)] = code

    def delay_seconds(self) -> float:
        lo, hi = self.delay
        return lo if hi <= lo else self._random.uniform(lo, hi)

    def exception_for(self, table: Table, offset: int, count: int) -> int | None:
        if not self.exceptions:
            return None
        for i in range(offset, offset + count):
            if (code := self.exceptions.get((table, i))) is not None:
                return code
        return None

    def mangle_reply(self, frame: bytes) -> bytes:
        """Apply drop / truncate / corrupt to one outgoing reply frame."""
        rnd = self._random
        if self.drop and rnd.random() < self.drop:
            return b""
        if self.truncate and len(frame) > 1 and rnd.random() < self.truncate:
            frame = frame[: rnd.randrange(1, len(frame))]
        if self.corrupt and frame and rnd.random() < self.corrupt:
            where = rnd.randrange(len(frame))
            frame = frame[:where] + bytes([frame[where] ^ (1 << rnd.randrange(8))]) + frame[where + 1:]
        return frame


_DELAY = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:-\s*(\d+(?:\.\d*)?|\.\d+))?\s*$")


def parse_delay(text: str) -> tuple[float, float]:
    """Parse ``SECONDS`` or ``LO-HI`` into a (lo, hi) range."""
    match = _DELAY.match(text)
    if not match:
        raise ModbusUsageError(f"bad delay {text!r}: expected SECONDS or LO-HI")
    lo = float(match[1])
    hi = float(match[2]) if match[2] else lo
    if hi < lo:
        raise ModbusUsageError(f"bad delay {text!r}: range runs downward")
    return lo, hi


_EXCEPTION = re.compile(r"^\s*(\d+)(?:\s*-\s*(\d+))?(?:\s*=\s*(\d+))?\s*$")


def parse_exception_spec(text: str) -> tuple[int, int | None, int]:
    """Parse ``<beg>[-<end>][=<code>]`` (default code 4, server device failure)."""
    match = _EXCEPTION.match(text)
    if not match:
        raise ModbusUsageError(f"bad exception spec {text!r}: expected <beg>[-<end>][=<code>]")
    return int(match[1]), int(match[2]) if match[2] else None, int(match[3]) if match[3] else 4
