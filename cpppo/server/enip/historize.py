"""Record a simulator's tag I/O to a history file, and replay a history into a simulator.

``python -m cpppo.server.enip.historize FILE TAGS...`` is ``enip_server TAGS...`` that also writes
every read, write and failed access of every tag to FILE (plain, or compressed by its name:
``.gz``, ``.bz2``, ``.xz``), as the documents show (the fields are tab-separated, as cpppo 5's are)::

    # 2014-07-15 22:03:35.945: Started recording Tag: Tag_Name
    2014-07-15 22:03:44.186 ["Tag_Name", [0, 3]] {"write": [0, 1, 2, 3]}
    # 2014-07-15 22:03:45.002: 2014-07-15 22:03:45.002: PLC I/O Read  Tag Tag_Name[    0-3    ] Exception: ...

The :class:`Recorder` listens on the write funnel (so direct writes and custom attributes' writes
are recorded too) through a bounded subscription on the host's loop, and writes each burst of
events from the host's thread pool: the EtherNet/IP path never waits for the disk (a recorder
that falls behind drops the oldest events, and says how many).  The :class:`Player` replays a
history's writes into a running simulator at the recorded pace (``speed`` times faster), so its
clients see yesterday's values change as they did; ``enip_server --playback FILE [--speed X]
[--from TIME]`` runs one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from ...device.events import DIRECT, PLAYBACK, Origin, Subscription, TagEvent, What, changes_by, event_of
from ...history import logger, reader, timestamp
from ...history.files import render_stamps, stamped_lines
from .embedded import Simulator

__all__ = ["Player", "Recorder", "main"]


log = logging.getLogger(__name__)

_TIME = itemgetter(1)  # of an Origin


def record_of(event: TagEvent) -> tuple[list[Any], dict[str, Any]]:
    """The history key and value of a tag event: ``["Tag", [first, last]]``, ``{"write": [...]}``."""
    values = event.values
    if event.type.name in ("REAL", "LREAL"):
        values = [float(v) for v in values]
    return [event.tag, [event.start, event.start + event.count - 1]], {event.kind: values}


class Recorder:
    """Write ``simulator``'s tag events to the history file ``path`` (a service of its host)."""

    def __init__(self, simulator: Simulator, path: str | os.PathLike[str], *, reads: bool = True,
                 maxsize: int = 100_000, **logger_options: Any) -> None:
        self.simulator = simulator
        self.path = path
        self.reads = reads
        self.maxsize = maxsize
        logger_options.setdefault("flush_every", 1 << 30)  # flushed once per burst of events instead
        self.history = logger(path, **logger_options)
        self.recorded = 0
        self._texts: dict[What, str] = {}  # what happened -> "\t<key>\t<value>\n"
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._runtime: Any = None
        self._writing: asyncio.Future[None] | None = None
        self.gather = 0.05  # seconds events gather between writes (a file write, not one per event)

    async def start(self, host: Any = None) -> Recorder:
        loop = asyncio.get_running_loop()
        self._subscription = self.simulator.events.subscribe(maxsize=self.maxsize, reads=self.reads, loop=loop)
        self._runtime = host or self.simulator.host
        for tag in self.simulator.controller.tags.values():
            await self._runtime.offload(self.history.comment, f"Started recording Tag: {tag.name}")
        await self._runtime.offload(self.history.flush)
        self._task = loop.create_task(self._run(self._subscription))
        return self

    async def _run(self, subscription: Subscription) -> None:
        dropped = 0
        try:
            while True:
                await subscription.wait()
                await asyncio.sleep(self.gather)  # let a burst gather: one file write for it, not one per event
                await self._write(subscription)
                if subscription.dropped != dropped:
                    lost, dropped = subscription.dropped - dropped, subscription.dropped
                    await self._runtime.offload(self.history.comment,
                                                f"{lost} events were not recorded (too many at once)")
        except (StopAsyncIteration, asyncio.CancelledError):
            pass
        except OSError as exc:  # the disk is full, the file went away: say so once, and stop recording
            log.error("recording to %s stopped: %s", self.path, exc.strerror or exc)
            self._subscription = self._writing = None  # said once: stop() has nothing left to try
        finally:
            subscription.close()

    async def _write(self, subscription: Subscription, *, chunk: int = 1000) -> None:
        """Render what waits, ``chunk`` events at a time (the loop serves clients in between), and
        write it from the pool in one go.  What was taken from the queue is written even if this
        is cancelled meanwhile; :meth:`stop` waits for that write."""
        texts, count = [], 0
        try:
            while subscription.pending() and count < self.maxsize:
                queued = await subscription.batch(chunk, raw=True)  # [what, origin, what, origin, ...]
                texts.append(self._render(queued))
                count += len(queued) // 2
                if subscription.pending():
                    await asyncio.sleep(0)
        finally:
            if texts:
                self._writing = asyncio.ensure_future(self._runtime.offload(self.history.write_lines,
                                                                            "".join(texts)))
                self.recorded += count
        if texts:
            await asyncio.shield(self._writing)

    def _render(self, queued: list[Any]) -> str:
        """A burst of events as history lines, built column by column: each column one pass in C,
        so a burst costs no Python loop per event unless something new turns up.  What follows a
        record's time is cached by what happened (:data:`~cpppo.device.events.What`: the reply
        cache hands out one object per version of a tag's bytes, so a tag read over and over costs
        a lookup); the times are stamped a millisecond at a time (:func:`stamped_lines`).  A burst
        with a failed access goes event by event (it becomes a comment).  ``queued`` is as a raw
        batch gives it: ``[what, origin, what, origin, ...]``."""
        whats, origins = queued[0::2], queued[1::2]
        times = list(map(_TIME, origins))
        bodies = list(map(self._texts.get, whats))
        if None in bodies:  # records not seen before: rendered once each
            for i, body in enumerate(bodies):
                if body is None:
                    if whats[i][0] == "error":
                        return "".join(map(self._render_one, whats, origins))
                    bodies[i] = self._body(whats[i])
        return stamped_lines(times, bodies)

    def _body(self, what: What) -> str:
        """``\t<key>\t<value>\n`` of what happened: what follows the time (cached, for values up to 256 bytes)."""
        texts = self._texts
        body = texts.get(what)
        if body is None:
            event = event_of(what, (DIRECT, 0.0))
            key = json.dumps([event.tag, [event.start, event.start + event.count - 1]])
            body = f"\t{key}\t{self._value_text(event)}\n"
            if len(event.data) <= 256:  # small values repeat; a big one is rendered each time
                if len(texts) > 10_000:
                    texts.clear()
                texts[what] = body
        return body

    def _render_one(self, what: What, origin: Origin) -> str:
        source, when = origin
        (stamp,) = render_stamps((when,))
        if what[0] == "error":  # a comment, as cpppo 5 recorded a failed access
            event = event_of(what, origin)
            start, count = event.start, event.count
            return (f"# {stamp}: {stamp}: PLC I/O {event.access.capitalize():<5} Tag {event.tag:>20}"
                    f"[{start:>5}-{start + count - 1:<5}] Exception: CIP status 0x{event.status:02X} ({source})\n")
        return stamp + self._body(what)

    @staticmethod
    def _value_text(event: TagEvent) -> str:
        values = event.values
        if getattr(event.type, "kind", None) in ("int", "bool"):  # integers: str is their JSON, faster
            return f'{{"{event.kind}": [{", ".join(map(str, values))}]}}'
        if event.type.name in ("REAL", "LREAL"):
            values = [float(v) for v in values]
        return f'{{"{event.kind}": {json.dumps(values)}}}'

    async def stop(self) -> None:
        """Stop recording: what was queued until now is written, then the file is closed."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            if self._writing is not None:  # a write under way when the task was cancelled
                await self._writing
            if self._subscription is not None and self._subscription.pending():
                await self._write(self._subscription)
        except OSError as exc:
            log.error("recording to %s: the last events were not written: %s", self.path, exc.strerror or exc)
        finally:
            with contextlib.suppress(OSError):  # (every write was flushed: a failure here was said above)
                self.history.close()


class Player:
    """Replay the writes of the history ``path`` into ``simulator``, paced as recorded (``speed``
    times faster; 0: as fast as possible), from the historical time ``start`` (default: the first
    record's).  Writes are attributed to playback; a record for a tag the simulator does not have is
    skipped (and counted)."""

    def __init__(self, simulator: Simulator, path: str | os.PathLike[str], *, speed: float = 1.0,
                 start: Any = None) -> None:
        if speed < 0:
            raise ValueError(f"the playback speed must be 0 (as fast as possible) or more, not {speed}")
        self.simulator = simulator
        self.path = path
        self.speed = speed
        self.start_at = start
        self.played = 0
        self.skipped = 0
        self.done: asyncio.Event | None = None  # set once the history has been played
        self._task: asyncio.Task[None] | None = None

    async def start(self, host: Any = None) -> Player:
        self.done = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        basis: float | None = float(timestamp(self.start_at).value) if self.start_at is not None else None
        began = loop.time()
        try:
            for record in reader(self.path, start=self.start_at):
                if basis is None:
                    basis = record.time
                if self.speed:
                    delay = began + (record.time - basis) / self.speed - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                self._apply(record.key, record.value)
                if not self.speed and self.played % 1000 == 0:
                    await asyncio.sleep(0)  # as fast as possible, but others get their turn
        finally:
            assert self.done is not None
            self.done.set()

    def _apply(self, key: Any, value: Any) -> None:
        if not (isinstance(value, dict) and "write" in value and isinstance(key, list) and len(key) == 2):
            return  # reads and errors are history, not changes
        tag, (first, _last) = key[0], key[1]
        try:
            attribute = self.simulator.tag(tag)
            values = value["write"]
            with changes_by(PLAYBACK):
                if len(attribute) == 1 and first == 0 and len(values) == 1 and not isinstance(attribute.value, list):
                    attribute.value = values[0]
                else:
                    attribute[first:first + len(values)] = values
            self.played += 1
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            self.skipped += 1
            log.debug("playback: %r %r skipped: %s", key, value, exc)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def main(argv: Sequence[str] | None = None) -> int:
    """``historize FILE [enip_server options] TAGS...``."""
    from .main import main as server_main

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0].startswith("-"):
        print("historize: error: the first argument is the history file: historize FILE TAGS...", file=sys.stderr)
        return 2
    path = args.pop(0)
    try:
        open(path, "ab").close()  # can we write there? say so now, not after the server started
    except OSError as exc:
        print(f"historize: error: cannot write {path!r}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    recorders: list[Recorder] = []

    async def record(recorder: Recorder, host: Any) -> None:
        try:
            await recorder.start(host)
        except OSError as exc:
            log.error("recording to %s failed: %s; serving without recording", path, exc.strerror or exc)

    def ready(sim: Simulator) -> None:
        recorder = Recorder(sim, path)
        recorders.append(recorder)
        assert sim.host is not None
        sim.host.spawn(record(recorder, sim.host))

    try:
        return server_main(args, ready=ready)
    finally:
        for recorder in recorders:
            try:
                recorder.history.close()
            except OSError as exc:  # what could not be written was said when it failed
                log.debug("closing %s: %s", path, exc)


if __name__ == "__main__":
    sys.exit(main())
