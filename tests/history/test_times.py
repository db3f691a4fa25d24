"""Timestamps: rendering and reading to the millisecond, DST changes, abbreviations by region."""

from __future__ import annotations

import pytest

from cpppo.history import (
    AmbiguousTimeZoneError,
    TimestampError,
    duration,
    parse_datetime,
    parse_seconds,
    timestamp,
)


@pytest.fixture(autouse=True)
def fresh_abbreviations():
    saved = (dict(timestamp._abbreviations), dict(timestamp._zone_of))
    yield
    timestamp._abbreviations, timestamp._zone_of = saved


def test_render_and_compare_to_the_millisecond():
    ts = timestamp(1405461815.9454)
    assert str(ts) == "2014-07-15 22:03:35.945"
    assert ts.render(ms=False) == "2014-07-15 22:03:35.945400"
    assert ts == timestamp(1405461815.9451) and ts != timestamp(1405461815.9466)
    assert ts < ts + 0.001 and (ts + 1).value == pytest.approx(1405461816.9454)
    assert float(ts - timestamp(1405461814.9454)) == pytest.approx(1.0)
    assert timestamp("2014-07-15 22:03:35.945") == ts and timestamp("2014-07-15T22:03:35.945Z") == ts
    assert timestamp("2014-07-15 16:03:35.945-06:00") == ts


def test_zone_names_render_with_their_abbreviations_across_dst():
    summer, winter = timestamp("2014-07-15 22:03:35.945"), timestamp("2014-01-15 22:03:35.945")
    assert summer.render(tzinfo="America/Edmonton") == "2014-07-15 16:03:35.945 MDT"
    assert winter.render(tzinfo="America/Edmonton") == "2014-01-15 15:03:35.945 MST"
    assert timestamp("2014-07-15 16:03:35.945 America/Edmonton") == summer


def test_abbreviations_need_a_region_and_then_read_both_ways():
    with pytest.raises(TimestampError, match="support_abbreviations"):
        timestamp("2014-07-15 16:03:35.945 MDT")
    learned = timestamp.support_abbreviations("CA")
    assert {"MST", "MDT", "EST", "EDT", "PST", "PDT"} <= set(learned)
    assert timestamp("2014-07-15 16:03:35.945 MDT") == timestamp("2014-07-15 22:03:35.945")
    assert timestamp("2014-01-15 15:03:35.945 MST") == timestamp("2014-01-15 22:03:35.945")
    # inside the fall-back hour the abbreviation says which of the two it is
    assert timestamp("2014-11-02 01:30:00 MDT") == timestamp("2014-11-02 07:30:00")
    assert timestamp("2014-11-02 01:30:00 MST") == timestamp("2014-11-02 08:30:00")


def test_an_abbreviation_meaning_two_offsets_is_an_error():
    timestamp.support_abbreviations("IN")  # IST: India Standard Time, +05:30
    assert timestamp("2014-07-15 12:00:00 IST") == timestamp("2014-07-15 06:30:00")
    timestamp.support_abbreviations("IE")  # IST: Irish Standard Time, +01:00
    with pytest.raises(AmbiguousTimeZoneError, match="IST"):
        timestamp("2014-07-15 12:00:00 IST")
    timestamp.support_abbreviations("IE", reset=True)
    assert timestamp("2014-07-15 12:00:00 IST") == timestamp("2014-07-15 11:00:00")


def test_local_times_in_a_fall_back_hour_or_a_gap_are_not_guessed():
    with pytest.raises(TimestampError, match="happens twice"):
        timestamp("2014-11-02 01:30:00", tzinfo="America/Edmonton")
    with pytest.raises(TimestampError, match="does not happen"):
        timestamp("2014-03-09 02:30:00", tzinfo="America/Edmonton")
    assert timestamp("2014-11-02 03:30:00", tzinfo="America/Edmonton") == timestamp("2014-11-02 10:30:00")


def test_durations_and_seconds():
    assert parse_seconds("1h2m3.456s") == pytest.approx(3723.456)
    assert parse_seconds("01:02:03.456") == pytest.approx(3723.456)
    assert parse_seconds("1.5") == 1.5 and parse_seconds("250ms") == 0.25 and parse_seconds("-2m") == -120
    assert str(duration("1h2m3.456s")) == "1h2m3.456s" and str(duration(90)) == "1m30s"
    assert str(duration(0.5)) == "0.500s" and duration("2d") == 172800
    with pytest.raises(TimestampError):
        parse_seconds("1 fortnight")
    assert parse_datetime("2014-07-15 22:03:35.945") == timestamp(1405461815.945)
    with pytest.raises(TimestampError):
        timestamp("2014-13-45 99:00")
