"""Background polling and synchronous writing of one Modbus PLC: ``poller_modbus``.

A poller owns one pymodbus client and one thread.  Addresses given to :meth:`poll` are grouped
per table, merged where they lie within ``reach`` of each other, and split to the Modbus PDU
limits (125 registers, 2000 bits per read); the thread reads every group each ``rate`` seconds and
keeps the latest values for :meth:`read`.  :meth:`write` takes the same I/O lock as a poll, so it
goes out as soon as the current request completes, and blocks until the PLC answers.

Failure policy, chosen so that a reader never sees stale data as current:

* a transport failure (refused, reset, timeout) marks the poller offline, forgets every value
  (``read`` returns None) and drops the connection; the next cycle reconnects;
* a Modbus exception on a merged read (usually exception 2, a gap in the PLC's map) splits that
  read back into the runs that were asked for; addresses still refused read as None;
* a cycle that overruns ``rate`` is logged as a slip and the schedule restarts from now: missed
  polls are never queued up behind each other.
"""

from __future__ import annotations

import logging
import math
import struct
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import serial
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ModbusException

from ..poller import poller
from .address import Table, make_address, merge_ranges, split_register
from .clients import SerialClient, TcpClient
from .errors import ModbusDeviceError, ModbusOffline, ModbusUsageError
from .server import SerialSettings
from .typed import parse_type

__all__ = ["PollerCounters", "poller_modbus"]

log = logging.getLogger(__name__)

_LOAD_PERIODS = (60.0, 300.0, 900.0)


@dataclass
class PollerCounters:
    """Running totals, for monitoring and benchmarks."""

    polls: int = 0  # completed poll cycles
    requests: int = 0  # Modbus requests answered (reads and writes)
    errors: int = 0  # transport failures and exception responses
    slips: int = 0  # cycles that overran the poll period


@dataclass(frozen=True, slots=True)
class _Read:
    table: Table
    offset: int
    count: int


def _why(exc: BaseException) -> str:
    """The cause of a failed connect, briefly: 'Connection refused', 'Name or service not known'."""
    if isinstance(exc, serial.SerialException) and isinstance(exc.__context__, OSError):
        exc = exc.__context__  # pyserial wraps the OSError in a message repeating the port name
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


class poller_modbus(poller):  # the documented name: cpppo.remote.plc_modbus.poller_modbus
    """Poll a Modbus/TCP (or, with ``serial=``, Modbus/RTU) PLC in the background.

    ``rate`` is the poll period in seconds (shared by all addresses); ``reach`` the largest gap
    of unwanted registers read to save a request; ``timeout`` bounds connect and each reply
    (default: the smaller of 2 s and the larger of the rate and 0.5 s).
    """

    def __init__(self, description: str, host: str = "localhost", port: int = 502, *, unit: int = 1,
                 rate: float = 1.0, reach: int = 100, timeout: float | None = None,
                 serial: SerialSettings | None = None) -> None:
        if not (math.isfinite(rate) and rate >= 0) or reach < 0 or not 0 <= unit <= 255:
            raise ModbusUsageError("rate must be finite and >= 0, reach >= 0 and unit 0-255")
        if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
            raise ModbusUsageError(f"timeout {timeout} must be a positive number of seconds")
        if serial is None and not 1 <= port <= 65535:
            raise ModbusUsageError(f"port {port} is outside 1-65535")
        self.description = description
        self.host = host
        self.port = port
        self.unit = unit
        self.rate = float(rate)
        self.reach = int(reach)
        self.timeout = float(timeout) if timeout is not None else min(2.0, max(self.rate, 0.5))
        self.serial = serial
        self.counters = PollerCounters()

        self._io = threading.Lock()  # one request at a time on the wire
        self._state = threading.Lock()  # poll set, values, plan, load
        # keyed by (table, offset), so 40001 and 400001 are the same register
        self._polled: set[tuple[Table, int]] = set()
        self._values: dict[tuple[Table, int], int] = {}
        self._plan: list[_Read] | None = None
        self._refusals: set[_Read] = set()
        self._online = False
        self._was_offline = False
        self._ever_online = False
        self._told_unreachable = False
        self._client: ModbusTcpClient | ModbusSerialClient | None = None
        self._busy = 0.0  # seconds of I/O since the load was last updated
        self._load = [0.0, 0.0, 0.0]
        self._load_since = time.monotonic()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poller_modbus {description}", daemon=True)
        self._thread.start()

    # ---- public API ----

    def poll(self, address: int | Iterable[int], rate: float | None = None) -> None:
        """Begin polling ``address`` (or several); ``rate`` can only make the shared poll faster."""
        if rate is not None and not (math.isfinite(rate) and rate >= 0):
            raise ModbusUsageError(f"rate {rate} must be finite and >= 0")
        wanted = {split_register(each) for each in ([address] if isinstance(address, int) else address)}
        with self._state:
            if rate is not None and rate < self.rate:
                self.rate = float(rate)
            if not wanted <= self._polled:
                self._polled.update(wanted)
                self._plan = None
        self._wake.set()

    def read(self, address: int) -> int | None:
        """The last polled value of ``address``; None until polled, or while offline."""
        key = split_register(address)
        with self._state:
            return self._values.get(key)

    def forget(self, address: int) -> None:
        """Drop the value of ``address``: it reads None until the next poll brings it again."""
        with self._state:
            self._values.pop(split_register(address), None)

    def write(self, address: int, value: int | bool | Sequence[int | bool]) -> None:
        """Write one value or consecutive values from ``address``; block until the PLC answers.

        Raises ModbusUsageError for read-only tables or bad values, ModbusDeviceError when the
        PLC refuses, ModbusOffline when it cannot be reached.
        """
        table, offset = split_register(address)
        if not table.writable:
            raise ModbusUsageError(f"{address}: {table.name.lower().replace('_', ' ')} are read-only")
        values = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        if not values or len(values) > table.max_write or offset + len(values) > 0x10000:
            raise ModbusUsageError(f"{address}: write 1-{table.max_write} values within the table")
        if table.is_bits:
            words = [bool(v) for v in values]
        else:
            if any(isinstance(v, float) and not v.is_integer() for v in values):
                raise ModbusUsageError(f"{address}: registers hold integers, not {values}")
            words = [int(v) for v in values]
            if any(not 0 <= w <= 0xFFFF for w in words):
                raise ModbusUsageError(f"{address}: register values are 0-65535")

        def request(client: ModbusTcpClient | ModbusSerialClient) -> object:
            if table.is_bits:
                if len(words) == 1:
                    return client.write_coil(offset, bool(words[0]), device_id=self.unit)
                return client.write_coils(offset, [bool(w) for w in words], device_id=self.unit)
            if len(words) == 1:
                return client.write_register(offset, int(words[0]), device_id=self.unit)
            return client.write_registers(offset, [int(w) for w in words], device_id=self.unit)

        self._transact(request, f"write {address}")

    def read_as(self, address: int, kind: str, byte_order: str = "big",
                word_order: str = "big") -> int | float | str | None:
        """A typed view (``"float32"``, ``"int32"``, ``"str[10]"``, ...) of polled registers
        from ``address``; None unless every register it covers has been polled."""
        view = parse_type(kind)
        table, offset = split_register(address)
        if table.is_bits:
            raise ModbusUsageError(f"{address}: bits have no typed views")
        with self._state:
            words = [self._values.get((table, offset + i)) for i in range(view.width)]
        if any(word is None for word in words):
            return None
        return view.decode([int(w) for w in words if w is not None], byte_order, word_order)

    def write_as(self, address: int, kind: str, value: int | float | str, byte_order: str = "big",
                 word_order: str = "big") -> None:
        """Write ``value`` as a typed view over the registers from ``address``; see :meth:`write`."""
        self.write(address, parse_type(kind).encode(value, byte_order, word_order))

    @property
    def online(self) -> bool:
        """True while the last request got an answer from the PLC."""
        return self._online

    @property
    def reached(self) -> bool:
        """True once the PLC has answered any request."""
        return self._ever_online

    @property
    def load(self) -> tuple[float, float, float]:
        """Fraction of the time the PLC link was busy, over about the last 1, 5 and 15 minutes."""
        with self._state:
            self._update_load()
            return (self._load[0], self._load[1], self._load[2])

    def stop(self) -> None:
        """Ask the polling thread to finish; it drops the connection on its way out."""
        self._stopping.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def __enter__(self) -> poller_modbus:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self.join()

    def __repr__(self) -> str:
        return f"<poller_modbus {self.description!r} {self._where} unit {self.unit}>"

    def __str__(self) -> str:
        """How log lines and errors name the PLC: its endpoint once, and the description if other."""
        where = f"{self._where} unit {self.unit}"
        return where if self.description in ("", self._where) else f"{self.description} ({where})"

    @property
    def _where(self) -> str:
        return self.serial.port if self.serial else f"{self.host}:{self.port}"

    # ---- I/O ----

    def _connect(self) -> ModbusTcpClient | ModbusSerialClient:
        if self._client is None:
            if self.serial is None:
                client: ModbusTcpClient | ModbusSerialClient = TcpClient(
                    self.host, port=self.port, timeout=self.timeout, retries=0)
            else:
                line = self.serial
                client = SerialClient(line.port, baudrate=line.baudrate, parity=line.parity,
                                            stopbits=line.stopbits, bytesize=line.bytesize,
                                            timeout=self.timeout, retries=0)
            self._client = client
        try:
            self._client.connect()
        except (OSError, ValueError) as exc:  # serial.SerialException is an OSError
            self._client.close()
            self._client = None
            raise ModbusOffline(f"cannot connect: {_why(exc)}") from None
        return self._client

    def _disconnect(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _transact(self, request: Callable[[ModbusTcpClient | ModbusSerialClient], object], what: str) -> object:
        """Run one request under the I/O lock; raise ModbusOffline or ModbusDeviceError."""
        with self._io:
            start = time.monotonic()
            try:
                client = self._connect()
                response = request(client)
            except (ModbusException, OSError, ModbusOffline, ValueError, IndexError, struct.error) as exc:
                # pymodbus raises its own exceptions for lost links, but a garbled reply can also
                # surface as a decoding error; either way this link can no longer be trusted.
                self._disconnect()  # never reuse a link that may carry a late, stale reply
                self._went_offline()
                self.counters.errors += 1
                raise ModbusOffline(f"{self}: {what}: {exc}") from None
            finally:
                with self._state:
                    self._busy += time.monotonic() - start
            if not self._online:
                # first contact is routine; coming back after an outage is news
                log.log(logging.WARNING if self._was_offline else logging.INFO, "%s: online", self)
                self._online = self._ever_online = True
            if getattr(response, "isError", lambda: True)():
                self.counters.errors += 1
                raise ModbusDeviceError(f"{self}: {what}", int(getattr(response, "exception_code", 0) or 0))
            self.counters.requests += 1
            return response

    def _went_offline(self) -> None:
        if self._online:
            log.warning("%s: offline", self)
            self._was_offline = True
        self._online = False
        with self._state:
            self._values.clear()

    def _read(self, read: _Read) -> list[int]:
        def request(client: ModbusTcpClient | ModbusSerialClient) -> object:
            method = {
                Table.COILS: client.read_coils,
                Table.DISCRETE_INPUTS: client.read_discrete_inputs,
                Table.INPUT_REGISTERS: client.read_input_registers,
                Table.HOLDING_REGISTERS: client.read_holding_registers,
            }[read.table]
            return method(read.offset, count=read.count, device_id=self.unit)

        what = f"read {make_address(read.table, read.offset)}+{read.count}"
        response = self._transact(request, what)
        if read.table.is_bits:
            values = [int(bool(b)) for b in getattr(response, "bits", [])[: read.count]]
        else:
            values = list(getattr(response, "registers", []))
        if len(values) != read.count:
            raise ModbusDeviceError(f"{self}: {what}: short reply", 0)
        return values

    # ---- the polling thread ----

    def _make_plan(self) -> list[_Read]:
        by_table: dict[Table, list[int]] = {}
        for table, offset in self._polled:
            by_table.setdefault(table, []).append(offset)
        return [_Read(table, start, count)
                for table, offsets in sorted(by_table.items(), key=lambda item: item[0].value)
                for start, count in merge_ranges(offsets, reach=self.reach, limit=table.max_read)]

    def _poll_cycle(self) -> None:
        with self._state:
            if self._plan is None:
                self._plan = self._make_plan()
            plan = list(self._plan)  # _refused may split entries of self._plan meanwhile
        for read in plan:
            if self._stopping.is_set():
                return
            try:
                values = self._read(read)
            except ModbusOffline as exc:
                if not self._ever_online and not self._told_unreachable:
                    self._told_unreachable = True  # a PLC never reached is news, once
                    log.warning("%s", exc)
                else:
                    log.info("%s", exc)
                return
            except ModbusDeviceError as exc:
                self._refused(read, exc)
                continue
            with self._state:
                for i, value in enumerate(values):
                    key = (read.table, read.offset + i)
                    if key in self._polled:
                        self._values[key] = value
        self.counters.polls += 1

    def _refused(self, read: _Read, exc: ModbusDeviceError) -> None:
        """A read was refused: forget its values, and split it if merging caused the refusal."""
        with self._state:
            wanted = sorted(o for o in range(read.offset, read.offset + read.count)
                            if (read.table, o) in self._polled)
            for offset in wanted:
                self._values.pop((read.table, offset), None)
            runs = merge_ranges(wanted, reach=0, limit=read.table.max_read)
            if len(runs) > 1 and self._plan is not None and read in self._plan:
                at = self._plan.index(read)
                self._plan[at:at + 1] = [_Read(read.table, start, count) for start, count in runs]
                log.info("%s: %s; reading its %d runs separately", self, exc, len(runs))
            elif read not in self._refusals:
                self._refusals.add(read)  # say it once, not every cycle
                log.warning("%s", exc)

    def _update_load(self) -> None:
        now = time.monotonic()
        elapsed = now - self._load_since
        if elapsed <= 0:
            return
        busy = min(1.0, self._busy / elapsed)
        for i, period in enumerate(_LOAD_PERIODS):
            keep = math.exp(-elapsed / period)
            self._load[i] = min(1.0, max(0.0, self._load[i] * keep + busy * (1 - keep)))
        self._busy = 0.0
        self._load_since = now

    def _run(self) -> None:
        due = time.monotonic()
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                with self._state:
                    idle = not self._polled
                if idle:
                    self._wake.wait(max(self.rate, 0.05))
                    due = time.monotonic()
                    continue
                try:
                    self._poll_cycle()
                except Exception:  # a bug must not silently end the polling of a PLC
                    log.exception("%s: poll failed", self)
                    with self._io:
                        self._disconnect()
                    self._went_offline()
                with self._state:
                    self._update_load()
                now = time.monotonic()
                due += self.rate
                if now > due + 1e-3 and self.rate > 0:
                    self.counters.slips += 1
                    log.warning("%s: poll slipped %.3fs behind its %.3fs rate", self, now - due, self.rate)
                    due = now
                elif now > due:
                    due = now
                if not self._online:
                    due = max(due, now + max(self.rate, 0.1))  # do not hammer an absent PLC
                self._wake.wait(max(0.0, due - now))
                if self._wake.is_set():
                    due = time.monotonic()  # a new address: poll it now
        finally:
            with self._io:
                self._disconnect()
            self._online = False
