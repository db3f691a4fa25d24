"""The encapsulation layer of the simulator, sans I/O: one frame in, at most one reply frame out.

A :class:`Session` serves one TCP connection (or one UDP datagram): it registers the session,
checks the session handle of every later request, answers List Identity / Services /
Interfaces and the legacy 0x0001 command, and hands SendRRData's CIP message to the
:class:`~cpppo.device.controller.Controller`.  Errors become encapsulation status codes in the
reply; the connection stays up unless the peer unregisters or the byte stream is lost.

A request the controller cannot answer by itself (one routed to a remote device) comes back as a
:class:`PendingReply`: the transport carries out its :class:`~cpppo.device.backplane.Forward` and
turns the target's answer into the reply frame with :meth:`PendingReply.complete`.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass, field

from ...device.backplane import Forward
from ...device.controller import Controller
from ...device.events import Source
from ...enip.cpf import (
    ConnectedAddress,
    ConnectedData,
    IdentityItem,
    LegacyItem,
    NullAddress,
    ServiceItem,
    UnconnectedData,
    connected_message,
    decode_send_data,
    encode_connected,
    encode_cpf,
    encode_unconnected,
    unconnected_message,
)
from ...enip.encapsulation import Command, EncapStatus, Encapsulation, decode_register_session
from ...errors import DecodeError

__all__ = ["PendingReply", "Session", "SessionTable"]

log = logging.getLogger(__name__)

_SESSIONLESS = frozenset((Command.NOP, Command.LIST_IDENTITY, Command.LIST_SERVICES, Command.LIST_INTERFACES,
                          Command.LEGACY_0001))  # answered over TCP and UDP, registered or not
_IN_SESSION = frozenset((Command.REGISTER_SESSION, Command.UNREGISTER_SESSION, Command.SEND_RR_DATA,
                         Command.SEND_UNIT_DATA))  # TCP only


@dataclass(frozen=True, slots=True)
class PendingReply:
    """A reply that waits for a forwarded request: do ``forward``, then ``complete`` the frame."""

    forward: Forward
    frame: Encapsulation  # the request
    timeout: int  # its CPF timeout, echoed
    t_o_id: int | None = None  # a connected request: the T->O connection id ...
    sequence: int = 0  # ... and the sequence count its reply echoes

    def complete(self, reply: bytes) -> Encapsulation:
        """The reply frame carrying the CIP ``reply`` (the target's, or ``forward.failed()``)."""
        if self.t_o_id is None:
            return self.frame.reply(encode_unconnected(self.timeout, reply))
        return self.frame.reply(encode_connected(self.timeout, self.t_o_id, self.sequence, reply))


@dataclass
class SessionTable:
    """The session handles of one simulator: unique, non-zero, never reused while open."""

    active: set[int] = field(default_factory=set)

    def allocate(self) -> int:
        for _ in range(64):
            handle = secrets.randbits(32)
            if handle and handle not in self.active:
                self.active.add(handle)
                return handle
        raise RuntimeError("no free session handle")  # pragma: no cover - 2**32 handles

    def release(self, handle: int) -> None:
        self.active.discard(handle)


class Session:
    """Encapsulation state for one peer.  ``handle()`` returns (reply or None, close?)."""

    def __init__(self, controller: Controller, table: SessionTable, local: tuple[str, int] = ("0.0.0.0", 44818),
                 *, udp: bool = False, peer: tuple[str, int] | None = None) -> None:
        self.controller = controller
        self.table = table
        self.local = local
        self.udp = udp
        self.source = Source("client", (str(peer[0]), int(peer[1]))) if peer else None  # for tag events
        self.handle_id = 0  # the registered session handle; 0 until RegisterSession
        self.out_of_step = False  # a frame's length disagreed with its content: close after replying

    def close(self) -> None:
        """The peer is gone: release the session handle and drop its connections."""
        if self.handle_id:
            self.controller.connections.drop_owner(self.handle_id)
            self.table.release(self.handle_id)
            self.handle_id = 0

    def handle(self, frame: Encapsulation) -> tuple[Encapsulation | PendingReply | None, bool]:
        command = frame.command
        if command in _SESSIONLESS:
            return self._sessionless(frame), False
        if self.udp or command not in _IN_SESSION:  # these need a TCP session
            return frame.reply(status=EncapStatus.INVALID_COMMAND), False
        if command == Command.REGISTER_SESSION:
            return self._register(frame), self.out_of_step
        if frame.session != self.handle_id or not self.handle_id:
            return frame.reply(status=EncapStatus.INVALID_SESSION), False
        if command == Command.SEND_RR_DATA:
            return self._send_rr_data(frame), self.out_of_step
        if command == Command.SEND_UNIT_DATA:
            return self._send_unit_data(frame), self.out_of_step
        self.close()  # UnRegisterSession: no reply; the connection closes
        return None, True

    def _length_error(self, frame: Encapsulation, data: bytes = b"") -> Encapsulation:
        """The reply to a frame whose length disagrees with its content.  If the peer sent more than
        the header said, the rest would be read as the next header: the stream is out of step, so
        the connection closes after this reply, as for an oversized frame."""
        log.info("encapsulation length of %r disagrees with its content: closing", frame)
        self.out_of_step = True
        return frame.reply(data, status=EncapStatus.INVALID_LENGTH)

    def _sessionless(self, frame: Encapsulation) -> Encapsulation | None:
        command = frame.command
        if command == Command.NOP:
            return None
        if command == Command.LIST_IDENTITY:
            return frame.reply(encode_cpf([self.identity_item()]))
        if command == Command.LIST_SERVICES:
            return frame.reply(encode_cpf([ServiceItem(1, 0x0120, "Communications")]))
        if command == Command.LIST_INTERFACES:
            return frame.reply(encode_cpf([]))
        ip, port = self.reachable()  # the legacy 0x0001 command
        return frame.reply(encode_cpf([LegacyItem(1, 0, 2, port, ip, ip)]))

    def reachable(self) -> tuple[str, int]:
        """The IPv4 address and port a peer reaches us at, for List Identity and legacy replies.

        Those replies carry only IPv4; a peer on IPv6 is told the configured interface address.
        """
        ip, port = self.local[0], self.local[1]
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            ip = self.controller.tcpip.ip_address
        return ip, port

    def identity_item(self) -> IdentityItem:
        ident = self.controller.identity
        ip, port = self.reachable()
        return IdentityItem(1, 2, port, ip, ident.vendor_id, ident.device_type, ident.product_code,
                            ident.product_revision, ident.status_word, ident.serial_number, ident.product_name,
                            ident.state)

    def _register(self, frame: Encapsulation) -> Encapsulation:
        try:
            reg = decode_register_session(frame.data)
        except DecodeError:
            return self._length_error(frame, frame.data)
        if reg.version != 1:
            return frame.reply(frame.data, status=EncapStatus.UNSUPPORTED_PROTOCOL)
        if self.handle_id:  # already registered on this connection
            return frame.reply(frame.data, status=EncapStatus.INVALID_COMMAND)
        self.handle_id = self.table.allocate()
        return frame.reply(frame.data, session=self.handle_id)

    def _send_rr_data(self, frame: Encapsulation) -> Encapsulation | PendingReply:
        fast = unconnected_message(frame.data)
        if fast is None:  # not the usual layout: let the full decoder say what it holds
            try:
                send = decode_send_data(frame.data)
            except DecodeError as exc:
                if exc.status == EncapStatus.INVALID_LENGTH:
                    return self._length_error(frame)
                return frame.reply(status=EncapStatus.INCORRECT_DATA if exc.status is None else exc.status)
            message = send.message
            if not isinstance(message, UnconnectedData) or not isinstance(send.address, NullAddress):
                return frame.reply(status=EncapStatus.INCORRECT_DATA)
            fast = send.timeout, message.data
        timeout, request = fast
        reply = self.controller.handle(request, origin=self.handle_id, source=self.source)
        if type(reply) is Forward:
            return PendingReply(reply, frame, timeout)
        return frame.reply(encode_unconnected(timeout, reply))  # type: ignore[arg-type]

    def _send_unit_data(self, frame: Encapsulation) -> Encapsulation | PendingReply | None:
        """A request on a connection: the reply echoes its sequence count on the T->O id.

        A frame for a connection this session does not own gets no reply, as from a real device.
        """
        fast = connected_message(frame.data)
        if fast is None:  # not the usual layout: let the full decoder say what it holds
            try:
                send = decode_send_data(frame.data)
            except DecodeError as exc:
                if exc.status == EncapStatus.INVALID_LENGTH:
                    return self._length_error(frame)
                return frame.reply(status=EncapStatus.INCORRECT_DATA if exc.status is None else exc.status)
            address, message = send.address, send.message
            if not isinstance(address, ConnectedAddress) or not isinstance(message, ConnectedData):
                return frame.reply(status=EncapStatus.INCORRECT_DATA)
            fast = send.timeout, address.connection_id, message.sequence, message.data
        timeout, conn_id, sequence, request = fast
        conn = self.controller.connections.get(conn_id)
        if conn is None or conn.owner != self.handle_id:
            log.info("SendUnitData on unknown connection 0x%08X: dropped", conn_id)
            return None
        conn.last = time.monotonic()
        module = conn.target or self.controller  # a connection may lead to a module on the backplane
        reply = module.handle(request, conn.reply_limit, self.handle_id, self.source)
        if type(reply) is Forward:
            return PendingReply(reply, frame, timeout, conn.t_o_id, sequence)
        return frame.reply(encode_connected(timeout, conn.t_o_id, sequence, reply))  # type: ignore[arg-type]
