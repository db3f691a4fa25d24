"""Modbus function and exception codes (Modbus Application Protocol v1.1b3), as unique IntEnums.

Decoding keeps unknown codes as plain ints (:func:`exception_name` names what it knows), so a
vendor's private code never turns into a crash.
"""

from __future__ import annotations

import enum

__all__ = ["ExceptionCode", "FunctionCode", "exception_name"]


@enum.unique
class FunctionCode(enum.IntEnum):
    READ_COILS = 1
    READ_DISCRETE_INPUTS = 2
    READ_HOLDING_REGISTERS = 3
    READ_INPUT_REGISTERS = 4
    WRITE_SINGLE_COIL = 5
    WRITE_SINGLE_REGISTER = 6
    WRITE_MULTIPLE_COILS = 15
    WRITE_MULTIPLE_REGISTERS = 16
    MASK_WRITE_REGISTER = 22
    READ_WRITE_MULTIPLE_REGISTERS = 23


@enum.unique
class ExceptionCode(enum.IntEnum):
    ILLEGAL_FUNCTION = 1
    ILLEGAL_DATA_ADDRESS = 2
    ILLEGAL_DATA_VALUE = 3
    SERVER_DEVICE_FAILURE = 4
    ACKNOWLEDGE = 5
    SERVER_DEVICE_BUSY = 6
    NEGATIVE_ACKNOWLEDGE = 7
    MEMORY_PARITY_ERROR = 8
    GATEWAY_PATH_UNAVAILABLE = 10
    GATEWAY_TARGET_FAILED_TO_RESPOND = 11


def exception_name(code: int) -> str:
    """``"ILLEGAL_DATA_ADDRESS"`` for 2; ``"exception 0x42"`` for codes the standard lacks."""
    try:
        return ExceptionCode(code).name
    except ValueError:
        return f"exception 0x{code:02x}"
