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
  never slows the EtherNet/IP path down.  A read, which a recorder may ask for on every request,
  costs that path a call and two references queued: what was read, prebuilt by the tag's reply
  cache (:data:`What`), and who asked when (:data:`Origin`), queued without waking anyone
  (:data:`READ_POLL`).

Who and when come from a context variable: a connection sets it once for each batch of requests
it serves (:func:`serving`), so the reads of a batch carry the batch's time (a write takes the
clock itself); code that writes on behalf of something else (playback) says so with
:func:`changes_by`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import repeat
from typing import Any, NamedTuple

from ..cip.types import CIPType
from ..errors import DecodeError

log = logging.getLogger(__name__)

__all__ = [
    "DIRECT",
    "PLAYBACK",
    "READ_POLL",
    "Origin",
    "Source",
    "Subscription",
    "TagEvent",
    "TagEvents",
    "What",
    "changes_by",
    "current_source",
    "event_of",
    "read_what",
    "served",
    "serving",
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

Origin = tuple
"""``(source, time)``: who is served, and since when (seconds since the epoch; None: no batch,
each event takes the clock).  A connection serving a batch of requests sets one for the batch:
the reads it answers are stamped with the batch's time, one clock reading for all of them."""

_ORIGIN: contextvars.ContextVar[Origin] = contextvars.ContextVar("cpppo_origin", default=(DIRECT, None))


def current_source() -> Source:
    return _ORIGIN.get()[0]


def serving(source: Source) -> contextvars.Token[Origin]:
    """Say that ``source`` is served from now (a batch of its requests), until :func:`served`."""
    return _ORIGIN.set((source, _time()))


def served(token: contextvars.Token[Origin]) -> None:
    """The end of what :func:`serving` began."""
    _ORIGIN.reset(token)


class changes_by:
    """Attribute the changes made inside the block to ``source`` (a class, not a generator: this
    is a fifth of the cost)."""

    __slots__ = ("_source", "_token")

    def __init__(self, source: Source) -> None:
        self._source = source

    def __enter__(self) -> None:
        self._token = _ORIGIN.set((self._source, None))

    def __exit__(self, *exc: object) -> None:
        _ORIGIN.reset(self._token)


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
_time = time.time
_deque_popleft = collections.deque.popleft
_running_loop = asyncio._get_running_loop  # the running loop or None: no exception to catch on the request path

What = tuple
"""What happened, without when and who: ``(kind, tag, start, count, data, type, old, bit, status,
access)`` -- a :class:`TagEvent`'s fields but ``time`` and ``source``.  A tag's reply cache keeps
one per version of the bytes it answers, so a read repeated a thousand times is one object."""

READ_POLL = 0.01
"""Reads are queued without a wake-up (checking whether the reader sleeps would cost every read);
a subscription that takes reads looks for them this often (seconds) while it waits."""


def read_what(tag: str, start: int, count: int, data: bytes, kind: CIPType, *, bit: int | None = None) -> What:
    """The :data:`What` of a read of ``count`` elements of ``tag`` from ``start`` that gave ``data``."""
    return ("read", tag, start, count, data, kind, None, bit, 0, "")


def event_of(what: What, origin: Origin) -> TagEvent:
    """The TagEvent of what happened, and who did it when."""
    return _new(TagEvent, (*what[:6], origin[1], origin[0], *what[6:]))


def _take(queue: collections.deque[Any], n: int) -> list[Any]:
    """The ``n`` oldest items of ``queue``, in one call into C (so no other thread runs meanwhile)."""
    return list(map(_deque_popleft, repeat(queue, n)))


def _decode(kind: CIPType, data: bytes, bit: int | None) -> list[Any]:
    if bit is not None:
        return [bool(data[0])] if data else []
    try:
        return kind.decode(data) if kind.size == 0 or len(data) % kind.size == 0 else [data]
    except DecodeError:
        return [data]


class Subscription:
    """A bounded queue of events for coroutines on one loop: ``async for event in sub:``.

    When ``maxsize`` events wait unread, the oldest is dropped and counted in ``dropped``.  Writes
    and errors wake a waiting reader at once; reads (``reads=True``) are found within
    :data:`READ_POLL` seconds.

    The queue holds each event as two items side by side, its :data:`What` and its :data:`Origin`:
    a read queues two references to objects that exist already (the reply cache's What, the
    batch's Origin) and allocates nothing, and a consumer walks them in order, without touching
    an object per event that has gone cold meanwhile.  Every change to the queue is one call into
    C (``extend`` of a pair, the deque's own bound dropping the oldest pair, ``_take`` of whole
    pairs), which the GIL makes atomic: threads sharing it never split a pair.
    """

    def __init__(self, events: TagEvents, loop: asyncio.AbstractEventLoop, maxsize: int, reads: bool) -> None:
        self.events = events
        self.loop = loop
        self.reads = reads
        self.dropped = 0
        self.delivered = 0
        self.closed = False
        self._queue: collections.deque[Any] = collections.deque(maxlen=2 * maxsize)
        self._ready = asyncio.Event()

    def _put(self, what: What, origin: Origin) -> None:  # on self.loop
        if self.closed:
            return
        queue = self._queue
        if not queue:
            self._ready.set()  # a reader may be waiting; with events queued already, it has been woken
        elif len(queue) == queue.maxlen:
            self.dropped += 1  # (the deque drops the oldest pair itself)
        queue.extend((what, origin))

    def _queue_read(self, what: What, origin: Origin) -> None:  # from any thread: no wake-up (READ_POLL)
        queue = self._queue
        if len(queue) == queue.maxlen:
            self.dropped += 1
        queue.extend((what, origin))

    def _read_sink(self) -> Callable[[What], None]:
        """A read's way into this queue alone, from any thread: as little as a call can do."""
        size, extend, full, now = self._queue.__len__, self._queue.extend, self._queue.maxlen, _ORIGIN.get

        def sink(what: What) -> None:
            origin = now()
            if origin[1] is None:  # not in a batch: this read's own time
                origin = (origin[0], _time())
            if size() == full:
                self.dropped += 1
            extend((what, origin))

        return sink

    def deliver(self, what: What, origin: Origin) -> None:
        """Queue an event from any thread, waking the reader."""
        if _running_loop() is self.loop:
            self._put(what, origin)
        elif not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self.loop.call_soon_threadsafe(self._put, what, origin)

    def pending(self) -> int:
        return len(self._queue) // 2

    def get_nowait(self) -> TagEvent | None:
        if not self._queue:
            return None
        self.delivered += 1
        return event_of(*_take(self._queue, 2))

    async def get(self) -> TagEvent:
        """The next event (waiting for one)."""
        if not self._queue:
            await self.wait()
        self.delivered += 1
        return event_of(*_take(self._queue, 2))

    async def batch(self, limit: int = 1000, *, raw: bool = False) -> list[Any]:
        """The events waiting (at most ``limit``), waiting for at least one: one wake-up per burst.
        With ``raw``, as queued: ``[what, origin, what, origin, ...]`` (for a consumer of thousands
        a second, which slices them into columns)."""
        await self.wait()
        queue = self._queue
        out = _take(queue, 2 * min(limit, len(queue) // 2))
        self.delivered += len(out) // 2
        return out if raw else list(map(event_of, out[0::2], out[1::2]))

    async def wait(self) -> None:
        """Until an event waits (StopAsyncIteration once closed and empty)."""
        while not self._queue:
            if self.closed:
                raise StopAsyncIteration
            self._ready.clear()
            poll = self.loop.call_later(READ_POLL, self._ready.set) if self.reads else None
            try:
                await self._ready.wait()
            finally:
                if poll is not None:
                    poll.cancel()

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


class _Observers(list):  # type: ignore[type-arg]
    """The observers list: a list whose every change rewires its TagEvents' routes (``writes``,
    ``reads``, ``read_sink``), so the request path reads a ready answer instead of asking."""

    def __init__(self, events: TagEvents) -> None:
        super().__init__()
        self._events = events

    def _changed(self) -> None:
        self._events._rewire()


def _rewiring(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    def changed(self: _Observers, *args: Any) -> Any:
        result = method(self, *args)
        self._changed()
        return self if name in ("__iadd__", "__imul__") else result

    changed.__name__ = name
    return changed


for _name in ("append", "extend", "insert", "remove", "pop", "clear", "__setitem__", "__delitem__", "__iadd__", "__imul__",
              "sort", "reverse"):
    setattr(_Observers, _name, _rewiring(_name))


class TagEvents:
    """The listeners of one controller's tags, and the one place their events are delivered.

    ``writes`` and ``reads`` say whether anyone listens (plain attributes, kept up to date as
    listeners come and go); ``read_sink`` is what a read calls, or None when nobody listens to
    reads: with one subscription taking reads and no observer, a closure that queues straight
    into it (a read's whole cost, on the request path, is that call).
    """

    def __init__(self) -> None:
        self._observers = _Observers(self)
        # Replaced, never mutated (under the lock), so the request path iterates them freely:
        self.subscriptions: list[Subscription] = []
        self.readers: list[Subscription] = []  # the subscriptions that take reads too
        self.writes = False
        self.reads = False
        self.read_sink: Callable[[What], None] | None = None
        self._lock = threading.RLock()  # subscribers come and go from any thread; emit never takes it
        self._failing: set[int] = set()  # observers whose failure was logged in full once

    @property
    def observers(self) -> list[Callable[[TagEvent], None]]:
        """Callables that see every event at once, in the thread that made it (add and remove freely)."""
        return self._observers

    @observers.setter
    def observers(self, observers: Iterable[Callable[[TagEvent], None]]) -> None:
        self._observers[:] = list(observers)

    def _rewire(self) -> None:
        with self._lock:
            observing = bool(self._observers)
            self.readers = [s for s in self.subscriptions if s.reads]
            self.writes = observing or bool(self.subscriptions)
            self.reads = observing or bool(self.readers)
            if not self.reads:
                self.read_sink = None
            elif not observing and len(self.readers) == 1:
                self.read_sink = self.readers[0]._read_sink()
            else:
                self.read_sink = self.read

    def subscribe(self, *, maxsize: int = 10000, reads: bool = False,
                  loop: asyncio.AbstractEventLoop | None = None) -> Subscription:
        """A queue of the events from now on, read on ``loop`` (default: the running loop)."""
        if maxsize < 1:
            raise ValueError("a subscription holds at least one event")
        sub = Subscription(self, loop or asyncio.get_running_loop(), maxsize, reads)
        with self._lock:
            self.subscriptions = [*self.subscriptions, sub]
            self._rewire()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self.subscriptions = [s for s in self.subscriptions if s is not sub]
            self._rewire()

    def close_subscriptions(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """End every subscription (read on ``loop``, if given): their readers see the end."""
        for sub in list(self.subscriptions):
            if loop is None or sub.loop is loop:
                sub.close()

    def emit(self, what: What, origin: Origin) -> None:
        """Deliver a write or an error to every listener, from whatever thread made it."""
        if self._observers:
            self._observe(what, origin)
        for sub in self.subscriptions:
            sub.deliver(what, origin)

    def _observe(self, what: What, origin: Origin) -> None:
        event = event_of(what, origin)
        for observer in tuple(self._observers):
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

    def write(self, tag: str, start: int, count: int, data: bytes, kind: CIPType, *, old: bytes | None,
              bit: int | None = None) -> None:
        self.emit(("write", tag, start, count, data, kind, old, bit, 0, ""), (_ORIGIN.get()[0], _time()))

    def read(self, what: What) -> None:
        """A read (see :func:`read_what`), to every listener: the ``read_sink`` when several listen.
        Reads are queued without waking anyone (see :data:`READ_POLL`)."""
        origin = _ORIGIN.get()
        if origin[1] is None:
            origin = (origin[0], _time())
        if self._observers:
            self._observe(what, origin)
        for sub in self.readers:
            sub._queue_read(what, origin)

    def error(self, tag: str, start: int, count: int, kind: CIPType, *, status: int, access: str) -> None:
        """A request for ``tag`` was answered with ``status`` (delivered like a write: to every listener)."""
        self.emit(("error", tag, start, count, b"", kind, None, None, status, access), (_ORIGIN.get()[0], _time()))
