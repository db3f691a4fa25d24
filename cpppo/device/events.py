"""The write funnel: every change of a tag's bytes, and every read someone listens for, as events.

Whatever changes a tag -- a client's Write Tag, ``plc["X"] = 1`` from Python, a custom
attribute's own ``super().__setitem__``, a playback of recorded history -- ends in one commit in
:class:`~cpppo.device.tags.Attribute`, which hands the change to its controller's
:class:`TagEvents`.  A :class:`TagEvent` says when (``time``), what (tag, element range, the bytes
before and after) and who (``source``): a client's address, a direct write, playback.

Nothing is built unless someone listens, so an unobserved simulator pays one attribute lookup per
write.  Listeners come in two kinds:

* *observers*: plain callables run at once, in whatever thread committed the change (the
  ``--print`` lines, an embedded simulator's ``io`` log).  They must be quick and thread-safe.
* *subscriptions*: bounded queues read by coroutines on one event loop (a dashboard, a
  recorder).  A change made in another thread reaches them through ``call_soon_threadsafe``;
  a subscriber that falls behind loses the oldest events and counts them in ``dropped`` -- it
  never slows the EtherNet/IP path down.

The source of a change is taken from a context variable that the request path sets
(:func:`changes_by`); code that writes on behalf of something else (playback) sets it the same way.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..cip.types import CIPType
from ..errors import DecodeError

log = logging.getLogger(__name__)

__all__ = [
    "DIRECT",
    "PLAYBACK",
    "Source",
    "Subscription",
    "TagEvent",
    "TagEvents",
    "changes_by",
    "current_source",
]


@dataclass(frozen=True, slots=True)
class Source:
    """Who made a change: ``kind`` is "client", "direct" or "playback"; ``peer`` a client's address."""

    kind: str
    peer: tuple[str, int] | None = None

    def __str__(self) -> str:
        if self.peer is None:
            return self.kind
        host, port = self.peer[0], self.peer[1]
        return f"{self.kind} [{host}]:{port}" if ":" in host else f"{self.kind} {host}:{port}"


DIRECT = Source("direct")
"""A write from Python (``plc["X"] = 1``, ``attribute[0] = 1``): the default source."""
PLAYBACK = Source("playback")
"""A write replaying recorded history."""

_SOURCE: contextvars.ContextVar[Source] = contextvars.ContextVar("cpppo_source", default=DIRECT)


def current_source() -> Source:
    return _SOURCE.get()


@contextlib.contextmanager
def changes_by(source: Source) -> Iterator[None]:
    """Attribute the changes made inside the block to ``source``."""
    token = _SOURCE.set(source)
    try:
        yield
    finally:
        _SOURCE.reset(token)


class TagEvent(NamedTuple):
    """One read, write or failed access of a tag: what a ``--print`` line, an ``io`` log or a recorder shows.

    ``data`` holds the bytes read or written (the new bytes), ``old`` the bytes they replaced (writes
    only), both in the wire encoding of ``type``; ``values`` and ``old_values`` decode them.  ``tag``
    names what was accessed as the client named it (``M1.Speed`` for a member), ``start`` and
    ``count`` its elements.  A failed access (kind ``"error"``) carries no data: ``status`` is the
    CIP general status the client was answered, ``access`` what it tried (``"read"``, ``"write"``).
    (A named tuple: immutable, and built in a fraction of the time a frozen dataclass takes, which
    matters on the request path.)
    """

    kind: str  # "read" or "write"
    tag: str
    start: int
    count: int
    data: bytes
    type: CIPType
    time: float
    source: Source = DIRECT
    old: bytes | None = None
    bit: int | None = None  # a BOOL member's bit: data is one byte, 0 or 1
    status: int = 0  # an error's CIP general status
    access: str = ""  # what an error's request tried: "read", "write" or another service's name

    @property
    def values(self) -> list[Any]:
        return _decode(self.type, self.data, self.bit)

    @property
    def old_values(self) -> list[Any] | None:
        return None if self.old is None else _decode(self.type, self.old, self.bit)

    def __repr__(self) -> str:
        if self.kind == "error":
            return (f"TagEvent(kind='error', tag={self.tag!r}, start={self.start}, count={self.count}, "
                    f"access={self.access!r}, status=0x{self.status:02X}, source='{self.source}', time={self.time:.6f})")
        return (f"TagEvent(kind={self.kind!r}, tag={self.tag!r}, start={self.start}, count={self.count}, "
                f"values={self.values!r}, source='{self.source}', time={self.time:.6f})")


_new = tuple.__new__


def _decode(kind: CIPType, data: bytes, bit: int | None) -> list[Any]:
    if bit is not None:
        return [bool(data[0])] if data else []
    try:
        return kind.decode(data) if kind.size == 0 or len(data) % kind.size == 0 else [data]
    except DecodeError:
        return [data]


class Subscription:
    """A bounded queue of events for coroutines on one loop: ``async for event in sub:``.

    When ``maxsize`` events wait unread, the oldest is dropped and counted in ``dropped``.
    """

    def __init__(self, events: TagEvents, loop: asyncio.AbstractEventLoop, maxsize: int, reads: bool) -> None:
        self.events = events
        self.loop = loop
        self.reads = reads
        self.dropped = 0
        self.delivered = 0
        self.closed = False
        self._queue: collections.deque[TagEvent] = collections.deque()
        self._maxsize = maxsize
        self._ready = asyncio.Event()

    def _put(self, event: TagEvent) -> None:  # on self.loop
        if self.closed:
            return
        queue = self._queue
        if not queue:
            self._ready.set()  # a reader may be waiting; with events queued already, it has been woken
        elif len(queue) >= self._maxsize:
            queue.popleft()
            self.dropped += 1
        queue.append(event)

    def deliver(self, event: TagEvent) -> None:
        """Queue ``event`` from any thread."""
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:  # a thread with no loop: a direct write, or a request served in the pool
            here = None
        if here is self.loop:
            self._put(event)
        elif not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self.loop.call_soon_threadsafe(self._put, event)

    def pending(self) -> int:
        return len(self._queue)

    def get_nowait(self) -> TagEvent | None:
        if not self._queue:
            return None
        self.delivered += 1
        return self._queue.popleft()

    async def get(self) -> TagEvent:
        """The next event (waiting for one)."""
        if not self._queue:
            await self.wait()
        self.delivered += 1
        return self._queue.popleft()

    async def batch(self, limit: int = 1000) -> list[TagEvent]:
        """The events waiting (at most ``limit``), waiting for at least one: one wake-up per burst."""
        await self.wait()
        n = min(limit, len(self._queue))
        out = [self._queue.popleft() for _ in range(n)]
        self.delivered += n
        return out

    async def wait(self) -> None:
        """Until an event waits (StopAsyncIteration once closed and empty)."""
        while not self._queue:
            if self.closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> TagEvent:
        return await self.get()

    def close(self) -> None:
        """Stop receiving events; a waiting ``get`` ends with StopAsyncIteration."""
        self.closed = True
        self.events.unsubscribe(self)
        if not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._ready.set)


class TagEvents:
    """The listeners of one controller's tags, and the one place their events are delivered."""

    def __init__(self) -> None:
        self.observers: list[Callable[[TagEvent], None]] = []
        self._subscriptions: list[Subscription] = []
        self._readers: list[Subscription] = []  # those that asked for reads too
        self._read_subscriptions = 0
        self._lock = threading.Lock()  # subscribers come and go from any thread; emit never takes it
        self._failing: set[int] = set()  # observers whose failure was logged in full once

    @property
    def writes(self) -> bool:
        """Someone listens to writes (an observer or any subscription)."""
        return bool(self.observers) or bool(self._subscriptions)

    @property
    def reads(self) -> bool:
        """Someone listens to reads (an observer, or a subscription that asked for them)."""
        return bool(self.observers) or self._read_subscriptions > 0

    def subscribe(self, *, maxsize: int = 10000, reads: bool = False,
                  loop: asyncio.AbstractEventLoop | None = None) -> Subscription:
        """A queue of the events from now on, read on ``loop`` (default: the running loop)."""
        if maxsize < 1:
            raise ValueError("a subscription holds at least one event")
        sub = Subscription(self, loop or asyncio.get_running_loop(), maxsize, reads)
        with self._lock:
            self._subscriptions = [*self._subscriptions, sub]  # replaced, never mutated: emit iterates freely
            self._readers = [s for s in self._subscriptions if s.reads]
            self._read_subscriptions += reads
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if any(s is sub for s in self._subscriptions):
                self._subscriptions = [s for s in self._subscriptions if s is not sub]
                self._readers = [s for s in self._subscriptions if s.reads]
                self._read_subscriptions -= sub.reads

    def close_subscriptions(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """End every subscription (read on ``loop``, if given): their readers see the end."""
        for sub in list(self._subscriptions):
            if loop is None or sub.loop is loop:
                sub.close()

    def emit(self, event: TagEvent) -> None:
        """Deliver ``event`` to every listener (from whatever thread made it)."""
        if self.observers:
            self._observe(event)
        subs = self._subscriptions
        if subs:
            reading = event.kind == "read"
            for sub in subs:
                if not reading or sub.reads:
                    sub.deliver(event)

    def _observe(self, event: TagEvent) -> None:
        for observer in tuple(self.observers):
            try:
                observer(event)
            except Exception:  # a broken listener must not fail the write it watches, nor the others
                self._observer_failed(observer, event)

    def _observer_failed(self, observer: Callable[[TagEvent], None], event: TagEvent) -> None:
        """Log an observer's failure: the first with its traceback, the rest (every event, maybe) briefly."""
        key = id(observer)
        with self._lock:
            first = key not in self._failing
            self._failing.add(key)
        if first:
            log.exception("tag event observer %r failed on %r (later failures are logged at DEBUG)", observer, event)
        else:
            log.debug("tag event observer %r failed again on %r", observer, event, exc_info=True)

    # Events are built with tuple.__new__: every field given, without the named tuple's Python-level
    # __new__ (a read event per request, when a recorder listens, is on the request path).
    def write(self, tag: str, start: int, count: int, data: bytes, kind: CIPType, *, old: bytes | None,
              bit: int | None = None) -> None:
        self.emit(_new(TagEvent, ("write", tag, start, count, data, kind, time.time(), _SOURCE.get(), old, bit, 0,
                                  "")))

    def read(self, tag: str, start: int, count: int, data: bytes, kind: CIPType, *, bit: int | None = None) -> None:
        event = _new(TagEvent, ("read", tag, start, count, data, kind, time.time(), _SOURCE.get(), None, bit, 0, ""))
        if self.observers:
            self._observe(event)
        for sub in self._readers:  # emit, for a read: only the subscriptions that asked for reads
            sub.deliver(event)

    def error(self, tag: str, start: int, count: int, kind: CIPType, *, status: int, access: str) -> None:
        """A request for ``tag`` was answered with ``status`` (delivered like a write: to every listener)."""
        self.emit(TagEvent("error", tag, start, count, b"", kind, time.time(), _SOURCE.get(), None, None, status,
                           access))
