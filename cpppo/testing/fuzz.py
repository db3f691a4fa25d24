"""Hostile clients: mutated EtherNet/IP and Modbus/TCP requests thrown at a running server.

A campaign starts from a corpus of well-formed requests, mutates each one (bit flips, boundary
bytes, truncation, extension, a length field set to an extreme) and sends them over a handful of
connections, reconnecting whenever the server hangs up (it is entitled to, after a frame it cannot
frame) and every ``fresh_every`` frames (so a connection stuck inside a huge claimed length is
left behind, as a real attacker would).  Every ``check_every`` frames, a fresh connection must get a good answer to a good request
within ``timeout``: the server neither crashed nor stalled.  The same seed gives the same frames.

Used by the bounded fuzz tests (a few seconds each) and by ``bench/fuzz.py`` (as long as you like,
with frame counts, hang-ups, stalls and the server's RSS).
"""

from __future__ import annotations

import random
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..cip.connection_manager import ConnectionParams, ForwardOpen
from ..cip.epath import CONNECTION_MANAGER_PATH, MESSAGE_ROUTER_PATH, Logical, Port, Symbolic
from ..cip.message import Request, multiple_request
from ..cip.services import CommonService, ConnectionManagerService, LogixService
from ..cip.tag_services import ReadModifyWrite, ReadTag, WriteTag, encode_attribute_list_request
from ..cip.types import DINT
from ..enip import frames
from ..enip.encapsulation import Command, Encapsulation, decode_frame
from ..errors import DecodeError

__all__ = ["Campaign", "Report", "enip_corpus", "enip_health", "modbus_corpus", "modbus_health", "mutate"]

_BOUNDARY = (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF)


def mutate(frame: bytes, rng: random.Random) -> bytes:
    """One random mutation of ``frame``."""
    data = bytearray(frame)
    kind = rng.randrange(7)
    if kind == 0 and data:  # flip a few bits
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == 1 and data:  # a boundary byte somewhere
        data[rng.randrange(len(data))] = rng.choice(_BOUNDARY)
    elif kind == 2 and len(data) > 1:  # cut it short
        del data[rng.randrange(1, len(data)):]
    elif kind == 3:  # trailing garbage
        data += rng.randbytes(rng.randint(1, 32))
    elif kind == 4 and len(data) >= 2:  # a 16-bit field (a count, a length, a size) set to an extreme
        at = rng.randrange(len(data) - 1)
        struct.pack_into("<H", data, at, rng.choice((0, 1, 0x7FFF, 0xFFFF, len(data), len(data) + 1)))
    elif kind == 5 and data:  # a slice repeated (nesting, counts that run on)
        a = rng.randrange(len(data))
        b = rng.randrange(a, min(len(data), a + 64) + 1)
        data[b:b] = data[a:b] * rng.randint(1, 8)
    else:  # random bytes of a similar length
        data = bytearray(rng.randbytes(max(1, len(data) + rng.randint(-8, 8))))
    return bytes(data)


# -- EtherNet/IP ------------------------------------------------------------------------------------
def enip_corpus(session: int, tag: str = "FUZZ") -> list[bytes]:
    """Well-formed requests for a session: sessionless commands, tag services, bundles, routing, connections."""
    path = (Symbolic(tag),)
    read = Request(LogixService.READ_TAG, path, ReadTag(1).encode())
    requests = [
        read,
        Request(LogixService.READ_TAG_FRAGMENTED, path, ReadTag(1, 0).encode()),
        Request(LogixService.WRITE_TAG, path, WriteTag(DINT.code, 1, DINT.encode([7])).encode()),
        Request(LogixService.READ_MODIFY_WRITE, path, ReadModifyWrite(b"\x01\x00\x00\x00", b"\xff\xff\xff\xff").encode()),
        Request(CommonService.GET_ATTRIBUTE_SINGLE, (Logical("class", 1), Logical("instance", 1),
                                                     Logical("attribute", 7))),
        Request(CommonService.GET_ATTRIBUTES_ALL, (Logical("class", 1), Logical("instance", 1))),
        Request(CommonService.GET_ATTRIBUTE_LIST, (Logical("class", 0x6C), Logical("instance", 0x0FCE)),
                encode_attribute_list_request((1, 2, 4, 5))),
        Request(LogixService.GET_INSTANCE_ATTRIBUTE_LIST, (Logical("class", 0x6B), Logical("instance", 0)),
                encode_attribute_list_request((1, 2, 8))),
        multiple_request(MESSAGE_ROUTER_PATH, [read, read]),
        frames.unconnected_send(read, (Port(1, 0),)),
        frames.unconnected_send(frames.unconnected_send(read, (Port(1, 0),)), (Port(1, 0),)),
    ]
    params = ConnectionParams(500, True, 0, 2)
    fo = ForwardOpen(0, 0x1234, 0x42, 0x1001, 0x1337, 2_000_000, params, 2_000_000, params,
                     (Port(1, 0), *MESSAGE_ROUTER_PATH), 3)
    requests.append(Request(ConnectionManagerService.FORWARD_OPEN, CONNECTION_MANAGER_PATH, fo.encode()))
    out = [frames.send_rr_data(session, r).encode() for r in requests]
    out.append(frames.send_unit_data(session, 0x11111111, 1, read).encode())
    out += [Encapsulation(command, session).encode() for command in
            (Command.LIST_IDENTITY, Command.LIST_SERVICES, Command.LIST_INTERFACES, Command.NOP)]
    out.append(frames.register_session().encode())
    return out


def _exchange(sock: socket.socket, request: bytes, reply_len: Callable[[bytes], int | None], timeout: float) -> bytes:
    """Send ``request``; the whole reply (``reply_len`` says how long it is, once enough has come)."""
    sock.settimeout(timeout)
    sock.sendall(request)
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        need = reply_len(buf)
        if need is not None and len(buf) >= need:
            return buf[:need]
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    raise TimeoutError("no whole reply")


def _enip_len(buf: bytes) -> int | None:
    return 24 + struct.unpack_from("<H", buf, 2)[0] if len(buf) >= 24 else None


def enip_health(address: tuple[str, int], tag: str = "FUZZ", timeout: float = 2.0) -> bool:
    """A fresh session reads ``tag``: the server is alive and answering."""
    try:
        with socket.create_connection(address, timeout=timeout) as sock:
            reply = _exchange(sock, frames.register_session().encode(), _enip_len, timeout)
            session = struct.unpack_from("<I", reply, 4)[0]
            request = Request(LogixService.READ_TAG, (Symbolic(tag),), ReadTag(1).encode())
            reply = _exchange(sock, frames.send_rr_data(session, request).encode(), _enip_len, timeout)
            return reply[8:12] == b"\0\0\0\0" and frames.reply_message(decode_frame(reply)).status == 0
    except (OSError, TimeoutError, ValueError, struct.error, DecodeError):
        return False


def _enip_session(sock: socket.socket, timeout: float) -> int:
    reply = _exchange(sock, frames.register_session().encode(), _enip_len, timeout)
    return struct.unpack_from("<I", reply, 4)[0]


# -- Modbus/TCP -------------------------------------------------------------------------------------
def _mbap(pdu: bytes, transaction: int = 1, unit: int = 1) -> bytes:
    return struct.pack(">HHHB", transaction, 0, len(pdu) + 1, unit) + pdu


def modbus_corpus() -> list[bytes]:
    """Well-formed requests of every function the simulator serves."""
    pdus = [b"\x01\x00\x00\x00\x10", b"\x02\x00\x00\x00\x08", b"\x03\x00\x00\x00\x0a", b"\x04\x00\x00\x00\x02",
            b"\x05\x00\x00\xff\x00", b"\x06\x00\x00\x12\x34", b"\x0f\x00\x00\x00\x08\x01\xff",
            b"\x10\x00\x00\x00\x02\x04\x00\x01\x00\x02", b"\x16\x00\x00\x00\xf2\x00\x25",
            b"\x17\x00\x00\x00\x02\x00\x00\x00\x01\x02\x00\x07"]
    return [_mbap(p, i + 1) for i, p in enumerate(pdus)]


def _modbus_len(buf: bytes) -> int | None:
    return 6 + struct.unpack_from(">H", buf, 4)[0] if len(buf) >= 6 else None


def modbus_health(address: tuple[str, int], timeout: float = 2.0) -> bool:
    """A fresh connection reads holding register 40001."""
    try:
        with socket.create_connection(address, timeout=timeout) as sock:
            reply = _exchange(sock, _mbap(b"\x03\x00\x00\x00\x01", 0x4242), _modbus_len, timeout)
            return reply[:2] == b"\x42\x42" and reply[7] == 0x03
    except (OSError, TimeoutError, ValueError, struct.error):
        return False


# -- a campaign -------------------------------------------------------------------------------------
@dataclass
class Report:
    frames: int = 0  # mutated frames sent
    hangups: int = 0  # connections the server closed (after a frame it could not frame, say)
    checks: int = 0  # health checks made
    failed_checks: list[int] = field(default_factory=list)  # frame counts at which a health check failed
    seconds: float = 0.0


@dataclass
class Campaign:
    """Mutated requests from ``corpus`` to ``address`` over ``connections`` connections."""

    address: tuple[str, int]
    corpus: Callable[[socket.socket], Sequence[bytes]]  # the well-formed requests for a new connection
    health: Callable[[tuple[str, int]], bool]
    seed: int = 1
    connections: int = 4
    check_every: int = 500
    fresh_every: int = 100  # frames a connection carries before it is replaced (a stuck frame is abandoned)
    timeout: float = 2.0

    def run(self, frames: int | None = None, seconds: float | None = None) -> Report:
        """Send ``frames`` mutated frames (or for ``seconds``); what happened."""
        rng = random.Random(self.seed)
        report = Report()
        begun = time.monotonic()
        links: list[tuple[socket.socket, Sequence[bytes]] | None] = [None] * self.connections
        carried = [0] * self.connections
        try:
            while (frames is None or report.frames < frames) and \
                    (seconds is None or time.monotonic() - begun < seconds):
                i = rng.randrange(self.connections)
                link = links[i]
                if link is not None and carried[i] >= self.fresh_every:
                    link[0].close()
                    link = None
                if link is None:
                    link = links[i] = self._open()
                    carried[i] = 0
                carried[i] += 1
                sock, corpus = link
                try:
                    sock.sendall(mutate(rng.choice(corpus), rng))
                    self._drain(sock)
                except OSError:  # hung up on us: entitled to, after what we sent
                    report.hangups += 1
                    sock.close()
                    links[i] = None
                report.frames += 1
                if report.frames % self.check_every == 0:
                    report.checks += 1
                    if not self.health(self.address):
                        report.failed_checks.append(report.frames)
        finally:
            for link in links:
                if link is not None:
                    link[0].close()
        report.checks += 1
        if not self.health(self.address):
            report.failed_checks.append(report.frames)
        report.seconds = time.monotonic() - begun
        return report

    def _open(self) -> tuple[socket.socket, Sequence[bytes]]:
        sock = socket.create_connection(self.address, timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, self.corpus(sock)

    @staticmethod
    def _drain(sock: socket.socket) -> None:
        """Take whatever replies are there (without waiting for any: a mutated frame may get none)."""
        sock.setblocking(False)
        try:
            for _ in range(64):
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionResetError("closed by the server")
        except BlockingIOError:
            pass
        finally:
            sock.setblocking(True)


def enip_campaign(address: tuple[str, int], **kwds: object) -> Campaign:
    """A campaign against an EtherNet/IP server serving DINT tag FUZZ."""
    return Campaign(address, lambda sock: enip_corpus(_enip_session(sock, 2.0)), enip_health, **kwds)  # type: ignore[arg-type]


def modbus_campaign(address: tuple[str, int], **kwds: object) -> Campaign:
    """A campaign against a Modbus/TCP server serving 40001 and up."""
    return Campaign(address, lambda sock: modbus_corpus(), modbus_health, **kwds)  # type: ignore[arg-type]
