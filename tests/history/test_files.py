"""History files: plain and compressed, a truncated last line, rotation, time ranges, playback pace."""

from __future__ import annotations

import gzip
import time

import pytest

from cpppo.history import logger, playback, reader, timestamp

T0 = 1405461815.945  # 2014-07-15 22:03:35.945 UTC


@pytest.mark.parametrize("name", ["h.hst", "h.hst.gz", "h.hst.bz2", "h.hst.xz"])
def test_write_and_read_back(tmp_path, name):
    path = tmp_path / name
    with logger(path) as log:
        log.comment("Started recording Tag: Tag_Name", now=T0)
        for i in range(100):
            log.write(["Tag_Name", [0, 3]], {"write": [i, 1, 2, 3]}, now=T0 + i)
    got = list(reader(path))
    assert len(got) == 100 and got[0].key == ["Tag_Name", [0, 3]] and got[99].value == {"write": [99, 1, 2, 3]}
    assert str(got[0].timestamp) == "2014-07-15 22:03:35.945"
    between = list(reader(path, start=T0 + 10, stop="2014-07-15 22:03:55.945"))
    assert [r.value["write"][0] for r in between] == list(range(10, 20))


def test_the_line_format_is_the_documented_one(tmp_path):
    path = tmp_path / "h.hst"
    with logger(path) as log:
        log.comment("Started recording Tag: Tag_Name", now=T0)
        log.write(["Tag_Name", [0, 3]], {"write": [0, 1, 2, 3]}, now=T0 + 8.241)
    assert path.read_text().splitlines() == [
        "# 2014-07-15 22:03:35.945: Started recording Tag: Tag_Name",
        '2014-07-15 22:03:44.186 ["Tag_Name", [0, 3]] {"write": [0, 1, 2, 3]}']


def test_a_truncated_last_line_is_skipped_not_fatal(tmp_path):
    plain = tmp_path / "h.hst"
    with logger(plain) as log:
        for i in range(5):
            log.write(["T", [0, 0]], {"write": [i]}, now=T0 + i)
    with open(plain, "a") as f:
        f.write('2014-07-15 22:03:44.186 ["T", [0, 0]] {"wri')  # a crash mid-line
    assert [r.value["write"] for r in reader(plain)] == [[0], [1], [2], [3], [4]]
    compressed = tmp_path / "h.hst.gz"
    data = gzip.compress(plain.read_bytes())
    compressed.write_bytes(data[: len(data) - 12])  # a compressed stream cut short too
    assert [r.value["write"] for r in reader(compressed)][:3] == [[0], [1], [2]]


def test_nothing_written_is_lost_when_the_writer_dies(tmp_path):
    path = tmp_path / "h.hst"
    log = logger(path)
    log.write(["T", [0, 0]], {"write": [1]}, now=T0)
    # no close: the process could die here; the record is on disk already
    assert [r.value for r in reader(path)] == [{"write": [1]}]
    log.close()


def test_rotation_by_size_reads_back_in_time_order(tmp_path):
    path = tmp_path / "h.hst"
    with logger(path, rotate_bytes=600) as log:
        for i in range(40):
            log.write(["T", [0, 0]], {"write": [i]}, now=T0 + i)
    parts = sorted(p.name for p in tmp_path.iterdir())
    assert len(parts) > 3 and "h.hst.1" in parts
    assert [r.value["write"][0] for r in reader(path)] == list(range(40))


def test_playback_is_paced_by_a_speed_factor(tmp_path):
    path = tmp_path / "h.hst"
    with logger(path) as log:
        for i in range(5):
            log.write(["T", [0, 0]], {"write": [i]}, now=T0 + i * 0.5)  # 2 s of history
    began = time.monotonic()
    seen = [(time.monotonic() - began, r.value["write"][0]) for r in playback(reader(path), speed=4.0)]
    assert [v for _, v in seen] == [0, 1, 2, 3, 4]
    assert seen[-1][0] >= 0.5 - 0.02  # 2 s at 4x: not sooner than 0.5 s (later on a loaded machine)
    assert seen[2][0] >= 0.25 - 0.02
    fast = time.monotonic()
    assert len(list(playback(reader(path), speed=0))) == 5 and time.monotonic() - fast < 5
    late = list(playback(reader(path), speed=0, start=timestamp(T0 + 1)))
    assert [r.value["write"][0] for r in late] == [2, 3, 4]
