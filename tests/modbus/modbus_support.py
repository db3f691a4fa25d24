"""Helpers shared by the Modbus tests (a uniquely named module, so imports never collide)."""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
import time
import tty
from collections.abc import Callable

from cpppo.modbus import DataStore, parse_register_spec


def wait_for(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.01) -> object:
    """Poll ``condition`` until it is truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def make_store(*specs: str) -> DataStore:
    return DataStore([parse_register_spec(text) for text in specs])


class PtyLine:
    """Two pseudo-terminals joined by a thread, like a serial cable; ``noise`` is sent ahead of
    every chunk passing in each direction, as a noisy RS-485 line would add."""

    def __init__(self) -> None:
        self._pairs = [os.openpty(), os.openpty()]
        for master, slave in self._pairs:
            tty.setraw(master)
            tty.setraw(slave)
        self.client_port = os.ttyname(self._pairs[0][1])
        self.server_port = os.ttyname(self._pairs[1][1])
        self.noise_to_server = b""
        self.noise_to_client = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        a, b = self._pairs[0][0], self._pairs[1][0]
        with selectors.DefaultSelector() as waiting:  # not select.select: descriptors may be >= 1024
            waiting.register(a, selectors.EVENT_READ)
            waiting.register(b, selectors.EVENT_READ)
            while not self._stop.is_set():
                self._pass_on(a, b, [key.fd for key, _ in waiting.select(0.05)])

    def _pass_on(self, a: int, b: int, ready: list[int]) -> None:
        for fd in ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                continue
            if fd == a:
                os.write(b, self.noise_to_server + data)
            else:
                os.write(a, self.noise_to_client + data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for master, slave in self._pairs:
            for fd in (master, slave):
                with contextlib.suppress(OSError):
                    os.close(fd)
