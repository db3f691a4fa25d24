"""A small pure-Python pcap writer: Ethernet II + IPv4 + TCP/UDP, with correct lengths and checksums.

Enough to hand bytes produced by a sans-I/O codec to Wireshark as if they had crossed a network:

    capture = Capture()
    tcp = capture.tcp(("192.168.1.10", 50000), ("192.168.1.20", 44818))   # writes the handshake
    tcp.send(request)                     # client -> server
    tcp.reply(response)                   # server -> client
    tcp.close()                           # FIN exchange
    capture.udp(("192.168.1.10", 50001), ("192.168.1.20", 44818), datagram)
    capture.write(path)

Each TCP direction keeps its own sequence number and every segment acknowledges all the peer has
sent, so Wireshark's sequence analysis and reassembly see a clean conversation.  A payload larger
than ``mss`` (or split at chosen ``cuts``) goes out as several back-to-back segments.
"""

from __future__ import annotations

import ipaddress
import itertools
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Capture", "TcpStream", "checksum"]

LINKTYPE_ETHERNET = 1
_PCAP_HEADER = struct.Struct("<IHHiIII")
_PCAP_RECORD = struct.Struct("<IIII")
_ETHER = struct.Struct("!6s6sH")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_TCP = struct.Struct("!HHIIBBHHH")
_UDP = struct.Struct("!HHHH")

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
PROTO_TCP, PROTO_UDP = 6, 17


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _mac(ip: bytes) -> bytes:
    """A locally administered MAC address derived from the host's IPv4 address."""
    return b"\x02\x00" + ip


def _ip(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


@dataclass
class Capture:
    """Packets in capture order, each stamped 1 ms after the previous one."""

    start: float = 1_700_000_000.0
    records: list[tuple[float, bytes]] = field(default_factory=list)
    _ident: int = 0x1000

    def _ipv4(self, src: bytes, dst: bytes, proto: int, payload: bytes) -> bytes:
        self._ident = (self._ident + 1) & 0xFFFF
        head = _IPV4.pack(0x45, 0, 20 + len(payload), self._ident, 0x4000, 64, proto, 0, src, dst)
        head = head[:10] + struct.pack("!H", checksum(head)) + head[12:]
        return head + payload

    def frame(self, src: bytes, dst: bytes, proto: int, l4: bytes) -> None:
        """Append one Ethernet II / IPv4 frame carrying the transport bytes ``l4``."""
        packet = _ETHER.pack(_mac(dst), _mac(src), 0x0800) + self._ipv4(src, dst, proto, l4)
        self.records.append((self.start + len(self.records) / 1000.0, packet))

    def tcp(self, client: tuple[str, int], server: tuple[str, int], *, isn: tuple[int, int] = (1000, 5000),
            mss: int = 1460) -> TcpStream:
        """Open a TCP conversation (SYN, SYN-ACK, ACK) and return it."""
        stream = TcpStream(self, (_ip(client[0]), client[1]), (_ip(server[0]), server[1]), list(isn), mss)
        stream.handshake()
        return stream

    def udp(self, src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> None:
        s, d = _ip(src[0]), _ip(dst[0])
        head = _UDP.pack(src[1], dst[1], 8 + len(payload), 0)
        pseudo = struct.pack("!4s4sBBH", s, d, 0, PROTO_UDP, len(head) + len(payload))
        csum = checksum(pseudo + head + payload) or 0xFFFF
        self.frame(s, d, PROTO_UDP, head[:6] + struct.pack("!H", csum) + payload)

    def write(self, path: str) -> None:
        with open(path, "wb") as out:
            out.write(_PCAP_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
            for stamp, packet in self.records:
                seconds = int(stamp)
                micros = round((stamp - seconds) * 1e6)
                out.write(_PCAP_RECORD.pack(seconds, micros, len(packet), len(packet)))
                out.write(packet)


@dataclass
class TcpStream:
    """One TCP conversation; ``seq[0]`` is the client's next sequence number, ``seq[1]`` the server's."""

    capture: Capture
    client: tuple[bytes, int]
    server: tuple[bytes, int]
    seq: list[int]
    mss: int = 1460

    def _segment(self, side: int, flags: int, payload: bytes = b"") -> None:
        (src, sport), (dst, dport) = (self.client, self.server) if side == 0 else (self.server, self.client)
        ack = self.seq[1 - side] if flags & ACK else 0
        head = _TCP.pack(sport, dport, self.seq[side] & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                         65535, 0, 0)
        pseudo = struct.pack("!4s4sBBH", src, dst, 0, PROTO_TCP, len(head) + len(payload))
        csum = checksum(pseudo + head + payload)
        self.capture.frame(src, dst, PROTO_TCP, head[:16] + struct.pack("!H", csum) + head[18:] + payload)
        self.seq[side] += len(payload) + (1 if flags & (SYN | FIN) else 0)

    def handshake(self) -> None:
        self._segment(0, SYN)
        self._segment(1, SYN | ACK)
        self._segment(0, ACK)

    def _data(self, side: int, payload: bytes, cuts: Sequence[int]) -> None:
        bounds = sorted({0, len(payload), *(c for c in cuts if 0 < c < len(payload))})
        for a, b in itertools.pairwise(bounds):
            piece = payload[a:b]
            for at in range(0, len(piece), self.mss):
                self._segment(side, PSH | ACK, piece[at : at + self.mss])

    def send(self, payload: bytes, cuts: Sequence[int] = ()) -> None:
        """Client -> server; ``cuts`` are offsets at which to start a new segment."""
        self._data(0, payload, cuts)

    def reply(self, payload: bytes, cuts: Sequence[int] = ()) -> None:
        """Server -> client."""
        self._data(1, payload, cuts)

    def close(self) -> None:
        """Client FIN, server FIN-ACK, client ACK."""
        self._segment(0, FIN | ACK)
        self._segment(1, FIN | ACK)
        self._segment(0, ACK)
