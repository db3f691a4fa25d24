"""The blocking EtherNet/IP client: documented ``client`` and ``connector`` over plain sockets.

All protocol work is done by :mod:`.core` and the procedures of :mod:`.procedures` (shared with
the asyncio connector); this module only moves bytes (``_stream`` carries a procedure out with
a selector and ``recv``).  ``client`` is the low-level object (a TCP or UDP socket, optionally
broadcast, and the request methods whose replies are harvested with ``readable()`` /
``next(conn)``); ``connector`` adds the registered session, the operation methods (``pipeline``,
``synchronous``, ``operate``, ``results``, ``process``), the one-shot ``read_tag``/``write_tag``/...
that return values, connected messaging, and what a Logix controller tells about itself
(``tag_list``, the structure templates that decode UDT values).
"""

from __future__ import annotations

import collections
import contextlib
import selectors
import socket
import time
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from ..cip.services import ConnectionManagerService
from ..cip.types import TypeCode
from ..dotdict import dotdict
from ..enip.encapsulation import Command, Encapsulation, decode_frame
from ..errors import CommunicationError, DecodeError
from . import procedures
from .connection import Connection
from .core import MISSING, Addressing, ClientCore, context_bytes
from .engine import Result, operation_messages, request_dotdict
from .operations import parse_path
from .procedures import Deliver, Procedure, RequestFailed
from .replies import frame_dotdict
from .tag_list import LogixTypes, TagInfo

__all__ = ["RequestFailed", "await_response", "client", "connector"]

T = TypeVar("T")
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
        self.link = procedures.Link(self.core, f"{self.addr[0]}:{self.addr[1]}")
        self._frames: collections.deque[tuple[Encapsulation, Any]] = collections.deque()
        self.eof = False
        self.conn: socket.socket | None = None
        self.peer: Any = self.addr
        self._source = parse_source(source_address)
        self._attach(self._connect(self._source))

    def _attach(self, sock: socket.socket) -> None:
        """Use ``sock``: a fresh link, nothing received yet."""
        self.conn = sock
        # a selector, not select.select(): that fails on descriptors of 1024 and above
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)
        self._frames.clear()
        self.eof = self.link.closed = False

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
        """Close the session (Forward Close if connected, Unregister Session; see
        ``procedures.close``) and the socket.  Closing again does nothing."""
        if self.conn is not None and not self.udp and not self.link.closed:
            wait = 1.0 if self.timeout is None else min(self.timeout, 1.0)
            with contextlib.suppress(CommunicationError):
                self._perform(procedures.close(self.link, wait=wait))
        self.link.closed = True
        if self.conn is not None:
            self._selector.close()
            self.conn.close()
            self.conn = None

    def __enter__(self) -> client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        if self.conn is None:
            raise CommunicationError("the connection is closed")
        try:
            if self.udp and self.broadcast:
                self.conn.sendto(data, self.addr)
            else:
                self.conn.sendall(data)
        except OSError as exc:
            self.link.closed = not self.udp  # a TCP stream that cannot be written carries no more requests
            raise CommunicationError(f"sending to {self.addr[0]}:{self.addr[1]} failed: "
                                     f"{_describe_oserror(exc)}") from exc

    def _receive(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` for data and take the frames it completes; False if none came."""
        if self.conn is None or self.eof:
            return False
        if self.profiler is not None:
            self.profiler.disable()
        try:
            if not self._selector.select(timeout):
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
            self.eof = self.link.closed = True
            return False
        try:
            for frame in self.core.receive_data(data):
                self._frames.append((frame, self.peer))
        except DecodeError as exc:
            self.eof = self.link.closed = True
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
        return frame_dotdict(*self._perform(procedures.register(self.link, wait=wait, context=sender_context)))

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

    def write(self, path: Any, data: Any, elements: int | None = None, offset: int = 0, tag_type: int = TypeCode.INT,  # noqa: PLR0917 - documented signature
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

    # -- the driver: carries out the effects of a procedure (see .procedures) --------------------
    def _wait(self, timeout: float | None) -> float | None:
        return self.timeout if timeout is None else timeout

    def _flush(self) -> None:
        """Write out what the procedure has sent (cleared first: a failed send is not repeated)."""
        outbox = self.link.outbox
        data = b"".join(outbox)  # one frame: that very object, not a copy
        outbox.clear()
        if data:
            self.send(data)

    def _stream(self, proc: Procedure[T]) -> Generator[Any, None, T]:
        """Carry out a procedure: yield what it delivers as it delivers it; return its value."""
        answer = None
        outbox, frames = self.link.outbox, self._frames
        try:
            while True:
                try:
                    effect = proc.send(answer)
                except StopIteration as stop:
                    self._flush()
                    return stop.value
                except BaseException:
                    outbox.clear()  # what a failed procedure sent is not written
                    raise
                if outbox:
                    self._flush()
                if type(effect) is Deliver:
                    answer = None
                    yield from effect.results
                    continue
                # Receive: the queue of frames; empty if none came within the timeout, None at end of file
                if not frames and self._receive(effect.timeout) and not frames:
                    # a frame begun: wait for the rest of it, within what is left of the time
                    deadline = effect.deadline
                    self.readable(effect.timeout if deadline is None else max(0.0, deadline - time.monotonic()))
                answer = frames if frames or not self.eof else None
        finally:
            proc.close()

    def _perform(self, proc: Procedure[T]) -> T:
        """Carry out a procedure that delivers nothing; its return value."""
        try:
            item = next(self._stream(proc))
        except StopIteration as stop:
            return stop.value
        raise TypeError(f"the procedure delivered {item!r}: stream it")

    def __repr__(self) -> str:
        kind = "UDP" if self.udp else "TCP"
        return f"<{type(self).__name__} {kind} {self.addr[0]}:{self.addr[1]} session {self.core.session}>"


class connector(client):  # the documented (lower-case) name
    """A registered session (TCP) or a UDP channel, with the documented operation methods.

    With ``connected=True`` it also opens a class 3 connection (a Large Forward Open of
    ``connection_size`` bytes), and operations then travel as connected SendUnitData requests.
    With ``logix=True`` it uploads the tag list and structure templates at once, and treats the
    elements of DWORD arrays as the BOOLs a Logix stores in them (``BITS[37]``).  Every method
    here is a call to a procedure of :mod:`.procedures`, which the asyncio connector shares.
    """

    def __init__(self, host: str | None = None, port: int | None = None, timeout: float | None = None,  # noqa: PLR0917 - documented signature
                 dialect: Any = None, udp: bool = False, broadcast: bool = False, source_address: Any = None,
                 profiler: Any = None, *, connected: bool = False, connection_size: int = 4002,
                 logix: bool = False, **kwds: Any) -> None:
        super().__init__(host, port, timeout, dialect, udp, broadcast, source_address, profiler, **kwds)
        self._start = {"connected": connected, "size": connection_size, "logix": logix}
        self._begin()

    def _begin(self) -> None:
        if not self.udp:
            try:
                self._perform(procedures.start(self.link, wait=self.timeout, **self._start))
            except BaseException:
                self.close()
                raise

    def open(self) -> connector:
        """Connect again (after ``close()``, a failure, or the device restarting): a new socket,
        session, connection and tag list, with the options first given."""
        self.close()
        self.core.reset()
        self._attach(self._connect(self._source))
        self._begin()
        return self

    def __enter__(self) -> connector:
        if self.conn is None:  # closed: a with block opens it again
            self.open()
        return self

    # -- what a Logix controller says about itself -----------------------------------------------
    @property
    def logix(self) -> LogixTypes:
        """The tags and structure templates learned from the controller (so far)."""
        return self.core.logix

    def tag_list(self, programs: bool = True, *, refresh: bool = False, timeout: float | None = None) -> list[TagInfo]:
        """The controller's tags (and each program's, with ``programs``), uploaded once per connection
        with the templates of every structure they use; TagListError if the device refuses."""
        return self._perform(procedures.tag_list(self.link, programs, refresh=refresh, wait=self._wait(timeout)))

    # -- connected messaging ---------------------------------------------------------------------
    def forward_open(self, size: int = 4002, *, large: bool | None = None, timeout: float | None = None,
                     route_path: Any = MISSING) -> Connection:
        """Open a class 3 connection to the Message Router (along the route path); later operations use it."""
        return self._perform(procedures.forward_open(self.link, size, large=large, route_path=route_path,
                                                     wait=self._wait(timeout)))

    def forward_close(self, timeout: float | None = None) -> None:
        """Close the connection (operations go unconnected again)."""
        self._perform(procedures.forward_close(self.link, wait=self._wait(timeout)))

    # -- operations ------------------------------------------------------------------------------
    def pipeline(self, operations: Iterable[Mapping[str, Any]], index: int | None = None, fragment: bool = False,  # noqa: PLR0917 - documented signature
                 multiple: int = 0, timeout: float | None = None, depth: int = 1,
                 **addressing: Any) -> Iterator[Result]:
        """Issue ``operations`` with up to ``depth`` requests in flight; yield 6-tuples in order."""
        return self._stream(procedures.pipeline(self.link, operations, wait=self._wait(timeout), depth=depth,
                                                multiple=multiple, fragment=fragment, index=index, **addressing))

    def synchronous(self, operations: Iterable[Mapping[str, Any]], index: int | None = None,
                    fragment: bool = False, multiple: int = 0, timeout: float | None = None,
                    **addressing: Any) -> Iterator[Result]:
        """Issue ``operations`` one request at a time: each result is yielded before the next request
        is sent (depth 0)."""
        return self.pipeline(operations, index, fragment, multiple, timeout, depth=0, **addressing)

    def operate(self, operations: Iterable[Mapping[str, Any]], index: int | None = None, fragment: bool = False,  # noqa: PLR0917 - documented signature
                multiple: int = 0, timeout: float | None = None, depth: int = 0, validating: bool = False,
                printing: bool = False, **addressing: Any) -> Iterator[Result]:
        """``synchronous`` (depth 0) or ``pipeline``; optionally validate/print each result."""
        return self._stream(procedures.operate(self.link, operations, wait=self._wait(timeout), depth=depth,
                                               validating=validating, printing=printing, index=index,
                                               fragment=fragment, multiple=multiple, **addressing))

    def results(self, operations: Iterable[Mapping[str, Any]], *, timeout: float | None = None,
                **kwds: Any) -> Iterator[Any]:
        """Just the values, in order (None for each failure)."""
        return self._stream(procedures.results(self.link, operations, wait=self._wait(timeout), **kwds))

    def process(self, operations: Iterable[Mapping[str, Any]], depth: int = 0, multiple: int = 0,  # noqa: PLR0917 - documented signature
                fragment: bool = False, printing: bool = False, timeout: float | None = None,
                **kwds: Any) -> tuple[int, list[Any]]:
        """Run every operation; return (number of failures, [values...])."""
        return procedures.tally(list(self.results(operations, depth=depth, multiple=multiple, fragment=fragment,
                                                  printing=printing, timeout=timeout, **kwds)))

    # -- one-shot operations: values, or RequestFailed (as the asyncio connector's) -------------
    def read_tag(self, tag: str | list[dict[str, Any]], elements: int | None = None, offset: int | None = None,
                 timeout: float | None = None, **kwds: Any) -> list[Any]:
        """The values of ``tag`` ("Tag[0-9]", "@2/1/1", or JSON segments); RequestFailed on an error status."""
        return self._perform(procedures.read_tag(self.link, tag, elements, offset, wait=self._wait(timeout), **kwds))

    def write_tag(self, tag: str | list[dict[str, Any]], data: Any = None, tag_type: str | int | None = None,
                  timeout: float | None = None, **kwds: Any) -> bool:
        """Write ``"Tag[0-2]=(DINT)1,2,3"``, or ``tag`` with ``data`` of ``tag_type`` (default INT); True."""
        return self._perform(procedures.write_tag(self.link, tag, data, tag_type, wait=self._wait(timeout), **kwds))

    def get_attribute(self, path: str | list[dict[str, Any]], tag_type: Any = None, timeout: float | None = None,
                      **kwds: Any) -> Any:
        """Get Attribute Single: raw USINT values, or values of ``tag_type``."""
        return self._perform(procedures.get_attribute(self.link, path, tag_type, wait=self._wait(timeout), **kwds))

    def get_attributes(self, path: str | list[dict[str, Any]], timeout: float | None = None, **kwds: Any) -> Any:
        """Get Attributes All: raw USINT values."""
        return self._perform(procedures.get_attributes(self.link, path, wait=self._wait(timeout), **kwds))

    def cip_request(self, message: bytes, timeout: float | None = None) -> bytes:
        """Send an encoded CIP request bare (no Unconnected Send); its encoded reply."""
        return self._perform(procedures.cip_request(self.link, message, wait=self._wait(timeout)))

    def set_attribute(self, path: str | list[dict[str, Any]], data: Iterable[Any], tag_type: Any = None,
                      timeout: float | None = None, **kwds: Any) -> bool:
        """Set Attribute Single to ``data`` (raw USINT values, or values of ``tag_type``); True."""
        return self._perform(procedures.set_attribute(self.link, path, data, tag_type, wait=self._wait(timeout),
                                                      **kwds))


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
