"""History files: plain and compressed, a truncated last line, rotation, time ranges, playback pace."""

from __future__ import annotations

import gzip
import random
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
    # The fields are tab-separated, as cpppo 5 writes them (its documents show the tabs as spaces)
    assert path.read_text().splitlines() == [
        "# 2014-07-15 22:03:35.945: Started recording Tag: Tag_Name",
        '2014-07-15 22:03:44.186\t["Tag_Name", [0, 3]]\t{"write": [0, 1, 2, 3]}']


def test_space_separated_and_tab_separated_records_both_read(tmp_path):
    path = tmp_path / "mixed.hst"
    path.write_text('2014-07-15 22:03:44.186 ["A", [0, 0]] {"write": [1]}\n'
                    '2014-07-15 22:03:44.200\t["A b {c", [0, 0]]\t{"write": [2]}\n'
                    '# 2014-07-15 22:03:44.300: a comment\n'
                    '2014-07-15 22:03:45.000\t["A", [0, 1]]\t{"read": [3, 4]}\n')
    records = list(reader(path))
    assert [(round(r.time - T0, 3), r.key, r.value) for r in records] == [
        (8.241, ["A", [0, 0]], {"write": [1]}), (8.255, ["A b {c", [0, 0]], {"write": [2]}),
        (9.055, ["A", [0, 1]], {"read": [3, 4]})]


REF_WRITE_AND_READ = """
import sys, json
from cpppo.history import logger, reader, timestamp
ours, theirs = sys.argv[1], sys.argv[2]
log = logger(theirs)
for i in range(3):
    log.write({"write": [i, i + 1]}, now=timestamp(1405461815.945 + i), serial=["Tag_Name", [0, 1]])
log.close()
seen = []
for (f, n, cur), (ts, js) in reader(ours, historical=timestamp(1405461814.945), factor=1000).open():
    if js:
        seen.append((str(ts), js))
    if len(seen) == 3:
        break
print(json.dumps(seen))
"""


def test_cpppo_5_reads_our_history_and_we_read_its(tmp_path):
    """Cross-checked both ways with the reference cpppo 5.2.5 (bench/.ref-venv)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    try:
        from _refvenv import ref_python
    finally:
        sys.path.pop(0)
    ours, theirs = tmp_path / "ours.hst", tmp_path / "theirs.hst"
    with logger(ours) as log:
        log.comment("Started recording Tag: Tag_Name", now=T0)
        for i in range(3):
            log.write(["Tag_Name", [0, 3]], {"write": [i, 1, 2, 3]}, now=T0 + i)
    done = subprocess.run([str(ref_python()), "-c", REF_WRITE_AND_READ, str(ours), str(theirs)], capture_output=True,
                          text=True, timeout=60, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == [[f"2014-07-15 22:03:3{5 + i}.945", f'{{"write": [{i}, 1, 2, 3]}}\n']
                                       for i in range(3)]
    records = list(reader(theirs))
    assert [(r.time, r.key, r.value) for r in records] == [
        (pytest.approx(T0 + i), ["Tag_Name", [0, 1]], {"write": [i, i + 1]}) for i in range(3)]


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


def test_a_recorders_lines_are_stamped_as_timestamp_renders_each_time():
    from cpppo.history.files import stamped_lines

    rng = random.Random(5)
    dense = [T0 + i * 20e-6 for i in range(2000)]  # 50 a millisecond, in order: stamped a millisecond at a time
    edges = sorted(T0 + k / 1000 + d for k in range(40) for d in (0.0004999, 0.0005, 0.0005001))  # half-millis
    sparse = [T0 + i * 0.013 for i in range(300)]
    shuffled = dense[:500]
    rng.shuffle(shuffled)
    for times in (dense, edges, sparse, shuffled, dense[:3], []):
        texts = [f"\t[\"T\", [{i}, {i}]]\t{{\"read\": [{i}]}}\n" for i in range(len(times))]
        expected = "".join(f"{timestamp(t)}{text}" for t, text in zip(times, texts))
        assert stamped_lines(times, texts) == expected
