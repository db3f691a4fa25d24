"""Recording a simulator's tag I/O (historize), replaying a history into a simulator, and the weather
example against a small HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from cpppo.history import logger, reader
from cpppo.server.enip import Simulator, client
from cpppo.server.enip.historize import Player, Recorder


def _wait(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_historize_records_client_reads_and_writes_as_documented(tmp_path):
    path = tmp_path / "some_file.hst"
    server = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip.historize", str(path), "-a", "127.0.0.1:0",
                               "Tag_Name=INT[1000]"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = int(re.search(r"listening on \S+:(\d+)", server.stdout.readline()).group(1))
        with client.connector(host="127.0.0.1", port=port, timeout=5) as conn:
            failures, _ = conn.process(client.parse_operations(["Tag_Name[0-3]=(INT)0,1,2,3", "Tag_Name[0-3]"]))
            assert failures == 0
            failures, _ = conn.process(client.parse_operations(["Tag_Name[998-1001]"]))  # beyond the end
            assert failures == 1
        assert _wait(lambda: path.exists() and "Exception" in path.read_text())
    finally:
        server.terminate()
        server.communicate(timeout=10)
    lines = path.read_text().splitlines()
    # a failed access is recorded as cpppo 5 recorded it: a comment, with the status the client got
    assert re.fullmatch(r"# \S+ \S+: \S+ \S+: PLC I/O Read  Tag +Tag_Name\[  998-1001 \] Exception: CIP status 0xFF "
                        r"\(client 127\.0\.0\.1:\d+\)", lines[3]), lines
    assert re.fullmatch(r"# \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}: Started recording Tag: Tag_Name", lines[0])
    assert re.fullmatch(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\t\["Tag_Name", \[0, 3\]\]\t\{"write": \[0, 1, 2, 3\]\}',
                        lines[1]), lines
    assert lines[2].endswith('["Tag_Name", [0, 3]]\t{"read": [0, 1, 2, 3]}')


def test_a_recorder_sees_direct_writes_and_playback_drives_the_next_run(tmp_path):
    path = tmp_path / "plant.hst.gz"

    async def record(sim):
        recorder = await Recorder(sim, path, reads=False).start(sim.host)
        return recorder

    with Simulator(["LEVEL=REAL", "COUNTS=DINT[3]"]) as first:
        recorder = asyncio.run_coroutine_threadsafe(record(first), first.host.loop).result(10)
        for i in range(5):
            first["LEVEL"] = 1.5 + i  # direct writes: recorded too
            time.sleep(0.05)
        first.tag("COUNTS")[1:3] = [7, 8]
        first.tag("COUNTS").error = 8  # a forced error: the client's write fails, and is recorded as failing
        with client.connector(host="127.0.0.1", port=first.address[1], timeout=5) as conn:
            assert conn.process(client.parse_operations(["COUNTS[0]=(DINT)5"]))[0] == 1
        first.tag("COUNTS").error = 0
        assert _wait(lambda: recorder.recorded >= 7)
        asyncio.run_coroutine_threadsafe(recorder.stop(), first.host.loop).result(10)
    history = list(reader(path))
    with gzip.open(path, "rt") as f:
        assert "PLC I/O Write Tag               COUNTS[    0-0    ] Exception: CIP status 0x08" in f.read()
    assert [r.value["write"] for r in history[:5]] == [[1.5], [2.5], [3.5], [4.5], [5.5]]
    assert history[5].key == ["COUNTS", [1, 2]] and history[5].value == {"write": [7, 8]}

    with Simulator(["LEVEL=REAL", "COUNTS=DINT[3]"]) as second:
        seen = []
        second.controller.observers.append(lambda e: e.kind == "write" and seen.append((e.source.kind, e.values)))
        player = Player(second, path, speed=2.0)
        began = time.monotonic()
        asyncio.run_coroutine_threadsafe(player.start(), second.host.loop).result(10)
        assert _wait(player.done.is_set)
        elapsed = time.monotonic() - began
        assert second["LEVEL"] == 5.5 and second["COUNTS"] == [0, 7, 8]
        assert player.played == 6 and seen[0] == ("playback", [1.5])
        recorded_span = history[5].time - history[0].time
        assert elapsed >= recorded_span / 2 - 0.05  # at 2x: not faster than half the recorded span
        with client.connector(host=second.address[0], port=second.address[1], timeout=5) as conn:
            assert conn.read_tag("LEVEL") == [5.5]


def test_enip_server_playback_option(tmp_path):
    path = tmp_path / "h.hst"
    with logger(path) as log:
        for i in range(3):
            log.write(["X", [0, 0]], {"write": [i + 10]}, now=1405461815.0 + i)
    server = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", "--playback",
                               str(path), "--speed", "0", "X=DINT"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r"listening on \S+:(\d+)", server.stdout.readline()).group(1))
        assert _wait(lambda: _read(port, "X") == [12])
    finally:
        server.terminate()
        server.communicate(timeout=10)
    bad = subprocess.run([sys.executable, "-m", "cpppo.server.enip", "--playback", str(tmp_path / "none.hst"),
                          "X=DINT"], check=False, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "no such file" in bad.stderr
    when = subprocess.run([sys.executable, "-m", "cpppo.server.enip", "--playback", str(path), "--from", "yesterday",
                           "X=DINT"], check=False, capture_output=True, text=True, timeout=30)
    assert when.returncode == 2 and len(when.stderr.strip().splitlines()) == 1


def _read(port, tag):
    try:
        with client.connector(host="127.0.0.1", port=port, timeout=2) as conn:
            return conn.read_tag(tag)
    except Exception:
        return None


class _Weather(BaseHTTPRequestHandler):
    temperatures = {"Calgary": 21.5}

    def do_GET(self):
        query = parse_qs(urlparse(self.path).query)
        city = query.get("q", [""])[0]
        if query.get("appid") != ["secret"] or city not in self.temperatures:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps({"name": city, "main": {"temp": self.temperatures[city]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def weather_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Weather)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/weather"
    server.shutdown()
    server.server_close()


def test_the_weather_example_reads_a_citys_temperature_and_fails_cleanly(weather_service):
    proc = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip.weather", "--url", weather_service, "--key",
                             "secret", "-a", "127.0.0.1:0", "Calgary=REAL", "Atlantis=REAL"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r"listening on \S+:(\d+)", proc.stdout.readline()).group(1))
        with client.connector(host="127.0.0.1", port=port, timeout=10) as conn:
            failures, values = conn.process(client.parse_operations(["Calgary", "Atlantis", "Calgary=(REAL)5"]))
        assert values[0] == [21.5]
        assert values[1] is None and values[2] is None and failures == 2  # no such city; no changing the weather
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err


def test_stopping_a_recorder_writes_what_it_was_told_before(tmp_path):
    path = tmp_path / "last.hst"
    with Simulator(["LEVEL=DINT"]) as plc:
        assert plc.host is not None
        recorder = plc.host.call(Recorder(plc, path, reads=False).start(plc.host))
        for i in range(1, 501):
            plc["LEVEL"] = i  # direct writes, then at once the stop: none may be lost
        plc.host.call(recorder.stop())
    assert [r.value["write"] for r in reader(path)] == [[i] for i in range(1, 501)]


def test_historize_to_a_file_it_cannot_write_says_so_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "cpppo.server.enip.historize", str(tmp_path / "no" / "such.hst"),
                           "-a", "127.0.0.1:0", "X=INT"], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"historize: error: cannot write {str(tmp_path / 'no' / 'such.hst')!r}: No such file or directory"]


def test_a_recorder_whose_disk_fills_says_so_once_and_the_simulator_serves_on(tmp_path, caplog):
    with Simulator(["LEVEL=DINT"]) as plc:
        assert plc.host is not None
        recorder = plc.host.call(Recorder(plc, tmp_path / "ok.hst", reads=False).start(plc.host))
        recorder.history.close()
        recorder.history = logger("/dev/full")  # from now on, every write fails: no space left on device
        with caplog.at_level("ERROR", logger="cpppo.server.enip.historize"):
            for i in range(3):
                plc["LEVEL"] = i
            assert _wait(lambda: "recording to" in caplog.text, 10)
            with client.connector(host="127.0.0.1", port=plc.address[1], timeout=5) as conn:
                failures, values = conn.process(client.parse_operations(["LEVEL=(DINT)7", "LEVEL"]))
            plc.host.call(recorder.stop())  # nothing more to say, and no exception
    assert failures == 0 and values[1] == [7] and plc["LEVEL"] == 7
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [f"recording to {tmp_path / 'ok.hst'} stopped: No space left on device"]
