"""The dashboard's HTTP side, over real sockets: the page and its assets from the package, the
device state, paged values, and the live event stream fed by the write funnel (a write over
EtherNet/IP, from Python and through the API each arrive; reads only when asked for).  The
simulators come from the pytest fixture with ``web=``, as a user's test would start one."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from cpppo.server.enip import client
from cpppo.server.enip.config import load_config
from cpppo.server.enip.embedded import Simulator


def get(sim: Simulator, path: str) -> tuple[int, Any, str]:
    assert sim.web is not None
    url = sim.web.url + path.lstrip("/")
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            body = reply.read()
            kind = reply.headers.get("Content-Type", "")
            return reply.status, (json.loads(body) if "json" in kind else body.decode()), kind
    except urllib.error.HTTPError as exc:
        kind = exc.headers.get("Content-Type", "")
        body = exc.read()
        return exc.code, (json.loads(body) if "json" in kind else body.decode()), kind


class Stream:
    """A Server-Sent Events stream, read a line at a time (bounded by the socket timeout)."""

    def __init__(self, sim: Simulator, path: str = "events") -> None:
        assert sim.web is not None
        self.reply = urllib.request.urlopen(sim.web.url + path, timeout=5)
        assert self.reply.headers["Content-Type"].startswith("text/event-stream")

    def next(self, kind: str, limit: int = 100) -> dict[str, Any]:
        """The next message of ``kind`` (``io`` or ``stats``), within 5 s."""
        event = None
        deadline = time.monotonic() + 5
        for _ in range(limit):
            if time.monotonic() > deadline:
                break
            line = self.reply.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == kind:
                return json.loads(line[6:])
        raise AssertionError(f"no {kind!r} message in {limit} lines")

    def io_until(self, wanted: Any, limit: int = 50) -> list[dict[str, Any]]:
        """``io`` events until one satisfies ``wanted``; all of them."""
        seen: list[dict[str, Any]] = []
        for _ in range(limit):
            seen.extend(self.next("io")["events"])
            if any(wanted(e) for e in seen):
                return seen
        raise AssertionError(f"not seen in {seen}")

    def close(self) -> None:
        self.reply.close()


@pytest.fixture
def plc(enip_simulator: Any) -> Simulator:
    sim = enip_simulator("SCADA=INT[1000]", "BIG=DINT[10000]", "SPEED=REAL", "NAME=STRING",
                         web=("127.0.0.1", 0))
    return sim


def test_page_and_assets_come_from_the_simulator(plc: Simulator) -> None:
    status, page, kind = get(plc, "/")
    assert status == 200 and kind.startswith("text/html")
    assert 'src="static/dashboard.js"' in page and 'href="static/dashboard.css"' in page
    assert "http" not in page.replace("http-equiv", "")  # nothing from elsewhere: works offline
    status, script, kind = get(plc, "/static/dashboard.js")
    assert status == 200 and "javascript" in kind and "EventSource" in script
    status, _, kind = get(plc, "/static/dashboard.css")
    assert status == 200 and kind.startswith("text/css")
    status, body, _ = get(plc, "/static/../service.py")
    assert status == 404
    status, body, _ = get(plc, "/static/secret.txt")
    assert status == 404 and body["success"] is False


def test_state_shows_identity_address_and_every_tag(plc: Simulator) -> None:
    plc["SPEED"] = 12.5
    plc.tag("SCADA")[3] = 33
    status, state, _ = get(plc, "/state")
    assert status == 200
    assert state["identity"]["product_name"] == "1756-L61/B LOGIX5561"
    assert state["enip"] == f"127.0.0.1:{plc.address[1]}"
    tags = {t["name"]: t for t in state["tags"]}
    assert tags["SCADA"]["type"] == "INT" and tags["SCADA"]["dims"] == [1000] and tags["SCADA"]["elements"] == 1000
    assert tags["SCADA"]["values"] == [0, 0, 0, 33, 0, 0, 0, 0]  # the first elements; the rest are paged
    assert tags["SPEED"]["values"] == [12.5] and tags["SPEED"]["dims"] == []
    assert tags["BIG"]["elements"] == 10000


def test_values_are_paged_and_bad_pages_are_refused(plc: Simulator) -> None:
    plc.tag("BIG")[9999] = -7
    status, page, _ = get(plc, "/values/big?start=9990&count=100")  # names are case-insensitive
    assert status == 200 and page["start"] == 9990 and page["count"] == 10 and page["values"][-1] == -7
    status, page, _ = get(plc, "/values/BIG?start=0&count=100000")
    assert status == 200 and page["count"] == 1000  # one request returns at most a page
    assert get(plc, "/values/NOPE")[0] == 404
    assert get(plc, "/values/BIG?start=10000")[0] == 404
    status, body, _ = get(plc, "/values/BIG?start=x")
    assert status == 400 and body["success"] is False


def test_the_stream_carries_writes_from_every_source(plc: Simulator) -> None:
    stream = Stream(plc)
    try:
        first = stream.next("stats")
        assert first["connections"] == {} and first["options"]["delay"] == {"value": 0.0}
        with client.connector(host="127.0.0.1", port=plc.address[1], timeout=5) as conn:
            list(conn.pipeline(operations=client.parse_operations(["SCADA[5-6]=(INT)11,12"]), depth=1))
            seen = stream.io_until(lambda e: e["tag"] == "SCADA")
            write = next(e for e in seen if e["tag"] == "SCADA")
            assert write["kind"] == "write" and write["start"] == 5 and write["values"] == [11, 12]
            assert write["source"].startswith("client 127.0.0.1:")
            stats = stream.next("stats")  # the open connection, with its counters
            (entry,) = stats["connections"].values()
            assert entry["interface"] == "127.0.0.1" and entry["requests"] >= 2 and entry["received"] > 0
            assert stats["requests"] >= 2
        plc["SPEED"] = 3.25  # from Python
        seen = stream.io_until(lambda e: e["tag"] == "SPEED")
        assert any(e["values"] == [3.25] and e["source"] == "direct" for e in seen)
        status, _, _ = get(plc, "/api/tags/NAME/attribute[0]=hello")  # through the API
        assert status == 200
        seen = stream.io_until(lambda e: e["tag"] == "NAME")
        assert any(e["values"] == ["hello"] for e in seen)
        get(plc, "/api/tags/SPEED/error=8")
        stats = stream.next("stats")
        assert stats["errors"] == {"SPEED": 8}
    finally:
        stream.close()


def test_reads_are_streamed_only_to_a_page_that_asks(plc: Simulator) -> None:
    quiet, loud = Stream(plc), Stream(plc, "events?reads=1")
    try:
        quiet.next("stats"), loud.next("stats")
        with client.connector(host="127.0.0.1", port=plc.address[1], timeout=5) as conn:
            list(conn.pipeline(operations=client.parse_operations(["SCADA[0-1]"]), depth=1))
            seen = loud.io_until(lambda e: e["kind"] == "read")
            assert any(e["tag"] == "SCADA" and e["count"] == 2 for e in seen)
            list(conn.pipeline(operations=client.parse_operations(["SCADA[0]=(INT)1"]), depth=1))
        seen = quiet.io_until(lambda e: e["kind"] == "write")
        assert {e["kind"] for e in seen} == {"write"}
    finally:
        quiet.close()
        loud.close()


def test_a_fleet_device_has_its_own_dashboard(enip_simulator: Any) -> None:
    from cpppo.server.web import WebService

    pump, drive = enip_simulator("FLOW=REAL"), enip_simulator("RPM=INT")
    web = WebService(devices={"pump": pump, "drive": drive})
    assert pump.host is not None
    pump.host.call(pump.host.add(web))
    try:
        base = f"http://127.0.0.1:{web.address[1]}"
        with urllib.request.urlopen(base + "/device/drive", timeout=5) as reply:  # redirected to .../
            assert reply.url.endswith("/device/drive/") and "dashboard.js" in reply.read().decode()
        with urllib.request.urlopen(base + "/device/drive/state", timeout=5) as reply:
            assert [t["name"] for t in json.loads(reply.read())["tags"]] == ["RPM"]
        with urllib.request.urlopen(base + "/api", timeout=5) as reply:
            assert json.loads(reply.read())["data"]["devices"]["pump"]["dashboard"] == "/device/pump/"
        index = urllib.request.Request(base + "/", headers={"Accept": "text/html"})
        with urllib.request.urlopen(index, timeout=5) as reply:  # a browser gets links to each dashboard
            page = reply.read().decode()
            assert "2 devices" in page and "href='/device/pump/'" in page and "href='/device/drive/'" in page
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + "/device/nope/state", timeout=5)
        assert missing.value.code == 404
    finally:
        pump.host.call(pump.host.remove(web))


def test_the_token_may_come_from_the_config_file(tmp_path: Any) -> None:
    cfg = tmp_path / "web.cfg"
    cfg.write_text("[Web]\nToken = s3cret-from-file\n")
    assert load_config([cfg], search=False).web_token == "s3cret-from-file"


def test_a_simulator_started_again_serves_a_live_page_again() -> None:
    sim = Simulator(["X=DINT"], web=("127.0.0.1", 0))
    for value in (1, 2):
        with sim:
            stream = Stream(sim)
            try:
                stream.next("stats")
                sim["X"] = value
                seen = stream.io_until(lambda e, v=value: e["tag"] == "X" and e["values"] == [v])
                assert seen
            finally:
                stream.close()


def test_a_web_port_in_use_is_one_line_and_exit_1() -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", "--web",
                               f"127.0.0.1:{port}", "X=DINT"], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"enip_server: error: the web API cannot listen on 127.0.0.1:{port}: Address already in use"]
