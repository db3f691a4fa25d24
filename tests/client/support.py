"""Helpers for the client tests: the tag set, and a server that never answers."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator

TAGS = (
    "SCADA=INT[1000]", "Tag=DINT[10]", "TEXT=SSTRING[4]", "NAME=STRING", "FLOAT=REAL", "FLOATS=REAL[100]",
    "BIG=DINT[10000]", "S=SINT[4]", "U=USINT[4]", "UI=UINT[4]", "UD=UDINT[4]", "L=LINT[4]", "LR=LREAL[4]",
    "B=BOOL", "W=WORD[2]", "DW=DWORD[2]",
)


@contextlib.contextmanager
def silent_server(register: bool = True) -> Iterator[tuple[str, int]]:
    """A TCP server that accepts, answers RegisterSession (if ``register``), and then says nothing."""
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    lsock.settimeout(0.1)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
            except OSError:
                continue
            conns.append(conn)
            if register:
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    head = conn.recv(28)
                    if len(head) >= 24:
                        _, _, _, _, context, _ = struct.unpack_from("<HHII8sI", head)
                        conn.sendall(struct.pack("<HHII8sI", 0x65, 4, 0x1234, 0, context, 0) + b"\x01\x00\x00\x00")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield lsock.getsockname()[:2]
    finally:
        stop.set()
        thread.join(5)
        for c in conns:
            c.close()
        lsock.close()


@contextlib.contextmanager
def short_read_server(values: int = 2) -> Iterator[tuple[str, int]]:
    """A TCP server that registers sessions and answers every SendRRData with a successful (status 0)
    Read Tag reply carrying only ``values`` DINTs, whatever was asked for."""
    from cpppo.cip.message import encode_reply
    from cpppo.cip.services import LogixService
    from cpppo.cip.types import TypeCode
    from cpppo.enip.cpf import NullAddress, SendData, UnconnectedData
    from cpppo.enip.encapsulation import HEADER, Command, decode_frame

    reply = encode_reply(LogixService.READ_TAG, 0, (), struct.pack(f"<H{values}i", TypeCode.DINT, *range(values)))
    answer = SendData((NullAddress(), UnconnectedData(reply)), 0, 0).encode()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    lsock.settimeout(0.1)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def recv_exactly(conn: socket.socket, size: int) -> bytes:
        buf = b""
        while len(buf) < size:
            got = conn.recv(size - len(buf))
            if not got:
                raise EOFError
            buf += got
        return buf

    def session(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError, EOFError):
            conn.settimeout(10)
            while not stop.is_set():
                head = recv_exactly(conn, HEADER.size)
                frame = decode_frame(head + recv_exactly(conn, HEADER.unpack(head)[1]))
                if frame.command == Command.REGISTER_SESSION:
                    conn.sendall(frame.reply(frame.data, session=0x1234).encode())
                elif frame.command == Command.SEND_RR_DATA:
                    conn.sendall(frame.reply(answer).encode())

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
            except OSError:
                continue
            thread = threading.Thread(target=session, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield lsock.getsockname()[:2]
    finally:
        stop.set()
        thread.join(5)
        lsock.close()
        for t in threads:
            t.join(5)
