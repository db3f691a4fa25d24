"""The sans-I/O session core: addressing and the frames of one EtherNet/IP session.

No sockets here.  :class:`ClientCore` holds one session's state (its handle, the TCP framer,
sender contexts) and builds the frames of the session-level commands (RegisterSession, List
Identity/Services/Interfaces, SendRRData); :class:`Addressing` says how a CIP request travels:
inside an Unconnected Send to ``send_path`` along ``route_path``, or bare to a simple device::

    CIP request -> [Unconnected Send (send path @6/1, route path 1/0)] -> SendRRData -> frame

The operation engine (:mod:`.engine`) builds on these; the blocking (:mod:`.blocking`) and
asyncio (:mod:`.aio`) clients only move the bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..cip.connection_manager import UnconnectedSend
from ..cip.epath import Logical, Path, Port, encode_path, parse_route_path, path_from_json
from ..cip.message import encode_request
from ..cip.services import ConnectionManagerService
from ..enip.cpf import (
    ConnectedAddress,
    ConnectedData,
    NullAddress,
    SendData,
    UnconnectedData,
    encode_connected,
    encode_unconnected,
)
from ..enip.encapsulation import HEADER, MAX_LENGTH, Command, Encapsulation, RegisterSession
from ..enip.framer import Framer
from ..errors import CommunicationError, EncodeError
from .connection import Connection
from .operations import parse_path
from .tag_list import LogixTypes

__all__ = [
    "DEFAULT_ROUTE_PATH",
    "DEFAULT_SEND_PATH",
    "MISSING",
    "REPLY_LIMIT",
    "Addressing",
    "ClientCore",
    "context_bytes",
    "parse_send_path",
]

DEFAULT_ROUTE_PATH: Path = (Port(1, 0),)
"""Backplane port 1, slot 0: where a *Logix controller usually sits."""
DEFAULT_SEND_PATH: Path = (Logical("class", 0x06), Logical("instance", 1))
"""The Connection Manager, which carries Unconnected Send."""
REPLY_LIMIT = 504
"""The largest CIP reply an unconnected request may expect from a Logix controller."""
REQUEST_LIMIT = 500
"""Data per request beyond which writes are split into Write Tag Fragmented chunks."""

_CONTEXT = struct.Struct("<Q")
_MISSING: Any = object()  # "not given" (None and False mean "no route path")
MISSING = _MISSING
_SEND_RR_DATA, _SEND_UNIT_DATA = int(Command.SEND_RR_DATA), int(Command.SEND_UNIT_DATA)


def parse_send_path(value: Any) -> Path:
    """A send path from ``''`` (none: no Unconnected Send), ``'@6/1'``, JSON, or segments."""
    if value is None or value is False:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if not text or text.lower() in ("false", "none", "0"):
            return ()
        if text.startswith("@"):
            segs, _, _, _ = parse_path(text, f"send path {value!r}")
            return path_from_json(segs)
        return path_from_json(text)
    if isinstance(value, tuple) and all(not isinstance(v, Mapping) for v in value):
        return value
    return path_from_json(value)


def _route(value: Any) -> Path | None:
    if isinstance(value, tuple) and all(isinstance(v, Port) for v in value):
        return value or None
    return parse_route_path(value)


@lru_cache(maxsize=256)
def _encoded_path(path: Path) -> bytes:
    return encode_path(path)


@dataclass(frozen=True, slots=True)
class Addressing:
    """Where requests go: the Unconnected Send ``send_path`` (empty: send the request bare, for
    simple devices) and ``route_path`` (None: omit it), with the Unconnected Send timing."""

    route_path: Path | None = DEFAULT_ROUTE_PATH
    send_path: Path = DEFAULT_SEND_PATH
    priority_time_tick: int = 5
    timeout_ticks: int = 157

    @classmethod
    def of(cls, route_path: Any = _MISSING, send_path: Any = _MISSING, *, simple: bool = False,
           priority_time_tick: int | None = None, timeout_ticks: int | None = None) -> Addressing:
        """Addressing from the documented option forms (``'1/0'``, JSON, ``False``, ``''``...)."""
        return cls().with_options(None if simple else route_path, "" if simple else send_path,
                                  priority_time_tick, timeout_ticks)

    def with_options(self, route_path: Any = _MISSING, send_path: Any = _MISSING,
                     priority_time_tick: int | None = None, timeout_ticks: int | None = None) -> Addressing:
        """This addressing with the given route path, send path or Unconnected Send timing."""
        route = self.route_path if route_path is _MISSING else _route(route_path)
        send = self.send_path if send_path is _MISSING else parse_send_path(send_path)
        tick = self.priority_time_tick if priority_time_tick is None else int(priority_time_tick)
        ticks = self.timeout_ticks if timeout_ticks is None else int(timeout_ticks)
        if not (0 <= tick <= 15 and 0 <= ticks <= 255):
            raise EncodeError(f"priority time tick {tick} must be 0..15 and timeout ticks {ticks} 0..255")
        return Addressing(route, send, tick, ticks)

    def wrap(self, message: bytes) -> bytes:
        """``message`` as sent: inside an Unconnected Send, or bare when there is no send path."""
        if not self.send_path:
            return message
        us = UnconnectedSend(message, self.route_path, self.priority_time_tick, self.timeout_ticks).encode()
        return encode_request(ConnectionManagerService.UNCONNECTED_SEND, _encoded_path(self.send_path), us)


def context_bytes(value: int | bytes | str) -> bytes:
    """A sender context: an int (packed), or up to 8 bytes/characters (zero-padded)."""
    if isinstance(value, int):
        return _CONTEXT.pack(value & 0xFFFFFFFFFFFFFFFF)
    raw = value.encode("iso-8859-1") if isinstance(value, str) else bytes(value)
    if len(raw) > 8:
        raise EncodeError(f"sender context {value!r} is longer than 8 bytes")
    return raw.ljust(8, b"\0")


class ClientCore:
    """One EtherNet/IP session, without I/O: frames to send, and received bytes to frames."""

    def __init__(self, addressing: Addressing | None = None, *, max_frame: int = MAX_LENGTH) -> None:
        self.addressing = addressing or Addressing()
        self.session = 0
        self.framer = Framer(max_frame)
        self._max_frame = max_frame
        self._context = 0
        self._serials = 0
        self._sequence = 0
        self.requests = 0  # CIP requests sent by operation engines on this session
        self.connection: Connection | None = None  # an open class 3 connection (Forward Open)
        self.logix = LogixTypes()  # the controller's tags and structure templates, once learned

    def reset(self) -> None:
        """Forget the last connection's session: its handle, half-received frame, class 3 connection
        and what its controller said about its tags (a reopened connection may lead to another)."""
        self.session = 0
        self.framer = Framer(self._max_frame)
        self.connection = None
        logix = self.logix.logix
        self.logix = LogixTypes()
        self.logix.logix = logix

    def next_context(self) -> int:
        self._context += 1
        return self._context

    def next_serial(self) -> int:
        """A number for an operation engine, 1..2**32-1: the upper half of its sender contexts."""
        self._serials = self._serials % 0xFFFFFFFF + 1
        return self._serials

    # -- session-level frames ---------------------------------------------------------------
    def register_frame(self, context: int | bytes = 0) -> bytes:
        return Encapsulation(Command.REGISTER_SESSION, 0, 0, context_bytes(context), 0,
                             RegisterSession().encode()).encode()

    def registered(self, frame: Encapsulation) -> int:
        """Accept a RegisterSession reply; return the session handle (CommunicationError if refused)."""
        if frame.command != Command.REGISTER_SESSION:
            raise CommunicationError(f"expected a RegisterSession reply, got command 0x{frame.command:04X}")
        if frame.status or not frame.session:
            raise CommunicationError(f"RegisterSession refused with encapsulation status 0x{frame.status:02X}")
        self.session = frame.session
        return self.session

    def unregister_frame(self) -> bytes:
        return Encapsulation(Command.UNREGISTER_SESSION, self.session).encode()

    def command_frame(self, command: int, context: int | bytes = 0, data: bytes = b"") -> bytes:
        """A frame for List Identity / Services / Interfaces, the legacy 0x0001 command, NOP..."""
        return Encapsulation(command, self.session, 0, context_bytes(context), 0, data).encode()

    def send_frame(self, message: bytes, context: int | bytes = 0, timeout: int = 0) -> bytes:
        """A SendRRData frame carrying ``message`` (already wrapped in an Unconnected Send if wanted)."""
        n = len(message)
        if n <= MAX_LENGTH - 16 and 0 <= timeout <= 0xFFFF and 0 <= self.session <= 0xFFFFFFFF:
            ctx = context if type(context) is bytes and len(context) == 8 else context_bytes(context)
            return HEADER.pack(_SEND_RR_DATA, 16 + n, self.session, 0, ctx, 0) + encode_unconnected(timeout, message)
        data = SendData((NullAddress(), UnconnectedData(message)), 0, timeout).encode()
        return Encapsulation(Command.SEND_RR_DATA, self.session, 0, context_bytes(context), 0, data).encode()

    def unit_frame(self, message: bytes, context: int | bytes = 0) -> tuple[int, bytes]:
        """A SendUnitData frame carrying ``message`` on the open connection: (sequence count, frame)."""
        if self.connection is None:
            raise CommunicationError("no connection is open (Forward Open first)")
        self._sequence = sequence = (self._sequence + 1) & 0xFFFF
        n = len(message)
        o_t_id = self.connection.o_t_id
        if n <= MAX_LENGTH - 22 and 0 <= o_t_id <= 0xFFFFFFFF and 0 <= self.session <= 0xFFFFFFFF:
            ctx = context if type(context) is bytes and len(context) == 8 else context_bytes(context)
            return sequence, (HEADER.pack(_SEND_UNIT_DATA, 22 + n, self.session, 0, ctx, 0)
                              + encode_connected(0, o_t_id, sequence, message))
        data = SendData((ConnectedAddress(self.connection.o_t_id), ConnectedData(self._sequence, message))).encode()
        frame = Encapsulation(Command.SEND_UNIT_DATA, self.session, 0, context_bytes(context), 0, data).encode()
        return self._sequence, frame

    def receive_data(self, data: bytes) -> list[Encapsulation]:
        """Feed received TCP bytes; return the frames they completed."""
        return self.framer.feed(data)
