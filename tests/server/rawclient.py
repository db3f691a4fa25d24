"""A minimal blocking EtherNet/IP client for the server tests, built on the sans-I/O codec.

Deliberately not the cpppo client package: every frame here is assembled from
:mod:`cpppo.enip.frames` and the CIP codec, so the tests see exactly what goes on the wire.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Sequence
from typing import Any

from cpppo.cip.epath import Logical, Path, Symbolic, parse_route_path
from cpppo.cip.message import Reply, Request, multiple_request
from cpppo.cip.services import CommonService, LogixService
from cpppo.cip.tag_services import ReadTag, WriteTag, decode_typed_data, encode_attribute_list_request
from cpppo.cip.types import STRUCTURE, CIPType, type_by_name
from cpppo.device.datatypes import TypeRegistry
from cpppo.enip.encapsulation import Command, Encapsulation, decode_frame
from cpppo.enip.framer import Framer
from cpppo.enip.frames import register_session, reply_message, send_rr_data, unconnected_send

TIMEOUT = 10.0
MR_PATH: Path = (Logical("class", 0x02), Logical("instance", 1))


def tag(name: str, element: int | None = None) -> Path:
    """The symbolic path of ``name`` or ``name[element]``."""
    return (Symbolic(name),) if element is None else (Symbolic(name), Logical("element", element))


def attr(cls: int, ins: int, att: int | None = None, element: int | None = None) -> Path:
    """The numeric path @cls/ins[/att[/element]]."""
    path: list[Any] = [Logical("class", cls), Logical("instance", ins)]
    if att is not None:
        path.append(Logical("attribute", att))
    if element is not None:
        path.append(Logical("element", element))
    return tuple(path)


def read_tag(path: Path, count: int = 1) -> Request:
    return Request(LogixService.READ_TAG, path, ReadTag(count).encode())


def read_frag(path: Path, count: int, offset: int) -> Request:
    return Request(LogixService.READ_TAG_FRAGMENTED, path, ReadTag(count, offset).encode())


LOGIX_TYPES = TypeRegistry()  # the types a Logix tag can have: STRING is the Logix STRING structure


def logix_type(name: str) -> CIPType:
    return LOGIX_TYPES.get(name)


def write_tag(path: Path, ctype: CIPType | str, values: Sequence[Any], count: int | None = None) -> Request:
    t = logix_type(ctype) if isinstance(ctype, str) else ctype
    n = len(values) if count is None else count
    handle = getattr(t, "handle", None) if t.code == STRUCTURE else None
    return Request(LogixService.WRITE_TAG, path, WriteTag(t.code, n, t.encode(list(values)), handle=handle).encode())


def write_frag(path: Path, ctype: CIPType | str, count: int, offset: int, data: bytes) -> Request:
    t = type_by_name(ctype) if isinstance(ctype, str) else ctype
    return Request(LogixService.WRITE_TAG_FRAGMENTED, path, WriteTag(t.code, count, data, offset).encode())


def get_single(path: Path) -> Request:
    return Request(CommonService.GET_ATTRIBUTE_SINGLE, path)


def set_single(path: Path, data: bytes) -> Request:
    return Request(CommonService.SET_ATTRIBUTE_SINGLE, path, data)


def get_all(path: Path) -> Request:
    return Request(CommonService.GET_ATTRIBUTES_ALL, path)


def get_list(path: Path, attributes: Sequence[int]) -> Request:
    return Request(CommonService.GET_ATTRIBUTE_LIST, path, encode_attribute_list_request(attributes))


def multiple(requests: Sequence[Request | bytes]) -> Request:
    return multiple_request(MR_PATH, requests)


def values(reply: Reply) -> list[Any]:
    """Decode a Read Tag [Fragmented] reply's typed data into values."""
    typed = decode_typed_data(reply.data)
    from cpppo.cip.types import type_by_code

    if typed.type_code == STRUCTURE:
        structure = next(s for s in LOGIX_TYPES.structures.values() if s.handle == typed.handle)
        return structure.decode(typed.data)
    t = type_by_code(typed.type_code)
    assert t is not None, f"unknown type code 0x{typed.type_code:04X}"
    return t.decode(typed.data)


def multiple_replies(reply: Reply) -> list[Reply]:
    """The embedded replies of a Multiple Service Packet reply."""
    from cpppo.cip.message import decode_multiple, decode_reply

    return [decode_reply(reply.data, a, b) for a, b in decode_multiple(reply.data)]


class RawClient:
    """One TCP connection: send frames, receive frames, with a deadline on every wait."""

    def __init__(self, address: tuple[str, int], timeout: float = TIMEOUT, *, register: bool = False) -> None:
        self.address = address
        self.sock = socket.create_connection(address, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.framer = Framer()
        self.pending: list[Encapsulation] = []
        self.session = 0
        self._context = 0
        if register:
            self.register()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, frame: Encapsulation | bytes) -> None:
        self.sock.sendall(frame if isinstance(frame, bytes) else frame.encode())

    def recv(self, timeout: float | None = None) -> Encapsulation:
        """The next reply frame; ConnectionError if the server closed, socket.timeout if none came."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply frame in time")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.pending.extend(self.framer.feed(chunk))
        return self.pending.pop(0)

    def closed_by_server(self, timeout: float | None = None) -> bool:
        """Wait (bounded) for the server to close; True if it did, False if it stayed open."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.pending.extend(self.framer.feed(chunk))
        return False

    def transact(self, frame: Encapsulation | bytes) -> Encapsulation:
        self.send(frame)
        return self.recv()

    def context(self) -> bytes:
        self._context += 1
        return struct.pack("<Q", self._context)

    def register(self) -> int:
        reply = self.transact(register_session(self.context()))
        assert reply.status == 0, f"RegisterSession failed: 0x{reply.status:X}"
        self.session = reply.session
        return reply.session

    def cip(self, request: Request | bytes, route: Any = None, *, session: int | None = None) -> Reply:
        """Send one CIP request in SendRRData (wrapped in Unconnected Send if ``route`` is not None)."""
        return reply_message(self.transact(self.rr_frame(request, route, session=session)))

    def rr_frame(self, request: Request | bytes, route: Any = None, *, session: int | None = None,
                 context: bytes | None = None) -> Encapsulation:
        if route is not None:
            path = route if isinstance(route, tuple) else (parse_route_path(route) or ())
            request = unconnected_send(request, path)
        return send_rr_data(self.session if session is None else session, request,
                            context or self.context())

    # conveniences
    def read(self, path: Path, count: int = 1, route: Any = None) -> Reply:
        return self.cip(read_tag(path, count), route)

    def read_values(self, path: Path, count: int = 1, route: Any = None) -> list[Any]:
        reply = self.read(path, count, route)
        assert reply.status == 0, f"read failed: 0x{reply.status:02X} {reply.ext_status}"
        return values(reply)

    def write(self, path: Path, ctype: CIPType | str, vals: Sequence[Any], route: Any = None) -> Reply:
        return self.cip(write_tag(path, ctype, vals), route)


def udp_transact(address: tuple[str, int], frame: Encapsulation, timeout: float = TIMEOUT) -> Encapsulation:
    """Send one frame in a UDP datagram and decode the datagram that answers it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(frame.encode(), address)
        data, _ = s.recvfrom(65536)
    return decode_frame(data)


def command(cmd: int, data: bytes = b"", session: int = 0, context: bytes = b"ctx-1234") -> Encapsulation:
    return Encapsulation(cmd, session, 0, context, 0, data)


__all__ = [
    "MR_PATH", "Command", "RawClient", "attr", "command", "get_all", "get_list", "get_single", "multiple",
    "multiple_replies", "read_frag", "read_tag", "set_single", "tag", "udp_transact", "values", "write_frag",
    "write_tag",
]
