"""The host: one event loop, and everything that runs on it.

A :class:`Host` is the composition root of a cpppo process.  It owns one asyncio event loop and
runs on it any number of *services* -- EtherNet/IP servers today; HTTP, recorders, players and
Modbus servers later -- started and stopped as one, with what they share:

* one sweeper task, which calls each service's ``sweep(now)`` about once a second (idle and
  half-frame connections, expired CIP connections), instead of a timer per server;
* one thread pool for work that may block (custom attributes whose ``__getitem__`` waits on
  something), created on first use and shared by every service;
* the forwarder that carries out :class:`~cpppo.device.backplane.Forward` effects (routing to a
  remote device) without blocking the loop (by default a :class:`~.forwarder.Forwarder`, a client
  session per target).

It runs either in the foreground (``host.run(service, ...)``, what ``enip_server`` does) or on a
background thread (``host.start()``).  Embedded simulators and the pytest fixture share one
background host per process (:meth:`Host.acquire`), so a hundred simulators in a test run on one
loop in one thread, not a hundred of each.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

from ..device.backplane import Forward

__all__ = ["Host", "Service"]

log = logging.getLogger(__name__)

T = TypeVar("T")
S = TypeVar("S", bound="Service")
_SWEEP_EVERY = 1.0  # seconds between sweeps, unless a service asks for a shorter one


class Service(Protocol):
    """Something a host runs: started on the host's loop, stopped when it is removed or the host closes.

    A service may also have ``sweep(now: float) -> None`` (called about once a second with
    ``time.monotonic()``) and ``sweep_interval: float`` (asking for a shorter interval).
    """

    async def start(self, host: Host) -> Any: ...

    async def stop(self) -> None: ...


class Host:
    """One event loop and the services, tasks, sweeper and thread pool on it."""

    _shared: Host | None = None
    _shared_users = 0
    _shared_lock = threading.Lock()

    def __init__(self, *, workers: int = 32, name: str = "cpppo-host") -> None:
        self.name = name
        self.workers = workers
        self.services: list[Service] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.forwarder: Callable[[Forward], Awaitable[bytes]] | None = None  # default: a Forwarder
        self._own_forwarder: Any = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._thread: threading.Thread | None = None
        self._stopping = False  # stop() was called from the loop's own thread, and is under way

    # -- on the loop ------------------------------------------------------------------------------
    async def add(self, service: S) -> S:
        """Start ``service`` on this host's loop; it runs until removed or the host closes."""
        self._attach()
        if any(s is service for s in self.services):
            raise RuntimeError(f"{service!r} is already running on {self.name}")
        await service.start(self)
        self.services.append(service)
        if self._sweeper is None:
            self._sweeper = self.spawn(self._sweep(), name=f"{self.name}-sweeper")
        return service

    async def remove(self, service: Service) -> None:
        """Stop ``service`` (if this host runs it)."""
        if service in self.services:
            self.services.remove(service)
            await service.stop()

    def spawn(self, coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
        """Run ``coro`` as a task of this host: cancelled when the host closes."""
        self._attach()
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def offload(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the shared thread pool (for work that may block)."""
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=self.workers,
                                                               thread_name_prefix=f"{self.name}-io")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def forward(self, effect: Forward) -> bytes:
        """Carry out a :class:`Forward`: the target's CIP reply, or the failure reply if it fails."""
        if self.forwarder is None:
            from .forwarder import Forwarder  # a client of the targets: loaded once routing needs it

            self.forwarder = self._own_forwarder = Forwarder()
        try:
            return await asyncio.wait_for(self.forwarder(effect), effect.target.timeout)
        except Exception as exc:  # unreachable, refused, timed out: the client gets a status, not a hang
            log.info("forwarding to %s failed: %r", effect.target, exc)
            return effect.failed()

    async def close(self) -> None:
        """Stop every service (last started first), then every task, then the pool."""
        for service in reversed(list(self.services)):
            await self.remove(service)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sweeper = None
        if self._own_forwarder is not None:
            await self._own_forwarder.close()
            self.forwarder = self._own_forwarder = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _attach(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is None or self.loop.is_closed():
            self.loop = loop
        elif self.loop is not loop:
            raise RuntimeError(f"{self.name} runs on another event loop")

    async def _sweep(self) -> None:
        while True:
            every = min([_SWEEP_EVERY, *(getattr(s, "sweep_interval", _SWEEP_EVERY) for s in self.services)])
            await asyncio.sleep(every)
            now = time.monotonic()
            sweep_forwarder = getattr(self.forwarder, "sweep", None)
            if sweep_forwarder is not None:  # idle sessions whose target hung up: no CLOSE_WAIT left
                try:
                    sweep_forwarder(now)
                except Exception:
                    log.exception("sweeping the forwarder failed")
            for service in list(self.services):
                sweep = getattr(service, "sweep", None)
                if sweep is None:
                    continue
                try:
                    sweep(now)
                except Exception:  # never let one bad sweep end the timeouts for good
                    log.exception("sweeping %r failed", service)

    # -- in the foreground ------------------------------------------------------------------------
    def run(self, *services: Service, ready: Callable[[], None] | None = None,
            stop: Callable[[], bool] | None = None) -> None:
        """Run ``services`` in this thread until SIGINT/SIGTERM, or until ``stop()`` returns true."""
        asyncio.run(self.serve(*services, ready=ready, stop=stop))

    async def serve(self, *services: Service, ready: Callable[[], None] | None = None,
                    stop: Callable[[], bool] | None = None) -> None:
        """:meth:`run` in a running loop."""
        loop = asyncio.get_running_loop()
        if self._thread is not None or (self.loop is not None and self.loop is not loop
                                        and not self.loop.is_closed()):
            raise RuntimeError(f"{self.name} is already running on another loop")
        interrupted = asyncio.Event()
        try:
            for service in services:
                await self.add(service)
            if threading.current_thread() is threading.main_thread():  # SIGINT/SIGTERM: a clean stop
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                        loop.add_signal_handler(sig, interrupted.set)
            if ready is not None:
                ready()
            while not interrupted.is_set() and not (stop is not None and stop()):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(interrupted.wait(), 0.05 if stop is not None else 3600)
        finally:
            await self.close()

    # -- on a background thread -------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> Host:
        """Run this host's loop on a background thread; return once it runs."""
        if self._thread is not None and self._thread.is_alive():
            return self
        if self.loop is not None and self.loop.is_running():
            raise RuntimeError(f"{self.name} is already running in the foreground")
        started = threading.Event()

        def loop_forever() -> None:
            loop = asyncio.new_event_loop()
            self.loop = loop
            loop.call_soon(started.set)
            try:
                loop.run_forever()
            finally:
                try:  # what others left running on the loop ends cancelled, not destroyed pending
                    _cancel_all(loop)
                finally:
                    loop.close()

        self._thread = threading.Thread(target=loop_forever, name=self.name, daemon=True)
        self._thread.start()
        if not started.wait(timeout):
            raise TimeoutError(f"{self.name} did not start in time")
        return self

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = 10.0) -> T:
        """Run ``coro`` on this host's background loop from another thread; its result."""
        loop = self.loop
        if loop is None or self._thread is None or loop.is_closed():
            coro.close()
            raise RuntimeError(f"{self.name} is not running")
        if threading.current_thread() is self._thread:  # it would wait for itself until the timeout
            coro.close()
            raise RuntimeError(f"{self.name}: call() from the host's own loop thread; await the coroutine instead")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"{self.name}: no result within {timeout}s") from None

    def stop(self, timeout: float = 10.0) -> None:
        """Close everything on the background loop, end the loop and its thread."""
        thread, loop = self._thread, self.loop
        if thread is None or loop is None:
            return
        if threading.current_thread() is thread:  # from a callback on the loop: close, then end it, later
            if not loop.is_closed() and not self._stopping:
                self._stopping = True
                loop.create_task(self._close_and_end(loop))
            return
        if not loop.is_closed():
            with contextlib.suppress(RuntimeError, TimeoutError):
                self.call(self.close(), timeout)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    async def _close_and_end(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            await self.close()
        finally:
            self._stopping = False
            loop.stop()

    def on_loop_thread(self) -> bool:
        """Whether the caller runs on this host's background loop (where :meth:`call` cannot wait)."""
        return self._thread is not None and threading.current_thread() is self._thread

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the one background host of a process -----------------------------------------------------
    @classmethod
    def acquire(cls) -> Host:
        """The process's shared background host, started if need be; :meth:`release` when done."""
        with cls._shared_lock:
            if cls._shared is None or not cls._shared.running:
                cls._shared = cls(name="cpppo-host").start()
                cls._shared_users = 0  # the users of a host that died are not this one's
            cls._shared_users += 1
            return cls._shared

    @classmethod
    def release(cls, host: Host) -> None:
        """One user of the shared host is done; the last one stops it (and its thread)."""
        with cls._shared_lock:
            if host is not cls._shared:
                return
            cls._shared_users -= 1
            if cls._shared_users > 0:
                return
            cls._shared = None
        host.stop()

    def __repr__(self) -> str:
        where = "background" if self._thread is not None else "foreground"
        return f"<Host {self.name} ({where}): {len(self.services)} services>"


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks still on ``loop`` and let them finish (as ``asyncio.run`` does on the way out)."""
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
