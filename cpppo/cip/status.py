"""CIP status codes: the general status of every reply, and the extended statuses that refine it.

A reply carries a general status (the byte after the reserved byte) and then a list of UINT
extended statuses.  An extended status means something only relative to its general status and
to the object that answered, so each family is its own enum: the Connection Manager's under 0x01
(connection failure), a Logix controller's under 0xFF (general error).
"""

from __future__ import annotations

import enum

__all__ = ["ConnectionFailureStatus", "GeneralStatus", "LogixErrorStatus", "extended_status_name", "status_name"]


@enum.unique
class GeneralStatus(enum.IntEnum):
    SUCCESS = 0x00
    CONNECTION_FAILURE = 0x01
    RESOURCE_UNAVAILABLE = 0x02
    INVALID_PARAMETER_VALUE = 0x03
    PATH_SEGMENT_ERROR = 0x04
    PATH_DESTINATION_UNKNOWN = 0x05
    PARTIAL_TRANSFER = 0x06
    CONNECTION_LOST = 0x07
    SERVICE_NOT_SUPPORTED = 0x08
    INVALID_ATTRIBUTE_VALUE = 0x09
    ATTRIBUTE_LIST_ERROR = 0x0A
    ALREADY_IN_REQUESTED_STATE = 0x0B
    OBJECT_STATE_CONFLICT = 0x0C
    OBJECT_ALREADY_EXISTS = 0x0D
    ATTRIBUTE_NOT_SETTABLE = 0x0E
    PRIVILEGE_VIOLATION = 0x0F
    DEVICE_STATE_CONFLICT = 0x10
    REPLY_DATA_TOO_LARGE = 0x11
    FRAGMENTATION_OF_PRIMITIVE = 0x12
    NOT_ENOUGH_DATA = 0x13
    ATTRIBUTE_NOT_SUPPORTED = 0x14
    TOO_MUCH_DATA = 0x15
    OBJECT_DOES_NOT_EXIST = 0x16
    SERVICE_FRAGMENTATION_SEQUENCE = 0x17
    NO_STORED_ATTRIBUTE_DATA = 0x18
    STORE_OPERATION_FAILURE = 0x19
    ROUTING_FAILURE_REQUEST_TOO_LARGE = 0x1A
    ROUTING_FAILURE_RESPONSE_TOO_LARGE = 0x1B
    MISSING_ATTRIBUTE_LIST_ENTRY = 0x1C
    INVALID_ATTRIBUTE_VALUE_LIST = 0x1D
    EMBEDDED_SERVICE_ERROR = 0x1E
    VENDOR_SPECIFIC = 0x1F
    INVALID_PARAMETER = 0x20
    WRITE_ONCE_VALUE = 0x21
    INVALID_REPLY_RECEIVED = 0x22
    BUFFER_OVERFLOW = 0x23
    MESSAGE_FORMAT_ERROR = 0x24
    KEY_FAILURE_IN_PATH = 0x25
    PATH_SIZE_INVALID = 0x26
    UNEXPECTED_ATTRIBUTE_IN_LIST = 0x27
    INVALID_MEMBER_ID = 0x28
    MEMBER_NOT_SETTABLE = 0x29
    GROUP_2_ONLY_SERVER_FAILURE = 0x2A
    UNKNOWN_MODBUS_ERROR = 0x2B
    ATTRIBUTE_NOT_GETTABLE = 0x2C
    GENERAL_ERROR = 0xFF


_NAMES = {s.value: s.name.replace("_", " ").lower() for s in GeneralStatus}


def status_name(status: int) -> str:
    """A readable name for a general status ("success", "partial transfer", ...)."""
    return _NAMES.get(status, f"status 0x{status:02X}")


@enum.unique
class ConnectionFailureStatus(enum.IntEnum):
    """Extended statuses of general status 0x01 (connection failure), from the Connection Manager.

    Names follow CIP Vol. 1 table 3-5.29, as Wireshark's CIP dissector shows them.
    """

    CONNECTION_IN_USE = 0x0100  # connection in use, or a duplicate Forward Open
    TRANSPORT_TRIGGER_NOT_SUPPORTED = 0x0103  # transport class and trigger combination not supported
    OWNERSHIP_CONFLICT = 0x0106
    TARGET_CONNECTION_NOT_FOUND = 0x0107
    INVALID_NETWORK_CONNECTION_PARAMETER = 0x0108
    INVALID_CONNECTION_SIZE = 0x0109
    RPI_NOT_SUPPORTED = 0x0111
    OUT_OF_CONNECTIONS = 0x0113
    CONNECTION_TIMED_OUT = 0x0203
    UNCONNECTED_REQUEST_TIMED_OUT = 0x0204
    PORT_NOT_AVAILABLE = 0x0311  # the route path names a port the device does not have
    LINK_ADDRESS_NOT_VALID = 0x0312  # the route path names a link address not on that port
    INVALID_SEGMENT_IN_CONNECTION_PATH = 0x0315


@enum.unique
class LogixErrorStatus(enum.IntEnum):
    """Extended statuses a Logix controller gives with general status 0xFF (general error).

    Names follow Rockwell's Logix 5000 Data Access manual (1756-PM020).
    """

    OFFSET_BEYOND_END = 0x2104  # a fragment's byte offset is beyond the end of the tag
    ACCESS_BEYOND_END = 0x2105  # the elements asked for run beyond the end of the object
    DATA_TYPE_MISMATCH = 0x2107  # the type in a write does not match the tag's type


_EXTENDED_NAMES = {
    (general, s.value): s.name.replace("_", " ").lower()
    for general, family in ((GeneralStatus.CONNECTION_FAILURE, ConnectionFailureStatus),
                            (GeneralStatus.GENERAL_ERROR, LogixErrorStatus))
    for s in family
}


def extended_status_name(status: int, extended: int) -> str:
    """A readable name for an extended status under its general status ("target connection not
    found" under 0x01), or ``extended status 0x....`` where the pair has no name here."""
    return _EXTENDED_NAMES.get((status, extended), f"extended status 0x{extended:04X}")
