"""``python -m cpppo.server.enip.poll_example [HOST[:PORT]]``: poll a PowerFlex 750's Motor Velocity
and Output Current every second, printing each value and each failure with the time, as the
documents show (stop and restart ``poll_test`` meanwhile to see the failures and the recovery)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ...cli import split_host_port
from . import poll
from .ab import powerflex_750_series as device

__all__ = ["main"]

PARAMS = ["Motor Velocity", "Output Current"]


def main(argv: Sequence[str] | None = None, *, stop: Callable[[], bool] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        host, port = split_host_port(args[0] if args else "localhost", 44818)
    except ValueError as exc:
        print(f"poll_example: error: {exc}", file=sys.stderr)
        return 2

    def failure(exc: BaseException) -> None:
        failure.string.append(str(exc))  # type: ignore[attr-defined]

    failure.string = []  # type: ignore[attr-defined]

    def process(par: Any, val: Any) -> None:
        process.values[par] = val  # type: ignore[attr-defined]

    process.done = False  # type: ignore[attr-defined]
    process.values = {}  # type: ignore[attr-defined]
    poller = threading.Thread(target=poll.poll, kwargs={
        "proxy_class": device, "address": (host or "localhost", port), "cycle": 1.0, "timeout": 0.5,
        "process": process, "failure": failure, "params": PARAMS})
    poller.start()
    try:
        while not (stop is not None and stop()):
            while process.values:  # type: ignore[attr-defined]
                par, val = process.values.popitem()  # type: ignore[attr-defined]
                print(f"{time.ctime()}: {par:>16} == {val!r}", flush=True)
            while failure.string:  # type: ignore[attr-defined]
                print(f"{time.ctime()}: {failure.string.pop(0)}", flush=True)  # type: ignore[attr-defined]
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        process.done = True  # type: ignore[attr-defined]
        poller.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
