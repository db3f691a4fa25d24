"""The asyncio EtherNet/IP client: the same operations as coroutines, for polling many devices.

Every operation is a procedure of :mod:`.procedures`, the same the blocking connector runs: this
module only writes what a procedure sends and waits on ``StreamReader`` for the replies it needs
(``_run``), so pipelining, packing, fragments, Forward Open and the tag list behave exactly as in
the blocking client::

    async with AsyncConnector("10.0.0.5", timeout=2.0) as plc:
        speed, = await plc.read("SPEED")
        await plc.write("SCADA[0-2]=(DINT)1,2,3")
        async for idx, dsc, req, rpy, sts, val in plc.pipeline(parse_operations(tags), depth=20):
            ...

Poll many controllers at once with ``asyncio.gather`` over one connector each.  Operations on one
connector run one batch at a time (a lock, held only while requests are outstanding), each batch
pipelined up to its ``depth``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, TypeVar

from ..dotdict import dotdict
from ..enip.encapsulation import Command, Encapsulation, decode_frame
from ..errors import CommunicationError, CpppoError, DecodeError
from . import procedures
from .connection import Connection
from .core import MISSING, Addressing, ClientCore
from .engine import Result
from .procedures import Deliver, Procedure, RequestFailed
from .replies import frame_dotdict
from .tag_list import LogixTypes, TagInfo

__all__ = ["AsyncConnector", "RequestFailed", "discover"]

T = TypeVar("T")
_RECV = 1 << 16


class AsyncConnector:
    """A registered EtherNet/IP session to ``host``:``port`` on the running event loop.

    Every operation is a procedure of :mod:`.procedures` (shared with the blocking connector),
    carried out by ``_perform`` (holding the connection throughout) or ``_stream`` (holding it
    only while the procedure runs, never while the caller holds a result it delivered)."""

    def __init__(self, host: str = "localhost", port: int = 44818, timeout: float | None = None, *,
                 route_path: Any = MISSING, send_path: Any = MISSING, simple: bool = False,
                 priority_time_tick: int | None = None, timeout_ticks: int | None = None,
                 source_address: tuple[str, int] | None = None, connected: bool = False,
                 connection_size: int = 4002, logix: bool = False) -> None:
        self.addr = (host, int(port))
        self.connected = connected
        self.logix_mode = logix
        self.connection_size = connection_size
        self.timeout = timeout
        self.source_address = source_address
        self.core = ClientCore(Addressing.of(route_path, send_path, simple=simple,
                                             priority_time_tick=priority_time_tick, timeout_ticks=timeout_ticks))
        self.link = procedures.Link(self.core, f"{host}:{self.addr[1]}")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.peer: Any = self.addr
        self._lock = asyncio.Lock()
        self._pending: collections.deque[tuple[Encapsulation, Any]] = collections.deque()

    # -- connection ------------------------------------------------------------------------------
    async def open(self) -> AsyncConnector:
        """Connect and register (and Forward Open, learn the tag list, as asked); after ``close()``,
        a failure or the device restarting, connect again: a new session, nothing of the old kept."""
        await self.close()
        self.core.reset()
        self._pending.clear()
        where = self.link.where
        try:
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(*self.addr, local_addr=self.source_address), self.timeout)
        except asyncio.TimeoutError:
            raise CommunicationError(f"cannot connect to {where}: timed out") from None
        except OSError as exc:
            if isinstance(exc, socket.gaierror):
                reason = f"unknown host ({exc.strerror})"
            else:
                reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise CommunicationError(f"cannot connect to {where}: {reason}") from exc
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.peer = (self.writer.get_extra_info("peername") or self.addr)[:2]
        self.link.closed = False
        try:
            await self._perform(procedures.start(self.link, wait=self.timeout, connected=self.connected,
                                                 size=self.connection_size, logix=self.logix_mode))
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        """Close the session (Forward Close if connected, Unregister Session; see
        ``procedures.close``) and the connection.  Closing again does nothing."""
        writer = self.writer
        if writer is None:
            return
        if not self.link.closed and not self._lock.locked():  # else another task's request is under
            wait = 1.0 if self.timeout is None else min(self.timeout, 1.0)  # way: closing ends it
            with contextlib.suppress(CpppoError, OSError):
                await self._perform(procedures.close(self.link, wait=wait))
        self.link.closed = True
        self.writer = None
        writer.close()
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def __aenter__(self) -> AsyncConnector:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def session(self) -> int:
        return self.core.session

    # -- the driver: carries out the effects of a procedure (see .procedures) --------------------
    def _wait(self, timeout: float | None) -> float | None:
        return self.timeout if timeout is None else timeout

    def _flush(self) -> None:
        """Write out what the procedure has sent."""
        outbox = self.link.outbox
        if outbox:
            data = b"".join(outbox)
            outbox.clear()
            if self.writer is None:
                raise CommunicationError("the connection is closed")
            self.writer.write(data)

    async def _frames_within(self, timeout: float | None) -> collections.deque[tuple[Encapsulation, Any]] | None:
        """Receive: the queue of frames (empty if none came within ``timeout``), None at end of file."""
        if self._pending:
            return self._pending
        try:
            return await asyncio.wait_for(self._frames(), timeout)
        except asyncio.TimeoutError:
            return self._pending

    async def _frames(self) -> collections.deque[tuple[Encapsulation, Any]] | None:
        """Read until a frame is complete; the queue, or None when the peer closed the connection."""
        if self.reader is None:
            raise CommunicationError("the connection is closed")
        where = self.link.where
        while True:
            try:
                data = await self.reader.read(_RECV)
            except OSError as exc:
                raise CommunicationError(f"receiving from {where} failed: {exc.strerror or exc}") from exc
            if not data:
                self.link.closed = True
                return None
            try:
                frames = self.core.receive_data(data)
            except DecodeError as exc:
                self.link.closed = True
                raise CommunicationError(f"invalid reply from {where}: {exc}") from exc
            if frames:
                peer = self.peer
                self._pending.extend([(frame, peer) for frame in frames])
                return self._pending

    async def _run(self, proc: Procedure[Any]) -> tuple[bool, Any]:
        """Carry out a procedure's effects (the caller holds the connection) until it delivers:
        (True, the Deliver), or ends: (False, its value)."""
        answer = None
        outbox = self.link.outbox
        while True:
            try:
                effect = proc.send(answer)
            except StopIteration as stop:
                self._flush()
                return False, stop.value
            except BaseException:
                outbox.clear()  # what a failed procedure sent is not written
                raise
            if outbox:
                self._flush()
            if type(effect) is Deliver:
                return True, effect
            answer = await self._frames_within(effect.timeout)

    async def _perform(self, proc: Procedure[T]) -> T:
        """Carry out a procedure that delivers nothing, holding the connection throughout; its value."""
        async with self._lock:
            delivered, value = await self._run(proc)
        if delivered:
            raise TypeError(f"the procedure delivered {value!r}: stream it")
        return value

    async def _stream(self, proc: Procedure[Any]) -> AsyncIterator[Any]:
        """Carry out a procedure, yielding what it delivers.  The connection is held while the
        procedure runs and released while the caller holds what it delivered (a batched pipeline
        delivers only with no request outstanding): other coroutines may use it, or close it, then."""
        try:
            while True:
                async with self._lock:
                    delivered, value = await self._run(proc)
                if not delivered:
                    return
                for item in value.results:
                    yield item
        finally:
            proc.close()

    # -- connected messaging ---------------------------------------------------------------------
    async def forward_open(self, size: int = 4002, *, large: bool | None = None, timeout: float | None = None,
                           route_path: Any = MISSING) -> Connection:
        """Open a class 3 connection to the Message Router (along the route path); later operations use it."""
        return await self._perform(procedures.forward_open(self.link, size, large=large, route_path=route_path,
                                                           wait=self._wait(timeout)))

    async def forward_close(self, timeout: float | None = None) -> None:
        """Close the connection (operations go unconnected again)."""
        await self._perform(procedures.forward_close(self.link, wait=self._wait(timeout)))

    # -- what a Logix controller says about itself -----------------------------------------------
    @property
    def logix(self) -> LogixTypes:
        """The tags and structure templates learned from the controller (so far)."""
        return self.core.logix

    async def tag_list(self, programs: bool = True, *, refresh: bool = False,
                       timeout: float | None = None) -> list[TagInfo]:
        """The controller's tags (and each program's), uploaded once per connection with the templates
        of every structure they use; TagListError if the device refuses."""
        return await self._perform(procedures.tag_list(self.link, programs, refresh=refresh,
                                                       wait=self._wait(timeout)))

    # -- operations ------------------------------------------------------------------------------
    def pipeline(self, operations: Iterable[Mapping[str, Any]], *, timeout: float | None = None,
                 **kwds: Any) -> AsyncIterator[Result]:
        """Issue ``operations`` with up to ``depth`` requests in flight; yield 6-tuples in order.

        The connection is held only while requests are outstanding, never while a result is being
        yielded: a caller may keep the generator suspended and still use the connection meanwhile
        (results arrive in batches of at most a few hundred operations)."""
        return self._stream(procedures.pipeline(self.link, operations, wait=self._wait(timeout),
                                                batch=procedures.BATCH, **kwds))

    def operate(self, operations: Iterable[Mapping[str, Any]], *, timeout: float | None = None,
                **kwds: Any) -> AsyncIterator[Result]:
        """``pipeline`` (depth 0 is one at a time), optionally validating/printing each result."""
        return self._stream(procedures.operate(self.link, operations, wait=self._wait(timeout),
                                               batch=procedures.BATCH, **kwds))

    async def results(self, operations: Iterable[Mapping[str, Any]], *, timeout: float | None = None,
                      **kwds: Any) -> list[Any]:
        """Just the values, in order (None for each failure)."""
        return [v async for v in self._stream(procedures.results(self.link, operations, wait=self._wait(timeout),
                                                                 batch=procedures.BATCH, **kwds))]

    async def process(self, operations: Iterable[Mapping[str, Any]], **kwds: Any) -> tuple[int, list[Any]]:
        """Run every operation; (number of failures, [values...])."""
        return procedures.tally(await self.results(operations, **kwds))

    # -- one-shot operations: values, or RequestFailed (as the blocking connector's) ------------
    async def read_tag(self, tag: str | list[dict[str, Any]], elements: int | None = None,
                       offset: int | None = None, *, timeout: float | None = None, **kwds: Any) -> list[Any]:
        """The values of ``tag`` ("Tag[0-9]", "@2/1/1", or JSON segments); RequestFailed on an error status."""
        return await self._perform(procedures.read_tag(self.link, tag, elements, offset, wait=self._wait(timeout),
                                                       **kwds))

    async def write_tag(self, tag: str | list[dict[str, Any]], data: Any = None, tag_type: str | int | None = None,
                        *, timeout: float | None = None, **kwds: Any) -> bool:
        """Write ``"Tag[0-2]=(DINT)1,2,3"``, or ``tag`` with ``data`` of ``tag_type`` (default INT; dicts
        are structures, and a bit address ``"D.3"`` takes bools)."""
        return await self._perform(procedures.write_tag(self.link, tag, data, tag_type, wait=self._wait(timeout),
                                                        **kwds))

    async def get_attribute(self, path: str | list[dict[str, Any]], tag_type: Any = None, *,
                            timeout: float | None = None, **kwds: Any) -> Any:
        """Get Attribute Single: raw USINT values, or values of ``tag_type``."""
        return await self._perform(procedures.get_attribute(self.link, path, tag_type, wait=self._wait(timeout),
                                                            **kwds))

    async def get_attributes(self, path: str | list[dict[str, Any]], *, timeout: float | None = None,
                             **kwds: Any) -> Any:
        """Get Attributes All: raw USINT values."""
        return await self._perform(procedures.get_attributes(self.link, path, wait=self._wait(timeout), **kwds))

    async def set_attribute(self, path: str | list[dict[str, Any]], data: Iterable[Any], tag_type: Any = None, *,
                            timeout: float | None = None, **kwds: Any) -> bool:
        """Set Attribute Single to ``data`` (raw USINT values, or values of ``tag_type``)."""
        return await self._perform(procedures.set_attribute(self.link, path, data, tag_type,
                                                            wait=self._wait(timeout), **kwds))

    # the documented asyncio names of the one-shot operations
    read = read_tag
    write = write_tag
    get_attribute_single = get_attribute
    get_attributes_all = get_attributes
    set_attribute_single = set_attribute

    async def cip_request(self, message: bytes, *, timeout: float | None = None) -> bytes:
        """Send an encoded CIP request bare (no Unconnected Send); its encoded reply."""
        return await self._perform(procedures.cip_request(self.link, message, wait=self._wait(timeout)))

    async def connected_cip_request(self, message: bytes, *, timeout: float | None = None) -> bytes:
        """Send an encoded CIP request on the open connection (after forward_open); its encoded reply."""
        return await self._perform(procedures.connected_cip_request(self.link, message, wait=self._wait(timeout)))

    async def _command(self, code: int, timeout: float | None) -> dotdict:
        return frame_dotdict(*await self._perform(procedures.command(self.link, code, wait=self._wait(timeout))))

    async def list_identity(self, timeout: float | None = None) -> dotdict:
        return await self._command(Command.LIST_IDENTITY, timeout)

    async def list_services(self, timeout: float | None = None) -> dotdict:
        return await self._command(Command.LIST_SERVICES, timeout)

    async def list_interfaces(self, timeout: float | None = None) -> dotdict:
        return await self._command(Command.LIST_INTERFACES, timeout)

    def __repr__(self) -> str:
        return f"<AsyncConnector {self.addr[0]}:{self.addr[1]} session {self.core.session}>"


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: asyncio.Queue[tuple[Encapsulation, Any]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        with contextlib.suppress(DecodeError):
            self.replies.put_nowait((decode_frame(data), addr[:2]))


async def discover(host: str = "255.255.255.255", port: int = 44818, timeout: float = 1.0,
                   command: int = Command.LIST_IDENTITY, broadcast: bool = True) -> list[dotdict]:
    """Send List Identity (or another list command) by UDP; every reply within ``timeout``."""
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Collector, local_addr=("0.0.0.0", 0),
                                                           allow_broadcast=broadcast)
    try:
        transport.sendto(ClientCore().command_frame(command, command), (host, port))
        deadline = time.monotonic() + timeout
        out: list[dotdict] = []
        for _ in range(100000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                frame, peer = await asyncio.wait_for(proto.replies.get(), left)
            except asyncio.TimeoutError:
                break
            out.append(frame_dotdict(frame, peer))
        return out
    finally:
        transport.close()
