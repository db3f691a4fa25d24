"""What the live dashboard reads: the device's state as JSON, and a live feed of its tag I/O.

The page (``static/``) loads :func:`state` once, pages array values with :func:`values`, and
then follows ``/events``: a Server-Sent Events stream fed by one :class:`LiveFeed` per device.
The feed is a subscriber of the write funnel (``controller.events``), so every change -- by a
client, from Python, by playback -- reaches the page, and nothing polls the tags.  It batches
what arrived every ``interval`` seconds into one message shared by every open page, and adds
the connections' counters once a second.  Reads are followed only while a page asks for them
(``/events?reads=1``): listening to reads costs the EtherNet/IP path an event per read.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from typing import Any

import orjson

from .api import Controls, snapshot

__all__ = ["HEAD", "LiveFeed", "state", "values"]

HEAD = 8
"""Elements of each tag that :func:`state` shows (the tag table's column); the rest are paged."""
PAGE_LIMIT = 1000
"""The most elements one :func:`values` request returns."""


def _jsonable(value: Any) -> Any:
    """Values as JSON can carry them: bytes as text, structures as their fields."""
    if isinstance(value, float) and math.isnan(value):  # NaN: orjson writes null; say what it was
        return "NaN"
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, default=str)


def _type_name(tag: Any) -> str:
    return tag.attribute.parser.name


def state(sim: Any, controls: Controls, *, web_address: tuple[str, int] | None = None) -> dict[str, Any]:
    """The device at a glance: identity, addresses, and every tag with its first elements."""
    identity = sim.controller.identity
    host, port = sim.address
    tags = []
    for tag in sim.controller.tags.values():
        attribute = tag.attribute
        n = len(attribute)
        tags.append({"name": tag.name, "type": _type_name(tag), "dims": list(tag.dims), "elements": n,
                     "error": attribute.error, "values": _jsonable(attribute[0 : min(n, HEAD)])})
    return {
        "identity": {"product_name": identity.product_name, "vendor_id": identity.vendor_id,
                     "device_type": identity.device_type, "product_code": identity.product_code,
                     "revision": f"{identity.revision[0]}.{identity.revision[1]}" if isinstance(
                         identity.revision, (tuple, list)) else str(identity.revision),
                     "serial_number": f"0x{identity.serial_number:08x}"},
        "enip": f"{host}:{port}",
        "web": f"{web_address[0]}:{web_address[1]}" if web_address else None,
        "tags": tags,
        "head": HEAD,
        "time": time.time(),
        **snapshot(sim, controls, "options"),
        **snapshot(sim, controls, "server"),
    }


def values(sim: Any, name: str, start: int, count: int) -> dict[str, Any]:
    """Elements ``start`` .. ``start + count`` of tag ``name`` (KeyError, IndexError if there are none)."""
    tag = sim.controller.tag(name)
    attribute = tag.attribute
    n = len(attribute)
    if not 0 <= start < n:
        raise IndexError(f"{tag.name}: element {start} is outside 0..{n - 1}")
    count = max(1, min(count, PAGE_LIMIT, n - start))
    return {"name": tag.name, "start": start, "count": count, "elements": n,
            "values": _jsonable(attribute[start : start + count])}


class _Page:
    """One open page: the messages waiting for it (a slow page misses batches, never blocks)."""

    def __init__(self, reads: bool) -> None:
        self.reads = reads
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=64)
        self.missed = 0

    def send(self, message: bytes | None) -> None:
        if self.queue.full():
            if message is None:  # the end must get through
                with contextlib.suppress(asyncio.QueueEmpty):
                    self.queue.get_nowait()
            else:
                self.missed += 1
                return
        self.queue.put_nowait(message)


class LiveFeed:
    """The tag I/O of one simulator, batched into Server-Sent Events for every open page."""

    def __init__(self, sim: Any, controls: Controls, *, interval: float = 0.1, stats_every: float = 1.0,
                 events_per_batch: int = 500) -> None:
        self.sim = sim
        self.controls = controls
        self.interval = interval
        self.stats_every = stats_every
        self.events_per_batch = events_per_batch
        self.pages: set[_Page] = set()
        self._task: asyncio.Task[None] | None = None
        self._subscription: Any = None
        self._closed = False
        self._seen: dict[str, int] = {}  # each open connection's requests, as last counted
        self._retired = 0  # the requests of connections since closed (so the total only grows)

    # -- pages -------------------------------------------------------------------------------------
    def open(self, *, reads: bool = False) -> _Page:
        page = _Page(reads)
        self.pages.add(page)
        page.send(self._message("stats", self._stats()))
        running = self._task is not None and not self._task.done()
        wanted = any(p.reads for p in self.pages)
        sub = self._subscription
        if running and sub is not None and sub.reads != wanted:
            self._forward(sub)  # what the subscription holds goes out before it is replaced
        self._subscribe(wanted)  # from now on, this page's wishes are followed
        if not running:
            self._task = asyncio.get_running_loop().create_task(self._pump(), name="cpppo-web-feed")
        return page

    def close(self, page: _Page) -> None:
        self.pages.discard(page)

    async def stop(self) -> None:
        """End every page's stream, and stop listening."""
        self._closed = True
        for page in list(self.pages):
            page.send(None)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._unsubscribe()

    # -- the funnel ----------------------------------------------------------------------------------
    def _subscribe(self, reads: bool) -> Any:
        sub = self._subscription
        if sub is not None and sub.reads == reads:
            return sub
        self._unsubscribe()
        self._subscription = self.sim.controller.events.subscribe(maxsize=20000, reads=reads)
        return self._subscription

    def _unsubscribe(self) -> None:
        sub, self._subscription = self._subscription, None
        if sub is not None:
            sub.close()

    async def _pump(self) -> None:
        next_stats = time.monotonic() + self.stats_every
        try:
            while self.pages and not self._closed:
                sub = self._subscribe(any(p.reads for p in self.pages))
                await asyncio.sleep(self.interval)
                self._forward(sub)
                now = time.monotonic()
                if now >= next_stats:
                    next_stats = now + self.stats_every
                    message = self._message("stats", self._stats())
                    for page in list(self.pages):
                        page.send(message)
        finally:
            self._unsubscribe()

    def _forward(self, sub: Any) -> None:
        dropped, sub.dropped = sub.dropped, 0
        batch = []
        while len(batch) < self.events_per_batch:
            event = sub.get_nowait()
            if event is None:
                break
            batch.append(event)
        skipped = sub.pending()  # a burst beyond one batch: the page catches up from the tags instead
        if skipped:
            for _ in range(skipped):
                sub.get_nowait()
        if not batch and not dropped:
            return
        writes = [self._event(e) for e in batch if e.kind != "read"]
        every = [self._event(e) for e in batch] if any(p.reads for p in self.pages) else writes
        lost = dropped + skipped
        with_writes = self._message("io", {"events": writes, "lost": lost}) if writes or lost else None
        with_reads = self._message("io", {"events": every, "lost": lost}) if every is not writes else with_writes
        for page in list(self.pages):
            message = with_reads if page.reads else with_writes
            if message is not None:
                page.send(message)

    @staticmethod
    def _event(event: Any) -> dict[str, Any]:
        if event.kind == "error":
            return {"kind": "error", "tag": event.tag, "start": event.start, "count": event.count, "values": [],
                    "access": event.access, "status": event.status, "source": str(event.source), "time": event.time}
        return {"kind": event.kind, "tag": event.tag, "start": event.start, "count": event.count,
                "values": _jsonable(event.values[:HEAD * 4]), "source": str(event.source), "time": event.time}

    def _stats(self) -> dict[str, Any]:
        tags = {t.name: t.attribute.error for t in self.sim.controller.tags.values() if t.attribute.error}
        data = snapshot(self.sim, self.controls, "connections")
        connections = data.get("connections", {})
        seen = {key: c["requests"] for key, c in connections.items()}
        self._retired += sum(n for key, n in self._seen.items() if key not in seen)
        self._seen = seen
        return {"connections": connections, "requests": self._retired + sum(seen.values()),
                "errors": tags, "time": time.time(), "missed": sum(p.missed for p in self.pages),
                **snapshot(self.sim, self.controls, "options"), **snapshot(self.sim, self.controls, "server")}

    @staticmethod
    def _message(kind: str, data: dict[str, Any]) -> bytes:
        return b"event: " + kind.encode() + b"\ndata: " + _dumps(data) + b"\n\n"
