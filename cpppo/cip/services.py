"""CIP service codes.

Codes 0x00-0x31 are common to every object; codes from 0x4B up are object-specific, so the same
number means different things on different classes (0x4E is Read-Modify-Write on a Logix tag and
Forward Close on the Connection Manager).  Each group is its own enum.  A reply's service code is
the request's with bit 0x80 set.
"""

from __future__ import annotations

import enum

__all__ = ["REPLY", "ClassCode", "CommonService", "ConnectionManagerService", "LogixService"]

REPLY = 0x80
"""Set in a reply's service code."""


@enum.unique
class CommonService(enum.IntEnum):
    GET_ATTRIBUTES_ALL = 0x01
    SET_ATTRIBUTES_ALL = 0x02
    GET_ATTRIBUTE_LIST = 0x03
    SET_ATTRIBUTE_LIST = 0x04
    RESET = 0x05
    START = 0x06
    STOP = 0x07
    CREATE = 0x08
    DELETE = 0x09
    MULTIPLE_SERVICE_PACKET = 0x0A
    APPLY_ATTRIBUTES = 0x0D
    GET_ATTRIBUTE_SINGLE = 0x0E
    SET_ATTRIBUTE_SINGLE = 0x10
    FIND_NEXT_OBJECT_INSTANCE = 0x11
    NO_OPERATION = 0x17
    GET_MEMBER = 0x18
    SET_MEMBER = 0x19


@enum.unique
class LogixService(enum.IntEnum):
    """Services of Logix symbol, template and data-table objects."""

    READ_TAG = 0x4C  # also Read Template on the Template class 0x6C
    WRITE_TAG = 0x4D
    READ_MODIFY_WRITE = 0x4E
    READ_TAG_FRAGMENTED = 0x52
    WRITE_TAG_FRAGMENTED = 0x53
    GET_INSTANCE_ATTRIBUTE_LIST = 0x55


@enum.unique
class ConnectionManagerService(enum.IntEnum):
    """Services of the Connection Manager object (class 0x06)."""

    FORWARD_CLOSE = 0x4E
    UNCONNECTED_SEND = 0x52
    FORWARD_OPEN = 0x54
    GET_CONNECTION_DATA = 0x56
    SEARCH_CONNECTION_DATA = 0x57
    GET_CONNECTION_OWNER = 0x5A
    LARGE_FORWARD_OPEN = 0x5B


@enum.unique
class ClassCode(enum.IntEnum):
    IDENTITY = 0x01
    MESSAGE_ROUTER = 0x02
    ASSEMBLY = 0x04
    CONNECTION_MANAGER = 0x06
    PROGRAM_NAME = 0x64
    SYMBOL = 0x6B
    TEMPLATE = 0x6C
    WALL_CLOCK_TIME = 0x8B
    DPI_PARAMETER = 0x93
    TCPIP_INTERFACE = 0xF5
    ETHERNET_LINK = 0xF6
