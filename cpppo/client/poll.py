"""Polling CIP devices through proxies: the documented ``poll`` / ``run`` / ``loop`` / ``execute``,
and an asyncio form that polls hundreds of devices from one event loop.

The split of work is the documented one: :func:`execute` reads the parameters once,
:func:`loop` runs it when the cycle is due, :func:`run` repeats that, hands every value to
``process(par, val)`` and every failure to ``failure(exc)``, backs off exponentially (from
``backoff_min``, times ``backoff_multiplier``, at most ``backoff_max`` seconds) while the device
is down, reconnects by itself when it returns, and stops within ``latency`` seconds once
``process.done`` is true; :func:`poll` makes the proxy and runs.  The blocking functions run in
the caller's thread (start them in one of their own, as the examples do).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .proxy import AsyncProxy, proxy

__all__ = ["AsyncPoll", "execute", "loop", "poll", "poll_many", "run"]

log = logging.getLogger(__name__)

Process = Callable[[Any, Any], Any]
Failure = Callable[[BaseException], Any]


def execute(via: proxy, params: Sequence[Any] | None = None, pass_thru: bool | None = None) -> list[tuple[Any, Any]]:
    """Read ``params`` once through ``via``: ``[(par, value), ...]`` (raises on an I/O failure)."""
    names = list(params or [])
    values = list(via.read(via.parameter_substitution(names, pass_thru=pass_thru)))
    return list(zip(names, values))


def loop(via: proxy, cycle: float | None = None, last_poll: float | None = None,
         **kwds: Any) -> tuple[float, float, list[tuple[Any, Any]]]:
    """One poll if the ``cycle`` is due since ``last_poll``: (this poll's start, the seconds until the
    next is due, the (par, value) pairs read -- none if it was not due yet).  A cycle missed by more
    than a whole period is logged and the schedule restarts from now."""
    cycle = 1.0 if cycle is None else cycle
    now = time.monotonic()
    if last_poll is not None and now < last_poll + cycle:
        return last_poll, last_poll + cycle - now, []
    if last_poll is not None and now > last_poll + 2 * cycle:
        log.info("missed %d poll cycle(s) of %ss", int((now - last_poll) / cycle) - 1, cycle)
    results = execute(via, **kwds)
    return now, max(0.0, now + cycle - time.monotonic()), results


def _done(process: Any) -> bool:
    return bool(getattr(process, "done", False))


def run(via: proxy, process: Process | None = None, failure: Failure | None = None,  # noqa: PLR0917 - documented
        backoff_min: float | None = None, backoff_multiplier: float | None = None, backoff_max: float | None = None,
        latency: float | None = None, **kwds: Any) -> None:
    """Poll through ``via`` until ``process.done`` (a KeyboardInterrupt ends it too)."""
    backoff_min = 0.5 if backoff_min is None else backoff_min
    backoff_multiplier = 2.0 if backoff_multiplier is None else backoff_multiplier
    backoff_max = 5.0 if backoff_max is None else backoff_max
    latency = 0.5 if latency is None else latency
    backoff: float | None = None
    last: float | None = None
    while not _done(process):
        try:
            with via:
                last, delay, results = loop(via, last_poll=last, **kwds)
            backoff = None
            for par, val in results:
                if process is not None:
                    process(par, val)
        except Exception as exc:  # an I/O failure: tell, back off, and reconnect on the next try
            if failure is not None:
                failure(exc)
            else:
                log.warning("polling %s failed: %s", via, exc)
            backoff = backoff_min if backoff is None else min(backoff_max, backoff * backoff_multiplier)
            delay, last = backoff, None
        deadline = time.monotonic() + delay
        while not _done(process):  # sleep, but look at process.done every ``latency`` seconds
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(left, latency))


def poll(proxy_class: type[proxy] | None = None, address: tuple[str, int] | None = None,  # noqa: PLR0917 - documented
         depth: int | None = None,
         multiple: int | None = None, timeout: float | None = None, route_path: Any = None, send_path: Any = None,
         via: proxy | None = None, params: Sequence[Any] | None = None, pass_thru: bool | None = None,
         cycle: float | None = None, process: Process | None = None, failure: Failure | None = None,
         backoff_min: float | None = None, backoff_multiplier: float | None = None, backoff_max: float | None = None,
         latency: float | None = None) -> None:
    """Make a ``proxy_class`` for the device at ``address`` (or use ``via``) and :func:`run` a poll of ``params``."""
    if via is None:
        if proxy_class is None or address is None:
            raise ValueError("poll needs a proxy_class and an address, or a via")
        host, port = address
        via = proxy_class(host=host or "localhost", port=port or 44818, timeout=timeout, depth=depth,
                          multiple=multiple, route_path=route_path, send_path=send_path)
    run(via=via, process=process, failure=failure, backoff_min=backoff_min, backoff_multiplier=backoff_multiplier,
        backoff_max=backoff_max, latency=latency, cycle=cycle, params=params, pass_thru=pass_thru)


# -- asyncio: many devices from one loop ------------------------------------------------------------
@dataclass
class AsyncPoll:
    """One device's poll: its proxy, parameters, cycle and back-off, and what it has done so far."""

    via: AsyncProxy
    params: Sequence[Any]
    cycle: float = 1.0
    pass_thru: bool | None = None
    backoff_min: float = 0.5
    backoff_multiplier: float = 2.0
    backoff_max: float = 5.0
    polls: int = 0
    failures: int = 0
    backoff: float | None = field(default=None, repr=False)

    async def once(self) -> list[tuple[Any, Any]]:
        names = list(self.params)
        async with self.via:
            values = await self.via.read(self.via.parameter_substitution(names, pass_thru=self.pass_thru))
        return list(zip(names, values))

    async def run(self, process: Process | None, failure: Failure | None, stop: asyncio.Event) -> None:
        """Poll every ``cycle`` until ``stop`` is set; a failing device backs off on its own."""
        loop_ = asyncio.get_running_loop()
        due = loop_.time()
        while not stop.is_set():
            try:
                results = await self.once()
                self.polls += 1
                self.backoff = None
                for par, val in results:
                    if process is not None:
                        process((self.via, par), val)
                due = max(due + self.cycle, loop_.time())  # overran: restart the schedule from now
                delay = due - loop_.time()
            except Exception as exc:  # this device only: the others go on
                self.failures += 1
                if failure is not None:
                    failure(exc)
                self.backoff = self.backoff_min if self.backoff is None else \
                    min(self.backoff_max, self.backoff * self.backoff_multiplier)
                delay = self.backoff
                due = loop_.time() + delay
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, delay))
        await self.via.close_gateway()


async def poll_many(polls: Iterable[AsyncPoll], process: Process | None = None, failure: Failure | None = None,
                    stop: asyncio.Event | None = None, duration: float | None = None) -> list[AsyncPoll]:
    """Run every poll on this loop until ``stop`` is set (or ``duration`` seconds pass); ``process``
    gets ``((via, par), value)``.  Returns the polls, with their counts."""
    stop = stop or asyncio.Event()
    polls = list(polls)
    tasks = [asyncio.create_task(p.run(process, failure, stop)) for p in polls]
    if duration is not None:
        asyncio.get_running_loop().call_later(duration, stop.set)
    await asyncio.gather(*tasks)
    return polls
