"""Connected explicit messaging: Forward Open / Forward Close, and the connection they make.

Unconnected requests ride SendRRData inside an Unconnected Send and a reply may carry 504 bytes.
A class 3 connection opened with a (Large) Forward Open carries requests in SendUnitData frames
addressed to the target's O->T connection id, each with a 16-bit sequence count the reply echoes
(the client matches replies by it), and replies up to the connection size (4002 bytes with a
Large Forward Open): larger fragments, fewer round trips, no routing on every request::

    Forward Open (SendRRData, bare, to @6/1): route path + @2/1, sizes, RPI, triad
      -> reply: O->T id (ours to send on), T->O id (echoed)
    SendUnitData: ConnectedAddress(O->T id) | ConnectedData(sequence, CIP request)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ..cip.connection_manager import (
    ConnectionParams,
    ForwardClose,
    ForwardOpen,
    decode_forward_close_reply,
    decode_forward_open_reply,
)
from ..cip.epath import Logical, Path
from ..cip.message import Reply, encode_request
from ..cip.services import ConnectionManagerService
from ..enip.encapsulation import Encapsulation
from ..enip.frames import CONNECTION_MANAGER, reply_message
from ..errors import CommunicationError, DecodeError
from .replies import status_text

__all__ = ["VENDOR_ID", "Connection", "closed", "forward_close_message", "forward_open_message", "opened"]

VENDOR_ID = 0x1001
"""The originator vendor id cpppo puts in the connection triad."""
_MESSAGE_ROUTER: Path = (Logical("class", 0x02), Logical("instance", 1))


@dataclass(frozen=True, slots=True)
class Connection:
    """An open class 3 connection: the ids to send on and expect, its triad and sizes."""

    o_t_id: int
    t_o_id: int
    triad: tuple[int, int, int]
    o_t_size: int
    t_o_size: int
    path: Path
    large: bool = False

    @property
    def reply_limit(self) -> int:
        """The largest CIP reply the connection carries (its size, less the sequence count)."""
        return self.t_o_size - 2

    @property
    def request_limit(self) -> int:
        return self.o_t_size - 2


def forward_open_message(route_path: Path | None, size: int = 4002, large: bool | None = None,
                         rpi_us: int = 2_000_000, timeout_multiplier: int = 5) -> tuple[bytes, ForwardOpen]:
    """The CIP (Large) Forward Open request for a connection to the Message Router along ``route_path``."""
    large = size > 511 if large is None else large
    params = ConnectionParams(size, True, 0, 2)
    fo = ForwardOpen(0, secrets.randbits(32) or 1, secrets.randbits(16), VENDOR_ID, secrets.randbits(32), rpi_us,
                     params, rpi_us, params, tuple(route_path or ()) + _MESSAGE_ROUTER, timeout_multiplier,
                     large=large)
    service = ConnectionManagerService.LARGE_FORWARD_OPEN if large else ConnectionManagerService.FORWARD_OPEN
    return encode_request(service, CONNECTION_MANAGER, fo.encode()), fo


def _reply(frame: Encapsulation, what: str) -> Reply:
    try:
        reply = reply_message(frame)
    except DecodeError as exc:
        raise CommunicationError(f"{what}: invalid reply ({exc})") from None
    if reply.status:
        sts = (reply.status, list(reply.ext_status)) if reply.ext_status else reply.status
        raise CommunicationError(f"{what} refused: {status_text(sts)}")
    return reply


def opened(frame: Encapsulation, fo: ForwardOpen) -> Connection:
    """The connection a Forward Open reply grants (CommunicationError if it was refused)."""
    reply = _reply(frame, "Forward Open")
    try:
        rpy = decode_forward_open_reply(reply.data)
    except DecodeError as exc:
        raise CommunicationError(f"Forward Open: invalid reply ({exc})") from None
    return Connection(rpy.o_t_connection_id, rpy.t_o_connection_id, fo.triad, fo.o_t_params.size,
                      fo.t_o_params.size, fo.connection_path, fo.large)


def forward_close_message(conn: Connection) -> bytes:
    fc = ForwardClose(*conn.triad, connection_path=conn.path)
    return encode_request(ConnectionManagerService.FORWARD_CLOSE, CONNECTION_MANAGER, fc.encode())


def closed(frame: Encapsulation) -> None:
    reply = _reply(frame, "Forward Close")
    try:
        decode_forward_close_reply(reply.data)
    except DecodeError as exc:
        raise CommunicationError(f"Forward Close: invalid reply ({exc})") from None
