"""The Modbus simulator: pymodbus's asyncio TCP and RTU servers serving our sparse data store.

pymodbus does the framing, sockets, serial port and PDU encoding; we supply the data.  pymodbus
3.x's own stores (``ModbusSparseDataBlock`` and the new ``SimDevice``) build dense blocks where bits
in a gap still read as valid, so :class:`_StoreContext` hands requests to our
:class:`~cpppo.modbus.store.DataStore` directly.  It subclasses ``ModbusServerContext`` and takes
the path pymodbus 3.x keeps for its older simulator context (``old_simulator``): requests arrive as
``async_getValues(unit, function, offset, count)``, which is exactly the store's shape, and lets a
fault delay ``await`` without blocking other clients.

A :class:`ModbusSimulator` runs in the caller's event loop (:meth:`ModbusSimulator.serve`) or in a thread of
its own (:meth:`ModbusSimulator.start` / :meth:`ModbusSimulator.stop`), as tests and benchmarks want.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler

from .address import Table
from .codes import FunctionCode
from .faults import Faults
from .guard import MBAP, MBAP_SIZE, Unframed, mbap_frame, request_exception
from .rtu import install_rtu_framer
from .store import DataStore

__all__ = ["ModbusSimulator", "RequestHandler", "SerialServer", "SerialSettings", "TcpServer"]

log = logging.getLogger(__name__)

_F = FunctionCode
_TABLE_OF_FUNCTION = {
    _F.READ_COILS: Table.COILS, _F.WRITE_SINGLE_COIL: Table.COILS, _F.WRITE_MULTIPLE_COILS: Table.COILS,
    _F.READ_DISCRETE_INPUTS: Table.DISCRETE_INPUTS,
    _F.READ_INPUT_REGISTERS: Table.INPUT_REGISTERS,
    _F.READ_HOLDING_REGISTERS: Table.HOLDING_REGISTERS,
    _F.WRITE_SINGLE_REGISTER: Table.HOLDING_REGISTERS,
    _F.WRITE_MULTIPLE_REGISTERS: Table.HOLDING_REGISTERS,
    _F.MASK_WRITE_REGISTER: Table.HOLDING_REGISTERS,
    _F.READ_WRITE_MULTIPLE_REGISTERS: Table.HOLDING_REGISTERS,
}
_SERVED = frozenset(_TABLE_OF_FUNCTION)  # any other function code is answered 01 (illegal function)
_READ_FUNCTIONS = frozenset((_F.READ_COILS, _F.READ_DISCRETE_INPUTS, _F.READ_HOLDING_REGISTERS,
                             _F.READ_INPUT_REGISTERS))


class _StoreContext(ModbusServerContext):
    """Adapts DataStores (one per unit id; unit 0 answers for any id) to pymodbus's server."""

    def __init__(self, units: Mapping[int, DataStore], faults: Faults | None) -> None:
        # ModbusServerContext.__init__ would convert to dense SimDevice blocks; we serve directly.
        self.old_simulator = True
        self.simdevices = []
        self._units = dict(units)
        self._faults = faults if faults is not None and faults.active else None

    def device_ids(self) -> list[int]:
        return list(self._units)

    def _store(self, unit: int) -> DataStore:
        store = self._units.get(unit) or self._units.get(0)
        if store is None:
            raise NoSuchIdException(f"no unit {unit}")
        return store

    async def _fault(self, table: Table, offset: int, count: int, delay: bool) -> ExcCodes | None:
        faults = self._faults
        if faults is None:
            return None
        if delay and (seconds := faults.delay_seconds()) > 0:
            await asyncio.sleep(seconds)
        code = faults.exception_for(table, offset, count)
        return ExcCodes(code) if code is not None else None

    async def async_getValues(self, device_id: int, func_code: int, address: int,
                              count: int = 1) -> list[int] | list[bool] | ExcCodes:
        store = self._store(device_id)
        table = _TABLE_OF_FUNCTION.get(func_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        if (code := await self._fault(table, address, count, func_code in _READ_FUNCTIONS)) is not None:
            return code
        values = store.read(table, address, count)
        if isinstance(values, int):
            return ExcCodes(values)
        return [bool(v) for v in values] if table.is_bits else values

    async def async_setValues(self, device_id: int, func_code: int, address: int,
                              values: Sequence[int] | Sequence[bool]) -> ExcCodes | None:
        store = self._store(device_id)
        table = _TABLE_OF_FUNCTION.get(func_code)
        if table is None or not table.writable:
            return ExcCodes.ILLEGAL_FUNCTION
        if (code := await self._fault(table, address, len(values), True)) is not None:
            return code
        result = store.write(table, address, [int(v) for v in values])
        return ExcCodes(result) if result is not None else None


class RequestHandler(ServerRequestHandler):
    """pymodbus's per-connection handler, answering each request with *its own* transaction id.

    pymodbus 3.16's handler keeps the request in ``self.last_pdu`` and reads it again after the
    data store's ``await``: when a second request arrives on the connection meanwhile (a client
    that timed out and moved on), the first request's data goes out labelled with the second's
    transaction id, and the client accepts the wrong registers.  We queue each decoded request
    with its address and answer from the queued copy.  Shown by
    ``tests/modbus/test_modbus_fixes.py::test_our_simulator_answers_overlapping_requests_with_their_own_ids``.
    """

    def __init__(self, owner: ModbusTcpServer | ModbusSerialServer, *, tcp: bool = False,
                 idle_timeout: float | None = None, frame_timeout: float | None = None) -> None:
        super().__init__(owner, owner.trace_packet, owner.trace_pdu, owner.trace_connect)
        self._requests: collections.deque[tuple[ModbusPDU, tuple | None]] = collections.deque()
        self._tcp = tcp  # check each MBAP frame and request before pymodbus sees it (see .guard)
        self._idle_timeout = idle_timeout
        self._frame_timeout = frame_timeout
        self._idle: asyncio.TimerHandle | None = None
        self._partial: asyncio.TimerHandle | None = None

    # -- timeouts: a silent connection, or one that leaves half a frame, is closed -----------------
    def callback_connected(self) -> None:
        super().callback_connected()
        self._rearm_idle()

    def callback_disconnected(self, exc: Exception | None) -> None:
        for timer in (self._idle, self._partial):
            if timer is not None:
                timer.cancel()
        self._idle = self._partial = None
        super().callback_disconnected(exc)

    def _rearm_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        if self._idle_timeout and self._tcp:
            self._idle = self.loop.call_later(self._idle_timeout, self._hang_up, "idle")

    def server_send(self, pdu: ModbusPDU | None, addr: tuple | None) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return  # we hung up (a lost stream, a timeout): nobody is left to answer
        super().server_send(pdu, addr)

    def _hang_up(self, why: str) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            log.info("Modbus/TCP connection %s: closing (%s)", transport.get_extra_info("peername"), why)
            transport.close()

    def callback_data(self, data: bytes, addr: tuple | None = None) -> int:
        if self._tcp:
            self._rearm_idle()
            used = self._tcp_frames(data, addr)
            if used < len(data) and self._partial is None and self._frame_timeout:
                self._partial = self.loop.call_later(self._frame_timeout, self._hang_up, "half a frame")
            elif used >= len(data) and self._partial is not None:
                self._partial.cancel()
                self._partial = None
            return used
        return self._decode_all(data, addr)

    def _tcp_frames(self, data: bytes, addr: tuple | None) -> int:
        """Pass each whole, sound request to pymodbus; answer the unsound ones; close on a lost stream."""
        used = 0
        while used < len(data):
            try:
                size = mbap_frame(data, used)
            except Unframed as exc:
                self._hang_up(str(exc))
                return len(data)
            if not size:
                break  # the rest of the frame is still to come
            frame = data[used : used + size]
            code = request_exception(frame[MBAP_SIZE:], _SERVED)
            if code is None:
                self._decode_all(frame, addr)
            else:
                transaction, _, _, unit = MBAP.unpack_from(frame, 0)
                function = frame[MBAP_SIZE] & 0x7F  # the reply's code is it | 0x80
                self.server_send(ExceptionResponse(function, code, device_id=unit, transaction=transaction), addr)
            used += size
        return used

    def _decode_all(self, data: bytes, addr: tuple | None) -> int:
        # pymodbus decodes one frame per call and leaves the rest of the buffer until more bytes
        # arrive: two requests read in one chunk (a broadcast and the next request on a serial
        # line, pipelined TCP requests) would leave the second unanswered.  Decode them all.
        used = 0
        while used < len(data):
            step = super().callback_data(data[used:], addr)  # schedules a handle_later per request
            if self.last_pdu:
                self._requests.append((self.last_pdu, self.last_addr))
            if step <= 0:
                break  # an incomplete frame: wait for the rest
            used += step
        return used

    def handle_later(self) -> None:
        if self._requests:
            request, addr = self._requests.popleft()
            asyncio.run_coroutine_threadsafe(self._answer(request, addr), self.loop)

    async def _answer(self, request: ModbusPDU, addr: tuple | None) -> None:
        if request.dev_id == 0 and isinstance(self.server, ModbusSerialServer):
            await self._broadcast(request)
            return  # RTU unit 0 is a broadcast: every drop acts, none replies
        try:
            response = await request.datastore_update(self.server.context, request.dev_id)
        except NoSuchIdException:
            if self.server.ignore_missing_devices:
                return  # another drop on the line may answer; we stay silent
            response = ExceptionResponse(request.function_code, ExcCodes.GATEWAY_NO_RESPONSE)
        except Exception:
            log.exception("Modbus request %r failed", request)
            response = ExceptionResponse(request.function_code, ExcCodes.DEVICE_FAILURE)
        response.transaction_id = request.transaction_id
        response.dev_id = request.dev_id
        self.server_send(response, addr)

    async def _broadcast(self, request: ModbusPDU) -> None:
        """Apply an RTU broadcast to every unit we simulate: each is a drop on the line."""
        context = self.server.context
        for unit in context.device_ids():
            try:
                await request.datastore_update(context, unit)
            except Exception:
                log.exception("Modbus broadcast %r to unit %d failed", request, unit)


class TcpServer(ModbusTcpServer):
    """pymodbus's asyncio Modbus/TCP server with our request handler: each request answered with
    its own transaction id, unsound frames answered or hung up on (see :mod:`.guard`), and
    connections silent for ``idle_timeout`` or stuck in half a frame for ``frame_timeout`` seconds
    closed.  Takes any pymodbus server context, as ``ModbusTcpServer`` does."""

    def __init__(self, context: Any, *, idle_timeout: float | None = None,
                 frame_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(context, **kwargs)
        self.idle_timeout = idle_timeout
        self.frame_timeout = frame_timeout

    def callback_new_connection(self) -> RequestHandler:
        return RequestHandler(self, tcp=True, idle_timeout=self.idle_timeout, frame_timeout=self.frame_timeout)


class SerialServer(ModbusSerialServer):
    """pymodbus's asyncio Modbus/RTU server with our request handler and the frame-hunting
    :class:`~cpppo.modbus.rtu.HuntingFramerRTU` (requests behind line noise are still answered)."""

    def __init__(self, context: Any, **kwargs: Any) -> None:
        kwargs.setdefault("framer", FramerType.RTU)
        super().__init__(context, **kwargs)
        install_rtu_framer(self)

    def callback_new_connection(self) -> RequestHandler:
        return RequestHandler(self)


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """A serial line for Modbus/RTU."""

    port: str
    baudrate: int = 19200
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8


class ModbusSimulator:
    """A simulated Modbus device (or a multi-drop line of them) on TCP or a serial port.

    ``units`` maps unit ids to their stores; a store under unit 0 answers any unit id.  Over TCP a
    request for an unknown unit gets exception 0x0B (gateway target failed to respond); over RTU
    it gets silence, as on a shared RS-485 line, and a broadcast (unit 0) acts on every unit.
    Over TCP, a request the specification refuses gets its exception (01 for a function code we
    do not serve, 03 for a bad quantity or length) under its own function code; bytes that cannot
    be an MBAP header close the connection (the stream has lost its frame boundaries), and so do
    ``frame_timeout`` seconds with half a frame and ``idle_timeout`` seconds of silence.
    """

    def __init__(self, units: Mapping[int, DataStore] | DataStore, *, host: str = "", port: int = 502,
                 serial: SerialSettings | None = None, faults: Faults | None = None,
                 idle_timeout: float | None = 600.0, frame_timeout: float = 10.0) -> None:
        self.units = {0: units} if isinstance(units, DataStore) else dict(units)
        if not self.units:
            raise ValueError("a simulator needs at least one unit")
        self.host = host
        self.port = port
        self.serial = serial
        self.faults = faults
        for what, value in (("idle timeout", idle_timeout), ("frame timeout", frame_timeout)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"the {what} must be a positive number of seconds, not {value!r}")
        self.idle_timeout = idle_timeout  # Modbus/TCP: close a connection silent this long (None: never)
        self.frame_timeout = frame_timeout  # ... or one that leaves half a frame this long
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop_requested = threading.Event()  # set by stop(), even before serve() listens
        self._error: BaseException | None = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound: the real port when port 0 was asked for."""
        server = self._server
        if server is not None and server.transport is not None and hasattr(server.transport, "sockets"):
            sockname = server.transport.sockets[0].getsockname()
            return self.host, sockname[1]
        return self.host, self.port

    def _make_server(self) -> ModbusTcpServer | ModbusSerialServer:
        context = _StoreContext(self.units, self.faults)
        trace = self._trace_packet if self.faults is not None and self.faults.active else None
        if self.serial is None:
            # "" (every interface) is bound as 0.0.0.0: asyncio would otherwise open an IPv4 and an
            # IPv6 socket, each with its own ephemeral port when port 0 is asked for.
            return TcpServer(context, address=(self.host or "0.0.0.0", self.port), trace_packet=trace,
                             idle_timeout=self.idle_timeout, frame_timeout=self.frame_timeout)
        line = self.serial
        server = SerialServer(
            context, framer=FramerType.RTU, port=line.port, baudrate=line.baudrate, parity=line.parity,
            stopbits=line.stopbits, bytesize=line.bytesize, ignore_missing_devices=True,
            trace_packet=trace)
        return server

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if sending and self.faults is not None:
            return self.faults.mangle_reply(data)
        return data

    async def serve(self, started: Callable[[ModbusSimulator], None] | None = None) -> None:
        """Listen, call ``started(self)`` once listening, and serve until :meth:`shutdown`."""
        self._loop = asyncio.get_running_loop()
        if self._stop_requested.is_set():
            return  # stop() came (start() gave up) before we began listening
        server = self._server = self._make_server()
        try:
            await server.serve_forever(background=True)
        except RuntimeError as exc:  # pymodbus reports a failed bind or open this way
            where = self.serial.port if self.serial else f"{self.host or '*'}:{self.port}"
            raise OSError(f"cannot listen on {where}: {exc}") from None
        if self.serial is not None and server.transport is None:
            raise OSError(f"cannot open serial port {self.serial.port}")
        if self._stop_requested.is_set():
            await server.shutdown()  # stop() came while we were opening
            return
        if started is not None:
            started(self)
        try:
            await server.serving
        finally:
            server.close()

    async def shutdown(self) -> None:
        if self._server is not None:
            await self._server.shutdown()

    def start(self, timeout: float = 5.0) -> ModbusSimulator:
        """Serve from a background thread; return once listening (raise OSError if it cannot)."""
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        self._ready.clear()
        self._stop_requested.clear()
        self._error = None
        self._loop = self._server = None  # not a previous run's

        def run() -> None:
            try:
                asyncio.run(self.serve(started=lambda _sim: self._ready.set()))
            except BaseException as exc:  # reported to start()'s caller
                self._error = exc
            finally:
                self._ready.set()

        self._thread = threading.Thread(target=run, name="modbus-simulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop(timeout)  # it must not start listening later, unowned
            raise TimeoutError("simulator did not start listening in time")
        if self._error is not None:
            self._thread.join(timeout)
            self._thread = None
            raise self._error
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and join the thread started by :meth:`start`; idempotent."""
        thread, loop = self._thread, self._loop
        if thread is None:
            return
        self._stop_requested.set()
        if loop is not None and thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self.shutdown(), loop)
            with contextlib.suppress(Exception):  # the loop may already be closing
                future.result(timeout)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> ModbusSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
