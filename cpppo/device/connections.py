"""The Connection Manager's table of class 3 (explicit message) connections.

A Forward Open asks for a connection identified by its *triad* (connection serial, vendor id,
originator serial).  The target picks the O->T connection id the originator will address its
SendUnitData requests to; the originator picked the T->O id the replies carry.  A connection
ends by Forward Close, when the session that opened it closes, or when nothing arrives on it for
its timeout (O->T RPI x the timeout multiplier).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..cip.connection_manager import ForwardClose, ForwardOpen
from ..cip.status import ConnectionFailureStatus as Ext
from ..cip.status import GeneralStatus, extended_status_name

__all__ = ["ConnectionEntry", "ConnectionRefused", "ConnectionTable"]

MAX_SIZE = {False: 511, True: 4002}
"""The largest connection size a Forward Open (False) or Large Forward Open (True) may ask for."""


class ConnectionRefused(Exception):
    """A Forward Open or Forward Close fails with general status 0x01 and this extended status."""

    def __init__(self, ext: int) -> None:
        name = extended_status_name(GeneralStatus.CONNECTION_FAILURE, ext)
        super().__init__(f"connection refused: {name} (extended status 0x{ext:04X})")
        self.ext = ext


@dataclass
class ConnectionEntry:
    """One open connection, as this device's table keeps it (the client keeps its own ``Connection``)."""

    o_t_id: int
    t_o_id: int
    triad: tuple[int, int, int]
    o_t_size: int
    t_o_size: int
    timeout: float
    owner: int
    last: float
    target: Any = None  # the module (a Controller on the backplane) serving it; None: this one

    @property
    def reply_limit(self) -> int:
        """The largest CIP reply that fits the T->O size (less the 2-byte sequence count)."""
        return self.t_o_size - 2


class ConnectionTable:
    """The connections of one simulated device, for all of its sessions.

    Sessions served from a thread pool open and close connections while the event loop expires
    them, so every change holds the table's lock.
    """

    def __init__(self, limit: int = 128) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._by_id: dict[int, ConnectionEntry] = {}
        self._by_triad: dict[tuple[int, int, int], ConnectionEntry] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, o_t_id: int) -> ConnectionEntry | None:
        return self._by_id.get(o_t_id)

    def open(self, fo: ForwardOpen, owner: int, target: Any = None) -> ConnectionEntry:
        with self._lock:
            return self._open(fo, owner, target)

    def _open(self, fo: ForwardOpen, owner: int, target: Any) -> ConnectionEntry:
        if fo.triad in self._by_triad:
            raise ConnectionRefused(Ext.CONNECTION_IN_USE)
        if len(self._by_id) >= self.limit:
            raise ConnectionRefused(Ext.OUT_OF_CONNECTIONS)
        if (fo.transport & 0x0F) not in (1, 3):
            # CIP has 0x0103 for this; the simulator has always answered 0x0108, and clients may rely on it
            raise ConnectionRefused(Ext.INVALID_NETWORK_CONNECTION_PARAMETER)
        top = MAX_SIZE[fo.large]
        for size in (fo.o_t_params.size, fo.t_o_params.size):
            if not 2 < size <= top:
                raise ConnectionRefused(Ext.INVALID_CONNECTION_SIZE)
        o_t_id = 0
        while not o_t_id or o_t_id in self._by_id:
            o_t_id = secrets.randbits(32)
        conn = ConnectionEntry(o_t_id, fo.t_o_connection_id, fo.triad, fo.o_t_params.size, fo.t_o_params.size,
                          fo.timeout_s, owner, time.monotonic(), target)
        self._by_id[o_t_id] = conn
        self._by_triad[fo.triad] = conn
        return conn

    def close(self, fc: ForwardClose) -> ConnectionEntry:
        with self._lock:
            conn = self._by_triad.get(fc.triad)
            if conn is None:
                raise ConnectionRefused(Ext.TARGET_CONNECTION_NOT_FOUND)
            self._drop(conn)
        return conn

    def _drop(self, conn: ConnectionEntry) -> None:
        self._by_id.pop(conn.o_t_id, None)
        self._by_triad.pop(conn.triad, None)
        release = getattr(conn.target, "release", None)  # a relayed connection lets its far end go
        if release is not None:
            release()

    def drop(self, conn: ConnectionEntry) -> None:
        """Forget ``conn`` (a connection that could not be completed)."""
        with self._lock:
            if self._by_id.get(conn.o_t_id) is conn:
                self._drop(conn)

    def drop_owner(self, owner: int) -> None:
        """Drop the connections of a session that closed."""
        with self._lock:
            for conn in [c for c in self._by_id.values() if c.owner == owner]:
                self._drop(conn)

    def expire(self, now: float | None = None) -> list[ConnectionEntry]:
        """Drop connections idle past their timeout; return them."""
        now = time.monotonic() if now is None else now
        with self._lock:
            gone = [c for c in self._by_id.values() if c.timeout and now - c.last > c.timeout]
            for conn in gone:
                self._drop(conn)
        return gone
