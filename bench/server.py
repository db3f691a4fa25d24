"""Requests per second the simulator answers: single-tag Read Tag over loopback.

The simulator runs in a separate process (``python -m cpppo.server.enip -a 127.0.0.1:0``), so
the load generator and the server do not share an interpreter.  Two loads, each on one TCP
connection carrying a registered session:

* 1 in flight: a blocking socket sends one request and waits for its reply;
* 20 in flight: requests pipelined on the connection, each with its own sender context, replies
  matched to requests by context, a new request sent for every reply received.

Every request is a plain SendRRData Read Tag of one DINT, built once with :mod:`cpppo.enip.frames`.
Each load gets a warm-up, then several timed runs; the table shows the median requests/s with the
min and max, and the server's CPU time per request (user+system from /proc/<pid>/stat, Linux).
When the reference implementation (cpppo 5.2.5, see ``bench/_refvenv.py``) is available, its
``python -m cpppo.server.enip`` is measured the same way for comparison.  No figure is asserted.
Usage::

    .venv/bin/python bench/server.py [--quick] [--seconds S] [--runs N] [--no-reference]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cpppo.cip.epath import Symbolic
from cpppo.cip.logix import ReadTag
from cpppo.cip.message import Request
from cpppo.cip.services import LogixService
from cpppo.enip.framer import Framer
from cpppo.enip.frames import register_session, reply_message, send_rr_data

LISTENING = re.compile(r"listening on \S+:(\d+) ")
TAG = "BENCH"
# the CIP general status inside a SendRRData reply: interface+timeout (6), item count (2),
# null address item (4), data item header (4), then service, reserved, status
_CIP_STATUS_AT = 18


class Server:
    """The simulator in its own process; ``cpu()`` is its user+system CPU seconds so far."""

    def __init__(self, python: str | None = None) -> None:
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        tags = [f"{TAG}=DINT", "OTHER=INT[100]"]
        if python is not None:  # the reference: a port picked here, run away from our source tree
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            self.proc = subprocess.Popen([python, "-m", "cpppo.server.enip", "-a", f"127.0.0.1:{port}", *tags],
                                         cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            self.address = ("127.0.0.1", port)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(self.address, timeout=1).close()
                    return
                except OSError:
                    if self.proc.poll() is not None:
                        raise RuntimeError("the reference simulator exited") from None
                    time.sleep(0.1)
            self.stop()
            raise RuntimeError("the reference simulator did not listen")
        self.proc = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", *tags],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        port = None
        while port is None and time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the simulator exited before listening")
            m = LISTENING.search(line)
            if m:
                port = int(m.group(1))
        if port is None:
            raise RuntimeError("the simulator did not say where it listens")
        self.address = ("127.0.0.1", port)

    def cpu(self) -> float | None:
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self._tick  # utime, stime (fields 14, 15)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


class Connection:
    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.framer = Framer()
        self.sock.sendall(register_session().encode())
        self.session = self._frames()[0].session
        request = Request(LogixService.READ_TAG, (Symbolic(TAG),), ReadTag(1).encode())
        self.template = send_rr_data(self.session, request)
        check = self.one()
        assert reply_message(check[0]).status == 0, "the benchmark tag cannot be read"

    def _frames(self) -> list:
        for _ in range(10000):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            frames = self.framer.feed(chunk)
            if frames:
                return frames
        raise RuntimeError("no whole frame")

    def one(self) -> list:
        self.sock.sendall(self.template.encode())
        return self._frames()

    def close(self) -> None:
        self.sock.close()


def _frame_bytes(template, context: int) -> bytes:
    raw = bytearray(template.encode())
    raw[12:20] = struct.pack("<Q", context)
    return bytes(raw)


def run_sequential(conn: Connection, seconds: float) -> tuple[int, float, int]:
    """(requests, elapsed, failures) with one request in flight."""
    frame = conn.template.encode()
    send, recv, feed = conn.sock.sendall, conn.sock.recv, conn.framer.feed
    n = failures = 0
    begin = time.perf_counter()
    stop_at = begin + seconds
    while True:
        send(frame)
        frames = []
        while not frames:
            chunk = recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            frames = feed(chunk)
        for f in frames:
            n += 1
            if f.status or f.data[_CIP_STATUS_AT]:
                failures += 1
        if (n & 63) == 0 and time.perf_counter() >= stop_at:
            break
    return n, time.perf_counter() - begin, failures


def run_pipelined(conn: Connection, seconds: float, depth: int) -> tuple[int, float, int]:
    """(requests, elapsed, failures) with ``depth`` requests in flight, matched by sender context."""
    frames_by_ctx = {i: _frame_bytes(conn.template, i) for i in range(1, 4 * depth + 1)}
    pool = len(frames_by_ctx)
    send, recv, feed = conn.sock.sendall, conn.sock.recv, conn.framer.feed
    outstanding: set[bytes] = set()
    next_ctx = 1
    n = failures = 0
    begin = time.perf_counter()
    stop_at = begin + seconds
    burst = []
    for _ in range(depth):
        outstanding.add(struct.pack("<Q", next_ctx))
        burst.append(frames_by_ctx[next_ctx])
        next_ctx = next_ctx % pool + 1
    send(b"".join(burst))
    sending = True
    while outstanding:
        chunk = recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        burst = []
        for f in feed(chunk):
            if f.context not in outstanding:
                raise RuntimeError(f"reply with unexpected context {f.context!r}")
            outstanding.discard(f.context)
            n += 1
            if f.status or f.data[_CIP_STATUS_AT]:
                failures += 1
            if sending:
                ctx = struct.pack("<Q", next_ctx)
                if ctx in outstanding:
                    raise RuntimeError("context pool too small")
                outstanding.add(ctx)
                burst.append(frames_by_ctx[next_ctx])
                next_ctx = next_ctx % pool + 1
        if burst:
            send(b"".join(burst))
        if sending and time.perf_counter() >= stop_at:
            sending = False  # drain what is in flight, then stop
    return n, time.perf_counter() - begin, failures


def measure(server: Server, depth: int, seconds: float, runs: int, warmup: float) -> dict:
    conn = Connection(server.address)
    try:
        def once(length: float) -> tuple[int, float, int]:
            return run_sequential(conn, length) if depth == 1 else run_pipelined(conn, length, depth)

        once(warmup)
        rates, cpus, failures = [], [], 0
        for _ in range(runs):
            cpu0 = server.cpu()
            n, elapsed, failed = once(seconds)
            cpu1 = server.cpu()
            failures += failed
            rates.append(n / elapsed)
            if cpu0 is not None and cpu1 is not None:
                cpus.append((cpu1 - cpu0) / n * 1e6)
    finally:
        conn.close()
    return {"rates": rates, "cpu": cpus, "failures": failures}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs (a smoke test of the benchmark)")
    ap.add_argument("--seconds", type=float, help="length of each timed run")
    ap.add_argument("--runs", type=int, help="timed runs per load")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference implementation")
    args = ap.parse_args(argv)
    seconds = args.seconds or (0.3 if args.quick else 2.0)
    runs = args.runs or (3 if args.quick else 5)
    warmup = 0.2 if args.quick else 1.0

    servers: list[tuple[str, str | None]] = [("cpppo", None)]
    if not args.no_reference:
        try:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from _refvenv import ref_python

            servers.append(("cpppo 5.2.5", str(ref_python())))
        except Exception as exc:  # no network, no PyPI: skip the comparison
            print(f"(reference unavailable: {exc})", file=sys.stderr)

    print(f"single-tag Read Tag of a DINT over loopback; {runs} runs of {seconds:g} s after {warmup:g} s warm-up")
    print()
    print(f"{'server':<12} {'in flight':>9}  {'requests/s median':>18}  {'(min - max)':>19}  "
          f"{'server CPU us/request':>22}")
    for label, python in servers:
        try:
            server = Server(python)
        except RuntimeError as exc:
            print(f"{label:<12} ({exc})")
            continue
        try:
            for depth in (1, 20):
                result = measure(server, depth, seconds, runs, warmup)
                rates = result["rates"]
                cpu = f"{statistics.median(result['cpu']):.1f}" if result["cpu"] else "n/a"
                spread = f"({min(rates):,.0f} - {max(rates):,.0f})"
                print(f"{label:<12} {depth:>9}  {statistics.median(rates):>18,.0f}  {spread:>19}  {cpu:>22}")
                if result["failures"]:
                    print(f"{'':<12} {result['failures']} replies carried an error status!")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
