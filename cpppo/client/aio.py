"""The asyncio EtherNet/IP client: the same operations as coroutines, for polling many devices.

Like the blocking client this is a thin loop around :class:`~.core.OperationEngine`: it writes
what the engine wants sent and feeds it what ``StreamReader`` returns, so pipelining, Multiple
Service Packet packing and fragment following behave exactly as in the blocking client::

    async with AsyncConnector("10.0.0.5", timeout=2.0) as plc:
        speed, = await plc.read("SPEED")
        await plc.write("SCADA[0-2]=(DINT)1,2,3")
        async for idx, dsc, req, rpy, sts, val in plc.pipeline(parse_operations(tags), depth=20):
            ...

Poll many controllers at once with ``asyncio.gather`` over one connector each.  Operations on one
connector run one batch at a time (a lock), each batch pipelined up to its ``depth``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from ..cip.types import STRUCTURE, TypeCode, type_by_name
from ..dotdict import dotdict
from ..enip.encapsulation import Command, Encapsulation, decode_frame
from ..errors import CommunicationError, CpppoError, DecodeError
from .connection import Connection, closed, forward_close_message, forward_open_message, opened
from .core import MISSING, Addressing, ClientCore, context_bytes
from .engine import OperationEngine, Result, validate
from .logix import LogixTypes, Plan, TagInfo, TagListError, upload
from .operations import parse_address_text, parse_operation, parse_path
from .replies import frame_dotdict, status_text

__all__ = ["AsyncConnector", "RequestFailed", "discover"]

_RECV = 1 << 16
_BATCH = 256  # results a pipeline takes per hold of the connection


class RequestFailed(CpppoError):
    """A one-shot coroutine's operation failed at the device: ``status`` is the 6-tuple's ``sts``."""

    def __init__(self, dsc: str, status: Any) -> None:
        super().__init__(f"{dsc}: {status_text(status)}")
        self.dsc = dsc
        self.status = status


class AsyncConnector:
    """A registered EtherNet/IP session to ``host``:``port`` on the running event loop."""

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
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.peer: Any = self.addr
        self._lock = asyncio.Lock()
        self._pending: list[Encapsulation] = []

    # -- connection ------------------------------------------------------------------------------
    async def open(self) -> AsyncConnector:
        where = f"{self.addr[0]}:{self.addr[1]}"
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
        try:
            self._send(self.core.register_frame())
            frame = await self._frame(self.timeout, "RegisterSession")
            self.core.registered(frame)
            if self.connected:
                await self.forward_open(self.connection_size)
            if self.logix_mode:
                self.core.logix.logix = True
                await self.tag_list()
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        writer, self.writer = self.writer, None
        if writer is None:
            return
        if self.core.connection is not None:
            self.writer = writer
            with contextlib.suppress(CpppoError, OSError):
                await self.forward_close(timeout=1.0)
            self.writer = None
        if self.core.session:
            with contextlib.suppress(OSError):
                writer.write(self.core.unregister_frame())
            self.core.session = 0
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

    def _send(self, data: bytes) -> None:
        if self.writer is None:
            raise CommunicationError("the connection is closed")
        self.writer.write(data)

    async def _receive(self, timeout: float | None, waiting: str) -> list[Encapsulation]:
        if self.reader is None:
            raise CommunicationError("the connection is closed")
        where = f"{self.addr[0]}:{self.addr[1]}"
        try:
            data = await asyncio.wait_for(self.reader.read(_RECV), timeout)
        except asyncio.TimeoutError:
            raise CommunicationError(f"no reply from {where} within {timeout}s ({waiting})") from None
        except OSError as exc:
            raise CommunicationError(f"receiving from {where} failed: {exc.strerror or exc}") from exc
        if not data:
            raise CommunicationError(f"{where} closed the connection ({waiting})")
        try:
            return self.core.receive_data(data)
        except DecodeError as exc:
            raise CommunicationError(f"invalid reply from {where}: {exc}") from exc

    async def _frame(self, timeout: float | None, waiting: str) -> Encapsulation:
        while not self._pending:
            self._pending.extend(await self._receive(timeout, waiting))
        return self._pending.pop(0)

    # -- connected messaging ---------------------------------------------------------------------
    async def _request(self, message: bytes, timeout: float | None, what: str) -> Encapsulation:
        context = context_bytes(self.core.next_context())
        self._send(self.core.send_frame(message, context))
        for _ in range(1000):
            frame = await self._frame(self.timeout if timeout is None else timeout, what)
            if frame.context == context:
                return frame
        raise CommunicationError(f"no reply to {what}")  # pragma: no cover - 1000 unrelated frames

    async def forward_open(self, size: int = 4002, *, large: bool | None = None,
                           timeout: float | None = None) -> Connection:
        """Open a class 3 connection; later operations travel connected (SendUnitData)."""
        async with self._lock:
            message, fo = forward_open_message(self.core.addressing.route_path, size, large)
            self.core.connection = opened(await self._request(message, timeout, "Forward Open"), fo)
            return self.core.connection

    async def forward_close(self, timeout: float | None = None) -> None:
        async with self._lock:
            conn, self.core.connection = self.core.connection, None
            if conn is not None:
                closed(await self._request(forward_close_message(conn), timeout, "Forward Close"))

    # -- what a Logix controller says about itself -----------------------------------------------
    @property
    def logix(self) -> LogixTypes:
        """The tags and structure templates learned from the controller (so far)."""
        return self.core.logix

    async def tag_list(self, programs: bool = True, *, refresh: bool = False,
                       timeout: float | None = None) -> list[TagInfo]:
        """The controller's tags (and each program's), uploaded once per connection with the templates
        of every structure they use; TagListError if the device refuses."""
        async with self._lock:
            return await self._tag_list(programs, refresh, self.timeout if timeout is None else timeout)

    async def _tag_list(self, programs: bool, refresh: bool, wait: float | None) -> list[TagInfo]:
        types = self.core.logix
        if types.loaded and not refresh:
            return list(types.tags.values())
        proc = upload(types, programs)
        try:
            ops = next(proc)
            while True:
                engine = OperationEngine(self.core, ops, addressing=self.core.addressing)
                ops = proc.send(await self._drive(engine, wait))
        except StopIteration as stop:
            return stop.value

    # -- operations ------------------------------------------------------------------------------
    async def _drive(self, engine: OperationEngine, wait: float | None, limit: int | None = None) -> list[Result]:
        """Run ``engine`` (the caller holds the lock) until it is finished, or until ``limit`` results
        are ready; then stop sending and take the replies still in flight, so that the lock can be
        released with no request outstanding.  Called again, it carries on where it stopped."""
        out: list[Result] = []
        while True:
            if limit is None or len(out) < limit:
                sent = engine.outgoing()
                if sent:
                    self._send(b"".join(sent))
            out += engine.results()
            if engine.finished:
                return out
            if not engine.waiting:
                if limit is not None and len(out) >= limit:
                    return out
                if engine.stalled:
                    raise CommunicationError(f"operations unfinished with no request to {self.addr[0]}:"
                                             f"{self.addr[1]} outstanding")
                continue
            frames, self._pending = self._pending, []
            if not frames:
                frames = await self._receive(wait, f"{len(engine.inflight)} requests unanswered")
            for frame in frames:
                engine.receive(frame, self.peer)

    async def pipeline(self, operations: Iterable[Mapping[str, Any]], *, depth: int = 1, multiple: int = 0,
                       fragment: bool = False, timeout: float | None = None, index: int | None = None,
                       replies: bool = True, **addressing: Any) -> AsyncIterator[Result]:
        """Issue ``operations`` with up to ``depth`` requests in flight; yield 6-tuples in order.

        The connection is held only while requests are outstanding, never while a result is being
        yielded: a caller may keep the generator suspended and still use the connection meanwhile
        (results arrive in batches of at most a few hundred operations)."""
        wait = self.timeout if timeout is None else timeout
        addr = self.core.addressing
        options = {k: v for k, v in addressing.items() if v is not None}
        if options:
            addr = addr.with_options(**options)
        limit = max(_BATCH, 4 * max(1, depth or 1))
        plan = Plan(self.core.logix, operations)
        while True:
            async with self._lock:
                engine = OperationEngine(self.core, plan.feed(), depth=depth, multiple=multiple, fragment=fragment,
                                         index=index, addressing=addr, replies=replies)
            index = None
            while True:
                async with self._lock:
                    batch = await self._drive(engine, wait, limit)
                for result in batch:
                    if plan.take(result):
                        yield result
                if engine.finished:
                    break
            if plan.wants_upload:
                async with self._lock:
                    try:
                        await self._tag_list(True, False, wait)
                    except TagListError as exc:
                        self.core.logix.failed = str(exc)
            for result in plan.flush():
                yield result
            if plan.finished:
                return

    async def operate(self, operations: Iterable[Mapping[str, Any]], *, depth: int = 0, validating: bool = False,
                      printing: bool = False, **kwds: Any) -> AsyncIterator[Result]:
        """``pipeline`` (depth 0 is one at a time), optionally validating/printing each result."""
        async for result in self.pipeline(operations, depth=max(1, depth or 0), **kwds):
            if validating or printing:
                yield next(validate([result], validating=validating, printing=printing))
            else:
                yield result

    async def results(self, operations: Iterable[Mapping[str, Any]], **kwds: Any) -> list[Any]:
        kwds.setdefault("replies", False)  # values only: skip building reply dotdicts
        return [val async for *_, val in self.operate(operations, **kwds)]

    async def process(self, operations: Iterable[Mapping[str, Any]], **kwds: Any) -> tuple[int, list[Any]]:
        """Run every operation; (number of failures, [values...])."""
        kwds.setdefault("validating", True)
        values = await self.results(operations, **kwds)
        return sum(v is None for v in values), values

    # -- one-shot coroutines ---------------------------------------------------------------------
    async def _one(self, op: dict[str, Any], **kwds: Any) -> Any:
        async for _, dsc, _, _, sts, val in self.pipeline([op], **kwds):
            if val is None:
                raise RequestFailed(dsc, sts)
            return val
        raise CommunicationError("no result")  # pragma: no cover - the engine yields one per operation

    async def read(self, tag: str | list[dict[str, Any]], elements: int | None = None, offset: int | None = None,
                   **kwds: Any) -> list[Any]:
        """The values of ``tag`` ("Tag[0-9]", "@2/1/1", or JSON segments); RequestFailed on an error status."""
        if isinstance(tag, str):
            op = parse_operation(tag)
            if op["method"] != "read":
                raise ValueError(f"{tag!r} is a write; use .write")
        else:
            op = {"method": "read", "path": tag, "elements": 1}
        if elements is not None:
            op["elements"] = elements
        if offset is not None:
            op["offset"] = offset
        return await self._one(op, **kwds)

    async def write(self, tag: str | list[dict[str, Any]], data: Iterable[Any] | None = None,
                    tag_type: str | int | None = None, **kwds: Any) -> bool:
        """Write ``"Tag[0-2]=(DINT)1,2,3"``, or ``tag`` with ``data`` of ``tag_type`` (default INT; dicts
        are structures, and a bit address ``"D.3"`` takes bools)."""
        if data is None:
            if not isinstance(tag, str):
                raise ValueError("write needs data")
            op = parse_operation(tag)
            if op["method"] != "write":
                raise ValueError(f"{tag!r} has no '=' values")
        else:
            values = [data] if isinstance(data, Mapping) else list(data)
            path, n, off, _, bit = parse_address_text(tag) if isinstance(tag, str) else (tag, None, None, False, None)
            if tag_type is not None:
                code = type_by_name(tag_type).code if isinstance(tag_type, str) else int(tag_type)
            elif values and all(isinstance(v, Mapping) for v in values):
                code = STRUCTURE
            else:
                code = TypeCode.BOOL if bit is not None else TypeCode.INT
            op = {"method": "write", "path": path, "elements": n or len(values), "tag_type": code, "data": values}
            if bit is not None:
                op.update(bit=bit, elements=1)
            if off:
                op["offset"] = off
        return bool(await self._one(op, **kwds))

    async def get_attribute_single(self, path: str | list[dict[str, Any]], tag_type: Any = None,
                                   **kwds: Any) -> Any:
        return await self._attribute("get_attribute_single", path, tag_type, None, **kwds)

    async def get_attributes_all(self, path: str | list[dict[str, Any]], **kwds: Any) -> Any:
        return await self._attribute("get_attributes_all", path, None, None, **kwds)

    async def set_attribute_single(self, path: str | list[dict[str, Any]], data: Iterable[Any],
                                   tag_type: Any = None, **kwds: Any) -> bool:
        return bool(await self._attribute("set_attribute_single", path, tag_type, list(data), **kwds))

    async def _attribute(self, method: str, path: Any, tag_type: Any, data: list[Any] | None, **kwds: Any) -> Any:
        segs = parse_path(path)[0] if isinstance(path, str) else path
        op: dict[str, Any] = {"method": method, "path": segs}
        if tag_type is not None:
            op["tag_type"] = type_by_name(tag_type).code if isinstance(tag_type, str) else int(tag_type)
        if data is not None:
            op["data"] = data
            op["elements"] = len(data)
        return await self._one(op, **kwds)

    async def _command(self, command: int, timeout: float | None) -> dotdict:
        async with self._lock:
            self._send(self.core.command_frame(command, command))
            frame = await self._frame(self.timeout if timeout is None else timeout, f"command 0x{command:04X}")
            return frame_dotdict(frame, self.peer)

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
