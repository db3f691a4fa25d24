"""Typed views of 16-bit Modbus registers: int32, float32, str[n], ... over 1-4 registers.

Engineers rarely read raw words: a PLC's float lives in two consecutive registers, and devices
disagree about both the byte order inside a register and the order of the registers.  A
:class:`RegisterType` packs a value into words and back with :mod:`struct`, under a ``byte_order``
("big": the Modbus standard, high byte first) and a ``word_order`` ("big": most significant
register first, the common "ABCD"; "little" gives "CDAB").  ``str[n]`` holds n characters, two
per register, NUL padded.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from .errors import ModbusUsageError

__all__ = ["RAW", "RegisterType", "parse_type"]

_ORDERS = ("big", "little")


@dataclass(frozen=True, slots=True)
class RegisterType:
    """A value type stored in ``width`` consecutive registers; ``code`` is its struct code."""

    name: str
    width: int
    code: str  # struct format for the value, or "s" for strings

    @property
    def is_float(self) -> bool:
        return self.code in ("f", "d")

    @property
    def is_string(self) -> bool:
        return self.code == "s"

    def encode(self, value: int | float | str, byte_order: str = "big",
               word_order: str = "big") -> list[int]:
        """Return the ``width`` words that hold ``value``."""
        _check_orders(byte_order, word_order)
        if self.is_string:
            if not isinstance(value, str):
                raise ModbusUsageError(f"{self.name} holds text, not {value!r}")
            try:
                raw = value.encode("latin-1")
            except UnicodeEncodeError:
                raise ModbusUsageError(f"{value!r} is not 8-bit text") from None
            if len(raw) > self.width * 2:
                raise ModbusUsageError(f"{value!r} is longer than {self.name}")
            raw = raw.ljust(self.width * 2, b"\0")
        else:
            if isinstance(value, str):
                raise ModbusUsageError(f"{self.name} holds a number, not {value!r}")
            try:
                raw = struct.pack(">" + self.code, value if self.is_float else int(value))
            except (struct.error, OverflowError, TypeError):
                raise ModbusUsageError(f"{value!r} does not fit in {self.name}") from None
        words = [int.from_bytes(raw[i:i + 2], byte_order) for i in range(0, len(raw), 2)]
        if word_order == "little" and not self.is_string:
            words.reverse()
        return words

    def decode(self, words: list[int], byte_order: str = "big",
               word_order: str = "big") -> int | float | str:
        """Return the value held in ``words`` (exactly ``width`` of them)."""
        _check_orders(byte_order, word_order)
        if len(words) != self.width:
            raise ModbusUsageError(f"{self.name} needs {self.width} registers, got {len(words)}")
        ordered = list(words)
        if word_order == "little" and not self.is_string:
            ordered.reverse()
        raw = b"".join(int(w).to_bytes(2, byte_order) for w in ordered)
        if self.is_string:
            return raw.rstrip(b"\0").decode("latin-1")
        value: int | float = struct.unpack(">" + self.code, raw)[0]
        return value


def _check_orders(byte_order: str, word_order: str) -> None:
    if byte_order not in _ORDERS or word_order not in _ORDERS:
        raise ModbusUsageError(f"byte and word order are 'big' or 'little', not {byte_order!r}/{word_order!r}")


#: A plain 16-bit register (or a single bit, in the bit tables).
RAW = RegisterType("uint16", 1, "H")

_TYPES = {
    t.name: t
    for t in (
        RAW,
        RegisterType("int16", 1, "h"),
        RegisterType("int32", 2, "i"),
        RegisterType("uint32", 2, "I"),
        RegisterType("int64", 4, "q"),
        RegisterType("uint64", 4, "Q"),
        RegisterType("float32", 2, "f"),
        RegisterType("float64", 4, "d"),
    )
}
_STRING = re.compile(r"^str\[(\d+)\]$")


def parse_type(text: str) -> RegisterType:
    """Parse a type name: int16 uint16 int32 uint32 int64 uint64 float32 float64 str[<n>]."""
    name = text.strip().lower()
    if name in _TYPES:
        return _TYPES[name]
    if match := _STRING.match(name):
        chars = int(match[1])
        if not 1 <= chars <= 250:
            raise ModbusUsageError(f"{text!r}: a string holds 1-250 characters")
        return RegisterType(f"str[{chars}]", (chars + 1) // 2, "s")
    raise ModbusUsageError(f"unknown register type {text!r} (int16, uint16, int32, uint32, int64, "
                           "uint64, float32, float64, str[n])")
