"""The blocking EtherNet/IP client: documented ``client`` and ``connector`` over plain sockets.

All protocol work is done by :mod:`.core`; this module only moves bytes.  ``client`` is the
low-level object (a TCP or UDP socket, optionally broadcast, and the request methods whose
replies are harvested with ``readable()`` / ``next(conn)``); ``connector`` adds the registered
session and the operation methods (``pipeline``, ``synchronous``, ``operate``, ``results``,
``process``), which run an :class:`~.core.OperationEngine` to completion, and what a Logix
controller tells about itself (``tag_list``, the structure templates that decode UDT values).
"""

from __future__ import annotations

import collections
import contextlib
import select
import socket
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..cip.services import ConnectionManagerService
from ..dotdict import dotdict
from ..enip.encapsulation import Command, Encapsulation, decode_frame
from ..errors import CommunicationError, DecodeError
from .connection import Connection, closed, forward_close_message, forward_open_message, opened
from .core import MISSING, Addressing, ClientCore, context_bytes
from .engine import OperationEngine, Result, operation_messages, request_dotdict, validate
from .logix import LogixTypes, Plan, TagInfo, TagListError, run_procedure, upload
from .operations import parse_path
from .replies import frame_dotdict

__all__ = ["await_response", "client", "connector"]

_MISSING = MISSING
_RECV = 1 << 16


def parse_source(source_address: Any) -> tuple[str, int] | None:
    """``"1.2.3.4"``, ``"1.2.3.4:12345"`` or a (host, port) tuple."""
    if source_address is None or source_address == "":
        return None
    if isinstance(source_address, str):
        host, _, port = source_address.rpartition(":") if ":" in source_address else (source_address, "", "0")
        return host, int(port or 0)
    host, port = source_address
    return str(host), int(port)


def _describe_oserror(exc: OSError) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    return exc.strerror or str(exc)


class client:  # the documented (lower-case) name
    """A TCP (or UDP, optionally broadcast) EtherNet/IP CIP channel to ``host``:``port``."""

    def __init__(self, host: str | None = None, port: int | None = None, timeout: float | None = None,  # noqa: PLR0917 - documented signature
                 dialect: Any = None, udp: bool = False, broadcast: bool = False, source_address: Any = None,
                 profiler: Any = None, *, route_path: Any = _MISSING, send_path: Any = _MISSING,
                 simple: bool = False, priority_time_tick: int | None = None,
                 timeout_ticks: int | None = None) -> None:
        self.addr = (host or "localhost", int(port or 44818))
        self.timeout = timeout
        self.dialect = dialect
        self.udp = bool(udp or broadcast)
        self.broadcast = bool(broadcast)
        self.profiler = profiler
        self.core = ClientCore(Addressing.of(route_path, send_path, simple=simple,
                                             priority_time_tick=priority_time_tick, timeout_ticks=timeout_ticks))
        self._frames: collections.deque[tuple[Encapsulation, Any]] = collections.deque()
        self.eof = False
        self.conn: socket.socket | None = None
        self.peer: Any = self.addr
        self.conn = self._connect(parse_source(source_address))

    # -- transport -------------------------------------------------------------------------------
    def _connect(self, source: tuple[str, int] | None) -> socket.socket:
        where = f"{self.addr[0]}:{self.addr[1]}"
        try:
            if self.udp:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    if self.broadcast:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
                    if source is not None:
                        sock.bind(source)
                    if not self.broadcast:
                        sock.connect(self.addr)
                except BaseException:
                    sock.close()
                    raise
                return sock
            sock = socket.create_connection(self.addr, timeout=self.timeout, source_address=source)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(None)
            self.peer = sock.getpeername()[:2]
            return sock
        except OSError as exc:
            raise CommunicationError(f"cannot connect to {where}: {_describe_oserror(exc)}") from exc

    @property
    def session(self) -> int:
        return self.core.session

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def send(self, data: bytes) -> None:
        if self.conn is None:
            raise CommunicationError("the connection is closed")
        try:
            if self.udp and self.broadcast:
                self.conn.sendto(data, self.addr)
            else:
                self.conn.sendall(data)
        except OSError as exc:
            raise CommunicationError(f"sending to {self.addr[0]}:{self.addr[1]} failed: "
                                     f"{_describe_oserror(exc)}") from exc

    def _receive(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` for data and take the frames it completes; False if none came."""
        if self.conn is None or self.eof:
            return False
        if self.profiler is not None:
            self.profiler.disable()
        try:
            ready, _, _ = select.select([self.conn], [], [], timeout)
            if not ready:
                return False
            if self.udp:
                data, peer = self.conn.recvfrom(_RECV)
                with contextlib.suppress(DecodeError):  # not EtherNet/IP: ignore the datagram
                    self._frames.append((decode_frame(data), peer[:2]))
                return True
            data = self.conn.recv(_RECV)
        except OSError as exc:
            raise CommunicationError(f"receiving from {self.addr[0]}:{self.addr[1]} failed: "
                                     f"{_describe_oserror(exc)}") from exc
        finally:
            if self.profiler is not None:
                self.profiler.enable()
        if not data:
            self.eof = True
            return False
        try:
            for frame in self.core.receive_data(data):
                self._frames.append((frame, self.peer))
        except DecodeError as exc:
            self.eof = True
            raise CommunicationError(f"invalid reply from {self.addr[0]}:{self.addr[1]}: {exc}") from exc
        return True

    def readable(self, timeout: float | None = 0) -> bool:
        """True if a reply is ready (waiting up to ``timeout`` seconds for one)."""
        if self._frames:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._frames:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._receive(left):
                return bool(self._frames)
            if deadline is not None and time.monotonic() >= deadline:
                break
        return bool(self._frames)

    def next_frame(self, timeout: float | None = 0) -> tuple[Encapsulation, Any] | None:
        """The next reply frame and its peer, or None if none arrived within ``timeout``."""
        if self._frames or self.readable(timeout):
            return self._frames.popleft()
        return None

    def __iter__(self) -> client:
        return self

    def __next__(self) -> dotdict | None:
        """The next reply (a dotdict with a ``peer`` entry), None if none is ready; StopIteration at EOF."""
        if not self._frames and not self.readable(0) and self.eof:
            raise StopIteration
        if not self._frames:
            return None
        frame, peer = self._frames.popleft()
        return frame_dotdict(frame, peer)

    # -- session-level requests ------------------------------------------------------------------
    def _command(self, command: int, sender_context: Any = b"", data: bytes = b"") -> dotdict:
        frame = self.core.command_frame(command, context_bytes(sender_context), data)
        self.send(frame)
        return request_dotdict(frame)

    def list_identity(self, timeout: float | None = None, sender_context: Any = b"") -> dotdict:
        return self._command(Command.LIST_IDENTITY, sender_context)

    def list_services(self, timeout: float | None = None, sender_context: Any = b"") -> dotdict:
        return self._command(Command.LIST_SERVICES, sender_context)

    def list_interfaces(self, timeout: float | None = None, sender_context: Any = b"") -> dotdict:
        return self._command(Command.LIST_INTERFACES, sender_context)

    def legacy(self, command: int = 0x0001, timeout: float | None = None, sender_context: Any = b"") -> dotdict:
        return self._command(command, sender_context)

    def nop(self, data: bytes = b"") -> dotdict:
        return self._command(Command.NOP, b"", data)

    def register(self, timeout: float | None = _MISSING, sender_context: Any = b"") -> dotdict:
        """Register a session (TCP only) and wait for its handle; returns the reply."""
        wait = self.timeout if timeout is _MISSING else timeout
        self.send(self.core.register_frame(context_bytes(sender_context)))
        got = self.next_frame(wait)
        if got is None:
            raise CommunicationError(f"no reply to RegisterSession from {self.addr[0]}:{self.addr[1]}"
                                     + (f" within {wait}s" if wait is not None else ""))
        frame, peer = got
        self.core.registered(frame)
        return frame_dotdict(frame, peer)

    def unregister(self) -> None:
        if self.core.session and self.conn is not None and not self.udp:
            with contextlib.suppress(CommunicationError):
                self.send(self.core.unregister_frame())
            self.core.session = 0

    # -- CIP requests (replies harvested with readable()/next()) --------------------------------
    def _issue(self, op: dict[str, Any], fragment: bool, send: bool, sender_context: Any,
               options: dict[str, Any]) -> dotdict:
        addressing = self.core.addressing.with_options(**{k: v for k, v in options.items() if v is not _MISSING})
        context = context_bytes(sender_context)
        frames = b"".join(self.core.send_frame(m, context) for m in operation_messages(op, addressing, fragment))
        if send:
            self.send(frames)
        return request_dotdict(frames, op)

    @staticmethod
    def _path(path: Any, elements: int | None, offset: int | None) -> tuple[Any, int, int]:
        if isinstance(path, str):
            segs, n, off, _ = parse_path(path)
            return segs, int(n or elements or 1), int(off or offset or 0)
        return path, int(elements or 1), int(offset or 0)

    def read(self, path: Any, elements: int = 1, offset: int = 0, route_path: Any = _MISSING,  # noqa: PLR0917 - documented signature
             send_path: Any = _MISSING, timeout: float | None = None, send: bool = True,
             sender_context: Any = b"", fragment: bool = True, **kwds: Any) -> dotdict:
        """Issue a Read Tag [Fragmented] for ``path`` ("Tag[0-1]" or JSON segments)."""
        segs, n, off = self._path(path, elements, offset)
        op = {"method": "read", "path": segs, "elements": n, "offset": off}
        return self._issue(op, fragment, send, sender_context, dict(route_path=route_path, send_path=send_path,
                                                                     **kwds))

    def write(self, path: Any, data: Any, elements: int | None = None, offset: int = 0, tag_type: int = 0xC3,  # noqa: PLR0917 - documented signature
              route_path: Any = _MISSING, send_path: Any = _MISSING, timeout: float | None = None,
              send: bool = True, sender_context: Any = b"", fragment: bool = True, **kwds: Any) -> dotdict:
        """Issue a Write Tag [Fragmented] of ``data`` (values of ``tag_type``, default INT)."""
        segs, n, off = self._path(path, elements or len(data), offset)
        op = {"method": "write", "path": segs, "elements": n, "offset": off, "tag_type": tag_type,
              "data": data}
        return self._issue(op, fragment, send, sender_context, dict(route_path=route_path, send_path=send_path,
                                                                     **kwds))

    def get_attribute_single(self, path: Any, route_path: Any = _MISSING, send_path: Any = _MISSING,  # noqa: PLR0917 - documented signature
                             timeout: float | None = None, send: bool = True, sender_context: Any = b"",
                             **kwds: Any) -> dotdict:
        segs, _, _ = self._path(path, 1, 0)
        return self._issue({"method": "get_attribute_single", "path": segs}, False, send, sender_context,
                           dict(route_path=route_path, send_path=send_path, **kwds))

    def get_attributes_all(self, path: Any, route_path: Any = _MISSING, send_path: Any = _MISSING,  # noqa: PLR0917 - documented signature
                           timeout: float | None = None, send: bool = True, sender_context: Any = b"",
                           **kwds: Any) -> dotdict:
        segs, _, _ = self._path(path, 1, 0)
        return self._issue({"method": "get_attributes_all", "path": segs}, False, send, sender_context,
                           dict(route_path=route_path, send_path=send_path, **kwds))

    def set_attribute_single(self, path: Any, data: Any, elements: int | None = None, tag_type: int | None = None,  # noqa: PLR0917 - documented signature
                             route_path: Any = _MISSING, send_path: Any = _MISSING, timeout: float | None = None,
                             send: bool = True, sender_context: Any = b"", **kwds: Any) -> dotdict:
        """Set an attribute to ``data``: raw USINT/SINT values, or values of ``tag_type``."""
        segs, _, _ = self._path(path, 1, 0)
        op = {"method": "set_attribute_single", "path": segs, "data": data, "tag_type": tag_type,
              "elements": elements or len(data)}
        return self._issue(op, False, send, sender_context, dict(route_path=route_path, send_path=send_path,
                                                                  **kwds))

    def unconnected_send(self, request: bytes, route_path: Any = _MISSING, send_path: Any = _MISSING,
                         sender_context: Any = b"", send: bool = True, **kwds: Any) -> dotdict:
        """Send an already-encoded CIP request, wrapped per ``send_path``/``route_path``."""
        addressing = self.core.addressing.with_options(
            **{k: v for k, v in dict(route_path=route_path, send_path=send_path, **kwds).items() if v is not _MISSING})
        frame = self.core.send_frame(addressing.wrap(request), context_bytes(sender_context))
        if send:
            self.send(frame)
        return request_dotdict(frame, {"service": ConnectionManagerService.UNCONNECTED_SEND})

    def __repr__(self) -> str:
        kind = "UDP" if self.udp else "TCP"
        return f"<{type(self).__name__} {kind} {self.addr[0]}:{self.addr[1]} session {self.core.session}>"


class connector(client):  # the documented (lower-case) name
    """A registered session (TCP) or a UDP channel, with the documented operation methods.

    With ``connected=True`` it also opens a class 3 connection (a Large Forward Open of
    ``connection_size`` bytes), and operations then travel as connected SendUnitData requests.
    With ``logix=True`` it uploads the tag list and structure templates at once, and treats the
    elements of DWORD arrays as the BOOLs a Logix stores in them (``BITS[37]``).
    """

    def __init__(self, host: str | None = None, port: int | None = None, timeout: float | None = None,  # noqa: PLR0917 - documented signature
                 dialect: Any = None, udp: bool = False, broadcast: bool = False, source_address: Any = None,
                 profiler: Any = None, *, connected: bool = False, connection_size: int = 4002,
                 logix: bool = False, **kwds: Any) -> None:
        super().__init__(host, port, timeout, dialect, udp, broadcast, source_address, profiler, **kwds)
        if not self.udp:
            try:
                self.register(timeout)
                if connected:
                    self.forward_open(connection_size, timeout=timeout)
                if logix:
                    self.core.logix.logix = True
                    self.tag_list()
            except BaseException:
                self.close()
                raise

    # -- what a Logix controller says about itself -----------------------------------------------
    @property
    def logix(self) -> LogixTypes:
        """The tags and structure templates learned from the controller (so far)."""
        return self.core.logix

    def tag_list(self, programs: bool = True, *, refresh: bool = False, timeout: float | None = None) -> list[TagInfo]:
        """The controller's tags (and each program's, with ``programs``), uploaded once per connection
        with the templates of every structure they use; TagListError if the device refuses."""
        types = self.core.logix
        if types.loaded and not refresh:
            return list(types.tags.values())
        return run_procedure(upload(types, programs), lambda ops: list(self.run(self.engine(ops), timeout)))

    def _learn(self, timeout: float | None) -> None:
        try:
            self.tag_list(timeout=timeout)
        except TagListError as exc:
            self.core.logix.failed = str(exc)

    def _request(self, message: bytes, timeout: float | None, what: str) -> Encapsulation:
        context = context_bytes(self.core.next_context())
        self.send(self.core.send_frame(message, context))
        wait = self.timeout if timeout is None else timeout
        deadline = None if wait is None else time.monotonic() + wait
        for _ in range(1000):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            got = self.next_frame(left)
            if got is None:
                break
            if got[0].context == context:
                return got[0]
        raise CommunicationError(f"no reply to {what} from {self.addr[0]}:{self.addr[1]}"
                                 + (f" within {wait}s" if wait is not None else ""))

    def forward_open(self, size: int = 4002, *, large: bool | None = None, timeout: float | None = None,
                     route_path: Any = MISSING) -> Connection:
        """Open a class 3 connection to the Message Router (along the route path); later operations use it."""
        route = self.core.addressing.route_path if route_path is MISSING else \
            self.core.addressing.with_options(route_path=route_path).route_path
        message, fo = forward_open_message(route, size, large)
        self.core.connection = opened(self._request(message, timeout, "Forward Open"), fo)
        return self.core.connection

    def forward_close(self, timeout: float | None = None) -> None:
        """Close the connection (operations go unconnected again)."""
        conn, self.core.connection = self.core.connection, None
        if conn is not None and self.conn is not None and not self.eof:
            closed(self._request(forward_close_message(conn), timeout, "Forward Close"))

    def close(self) -> None:
        if self.core.connection is not None:
            with contextlib.suppress(CommunicationError):
                self.forward_close(timeout=1.0 if self.timeout is None else min(self.timeout, 1.0))
        self.unregister()
        super().close()

    def __enter__(self) -> connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operations ------------------------------------------------------------------------------
    def run(self, engine: OperationEngine, timeout: float | None = _MISSING) -> Iterator[Result]:
        """Drive ``engine``: send, harvest replies, yield results in order."""
        wait = self.timeout if timeout is _MISSING or timeout is None else timeout
        while True:
            out = engine.outgoing()
            if out:
                self.send(b"".join(out) if len(out) > 1 else out[0])
            yield from engine.results()
            if engine.finished:
                return
            if not engine.waiting:
                if engine.stalled:
                    raise CommunicationError(f"operations unfinished with no request to {self.addr[0]}:"
                                             f"{self.addr[1]} outstanding")
                continue
            if not self._frames and not self._receive(wait):
                if self.eof:
                    raise CommunicationError(f"{self.addr[0]}:{self.addr[1]} closed the connection with "
                                             f"{len(engine.inflight)} requests unanswered")
                raise CommunicationError(f"no reply from {self.addr[0]}:{self.addr[1]} within {wait}s "
                                         f"({len(engine.inflight)} requests unanswered)")
            frames = self._frames
            while frames:
                frame, peer = frames.popleft()
                engine.receive(frame, peer)

    def engine(self, operations: Iterable[Mapping[str, Any]], *, depth: int = 1, multiple: int = 0,
               fragment: bool = False, index: int | None = None, replies: bool = True,
               **addressing: Any) -> OperationEngine:
        addr = self.core.addressing
        options = {k: v for k, v in addressing.items() if v is not None and v is not _MISSING}
        if options:
            addr = addr.with_options(**options)
        return OperationEngine(self.core, operations, depth=depth, multiple=multiple, fragment=fragment,
                               index=index, addressing=addr, replies=replies)

    def pipeline(self, operations: Iterable[Mapping[str, Any]], index: int | None = None, fragment: bool = False,  # noqa: PLR0917 - documented signature
                 multiple: int = 0, timeout: float | None = None, depth: int = 1,
                 **addressing: Any) -> Iterator[Result]:
        """Issue ``operations`` with up to ``depth`` requests in flight; yield 6-tuples in order."""
        return self._planned(operations, timeout, dict(depth=depth, multiple=multiple, fragment=fragment,
                                                       index=index, **addressing))

    def _planned(self, operations: Iterable[Mapping[str, Any]], timeout: float | None,
                 options: dict[str, Any]) -> Iterator[Result]:
        """Engines over the operations, pausing to learn the tag list and templates when one needs them."""
        plan = Plan(self.core.logix, operations)
        while True:
            for result in self.run(self.engine(plan.feed(), **options), timeout):
                if plan.take(result):
                    yield result
            options["index"] = None
            if plan.wants_upload:
                self._learn(timeout)
            yield from plan.flush()
            if plan.finished:
                return

    def synchronous(self, operations: Iterable[Mapping[str, Any]], index: int | None = None,
                    fragment: bool = False, multiple: int = 0, timeout: float | None = None,
                    **addressing: Any) -> Iterator[Result]:
        """Issue ``operations`` one request at a time."""
        return self.pipeline(operations, index, fragment, multiple, timeout, depth=1, **addressing)

    def operate(self, operations: Iterable[Mapping[str, Any]], index: int | None = None, fragment: bool = False,  # noqa: PLR0917 - documented signature
                multiple: int = 0, timeout: float | None = None, depth: int = 0, validating: bool = False,
                printing: bool = False, **addressing: Any) -> Iterator[Result]:
        """``synchronous`` (depth 0) or ``pipeline``; optionally validate/print each result."""
        results = self.pipeline(operations, index, fragment, multiple, timeout, depth=max(1, depth or 0),
                                **addressing)
        if validating or printing:
            import logging

            return validate(results, validating=validating, printing=printing,
                            log=logging.getLogger("cpppo.client") if validating else None)
        return results

    def results(self, operations: Iterable[Mapping[str, Any]], **kwds: Any) -> Iterator[Any]:
        """Just the values, in order (None for each failure)."""
        kwds.setdefault("replies", False)  # values only: skip building reply dotdicts
        for _, _, _, _, _, val in self.operate(operations, **kwds):
            yield val

    def process(self, operations: Iterable[Mapping[str, Any]], depth: int = 0, multiple: int = 0,  # noqa: PLR0917 - documented signature
                fragment: bool = False, printing: bool = False, timeout: float | None = None,
                **kwds: Any) -> tuple[int, list[Any]]:
        """Run every operation; return (number of failures, [values...])."""
        kwds.setdefault("validating", True)
        values = list(self.results(operations, depth=depth, multiple=multiple, fragment=fragment,
                                   printing=printing, timeout=timeout, **kwds))
        return sum(v is None for v in values), values


def await_response(cli: client, timeout: float | None = None) -> tuple[dotdict | None, float]:
    """Wait up to ``timeout`` for the next reply: (reply, elapsed); (None, ...) on timeout, ({}, ...) at EOF."""
    begun = time.monotonic()
    response: dotdict | None = None
    if cli.readable(timeout=timeout):
        try:
            response = next(cli)
        except StopIteration:
            response = dotdict()
    elif cli.eof:
        response = dotdict()
    return response, time.monotonic() - begun
