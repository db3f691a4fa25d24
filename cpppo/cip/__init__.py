"""The Common Industrial Protocol codec: data types, EPATH, services, status codes, messages.

Pure functions and frozen dataclasses over bytes: nothing here opens a socket.
"""

from __future__ import annotations

from .epath import (
    Logical,
    Path,
    Port,
    Segment,
    Symbolic,
    decode_path,
    encode_path,
    path_from_json,
    path_to_json,
)
from .message import Reply, Request, decode_reply, decode_request
from .services import ClassCode, CommonService, ConnectionManagerService, LogixService
from .status import (
    ConnectionFailureStatus,
    GeneralStatus,
    LogixErrorStatus,
    extended_status_name,
    status_name,
)
from .types import TypeCode, type_by_code, type_by_name

__all__ = [
    "ClassCode",
    "CommonService",
    "ConnectionFailureStatus",
    "ConnectionManagerService",
    "GeneralStatus",
    "Logical",
    "LogixErrorStatus",
    "LogixService",
    "Path",
    "Port",
    "Reply",
    "Request",
    "Segment",
    "Symbolic",
    "TypeCode",
    "decode_path",
    "decode_reply",
    "decode_request",
    "encode_path",
    "extended_status_name",
    "path_from_json",
    "path_to_json",
    "status_name",
    "type_by_code",
    "type_by_name",
]
