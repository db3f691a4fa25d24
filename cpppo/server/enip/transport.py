"""The simulator's network side: one asyncio event loop serving TCP and UDP on one port.

Each TCP connection is a :class:`~asyncio.Protocol` around a :class:`~cpppo.enip.framer.Framer`
and a :class:`~.session.Session`.  Replies to all the frames in one received chunk go out in one
write, so pipelined requests cost one syscall per batch.  A peer that stops reading its replies
has its reads paused (flow control); one that leaves half a frame for ``frame_timeout`` seconds,
or says nothing for ``idle_timeout`` seconds, is disconnected (by the host's sweeper, which calls
:meth:`EnipServer.sweep`).  Devices with custom attributes (which may block) are served from the
host's thread pool, so one slow attribute stalls only its own connection.  A request routed to a
remote device is forwarded by the host while the connection goes on reading; the replies after
it wait for its reply, so the stream stays in request order.

An :class:`EnipServer` is a service of a :class:`~cpppo.server.host.Host`: ``await host.add(server)``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import socket
import time
from typing import TYPE_CHECKING, Any

from ...device.controller import Controller
from ...device.events import served, serving
from ...enip.encapsulation import Command, EncapStatus, Encapsulation, decode_frame
from ...enip.framer import Framer
from ...errors import DecodeError
from .config import ConfigError
from .session import PendingReply, Session, SessionTable

if TYPE_CHECKING:
    from ..host import Host

__all__ = ["EnipServer"]

log = logging.getLogger(__name__)

Delay = tuple[float, float] | None
_QUEUE_HIGH = 256  # requests waiting for the thread pool before a connection's reading pauses
_QUEUE_LOW = 32  # ... and resumes
_TURN = 64  # frames one connection may have served per event-loop turn (fairness between peers)
_SAYS_WHERE = frozenset((Command.LIST_IDENTITY, Command.LEGACY_0001))
FORWARDS_IN_FLIGHT = 4  # forwarded requests of one connection carried out at once; the rest wait their turn
HELD_LIMIT = 1 << 20  # bytes of replies held behind forwarded requests before the connection is closed
_PENDING_COST = 1024  # what a waiting forwarded request counts for against HELD_LIMIT


def _local_ip_for(peer_ip: str, bound_ip: str) -> str:
    """The address of this host that ``peer_ip`` reaches us at (for List Identity replies)."""
    if bound_ip not in ("0.0.0.0", "::", ""):
        return bound_ip
    try:
        with socket.socket(socket.AF_INET6 if ":" in peer_ip else socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((peer_ip, 9))
            return s.getsockname()[0]
    except OSError:
        return "0.0.0.0"


class _TcpConnection(asyncio.Protocol):
    def __init__(self, server: EnipServer) -> None:
        self.server = server
        self.framer = Framer(server.max_frame)
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None
        self.last_activity = time.monotonic()
        self.partial_since: float | None = None
        self.queue: asyncio.Queue[Encapsulation | None] | None = None
        self.worker: asyncio.Task[None] | None = None
        self.send_at = 0.0
        self.write_paused = False  # the peer is not reading its replies
        self.queue_paused = False  # too many requests wait for the thread pool
        self.peer: Any = None
        self.received = 0  # bytes, and frames, from the peer (what the web API shows)
        self.requests = 0
        # Replies held behind a forwarded request's, in order: its task, or (payload, close) to send
        self.held: collections.deque[asyncio.Task[bytes] | tuple[bytes, bool]] = collections.deque()
        self.held_bytes = 0  # what ``held`` costs (bounded by HELD_LIMIT)
        self.forward_slots: asyncio.Semaphore | None = None  # FORWARDS_IN_FLIGHT, made with the first
        self.lost = False
        # Frames read but not yet served, a turn (_TURN frames) at a time: see data_received
        self.backlog: collections.deque[Encapsulation] = collections.deque()
        self.draining = False

    # -- connection lifecycle ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname") or ("0.0.0.0", 0)
        self.session = Session(self.server.controller, self.server.sessions, (local[0], local[1]),
                               peer=self.peer[:2] if self.peer else None)
        self.server.connections.add(self)
        if self.server.offload:
            self.queue = asyncio.Queue()
            self.worker = self.server.runtime.spawn(self._work())
            self.server.workers.add(self.worker)  # outlives its connection while an attribute blocks
            self.worker.add_done_callback(self.server.workers.discard)
        log.info("connection from %s", self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.lost = True
        self._abandon()
        if self.queue is not None:  # the worker closes the session after the frame it is serving
            while not self.queue.empty():  # nobody is left to answer the rest
                self.queue.get_nowait()
            self.queue.put_nowait(None)
        elif self.session is not None:
            self.session.close()
        log.info("connection from %s closed%s", self.peer, f": {exc}" if exc else "")

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def pause_writing(self) -> None:  # the peer is not reading its replies: stop reading its requests
        self.write_paused = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.transport is not None and not self.transport.is_closing() and not self.queue_paused \
                and not self.draining:
            self.transport.resume_reading()

    # -- requests ---------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.last_activity = now
        self.received += len(data)
        try:
            frames = self.framer.feed(data)
        except DecodeError as exc:
            if self.queue is not None:  # answer the frames still queued first, then refuse
                self.queue.put_nowait(None)
            else:
                self._refuse([], exc)
            return
        self.partial_since = (self.partial_since or now) if self.framer.buffered else None
        if not frames:
            return
        self.requests += len(frames)
        if self.queue is not None:
            for frame in frames:
                self.queue.put_nowait(frame)
            if self.framer.error is not None:
                self.queue.put_nowait(None)  # the worker answers the error after these frames
            if self.queue.qsize() >= _QUEUE_HIGH and not self.queue_paused and self.transport is not None:
                self.queue_paused = True  # a slow attribute: read no more until the backlog drains
                self.transport.pause_reading()
            return
        if self.backlog or len(frames) > _TURN:
            # More than one turn's work: serve it a turn at a time, reading no more meanwhile, so
            # a peer pipelining thousands of requests cannot hold the loop from everyone else.
            self.backlog.extend(frames)
            if not self.draining:
                self.draining = True
                if self.transport is not None:
                    self.transport.pause_reading()
                asyncio.get_running_loop().call_soon(self._drain)
            return
        self._serve(frames, True)

    def _drain(self) -> None:
        """Serve the next turn's frames of the backlog; then yield the loop, or resume reading."""
        backlog = self.backlog
        batch = [backlog.popleft() for _ in range(min(_TURN, len(backlog)))]
        open_ = self.transport is not None and not self.transport.is_closing()
        if open_ and self._serve(batch, not backlog) and backlog:
            asyncio.get_running_loop().call_soon(self._drain)
            return
        backlog.clear()
        self.draining = False
        if self.transport is not None and not self.transport.is_closing() and not self.write_paused \
                and not self.queue_paused:
            self.transport.resume_reading()

    def _serve(self, frames: list[Encapsulation], last: bool) -> bool:
        """Answer ``frames`` (the ``last`` of what was read so far?); False once the connection closes."""
        session = self.session
        assert session is not None
        if session.source is None or not self.server.controller.events.writes:  # nobody asks who did what
            return self._serve_frames(session, frames, last)
        token = serving(session.source)  # what these frames read and change, this peer did: said once
        try:
            return self._serve_frames(session, frames, last)
        finally:
            served(token)

    def _serve_frames(self, session: Session, frames: list[Encapsulation], last: bool) -> bool:
        out: list[bytes] = []
        for frame in frames:
            try:
                reply, close = session.handle(frame)
                if type(reply) is PendingReply:  # the replies so far go first; the rest wait for it
                    self._send(b"".join(out))
                    out = []
                    self._hold(reply)
                elif reply is not None:
                    out.append(reply.encode())  # type: ignore[union-attr]
            except Exception:  # a bug, not a bad request: lose this connection, not the server
                log.exception("%s: failed to handle %r; closing", self.peer, frame)
                self._send(b"".join(out), close=True)
                return False
            if close:
                self._send(b"".join(out), close=True)
                return False
        if last and self.framer.error is not None:  # whole frames came before an oversized one
            self._refuse(out, self.framer.error)
            return False
        if out:
            self._send(b"".join(out))
        return True

    def _refuse(self, out: list[bytes], exc: DecodeError) -> None:
        """Answer a frame that cannot be read (after ``out``) and close: its stream has no boundaries."""
        log.warning("%s: %s; closing", self.peer, exc)
        out.append(Encapsulation(0, 0, exc.status or EncapStatus.INVALID_LENGTH).encode())
        self._send(b"".join(out), close=True)

    async def _work(self) -> None:
        """Serve frames one at a time in the thread pool (devices whose attributes may block)."""
        assert self.queue is not None and self.session is not None
        try:
            await self._serve_queue()
        finally:
            self.session.close()  # after the last frame it served, whatever ended the worker

    async def _serve_queue(self) -> None:
        assert self.queue is not None and self.session is not None
        while True:
            frame = await self.queue.get()
            if self.queue_paused and self.queue.qsize() <= _QUEUE_LOW:
                self.queue_paused = False
                if self.transport is not None and not self.transport.is_closing() and not self.write_paused:
                    self.transport.resume_reading()
            if frame is None:
                if self.framer.error is not None:
                    self._refuse([], self.framer.error)
                return
            try:
                reply, close = await self.server.runtime.offload(self.session.handle, frame)
                if type(reply) is PendingReply:
                    payload = await self._forward(reply)
                else:
                    payload = reply.encode() if reply is not None else b""  # type: ignore[union-attr]
            except Exception:
                log.exception("%s: failed to handle %r; closing", self.peer, frame)
                self._send(b"", close=True)
                return
            if payload or close:
                self._send(payload, close=close)
            if close:
                return

    # -- forwarded requests -------------------------------------------------------------------------
    def _hold(self, pending: PendingReply) -> None:
        """Forward a request; the replies after it are held until its reply has gone out."""
        if self.lost:
            return
        task = self.server.runtime.spawn(self._forward(pending))
        self.held.append(task)
        self._charge(_PENDING_COST)
        task.add_done_callback(lambda _: self._release())

    async def _forward(self, pending: PendingReply) -> bytes:
        slots = self.forward_slots
        if slots is None:
            slots = self.forward_slots = asyncio.Semaphore(FORWARDS_IN_FLIGHT)
        async with slots:
            reply = await self.server.runtime.forward(pending.forward)
        return pending.complete(reply).encode()

    def _charge(self, cost: int) -> None:
        """Count ``cost`` against the held replies' bound; past it, give up on this connection."""
        self.held_bytes += cost
        if self.held_bytes > HELD_LIMIT:
            log.warning("%s: over %d bytes of replies wait behind forwarded requests; closing",
                        self.peer, HELD_LIMIT)
            self.lost = True  # what else this connection asks is not answered
            self._abandon()
            self.close()

    def _abandon(self) -> None:
        """Nobody will read the held replies: cancel the forwarded requests (their sessions close) and drop them."""
        held, self.held = self.held, collections.deque()
        self.held_bytes = 0
        for head in held:
            if not isinstance(head, tuple):
                head.cancel()

    def _release(self) -> None:
        """Send what is ready at the head of the held replies, in order."""
        held = self.held
        while held:
            head = held[0]
            if isinstance(head, tuple):
                payload, close = head
                self.held_bytes -= len(payload)
            elif head.done():
                if head.cancelled() or head.exception() is not None:  # its reply is lost: so is the stream's order
                    log.warning("%s: a forwarded request failed without a reply; closing", self.peer)
                    self._abandon()
                    self._send_in_order(b"", close=True)
                    return
                payload, close = head.result(), False
                self.held_bytes -= _PENDING_COST
            else:
                return
            held.popleft()
            self._send_in_order(payload, close)

    def _send(self, payload: bytes, close: bool = False) -> None:
        """Send ``payload`` after any held replies (and after the response delay), then close if ``close``."""
        if self.held:
            if payload or close:
                self.held.append((payload, close))
                self._charge(len(payload))
            return
        self._send_in_order(payload, close)

    def _send_in_order(self, payload: bytes, close: bool = False) -> None:
        delay = self.server.response_delay()
        if not delay and not self.send_at:
            self._send_now(payload, close)
            return
        loop = asyncio.get_running_loop()
        # never reorder the stream: each send (and a close) goes strictly after the one before
        at = max(loop.time() + delay, self.send_at + 1e-6)
        self.send_at = at
        loop.call_at(at, self._send_now, payload, close)

    def _send_now(self, payload: bytes, close: bool = False) -> None:
        if payload and self.transport is not None and not self.transport.is_closing():
            self.transport.write(payload)
        if close:
            self.close()


class _UdpEndpoint(asyncio.DatagramProtocol):
    def __init__(self, server: EnipServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            frame = decode_frame(data)
            bound, port = self.server.address
            # only List Identity and the legacy command say where we are: find out just for them
            local = _local_ip_for(addr[0], bound) if frame.command in _SAYS_WHERE else bound
            session = Session(self.server.controller, self.server.sessions, (local, port), udp=True, peer=addr[:2])
            reply, _ = session.handle(frame)  # never pending: routed requests need a TCP session
            payload = reply.encode() if isinstance(reply, Encapsulation) else b""
        except DecodeError as exc:
            log.info("UDP from %s: %s", addr, exc)
            return
        except Exception:  # a bug, not a bad datagram: drop it, keep serving
            log.exception("UDP from %s: failed to handle %r", addr, data[:64])
            return
        if payload and self.transport is not None:
            delay = self.server.response_delay()
            if delay:
                asyncio.get_running_loop().call_later(delay, self.transport.sendto, payload, addr)
            else:
                self.transport.sendto(payload, addr)


class EnipServer:
    """Serve ``controller`` over EtherNet/IP on ``host``:``port`` (TCP and UDP): a service of a :class:`Host`."""

    def __init__(self, controller: Controller, host: str = "", port: int = 44818, *,
                 delay: Delay = None, offload: bool = False, max_frame: int = 0xFFFF,
                 idle_timeout: float | None = 600.0, frame_timeout: float = 10.0, udp: bool = True) -> None:
        self.controller = controller
        self.host = host
        self.port = port
        self.delay = delay
        self.offload = offload
        self.max_frame = max_frame
        self.idle_timeout = idle_timeout
        if frame_timeout <= 0 or (idle_timeout is not None and idle_timeout <= 0):
            raise ConfigError("frame and idle timeouts must be positive (an idle timeout of None: no limit)")
        self.frame_timeout = frame_timeout
        self.udp = udp
        self.sessions = SessionTable()
        self.connections: set[_TcpConnection] = set()
        self.workers: set[asyncio.Task[None]] = set()
        self.address: tuple[str, int] = (host, port)
        self._runtime: Host | None = None  # the host running this server (its loop, pool, sweeper)
        self._tcp: asyncio.base_events.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None

    @property
    def runtime(self) -> Host:
        """The :class:`~cpppo.server.host.Host` this server runs on."""
        if self._runtime is None:
            raise RuntimeError("this server has not been started by a host")
        return self._runtime

    @property
    def sweep_interval(self) -> float:
        return min(1.0, self.frame_timeout)

    def response_delay(self) -> float:
        if self.delay is None:
            return 0.0
        lo, hi = self.delay
        return lo if hi <= lo else random.uniform(lo, hi)

    async def start(self, runtime: Host) -> tuple[str, int]:
        """Bind and listen (called by ``runtime.add``); the (host, port) bound (port 0 picks a free one)."""
        loop = asyncio.get_running_loop()
        if self._tcp is not None:  # a second listener would orphan the first, still serving
            raise RuntimeError(f"{self!r} is already serving at {self.address[0]}:{self.address[1]}")
        self._runtime = runtime
        host = self.host or None
        for attempt in range(20):
            self._tcp = await loop.create_server(lambda: _TcpConnection(self), host, self.port,
                                                 reuse_address=True, backlog=1024)
            sockname = self._tcp.sockets[0].getsockname()
            if not self.udp:
                break
            try:
                udp_host = self.host or ("::" if self._tcp.sockets[0].family == socket.AF_INET6 else "0.0.0.0")
                self._udp, _ = await loop.create_datagram_endpoint(
                    lambda: _UdpEndpoint(self), local_addr=(udp_host, sockname[1]), reuse_port=False,
                    allow_broadcast=True)
                break
            except OSError:
                self._tcp.close()
                await self._tcp.wait_closed()
                self._tcp = None
                if self.port or attempt == 19:
                    raise
        self.address = (sockname[0], sockname[1])
        return self.address

    def sweep(self, now: float) -> None:
        """Drop connections that stall mid-frame or stay silent too long, and expired CIP connections."""
        for gone in self.controller.connections.expire(now):
            log.info("connection 0x%08X timed out after %.1fs idle", gone.o_t_id, gone.timeout)
        for conn in list(self.connections):
            if conn.partial_since is not None and now - conn.partial_since > self.frame_timeout:
                log.warning("%s: half a frame for %.0fs; closing", conn.peer, self.frame_timeout)
                conn.close()
            elif self.idle_timeout and now - conn.last_activity > self.idle_timeout:
                log.info("%s: idle for %.0fs; closing", conn.peer, self.idle_timeout)
                conn.close()

    @property
    def listening(self) -> bool:
        return self._tcp is not None

    async def pause(self) -> None:
        """Stop listening and close every connection, but keep the address to listen on again
        (the web API's server/control/disable): clients see a device that went away."""
        tcp, udp, self._tcp, self._udp = self._tcp, self._udp, None, None
        if udp is not None:
            udp.close()
        if tcp is not None:
            tcp.close()
        for conn in list(self.connections):
            conn.close()
        if tcp is not None:
            await tcp.wait_closed()

    async def resume(self) -> None:
        """Listen again on the address it had (after :meth:`pause`)."""
        if self._tcp is None and self._runtime is not None:
            self.port = self.address[1]
            await self.start(self._runtime)

    async def stop(self) -> None:
        # the subscriptions read on this loop end with it: their readers see the end, not a hang
        self.controller.events.close_subscriptions(asyncio.get_running_loop())
        tcp, udp, self._tcp, self._udp = self._tcp, self._udp, None, None
        if udp is not None:
            udp.close()
        if tcp is not None:
            tcp.close()
        workers = list(self.workers)
        for conn in list(self.connections):
            conn.close()
        if tcp is not None:
            await tcp.wait_closed()
        for worker in workers:  # one may wait on a blocked attribute: do not wait for it
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

