"""The benchmark suite's load generator: raw EtherNet/IP frames over plain sockets and asyncio.

Independent of both implementations' client code: every request frame is built once with our
sans-I/O codec (:mod:`cpppo.enip.frames`, :mod:`cpppo.cip`) and replayed as bytes; replies are cut
out of the byte stream by the encapsulation header's length and checked at fixed offsets (the
encapsulation status and the CIP general status), so the load generator costs as little as
possible and measures the server, whichever implementation it is.

* :class:`ServerProcess` -- a server in its own process (ours, the reference cpppo 5.2.5, or the
  asyncio echo server of ``bench/echo.py``), with its CPU seconds from ``/proc/<pid>/stat``;
* :class:`Link` -- one blocking TCP connection carrying a registered session (optionally a Large
  Forward Open connection);
* :func:`sequential`, :func:`pipelined`, :func:`array_reads` -- timed loads on one link;
* :func:`many_clients` -- N asyncio connections each reading once per interval: latency p50/p99.

Every loop is bounded in count and in time.  Nothing here asserts on speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cpppo.cip.connection_manager import ConnectionParams, ForwardOpen, decode_forward_open_reply
from cpppo.cip.epath import Logical, Port, Symbolic
from cpppo.cip.message import Request, multiple_request
from cpppo.cip.services import ConnectionManagerService, LogixService
from cpppo.cip.tag_services import ReadTag
from cpppo.enip import frames as enip
from cpppo.enip.encapsulation import decode_frame

try:
    import resource
except ImportError:  # not POSIX
    resource = None  # type: ignore[assignment]

HERE = Path(__file__).resolve().parent
LISTENING = re.compile(r"listening on \S+:(\d+)")
MESSAGE_ROUTER = (Logical("class", 2), Logical("instance", 1))
HEADER = 24
# fixed offsets inside a reply frame (encapsulation header 24 bytes, then the CPF):
#   SendRRData:   interface 4, timeout 2, count 2, null address item 4, data item header 4 -> CIP at 40
#   SendUnitData: ... connected address item 8, data item header 4, sequence count 2 -> CIP at 46
RR_STATUS = 40 + 2  # CIP general status of a SendRRData reply
UNIT_STATUS = 46 + 2  # CIP general status of a SendUnitData reply
UNIT_SEQUENCE = slice(44, 46)  # the sequence count of a SendUnitData request or reply
CONTEXT = slice(12, 20)  # the sender context, echoed in every reply
PARTIAL = 0x06  # general status: partial transfer (Read Tag Fragmented: more to come)


# --- servers in their own processes -------------------------------------------------------------


def raise_nofile(wanted: int) -> int:
    """Raise this process's (and its future children's) soft RLIMIT_NOFILE towards ``wanted``."""
    if resource is None:
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def free_port() -> int:
    """An ephemeral port free on 127.0.0.1 right now (never 44818 or 502)."""
    for _ in range(20):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in (44818, 502):
            return port
    raise RuntimeError("no free port")


class ServerProcess:
    """A server in its own process on 127.0.0.1; ``cpu()`` is its user+system CPU seconds so far."""

    def __init__(self, label: str, cmd: Sequence[str], *, port: int | None = None, cwd: str | None = None,
                 startup: float = 60.0, announce: re.Pattern[str] = LISTENING) -> None:
        """Start ``cmd``; without ``port``, the server must print a line matching ``announce`` (its
        group 1 the port) within ``startup`` seconds; with ``port``, it must listen there."""
        self.label = label
        self._announce = announce
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.output: list[str] = []
        if port is None:  # the server prints "... listening on HOST:PORT ..."
            self.proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                         cwd=cwd)
            self._lines: queue.Queue[int | None] = queue.Queue()
            threading.Thread(target=self._pump, daemon=True).start()
            try:
                self.address = ("127.0.0.1", self._announced(startup))
            except BaseException:
                self.stop()
                raise
        else:  # a server that does not say where it listens: poll the port we gave it
            self.proc = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
            self.address = ("127.0.0.1", port)
            try:
                self._await_listening(startup)
            except BaseException:
                self.stop()
                raise

    def _announced(self, startup: float) -> int:
        """The port the server says it listens on, within ``startup`` seconds (a server that starts
        but prints nothing, or never the line looked for, fails here instead of hanging)."""
        deadline = time.monotonic() + startup
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                port = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if port is None:
                raise RuntimeError(f"{self.label} exited before listening{self._tail()}")
            return port
        raise RuntimeError(f"{self.label} did not say where it listens within {startup:g}s{self._tail()}")

    def _tail(self) -> str:
        text = "".join(self.output).strip()[-500:]
        return f": {text}" if text else " (no output)"

    def _pump(self) -> None:
        """Read the server's output to its end (so its pipe never fills): the first 200 lines kept,
        the port of the first announcement handed to :meth:`_announced`, None at the end."""
        assert self.proc.stdout is not None
        announced = False
        try:
            with contextlib.suppress(ValueError, OSError):
                for line in self.proc.stdout:
                    if len(self.output) < 200:
                        self.output.append(line)
                    if not announced:
                        m = self._announce.search(line)
                        if m:
                            announced = True
                            self._lines.put(int(m.group(1)))
        finally:
            self._lines.put(None)

    def _await_listening(self, startup: float) -> None:
        deadline = time.monotonic() + startup
        while time.monotonic() < deadline:
            try:
                socket.create_connection(self.address, timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.label} exited before listening") from None
                time.sleep(0.1)
        raise RuntimeError(f"{self.label} did not listen on {self.address[1]} within {startup:g}s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float | None:
        """User + system CPU seconds of the process (all its threads), from /proc/<pid>/stat."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self._tick  # utime, stime (fields 14 and 15)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            with contextlib.suppress(OSError):
                self.proc.stdout.close()


def ours(tags: Sequence[str], *, python: str | None = None, extra: Sequence[str] = ()) -> ServerProcess:
    """Our simulator: ``python -m cpppo.server.enip -a 127.0.0.1:0 TAGS``."""
    cmd = [python or sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", *extra, *tags]
    return ServerProcess("cpppo", cmd, cwd=str(HERE.parent))


def reference(python: str, tags: Sequence[str]) -> ServerProcess:
    """The reference cpppo 5.2.5 simulator on a port picked here, run away from our source tree."""
    port = free_port()
    cmd = [python, "-m", "cpppo.server.enip", "-a", f"127.0.0.1:{port}", *tags]
    return ServerProcess("cpppo 5.2.5", cmd, port=port, cwd=tempfile.gettempdir())


def echo() -> ServerProcess:
    """The asyncio echo server of ``bench/echo.py``: the ceiling."""
    return ServerProcess("echo", [sys.executable, str(HERE / "echo.py"), "-a", "127.0.0.1:0"])


# --- request frames, built once with our codec --------------------------------------------------


def read_request(tag: str, count: int = 1, offset: int | None = None) -> Request:
    service = LogixService.READ_TAG if offset is None else LogixService.READ_TAG_FRAGMENTED
    return Request(service, (Symbolic(tag),), ReadTag(count, offset).encode())


def msp_request(tags: Sequence[str]) -> Request:
    """One Multiple Service Packet to the Message Router reading each of ``tags`` (1 element)."""
    return multiple_request(MESSAGE_ROUTER, [read_request(t) for t in tags])


def routed(request: Request) -> Request:
    """``request`` wrapped in an Unconnected Send routed to the CPU in slot 0 (port 1, link 0)."""
    return enip.unconnected_send(request, (Port(1, 0),))


def with_context(frame: bytes, context: int) -> bytes:
    raw = bytearray(frame)
    raw[CONTEXT] = struct.pack("<Q", context)
    return bytes(raw)


def with_sequence(frame: bytes, sequence: int) -> bytes:
    raw = bytearray(frame)
    raw[UNIT_SEQUENCE] = struct.pack("<H", sequence & 0xFFFF)
    return bytes(raw)


def split_frames(buf: bytearray) -> list[bytes]:
    """Cut the whole frames off the front of ``buf`` (by the header's length field)."""
    out = []
    at, size = 0, len(buf)
    while size - at >= HEADER:
        end = at + HEADER + (buf[at + 2] | buf[at + 3] << 8)
        if end > size:
            break
        out.append(bytes(buf[at:end]))
        at = end
    if at:
        del buf[:at]
    return out


def failed(frame: bytes, status_at: int | None) -> bool:
    """Encapsulation status non-zero, or (``status_at`` given) a CIP general status other than 0/6."""
    if frame[8:12] != b"\0\0\0\0":
        return True
    return status_at is not None and (len(frame) <= status_at or frame[status_at] not in (0, PARTIAL))


_SERIALS = itertools.count(os.getpid() & 0x7FFF)


class Link:
    """One blocking TCP connection to a server, with a registered session (unless ``register=False``)."""

    def __init__(self, address: tuple[str, int], *, register: bool = True, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(address, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.session = 0
        self.o_t_id = 0
        if register:
            reply = self.request(enip.register_session().encode())
            self.session = struct.unpack_from("<I", reply, 4)[0]

    def frames(self) -> list[bytes]:
        """At least one whole frame (blocking)."""
        for _ in range(100_000):
            got = split_frames(self.buf)
            if got:
                return got
            chunk = self.sock.recv(262144)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buf += chunk
        raise RuntimeError("no whole frame")

    def request(self, frame: bytes) -> bytes:
        self.sock.sendall(frame)
        return self.frames()[0]

    def rr_frame(self, message: Request, context: int = 0) -> bytes:
        """An unconnected SendRRData frame carrying ``message``."""
        return enip.send_rr_data(self.session, message, struct.pack("<Q", context)).encode()

    def unit_frame(self, message: Request, sequence: int = 1) -> bytes:
        """A connected SendUnitData frame carrying ``message`` (after :meth:`forward_open`)."""
        return enip.send_unit_data(self.session, self.o_t_id, sequence, message).encode()

    def forward_open(self, size: int = 4002) -> int:
        """A Large Forward Open of ``size`` bytes each way to the Message Router; returns the O->T id."""
        serial = next(_SERIALS)  # each connection its own triad
        params = ConnectionParams(size, True, 0, 2)
        fo = ForwardOpen(0, 0x4200_0000 + serial, serial, 0x1337, 0xB0B, 2_000_000, params, 2_000_000, params,
                         (Port(1, 0), *MESSAGE_ROUTER), 3, 0xA3, large=True)
        request = Request(ConnectionManagerService.LARGE_FORWARD_OPEN, enip.CONNECTION_MANAGER, fo.encode())
        reply = enip.reply_message(decode_frame(self.request(self.rr_frame(request))))
        if reply.status:
            raise RuntimeError(f"Large Forward Open refused: status 0x{reply.status:02X} {reply.ext_status}")
        self.o_t_id = decode_forward_open_reply(reply.data).o_t_connection_id
        return self.o_t_id

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@dataclass
class Run:
    """One timed run: requests answered, items they carried, seconds, failures."""

    requests: int
    items: int
    elapsed: float
    failures: int = 0

    @property
    def rate(self) -> float:
        return self.items / self.elapsed if self.elapsed > 0 else 0.0


# --- timed loads on one blocking link -----------------------------------------------------------


def sequential(link: Link, frames: Sequence[bytes], seconds: float, *, status_at: int | None,
               items_per_reply: int = 1, max_requests: int = 10_000_000) -> Run:
    """One request in flight: send, wait for the reply, repeat (cycling through ``frames``)."""
    send, recv, buf = link.sock.sendall, link.sock.recv, link.buf
    pool = len(frames)
    n = failures = 0
    begin = time.perf_counter()
    stop_at = begin + seconds
    while n < max_requests:
        send(frames[n % pool])
        got = split_frames(buf)
        while not got:
            chunk = recv(262144)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            buf += chunk
            got = split_frames(buf)
        for f in got:
            n += 1
            if failed(f, status_at):
                failures += 1
        if (n & 15) == 0 and time.perf_counter() >= stop_at:
            break
    return Run(n, n * items_per_reply, time.perf_counter() - begin, failures)


def pipelined(link: Link, frames: Sequence[bytes], depth: int, seconds: float, *, key: slice = CONTEXT,
              status_at: int | None, items_per_reply: int = 1, max_requests: int = 10_000_000) -> Run:
    """``depth`` requests in flight, a new one sent for each reply; replies matched by ``key``.

    ``frames`` is a pool used in turn; each must carry a distinct key (sender context or sequence
    count), and the pool must be larger than ``depth``.
    """
    pool = len(frames)
    if pool <= depth:
        raise ValueError("the frame pool must be larger than the depth")
    keys = [f[key] for f in frames]
    send, recv, buf = link.sock.sendall, link.sock.recv, link.buf
    outstanding: set[bytes] = set()
    at = n = failures = sent = 0
    begin = time.perf_counter()
    stop_at = begin + seconds
    burst = []
    for _ in range(depth):
        outstanding.add(keys[at])
        burst.append(frames[at])
        at = (at + 1) % pool
        sent += 1
    send(b"".join(burst))
    sending = True
    for _ in range(max_requests * 2 + 1000):
        if not outstanding:
            break
        chunk = recv(262144)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buf += chunk
        burst = []
        for f in split_frames(buf):
            k = f[key]
            if k not in outstanding:
                raise RuntimeError(f"a reply with an unexpected key {k!r}")
            outstanding.discard(k)
            n += 1
            if failed(f, status_at):
                failures += 1
            if sending:
                nk = keys[at]
                if nk in outstanding:
                    raise RuntimeError("the frame pool is too small for the replies' order")
                outstanding.add(nk)
                burst.append(frames[at])
                at = (at + 1) % pool
                sent += 1
        if burst:
            send(b"".join(burst))
        if sending and (sent >= max_requests or time.perf_counter() >= stop_at):
            sending = False  # drain what is in flight, then stop
    return Run(n, n * items_per_reply, time.perf_counter() - begin, failures)


def read_tag_rate(server: ServerProcess, seconds: float, *, tag: str = "BENCH", depth: int = 20) -> float:
    """Read Tag requests answered per second by ``server``, ``depth`` in flight, on a new session."""
    link = Link(server.address)
    try:
        frames = [link.rr_frame(read_request(tag), c) for c in range(1, 65)]
        return pipelined(link, frames, depth, seconds, status_at=RR_STATUS).rate
    finally:
        link.close()


def array_reads(link: Link, build: Callable[[int, int], bytes], seconds: float, *, status_at: int,
                elements: int, max_arrays: int = 1_000_000) -> Run:
    """Whole-array reads by Read Tag Fragmented, one request in flight; items are arrays.

    ``build(offset, i)`` returns the request frame for the fragment at byte ``offset`` (``i``
    counts requests, for a connection's sequence count).  A reply of status 0x06 carries a
    fragment; the next request asks from the byte after it, until a reply of status 0.
    ``requests`` counts round trips.
    """
    data_at = status_at + 2  # after the status and the extended status size: the type word (2), the data
    cache: dict[int, bytes] = {}
    arrays = requests = failures = 0
    begin = time.perf_counter()
    stop_at = begin + seconds
    got_bytes = 0
    while arrays < max_arrays:
        offset = 0
        for _ in range(elements * 8 + 1):  # bounded: every fragment carries at least one element
            frame = build(offset, requests) if status_at == UNIT_STATUS else cache.get(offset)
            if frame is None:
                frame = cache[offset] = build(offset, requests)
            reply = link.request(frame)
            requests += 1
            status = reply[status_at] if len(reply) > status_at and reply[8:12] == b"\0\0\0\0" else -1
            if status not in (0, PARTIAL):
                failures += 1
                break
            payload = len(reply) - data_at - 2
            offset += payload
            got_bytes += payload
            if status == 0:
                break
        arrays += 1
        if time.perf_counter() >= stop_at:
            break
    if got_bytes != arrays * elements * 4 and not failures:
        failures += 1  # not every array came back whole
    return Run(requests, arrays, time.perf_counter() - begin, failures)


# --- many clients, each reading once per interval (asyncio) ------------------------------------


class _Peer(asyncio.Protocol):
    """One asyncio connection: whole frames in, futures resolved by sender context."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.waiting: dict[bytes, asyncio.Future] = {}
        self.transport: asyncio.Transport | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        for f in split_frames(self.buf):
            fut = self.waiting.pop(f[CONTEXT], None)
            if fut is not None and not fut.done():
                fut.set_result(f)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        for fut in self.waiting.values():
            if not fut.done():
                fut.set_exception(ConnectionError("connection lost"))
        self.waiting.clear()

    def ask(self, frame: bytes) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        if self.lost or self.transport is None:
            fut.set_exception(ConnectionError("connection lost"))
            return fut
        self.waiting[frame[CONTEXT]] = fut
        self.transport.write(frame)
        return fut


@dataclass
class Latency:
    clients: int
    connected: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, answered reads
    unanswered: int = 0
    errors: int = 0
    connect_seconds: float = 0.0
    cpu: float | None = None  # server CPU seconds during the reading phase

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in seconds; unanswered reads count as infinitely late."""
        values = sorted(self.latencies) + [float("inf")] * (self.unanswered + self.errors)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def _many(address: tuple[str, int] | list[tuple[str, int]], clients: int, seconds: float, interval: float, tag: str,
                connect_within: float, reply_within: float, register: bool,
                cpu: Callable[[], float | None] | None) -> Latency:
    loop = asyncio.get_running_loop()
    result = Latency(clients)
    peers: list[_Peer | None] = [None] * clients
    gate = asyncio.Semaphore(64)  # connections being set up at once
    began = time.monotonic()
    deadline = began + connect_within
    sessions: list[int] = [0] * clients

    async def connect(i: int) -> None:
        async with gate:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                where = address[i % len(address)] if isinstance(address, list) else address
                _, peer = await asyncio.wait_for(loop.create_connection(_Peer, *where), left)
                if register:
                    reply = await asyncio.wait_for(peer.ask(with_context(enip.register_session().encode(),
                                                                         1 << 62)), max(0.1, left))
                    sessions[i] = struct.unpack_from("<I", reply, 4)[0]
                peers[i] = peer
            except (OSError, asyncio.TimeoutError, ConnectionError):
                return  # counted as not connected

    await asyncio.gather(*(connect(i) for i in range(clients)))
    result.connect_seconds = time.monotonic() - began
    result.connected = sum(p is not None for p in peers)
    rounds = max(1, int(seconds / interval))
    templates = {s: enip.send_rr_data(s, read_request(tag)).encode() for s in set(sessions)}
    start = loop.time() + 0.2
    cpu0 = cpu() if cpu else None

    async def reader(i: int, peer: _Peer) -> None:
        template = templates[sessions[i]]
        for k in range(rounds):
            when = start + (i / clients + k) * interval
            delay = when - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            frame = with_context(template, (i << 24) | k)
            sent = time.perf_counter()
            try:
                reply = await asyncio.wait_for(peer.ask(frame), reply_within)
            except asyncio.TimeoutError:
                peer.waiting.pop(frame[CONTEXT], None)
                result.unanswered += 1
                continue
            except ConnectionError:
                result.errors += rounds - k
                return
            result.latencies.append(time.perf_counter() - sent)
            if register and failed(reply, RR_STATUS):
                result.errors += 1

    await asyncio.gather(*(reader(i, p) for i, p in enumerate(peers) if p is not None))
    if cpu is not None and cpu0 is not None:
        cpu1 = cpu()
        result.cpu = None if cpu1 is None else cpu1 - cpu0
    for p in peers:
        if p is not None and p.transport is not None:
            p.transport.close()
    await asyncio.sleep(0.05)
    return result


def many_clients(address: tuple[str, int] | list[tuple[str, int]], clients: int, seconds: float, *,
                 interval: float = 1.0,
                 tag: str = "BENCH", connect_within: float = 60.0, reply_within: float = 5.0,
                 register: bool = True, cpu: Callable[[], float | None] | None = None) -> Latency:
    """``clients`` connections, each reading ``tag`` once per ``interval`` for ``seconds`` (client i
    connects to ``address``, or to ``address[i % len(address)]`` when a list of them is given).

    Reads are spread evenly over each interval.  A read not answered within ``reply_within``
    seconds counts as unanswered (infinitely late in the percentiles).  ``register=False`` is for
    the echo server (its "reply" to a Register Session is the request itself).
    """
    raise_nofile(clients + 256)
    return asyncio.run(_many(address, clients, seconds, interval, tag, connect_within, reply_within, register,
                             cpu))


__all__ = [
    "CONTEXT",
    "PARTIAL",
    "RR_STATUS",
    "UNIT_SEQUENCE",
    "UNIT_STATUS",
    "Latency",
    "Link",
    "Run",
    "ServerProcess",
    "array_reads",
    "echo",
    "free_port",
    "many_clients",
    "msp_request",
    "ours",
    "pipelined",
    "raise_nofile",
    "read_request",
    "reference",
    "routed",
    "sequential",
    "with_context",
    "with_sequence",
]
