"""History: timestamps that mean what they say, history files, and playback.

``timestamp`` / ``duration`` / ``parse_datetime`` / ``parse_seconds`` (:mod:`.times`); ``logger``
(append records and comments to a plain or compressed file, rotating), ``reader`` (records of one
file or rotated files in time order, between two times, truncated last lines skipped) and
``playback`` (records paced to the wall clock at a speed factor) (:mod:`.files`).
"""

from __future__ import annotations

from .files import Record, logger, playback, reader, records_in
from .times import (
           AmbiguousTimeZoneError,
           TimestampError,
           duration,
           local_zone,
           parse_datetime,
           parse_seconds,
           timestamp,
)

__all__ = ["AmbiguousTimeZoneError", "Record", "TimestampError", "duration", "local_zone", "logger", "parse_datetime",
           "parse_seconds", "playback", "reader", "records_in", "timestamp"]
