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
