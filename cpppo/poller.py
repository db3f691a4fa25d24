"""The poller metaphor for remote PLC I/O, whatever the protocol (``cpppo.remote.plc``).

A poller reads a set of addresses from a device at a rate, in the background; ``read(address)``
returns the latest value it has (None while the device is offline or the address not yet polled)
and ``write(address, value)`` writes through to the device at once, raising :class:`PlcOffline`
when it cannot.  :class:`poller` is that interface with an in-memory store behind it; a protocol's
poller (:class:`cpppo.modbus.poller_modbus`) derives from it and talks to a real device, and
:class:`poller_simulator` stands in for a PLC in tests, letting written values arrive after about
half the poll rate, as polled values would.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["PlcOffline", "poller", "poller_simulator"]

log = logging.getLogger(__name__)


class PlcOffline(ConnectionError):
    """The PLC cannot be reached: a write is not made, a read has no value."""


class poller:  # the documented (lower-case) name
    """What a PLC poller offers; this base keeps the values in memory.

    ``description`` names the PLC in messages; ``rate`` is the poll period in seconds (the
    shortest any ``poll`` asked for).  ``online`` is False while the PLC cannot be reached.
    """

    def __init__(self, description: Any = None, rate: float | None = None) -> None:
        self.description = id(self) if description is None else description
        self.online = True
        self.rate = rate
        self._data: dict[int, Any] = {}

    def poll(self, address: int, rate: float | None = None) -> None:
        """Poll ``address`` from now on (at ``rate`` seconds, if faster than the present rate)."""
        if rate is not None:
            self.rate = min(self.rate or rate, rate)
        self._poll(address)

    def read(self, address: int) -> Any:
        """The latest value of ``address`` (polling it from now on); None if offline or not yet known."""
        self._poll(address)
        self._receive()
        return self._data.get(address) if self.online else None

    def write(self, address: int, value: Any) -> None:
        """Write ``value`` (or a sequence of values from ``address`` on); PlcOffline if offline."""
        if not self.online:
            raise PlcOffline(f"write to {self.description} {address}: the PLC is offline")
        self._write(address, value)

    def forget(self, address: int) -> None:
        """Drop what is known of ``address`` (its next read is None until it is polled again)."""
        self._data[address] = None

    # -- what a device's poller overrides --------------------------------------------------------
    def _poll(self, address: int) -> None:
        self._data.setdefault(address, None)

    def _write(self, address: int, value: Any) -> None:
        self._store(address, value)

    def _store(self, address: int, value: Any) -> None:
        """Keep value(s) received for ``address`` on (nothing is kept while offline)."""
        values: Sequence[Any] = value if isinstance(value, (list, tuple)) else [value]
        if self.online:
            for offset, item in enumerate(values):
                self._data[address + offset] = item

    def _receive(self) -> None:
        """Take the values that have arrived (the base has nothing to wait for)."""


class poller_simulator(poller):
    """A simulated PLC: each new address starts at 0, and a value written arrives about half the
    poll rate later, as it would through a real poller."""

    def __init__(self, description: Any = None, rate: float = 1.0, **kwds: Any) -> None:
        super().__init__(description, rate, **kwds)
        self._pending: collections.deque[tuple[float, int, Any]] = collections.deque()

    def _poll(self, address: int) -> None:
        if address not in self._data:
            self._data[address] = 0
        super()._poll(address)

    def _write(self, address: int, value: Any) -> None:
        self._pending.append((time.monotonic() + (self.rate or 0.0) / 2, address, value))

    def _receive(self) -> None:
        now = time.monotonic()
        while self._pending and self._pending[0][0] <= now:
            _, address, value = self._pending.popleft()
            self._store(address, value)
