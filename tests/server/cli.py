"""Run ``python -m cpppo.server.enip`` as a subprocess, as a user would, and find the port it bound."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any

LISTENING = re.compile(r"listening on (\S+):(\d+) ")


class ServerProcess:
    def __init__(self, *args: str, cwd: Any = None, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip", *args], cwd=cwd,
                                     env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self._err), daemon=True).start()
        self.address = ("127.0.0.1", int(self.expect(LISTENING).group(2)))

    def _err(self, line: str | None) -> None:
        if line is not None:
            self.stderr.append(line)

    @staticmethod
    def _pump(stream: Any, put: Any) -> None:
        for line in stream:
            put(line)
        put(None)

    def expect(self, pattern: re.Pattern[str] | str, timeout: float = 15.0) -> re.Match[str]:
        """The first stdout line matching ``pattern`` (within ``timeout`` seconds)."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no stdout line matching {rx.pattern!r}; stderr: {''.join(self.stderr)}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"server exited ({self.proc.wait(10)}); stderr: {''.join(self.stderr)}")
            m = rx.search(line)
            if m:
                return m

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_server(*args: str, cwd: Any = None, env: dict[str, str] | None = None,
               timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run the server to completion (for argument errors, which exit at once)."""
    return subprocess.run([sys.executable, "-m", "cpppo.server.enip", *args], check=False, cwd=cwd,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout)
