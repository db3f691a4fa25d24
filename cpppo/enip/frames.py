"""Whole request frames for the common cases, and the CIP reply inside a reply frame.

Building blocks shared by the client, the tests and the benchmark load generator, so none of
them re-implements the nesting: encapsulation > SendRRData > CPF > (Unconnected Send) > CIP.
"""

from __future__ import annotations

from ..cip.connection_manager import UnconnectedSend
from ..cip.epath import CONNECTION_MANAGER_PATH, Path
from ..cip.message import Reply, Request, decode_reply
from ..cip.services import ConnectionManagerService
from ..errors import DecodeError
from .cpf import decode_send_data, encode_connected, encode_unconnected
from .encapsulation import Command, EncapStatus, Encapsulation, RegisterSession

__all__ = [
    "CONNECTION_MANAGER",
    "register_session",
    "reply_message",
    "send_rr_data",
    "send_unit_data",
    "unconnected_send",
]

CONNECTION_MANAGER: Path = CONNECTION_MANAGER_PATH  # the name the client and the tests know


def register_session(context: bytes = bytes(8)) -> Encapsulation:
    return Encapsulation(Command.REGISTER_SESSION, 0, 0, context, 0, RegisterSession().encode())


def unconnected_send(request: Request | bytes, route_path: Path | None = (), *, priority_time_tick: int = 5,
                     timeout_ticks: int = 157) -> Request:
    """Wrap ``request`` in an Unconnected Send to the Connection Manager."""
    message = request if isinstance(request, bytes) else request.encode()
    us = UnconnectedSend(message, route_path, priority_time_tick, timeout_ticks)
    return Request(ConnectionManagerService.UNCONNECTED_SEND, CONNECTION_MANAGER, us.encode())


def send_rr_data(session: int, message: Request | bytes, context: bytes = bytes(8), timeout: int = 0) -> Encapsulation:
    """An unconnected SendRRData frame carrying one CIP message."""
    raw = message if isinstance(message, bytes) else message.encode()
    return Encapsulation(Command.SEND_RR_DATA, session, 0, context, 0, encode_unconnected(timeout, raw))


def send_unit_data(session: int, connection_id: int, sequence: int, message: Request | bytes,
                   context: bytes = bytes(8)) -> Encapsulation:
    """A connected SendUnitData frame carrying one CIP message on ``connection_id``."""
    raw = message if isinstance(message, bytes) else message.encode()
    return Encapsulation(Command.SEND_UNIT_DATA, session, 0, context, 0, encode_connected(0, connection_id, sequence, raw))


def reply_message(frame: Encapsulation) -> Reply:
    """The CIP reply carried by a SendRRData/SendUnitData reply frame.

    Raises DecodeError if the frame carries an encapsulation error status or no CIP reply.
    """
    if frame.status != EncapStatus.SUCCESS:
        raise DecodeError(f"encapsulation status 0x{frame.status:02X}", 8, frame.status)
    item = decode_send_data(frame.data).message
    if item is None:
        raise DecodeError("reply frame carries no data item", 24)
    return decode_reply(item.data)
