"""History files: append records, read them back in time order, and replay them at a pace.

A history file is text, one record per line::

    2014-07-15 22:03:44.186 ["Tag_Name", [0, 3]] {"write": [0, 1, 2, 3]}
    # 2014-07-15 22:03:35.945: Started recording Tag: Tag_Name

a UTC :class:`~.times.timestamp`, a JSON key and a JSON value; ``#`` lines are comments.  A name
ending in ``.gz``, ``.bz2`` or ``.xz`` is compressed.  :class:`logger` appends (rotating to a new
file at a size or an age, flushing so that what was written survives the writer), :func:`reader`
iterates the records of one file or of a rotated set in time order, from and until given times,
skipping a last line cut short by a crash, and :func:`playback` yields them paced to the wall
clock from a chosen historical start at a speed factor.
"""

from __future__ import annotations

import bz2
import calendar
import glob
import gzip
import json
import logging
import lzma
import os
import time
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, repeat, takewhile
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, NamedTuple

from .times import timestamp

__all__ = ["Record", "logger", "open_history", "playback", "reader", "records_in"]

log = logging.getLogger(__name__)

_OPENERS: dict[str, Callable[..., IO[str]]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_DECODE = json.JSONDecoder().raw_decode
try:  # orjson decodes a record's value about three times as fast as json
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - a declared dependency
    _loads = json.loads


def open_history(path: str | os.PathLike[str], mode: str = "r") -> IO[str]:
    """Open a history file for reading (``r``) or appending (``a``), compressed by its suffix."""
    suffix = Path(path).suffix.lower()
    opener = _OPENERS.get(suffix, open)
    return opener(os.fspath(path), mode + "t", encoding="utf-8", newline="\n")  # the caller closes it


class Record(NamedTuple):
    """One record: its time (seconds since the epoch, UTC), key and value (decoded JSON)."""

    time: float
    key: Any
    value: Any

    @property
    def timestamp(self) -> timestamp:
        return timestamp(self.time)


_RENDERED: dict[int, str] = {}  # whole seconds -> "YYYY-MM-DD HH:MM:SS": a writer writes many a second
_STAMPS: dict[int, str] = {}  # milliseconds -> "YYYY-MM-DD HH:MM:SS.mmm": a recorder writes many a millisecond
_MILLIS = tuple(f".{n:03d}" for n in range(1000))


def _stamp(now: float | timestamp | None) -> str:
    """``YYYY-MM-DD HH:MM:SS.mmm`` (UTC) of ``now`` (default: the present), as timestamp renders it."""
    seconds = time.time() if now is None else float(now.value if isinstance(now, timestamp) else now)
    return render_stamps((seconds,))[0]


def render_stamps(times: Iterable[float]) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS.mmm`` (UTC) of each of ``times`` (seconds since the epoch, floats), as
    a record line begins.  A millisecond seen before is a lookup, all of them in one pass in C:
    what a recorder of thousands of events a second needs."""
    millis = list(map(_milli, times))
    new = set(millis).difference(_STAMPS)
    if new:
        if len(_STAMPS) + len(new) > 100_000:
            _STAMPS.clear()
            new = set(millis)
        _STAMPS.update((m, _milli_text(m)) for m in new)
    return list(map(_STAMPS.__getitem__, millis))


def stamped_lines(times: Sequence[float], texts: Sequence[str]) -> str:
    """The lines ``stamp + text`` of each of ``times`` and ``texts`` (each text ``"\t<key>\t<value>\n"``).

    Many events a millisecond in time order (a busy recorder's) are cut into runs of one
    millisecond (a bisection each), and each run is one ``str.join`` with its stamp: a few calls per
    millisecond rather than several per line.  Otherwise the lines are stamped one by one.
    """
    n = len(times)
    if n < 16 or (_milli(times[-1]) - _milli(times[0])) * 4 > n or sorted(times) != list(times):
        # few lines a millisecond (a run costs a few microseconds), or out of order: line by line
        return "".join(chain.from_iterable(zip(render_stamps(times), texts)))
    out: list[str] = []
    i = 0
    while i < n:
        milli = _milli(times[i])
        j = _next_milli(times, i, n, milli)
        stamp = _STAMPS.get(milli) or _render_milli(milli)
        out.append(stamp)
        out.append(stamp.join(texts[i:j]))
        i = j
    return "".join(out)


def _next_milli(times: Sequence[float], i: int, n: int, milli: int) -> int:
    """The first index from ``i`` whose time is in a millisecond after ``milli`` (``times`` in order).

    A bisection of the floats themselves, a couple of microseconds either side of the half
    millisecond where rounding turns, then the few times within that margin (usually none) by
    :func:`_milli` itself: exact, without rounding each probe."""
    turn = (milli + 0.5) / 1000.0
    j = bisect_left(times, turn - _MARGIN, i, n)
    near = bisect_right(times, turn + _MARGIN, j, n)
    while j < near and _milli(times[j]) <= milli:
        j += 1
    return j


_MARGIN = 2e-6  # seconds: beyond the microsecond rounding of timestamp and a float's error at today's epoch


def _milli(seconds: float) -> int:
    """The millisecond ``seconds`` renders in: to the microsecond, then the millisecond, as timestamp
    does.  Rounding to the microsecond (``round(seconds, 6)``, a microsecond of work) can only
    matter within a microsecond of the half millisecond where rounding turns: elsewhere, skipped."""
    scaled = seconds * 1000.0
    milli = round(scaled)
    if -0.499 < scaled - milli < 0.499:  # (a float's error here is a quarter of a microsecond)
        return milli
    return round(round(seconds, 6) * 1000.0)


def _render_milli(milli: int) -> str:
    """The stamp of ``milli``, rendered and kept."""
    if len(_STAMPS) > 100_000:
        _STAMPS.clear()
    text = _STAMPS[milli] = _milli_text(milli)
    return text


def _milli_text(milli: int) -> str:
    return f"{_second(milli // 1000)}{_MILLIS[milli % 1000]}"


def _second(whole: int) -> str:
    text = _RENDERED.get(whole)
    if text is None:
        if len(_RENDERED) > 100_000:
            _RENDERED.clear()
        text = _RENDERED[whole] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole))
    return text


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "))


# -- writing ----------------------------------------------------------------------------------------
class logger:
    """Append records (``write(key, value)``) and comments to ``path``.

    ``rotate_bytes`` / ``rotate_seconds`` start a new file when the current one is that big or that
    old: ``name.hst`` becomes ``name.hst.1``, ... (the newest part keeps the name; ``reader`` of the
    name reads them all in order).  Each record is written whole and flushed (``flush_every``
    records, default each one), so a writer that dies loses nothing already written; a compressed
    file's last block is completed at close.
    """

    def __init__(self, path: str | os.PathLike[str], *, rotate_bytes: int | None = None,
                 rotate_seconds: float | None = None, flush_every: int = 1) -> None:
        self.path = Path(path)
        self.rotate_bytes = rotate_bytes
        self.rotate_seconds = rotate_seconds
        self.flush_every = max(1, flush_every)
        self._file: IO[str] | None = None
        self._opened = 0.0
        self._written = 0
        self._pending = 0

    def __enter__(self) -> logger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> IO[str]:
        if self._file is None:
            self._file = open_history(self.path, "a")
            self._opened = time.monotonic()
            self._written = self.path.stat().st_size if self.path.exists() else 0
        return self._file

    def _rotate_if_due(self) -> None:
        if self._file is None:
            return
        big = self.rotate_bytes is not None and self._written >= self.rotate_bytes
        old = self.rotate_seconds is not None and time.monotonic() - self._opened >= self.rotate_seconds
        if not (big or old):
            return
        self.close()
        parts = sorted(_parts(self.path), key=_part_number, reverse=True)
        for part in parts:  # name.hst.2 -> .3, name.hst.1 -> .2, name.hst -> .1
            number = _part_number(part)
            part.rename(self.path.with_name(f"{self.path.name}.{number + 1}"))

    def _append(self, line: str) -> None:
        self._rotate_if_due()
        f = self._open()
        f.write(line)
        self._written += len(line)
        self._pending += 1
        if self._pending >= self.flush_every:
            f.flush()
            self._pending = 0

    def comment(self, text: str, now: float | timestamp | None = None) -> None:
        """``# <timestamp>: <text>`` (one line per line of ``text``)."""
        when = _stamp(now)
        for line in str(text).splitlines() or [""]:
            self._append(f"# {when}: {line}\n")

    def write(self, key: Any, value: Any, now: float | timestamp | None = None) -> None:
        """One record: ``<timestamp> <json key> <json value>``."""
        self._append(f"{_stamp(now)}\t{_dumps(key)}\t{_dumps(value)}\n")

    def write_lines(self, lines: str) -> None:
        """Whole lines, rendered already (each ending in a newline), written in one go and flushed."""
        if lines:
            self._rotate_if_due()
            f = self._open()
            f.write(lines)
            self._written += len(lines)
            f.flush()
            self._pending = 0

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()
            self._pending = 0

    def close(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            f.close()


def _part_number(path: Path) -> int:
    tail = path.name.rsplit(".", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _parts(path: Path) -> list[Path]:
    """``path`` and its rotated parts ``path.1``, ``path.2``, ... that exist."""
    found = [Path(p) for p in glob.glob(glob.escape(str(path)) + ".*") if Path(p).name.rsplit(".", 1)[-1].isdigit()]
    if path.exists():
        found.append(path)
    return found


# -- reading ----------------------------------------------------------------------------------------
_SECONDS: dict[str, float] = {}  # "YYYY-MM-DD HH:MM:SS" -> its epoch seconds: records come many a second
_KEYS: dict[str, Any] = {}  # a key's JSON text -> the key: a history has few keys, many records each


def _seconds(line: str) -> float:
    """The time of a record line (``YYYY-MM-DD HH:MM:SS.mmm``, UTC)."""
    whole = line[:19]
    base = _SECONDS.get(whole)
    if base is None:
        if len(_SECONDS) > 100_000:
            _SECONDS.clear()
        base = float(calendar.timegm((int(line[:4]), int(line[5:7]), int(line[8:10]), int(line[11:13]),
                                      int(line[14:16]), int(line[17:19]))))
        _SECONDS[whole] = base
    return base + float(line[19:23])


def _key(text: str) -> Any:
    """A record key's JSON text, decoded (cached: a history has few keys, many records each)."""
    key = _KEYS.get(text, _KEYS)
    if key is _KEYS:
        key = _loads(text)
        if len(_KEYS) > 10_000:
            _KEYS.clear()
        _KEYS[text] = key
    return key


def _record(line: str) -> Record:
    """One record line as a Record (ValueError/IndexError if it is not one)."""
    when = _seconds(line)
    if line[23] == "\t":  # time, key and value separated by tabs (JSON text holds no tab)
        _, text, value = line.rstrip("\n").split("\t")
        return Record(when, _key(text), _loads(value))
    if line[23] != " ":
        raise ValueError("no tab or space after the time")
    split = line.find(" {", 24)  # the usual value, a JSON object: the key's text is what is before it
    if split > 24:
        try:
            key = _key(line[24:split])
        except ValueError:
            pass  # not the whole key: a " {" inside it; decode the slow way below
        else:
            return Record(when, key, _loads(line[split + 1:]))
    key, end = _DECODE(line, 24)
    value, _ = _DECODE(line, end + 1)
    return Record(when, key, value)


def records_in(lines: Iterable[str], where: str = "history") -> Iterator[Record]:
    """The records of history ``lines``; comments and blank lines are passed over; a line that is
    not a whole record (a crash cut the last one short) is skipped."""
    record = _record
    for line in lines:
        if not line or line[0] in "#\n":
            continue
        try:
            yield record(line)
        except (ValueError, IndexError):  # a partly written line: nothing of it is a record
            continue


def reader(path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], start: Any = None,
           stop: Any = None) -> Iterator[Record]:
    """The records of a history file (with its rotated parts ``.1``, ``.2``, ... before it) or of
    several files, in time order, from ``start`` (inclusive) until ``stop`` (exclusive), both
    anything a :class:`~.times.timestamp` takes."""
    if isinstance(path, (str, os.PathLike)):
        files = sorted(_parts(Path(path)), key=_part_number, reverse=True) or [Path(path)]
    else:
        files = [Path(p) for p in path]
    begin = float(timestamp(start).value) if start is not None else None
    end = float(timestamp(stop).value) if stop is not None else None
    # Iterators of iterators, all the way down to a map over a block's records: no Python frame
    # runs per record unless a time range filters them.
    records: Iterator[Record] = chain.from_iterable(map(_file_records, _in_time_order(files)))
    if begin is not None:
        records = filter(lambda record: record.time >= begin, records)
    if end is not None:
        records = takewhile(lambda record: record.time < end, records)
    return records


def _in_time_order(files: list[Path]) -> Iterator[Path]:
    """``files`` in the order of their first records (read when the first record is asked for)."""
    chunks = []
    for file in files:
        with open_history(file, "r") as f:
            first = next(records_in(_lines(_head(f))), None)
        chunks.append((first.time if first else float("inf"), file))
    for _, file in sorted(chunks, key=lambda c: c[0]):
        yield file


def _file_records(file: Path) -> Iterator[Record]:
    return chain.from_iterable(map(_block_records, _blocks(file)))


def _head(f: IO[str]) -> Iterator[str]:
    for _ in range(1000):
        line = f.readline()
        if not line:
            return
        yield line


_BLOCK = 1 << 17  # 128 KiB: few enough objects alive at once that the collector stays cheap


def _blocks(path: Path) -> Iterator[str]:
    """The file in blocks of whole lines (about 128 KiB each); a last line without its newline (cut
    short by a crash) is left out; a compressed file cut short ends at the cut, every whole line
    before it read."""
    rest, done = "", 0
    with open_history(path, "r") as f:
        try:
            while True:
                data = f.read(_BLOCK)
                if not data:
                    return
                cut = data.rfind("\n")
                if cut < 0:
                    rest += data
                    continue
                block = rest + data[:cut + 1]
                done += len(block)
                yield block
                rest = data[cut + 1:]
        except (EOFError, lzma.LZMAError, zlib.error, OSError, UnicodeDecodeError) as exc:
            log.info("%s ends early: %s", path, exc)
    # The failed read lost what it had decompressed: read again, line by line, up to the cut.
    lines, skip = [], done
    with open_history(path, "r") as f:
        try:
            for line in f:
                if skip > 0:
                    skip -= len(line)
                    continue
                lines.append(line)
        except (EOFError, lzma.LZMAError, zlib.error, OSError, UnicodeDecodeError):
            pass
    if lines and not lines[-1].endswith("\n"):
        lines.pop()
    if lines:
        yield "".join(lines)


def _block_records(block: str) -> Iterator[Record]:
    """The records of a block of whole lines: all at once where every record line is a usual one
    (time, key and value separated by tabs; or by spaces, with a key that holds no " {" and a JSON
    object value): the lines split, the values decoded as one JSON array and the records built
    column by column, each column one pass in C with no Python loop per record.  Anything else in
    the block (a line cut short, an odd key) and the block is read line by line instead."""
    plain = "\n#" not in block and block[:1] != "#" and "\n\n" not in block
    try:
        if plain and block.count("\t") == 2 * block.count("\n"):  # time, key, value; time, key, value; ...
            parts = block.replace("\n", "\t").split("\t")
            parts.pop()  # after the last newline
            stamps, texts, values = parts[0::3], parts[1::3], _loads("[" + ",".join(parts[2::3]) + "]")
        elif plain and block.count(" {") == block.count("\n"):  # one " {" a line: between its key and value
            parts = block.replace(" {", "\n{").split("\n")  # time and key, value, time and key, value, ...
            parts.pop()
            stamps = parts[0::2]
            texts, values = list(map(_KEY, stamps)), _loads("[" + ",".join(parts[1::2]) + "]")
        else:
            lines = [line for line in block.split("\n") if line and line[0] != "#"]  # no comments, blank lines
            if not lines:
                return iter(())
            if sum(map(str.count, lines, repeat("\t"))) == 2 * len(lines):
                split = list(map(str.split, lines, repeat("\t")))
                stamps, texts = list(map(_FIRST, split)), list(map(_SECOND, split))
                values = _loads("[" + ",".join(map(_THIRD, split)) + "]")
            else:
                split = list(map(str.partition, lines, repeat(" {")))  # (time and key, " {", the value's rest)
                stamps = list(map(_FIRST, split))
                texts, values = list(map(_KEY, stamps)), _loads("[{" + ",{".join(map(_THIRD, split)) + "]")
        if len(values) == len(stamps):
            records = _usual_records(stamps, texts, values)
            if records is not None:
                return records
    except (ValueError, IndexError, TypeError):
        pass
    return records_in(block.splitlines())


_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
_WHOLE, _FRACTION, _KEY = itemgetter(slice(0, 19)), itemgetter(slice(19, 23)), itemgetter(slice(24, None))


def _usual_records(stamps: list[str], texts: list[str], values: list[Any]) -> Iterator[Record] | None:
    """The records of lines whose times begin ``stamps`` (``YYYY-MM-DD HH:MM:SS.mmm``), whose keys'
    JSON text is ``texts`` and whose values are ``values``; None if a key does not decode as JSON
    on its own.  (ValueError for a time that is not one.)"""
    wholes = list(map(_WHOLE, stamps))
    seconds, keys = _SECONDS, _KEYS
    bases = list(map(seconds.get, wholes))
    if None in bases:  # seconds not seen before: each worked out once, then looked up again
        for whole in set(wholes).difference(seconds):
            _seconds(whole + ".000")
        bases = list(map(seconds.get, wholes))
        if None in bases:  # the cache was full, and emptied: fill it with these
            seconds.update((whole, _seconds(whole + ".000")) for whole in set(wholes))
            bases = list(map(seconds.get, wholes))
    decoded = list(map(keys.get, texts, repeat(keys)))
    if keys in decoded:  # keys not seen before: each decoded once, then looked up again
        new = set(texts).difference(keys)
        if len(keys) + len(new) > 10_000:
            keys.clear()
            new = set(texts)
        try:
            keys.update((text, _loads(text)) for text in new)
        except ValueError:
            return None
        decoded = list(map(keys.__getitem__, texts))
    times = list(map(float.__add__, bases, map(float, map(_FRACTION, stamps))))  # now: a bad time raises here
    return map(tuple.__new__, repeat(Record), zip(times, decoded, values))  # Record(...) without its Python __new__


def _lines(f: IO[str]) -> Iterator[str]:
    """Every line; a compressed file cut short by a crash ends at the cut instead of raising."""
    try:
        yield from f
    except (EOFError, lzma.LZMAError, zlib.error, OSError, UnicodeDecodeError) as exc:
        log.info("%s ends early: %s", getattr(f, "name", "a history file"), exc)


def playback(records: Iterable[Record], *, speed: float = 1.0, start: Any = None,
             sleep: Callable[[float], Any] = time.sleep, clock: Callable[[], float] = time.monotonic) -> Iterator[Record]:
    """Yield ``records`` paced as they were recorded, ``speed`` times faster (``0`` or ``inf``: as
    fast as possible), from the historical time ``start`` (default: the first record's)."""
    fast = not speed or speed == float("inf")
    basis: float | None = float(timestamp(start).value) if start is not None else None
    began = clock()
    for record in records:
        if basis is None:
            basis = record.time
        if record.time < basis:
            continue
        if not fast:
            due = began + (record.time - basis) / speed
            delay = due - clock()
            if delay > 0:
                sleep(delay)
        yield record

