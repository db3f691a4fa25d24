"""Timestamps that mean what they say: microseconds, UTC or local, and zone abbreviations both ways.

A :class:`timestamp` is a float of seconds since the epoch (UTC), kept to the microsecond and
rendered and compared to the millisecond by default: ``str(ts) == "2014-07-15 22:03:35.945"``
(UTC).  ``ts.render(tzinfo="America/Edmonton")`` gives local time with the zone's abbreviation
(``2014-07-15 16:03:35.945 MDT``), and ``timestamp("2014-07-15 16:03:35.945 MDT")`` reads it back
to the same instant.

Abbreviations are the trouble: IST is India, Ireland and Israel; CST is the US and China.  So none
but UTC/GMT/Z is understood until :meth:`timestamp.support_abbreviations` names a region (an ISO
country code such as ``"CA"``, or zone names): the abbreviations of that region's zones are
learned from the time-zone database (``zoneinfo``, with the ``tzdata`` package where the system has
none), and one that means two different offsets in the chosen regions is refused as ambiguous
instead of guessed.  A local time without an abbreviation inside a fall-back hour (it happens
twice) or a spring-forward gap (never) is an error too, never silently one of the two.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import functools
import importlib.resources
import math
import os
import re
import threading
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["AmbiguousTimeZoneError", "TimestampError", "duration", "local_zone", "parse_datetime",
           "parse_seconds", "timestamp"]

UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)


class TimestampError(ValueError):
    """A time that cannot be read (or, being ambiguous, must not be guessed)."""


class AmbiguousTimeZoneError(TimestampError):
    """A zone abbreviation that means different offsets in the regions supported."""


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimestampError(f"unknown time zone {name!r}") from exc


def local_zone() -> _dt.tzinfo:
    """The system's zone: ``$TZ``, else tzlocal's answer, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return _zone(name)
        except TimestampError:
            pass
    try:
        import tzlocal

        return _zone(tzlocal.get_localzone_name() or "UTC")
    except Exception:  # no zone configured: UTC, as a container without /etc/localtime is
        return UTC


def _tzinfo(tzinfo: Any) -> _dt.tzinfo:
    if tzinfo is None or tzinfo is False:
        return UTC
    if tzinfo is True:
        return local_zone()
    if isinstance(tzinfo, str):
        return UTC if tzinfo.upper() in ("UTC", "GMT", "Z") else _zone(tzinfo)
    return tzinfo


def _zones_of(region: str) -> list[str]:
    """The zone names of an ISO 3166 country code, from the time-zone database's zone.tab."""
    text = None
    for where in (lambda: importlib.resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(),
                  lambda: open("/usr/share/zoneinfo/zone.tab", encoding="utf-8").read()):  # noqa: SIM115
        try:
            text = where()
            break
        except (OSError, ModuleNotFoundError):
            continue
    if text is None:
        raise TimestampError("no zone.tab: install the tzdata package")
    zones = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#") and fields[0].upper() == region.upper():
            zones.append(fields[2])
    return zones


_TIME = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?"
    r"\s*(?:(Z|[+-]\d{2}:?\d{2})|([A-Za-z][A-Za-z0-9+-]{0,8}(?:/[A-Za-z0-9_+-]+)*))?\s*$")


class timestamp:
    """An instant: seconds since the epoch (UTC) to the microsecond; compared to the millisecond."""

    _lock = threading.Lock()
    _abbreviations: dict[str, _dt.timedelta | None] = {"UTC": _dt.timedelta(0), "GMT": _dt.timedelta(0),
                                                       "Z": _dt.timedelta(0)}
    _zone_of: dict[str, str] = {}  # an abbreviation -> a zone using it, for rendering in that zone

    __slots__ = ("value",)

    def __init__(self, value: float | int | str | _dt.datetime | timestamp | None = None,
                 tzinfo: Any = None) -> None:
        if value is None:
            seconds = _dt.datetime.now(UTC).timestamp()
        elif isinstance(value, timestamp):
            seconds = value.value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = float(value)
            if not math.isfinite(seconds):
                raise TimestampError(f"{value!r} is not a time")
        elif isinstance(value, _dt.datetime):
            seconds = self._from_datetime(value, tzinfo)
        elif isinstance(value, str):
            seconds = self._from_string(value, tzinfo)
        else:
            raise TimestampError(f"{value!r} is not a time")
        self.value = round(seconds, 6)

    # -- reading --------------------------------------------------------------------------------------
    @staticmethod
    def _from_datetime(when: _dt.datetime, tzinfo: Any = None) -> float:
        if when.tzinfo is None:
            zone = _tzinfo(tzinfo)
            if zone is not UTC:
                when = timestamp._localize(when, zone)
            else:
                when = when.replace(tzinfo=UTC)
        return (when - _EPOCH).total_seconds()

    @staticmethod
    def _localize(naive: _dt.datetime, zone: _dt.tzinfo) -> _dt.datetime:
        """``naive`` in ``zone``, refusing a wall time that happens twice (fall-back) or never."""
        first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            # Both folds differ: either an overlap (both round-trip) or a gap (neither does).
            if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
                raise TimestampError(f"{naive} happens twice in {zone} (a fall-back hour): give the zone "
                                     "abbreviation or a UTC offset")
            raise TimestampError(f"{naive} does not happen in {zone} (a spring-forward gap)")
        return first

    @classmethod
    def _from_string(cls, text: str, tzinfo: Any = None) -> float:
        found = _TIME.match(text)
        if not found:
            raise TimestampError(f"{text!r} is not a time (YYYY-MM-DD[ HH:MM[:SS[.ffffff]]] [zone])")
        y, mo, d, h, mi, s, frac, offset, zone = found.groups()
        try:
            naive = _dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                                 int((frac or "0").ljust(6, "0")))
        except ValueError as exc:
            raise TimestampError(f"{text!r}: {exc}") from None
        if offset:
            if offset == "Z":
                return (naive.replace(tzinfo=UTC) - _EPOCH).total_seconds()
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            delta = _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return (naive.replace(tzinfo=_dt.timezone(sign * delta)) - _EPOCH).total_seconds()
        if zone:
            if "/" in zone:  # a zone name: America/Edmonton
                return (cls._localize(naive, _zone(zone)) - _EPOCH).total_seconds()
            with cls._lock:
                known = cls._abbreviations.get(zone.upper(), False)
            if known is None:
                raise AmbiguousTimeZoneError(f"{text!r}: {zone} means different offsets in the regions supported; "
                                             "give a UTC offset or a zone name")
            if known is False:
                raise TimestampError(f"{text!r}: unknown zone abbreviation {zone!r}; call "
                                     "timestamp.support_abbreviations(region) for its region")
            return (naive.replace(tzinfo=_dt.timezone(known)) - _EPOCH).total_seconds()
        return cls._from_datetime(naive, tzinfo)

    @classmethod
    def support_abbreviations(cls, region: str | Iterable[str], exclude: Iterable[str] = (), *,
                              at: int | None = None, reset: bool = False) -> list[str]:
        """Learn the zone abbreviations of ``region`` (an ISO country code, or zone names); returns them.

        Each zone is probed every two weeks of the year ``at`` (default: this year).  An
        abbreviation meaning two offsets (here or with a region supported before) becomes ambiguous:
        reading it is an error.  ``exclude`` leaves some out; ``reset`` forgets earlier regions.
        """
        names = _zones_of(region) if isinstance(region, str) and "/" not in region else \
            [region] if isinstance(region, str) else list(region)
        if not names:
            raise TimestampError(f"no time zones for region {region!r}")
        year = at or _dt.datetime.now(UTC).year
        learned: dict[str, set[_dt.timedelta]] = {}
        zone_of: dict[str, str] = {}
        skip = {e.upper() for e in exclude}
        for name in names:
            zone = _zone(name)
            for week in range(0, 53, 2):
                when = (_dt.datetime(year, 1, 1, 12, tzinfo=UTC) + _dt.timedelta(weeks=week)).astimezone(zone)
                abbreviation = when.tzname() or ""
                if not abbreviation or abbreviation[0] in "+-" or abbreviation.upper() in skip:
                    continue  # numeric "abbreviations" (+03) say nothing a UTC offset does not
                learned.setdefault(abbreviation.upper(), set()).add(when.utcoffset())  # type: ignore[arg-type]
                zone_of.setdefault(abbreviation.upper(), name)
        with cls._lock:
            if reset:
                cls._abbreviations = {k: v for k, v in cls._abbreviations.items() if k in ("UTC", "GMT", "Z")}
                cls._zone_of = {}
            for abbreviation, offsets in learned.items():
                before = cls._abbreviations.get(abbreviation, False)
                if before is None or len(offsets) > 1 or (before is not False and {before} != offsets):
                    cls._abbreviations[abbreviation] = None  # ambiguous
                else:
                    cls._abbreviations[abbreviation] = next(iter(offsets))
                    cls._zone_of.setdefault(abbreviation, zone_of[abbreviation])
        return sorted(learned)

    # -- rendering ------------------------------------------------------------------------------------
    def datetime(self, tzinfo: Any = None) -> _dt.datetime:
        return (_EPOCH + _dt.timedelta(seconds=self.value)).astimezone(_tzinfo(tzinfo))

    def render(self, tzinfo: Any = None, ms: bool = True, tzdetail: bool | None = None) -> str:
        """``YYYY-MM-DD HH:MM:SS.mmm`` (``ms=False``: microseconds); in ``tzinfo`` (a zone name, a
        tzinfo, or True for local) with its abbreviation, in UTC (no suffix) by default."""
        when = self.datetime(tzinfo)
        if ms:
            when = _dt.datetime.fromtimestamp(0, UTC) + _dt.timedelta(milliseconds=round(self.value * 1000))
            when = when.astimezone(_tzinfo(tzinfo))
            text = when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d}"
        else:
            text = when.strftime("%Y-%m-%d %H:%M:%S.%f")
        if tzinfo is not None and tzinfo is not False and (tzdetail is None or tzdetail):
            text += " " + (when.tzname() or when.strftime("%z"))
        return text

    @property
    def utc(self) -> str:
        return self.render()

    @property
    def local(self) -> str:
        return self.render(tzinfo=True)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"<timestamp {self.render(ms=False)}>"

    def __float__(self) -> float:
        return self.value

    def __int__(self) -> int:
        return int(self.value)

    # -- comparing and arithmetic (to the millisecond) --------------------------------------------------
    @property
    def _ms(self) -> int:
        return round(self.value * 1000)

    @staticmethod
    def _other(rhs: Any) -> int:
        if isinstance(rhs, timestamp):
            return rhs._ms
        return round(float(rhs) * 1000)

    def __eq__(self, rhs: object) -> bool:
        try:
            return self._ms == self._other(rhs)
        except (TypeError, ValueError):
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self._ms)

    def __lt__(self, rhs: Any) -> bool:
        return self._ms < self._other(rhs)

    def __le__(self, rhs: Any) -> bool:
        return self._ms <= self._other(rhs)

    def __gt__(self, rhs: Any) -> bool:
        return self._ms > self._other(rhs)

    def __ge__(self, rhs: Any) -> bool:
        return self._ms >= self._other(rhs)

    def __add__(self, rhs: float | duration) -> timestamp:
        return timestamp(self.value + float(rhs))

    __radd__ = __add__

    def __sub__(self, rhs: Any) -> Any:
        if isinstance(rhs, timestamp):
            return duration(self.value - rhs.value)
        return timestamp(self.value - float(rhs))


_SPAN = re.compile(r"(?P<n>\d+(?:\.\d*)?|\.\d+)\s*(?P<u>w|d|h|m(?!s)|s|ms|us|µs)", re.I)
_UNIT = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}


def parse_seconds(text: str | float | int) -> float:
    """Seconds from ``1h2m3.456s`` (w, d, h, m, s, ms, us), ``HH:MM:SS.sss``, or a plain number."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip()
    negative = s.startswith("-")
    body = s[1:].strip() if negative else s
    try:
        value = float(body)
    except ValueError:
        value = None
    if value is None and re.fullmatch(r"\d+(?::\d{1,2}){1,2}(?:\.\d+)?", body):
        value = 0.0
        for part in body.split(":"):
            value = value * 60 + float(part)
    if value is None:
        pos, total = 0, 0.0
        for found in _SPAN.finditer(body):
            if body[pos:found.start()].strip():
                break
            total += float(found.group("n")) * _UNIT[found.group("u").lower()]
            pos = found.end()
        if pos != len(body) or not body:
            raise TimestampError(f"{text!r} is not a duration (e.g. 1h2m3.456s, 01:02:03.456 or 3723.456)")
        value = total
    return -value if negative else value


class duration:
    """A span of seconds, read and rendered as ``1h2m3.456s``."""

    __slots__ = ("value",)

    def __init__(self, value: float | int | str | duration = 0.0) -> None:
        self.value = float(value.value) if isinstance(value, duration) else parse_seconds(value)

    def __float__(self) -> float:
        return self.value

    def __str__(self) -> str:
        ms = round(abs(self.value) * 1000)
        sign = "-" if self.value < 0 and ms else ""
        parts = []
        for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
            if ms >= size:
                parts.append(f"{ms // size}{unit}")
                ms %= size
        if ms or not parts:
            parts.append(f"{ms // 1000}.{ms % 1000:03d}s".replace(".000s", "s"))
        return sign + "".join(parts)

    def __repr__(self) -> str:
        return f"<duration {self}>"

    def __eq__(self, rhs: object) -> bool:
        try:
            return round(self.value * 1000) == round(float(rhs) * 1000)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return NotImplemented

    def __hash__(self) -> int:
        return hash(round(self.value * 1000))

    def __lt__(self, rhs: Any) -> bool:
        return self.value < float(rhs)

    def __add__(self, rhs: Any) -> Any:
        if isinstance(rhs, timestamp):
            return rhs + self.value
        return duration(self.value + float(rhs))

    __radd__ = __add__

    def __sub__(self, rhs: Any) -> duration:
        return duration(self.value - float(rhs))

    def __neg__(self) -> duration:
        return duration(-self.value)


def parse_datetime(text: str, tzinfo: Any = None) -> timestamp:
    """A :class:`timestamp` from ``YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]`` with an optional zone (an offset,
    a supported abbreviation, a zone name); without one, in ``tzinfo`` (default UTC)."""
    return timestamp(text, tzinfo=tzinfo)


# the calendar module is the portable inverse of gmtime; kept for callers of cpppo 5's helpers
timegm = calendar.timegm
