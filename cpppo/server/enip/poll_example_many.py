"""``python -m cpppo.server.enip.poll_example_many [HOST[:PORT]]``: poll several groups of a PowerFlex
750's parameters at different rates from several threads, all through one proxy (one connection),
printing each value with a millisecond timestamp, as the documents show."""

from __future__ import annotations

import datetime
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ...cli import split_host_port
from . import poll
from .ab import powerflex_750_series as device

__all__ = ["GROUPS", "main"]

GROUPS = [  # (cycle seconds, parameters)
    (0.5, ["Output Frequency"]),
    (1.0, ["Motor Velocity", "Output Current"]),
    (5.0, ["Elapsed KwH", "Speed Units"]),
]


def _now() -> str:
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def main(argv: Sequence[str] | None = None, *, stop: Callable[[], bool] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        host, port = split_host_port(args[0] if args else "localhost", 44818)
    except ValueError as exc:
        print(f"poll_example_many: error: {exc}", file=sys.stderr)
        return 2
    via = device(host=host or "localhost", port=port, timeout=0.5)  # one proxy, shared by every poller
    lock = threading.Lock()
    lines: list[str] = []

    def failure(exc: BaseException) -> None:
        with lock:
            lines.append(f"{_now()}: {exc}")

    def process(par: Any, val: Any) -> None:
        with lock:
            lines.append(f"{_now()}: {par:>16} == {val!r}")

    process.done = False  # type: ignore[attr-defined]
    pollers = [threading.Thread(target=poll.poll, kwargs={
        "via": via, "cycle": cycle, "process": process, "failure": failure, "params": params})
        for cycle, params in GROUPS]
    for poller in pollers:
        poller.start()
    try:
        while not (stop is not None and stop()):
            with lock:
                out, lines[:] = list(lines), []
            for line in out:
                print(line, flush=True)
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        process.done = True  # type: ignore[attr-defined]
        for poller in pollers:
            poller.join()
        via.close_gateway()
    return 0


if __name__ == "__main__":
    sys.exit(main())
