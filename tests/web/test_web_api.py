"""The web API (seed 2.1.9) of a running enip_server, over real sockets: every documented URL in
both its ``/v`` and ``=v`` forms, each effect proved by an EtherNet/IP client, bad requests, and
who may change things (loopback, or a peer with the token: tried from 192.0.2.1 in a private
network namespace, on its loopback interface: this kernel may have no dummy interfaces)."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cpppo.errors import CpppoError
from cpppo.server.enip import client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, *args: str) -> None:
        self.web = _free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", "--web",
                                      f"127.0.0.1:{self.web}", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(re.search(r"listening on \S+:(\d+)", self.proc.stdout.readline()).group(1))
        for _ in range(5):
            if "Dashboard on" in self.proc.stdout.readline():
                break

    def get(self, path: str, accept: str = "application/json") -> tuple[int, dict]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.web}/{path}", headers={"Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                body = reply.read().decode()
                return reply.status, (json.loads(body) if "json" in accept else {"html": body})
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read().decode())

    def read(self, *tags: str, timeout: float = 5.0) -> list:
        with client.connector(host="127.0.0.1", port=self.port, timeout=timeout) as conn:
            return conn.process(client.parse_operations(list(tags)), timeout=timeout)[1]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.communicate(timeout=10)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server("SCADA=INT[100]", "FLOAT=REAL")
    yield srv
    srv.stop()


def test_everything_at_the_root_in_the_documented_shape(server):
    status, reply = server.get("api")
    assert status == 200 and set(reply) == {"alarm", "command", "data", "since", "until"}
    assert reply["data"]["options"]["delay"] == {"value": 0.0}
    address = ["127.0.0.1", server.port]
    assert reply["data"]["server"]["control"] == {"address": address, "address_udp": address, "disable": False,
                                                  "done": False, "latency": 0.1, "timeout": 0.2}
    scada = reply["data"]["tags"]["SCADA"]
    assert scada == {"attribute": "SCADA" + " " * 27 + "INT[ 100] == [0, 0, 0, 0, 0, 0, ...]", "error": 0, "path": None}
    status, page = server.get("api", accept="text/html")
    assert status == 200 and page["html"].startswith("<!doctype html>") and "SCADA" in page["html"]


@pytest.mark.parametrize("form", ["/", "="])
def test_delay_value_and_range_delay_every_reply(server, form):
    status, reply = server.get(f"api/options/delay/value{form}0.5")
    assert status == 200 and reply["command"]["success"] and reply["data"]["options"]["delay"]["value"] == 0.5
    began = time.monotonic()
    assert server.read("SCADA[0]") == [[0]]
    assert time.monotonic() - began >= 0.45  # the reply came at least half a second late
    assert server.get(f"api/options/delay/range{form}0.2-0.3")[1]["data"]["options"]["delay"] == {"range": "0.2-0.3"}
    began = time.monotonic()
    server.read("SCADA[0]")
    assert time.monotonic() - began >= 0.18
    server.get("api/options/delay/value=0")
    with pytest.raises(CpppoError):  # 10 s: clients time out
        server.get("api/options/delay/value/10")
        server.read("SCADA[0]", timeout=0.5)


@pytest.mark.parametrize("form", ["/", "="])
def test_a_forced_tag_error_and_writing_an_element(server, form):
    assert server.get(f"api/tags/SCADA/error{form}8")[1]["data"]["tags"]["SCADA"]["error"] == 8
    assert server.read("SCADA[0]", "FLOAT") == [None, [0.0]]  # status 8 for SCADA only
    server.get(f"api/tags/SCADA/error{form}0")  # cpppo 5 could not clear it; we can
    assert server.read("SCADA[0]") == [[0]]
    status, reply = server.get(f"api/tags/SCADA/attribute[3]{form}4")
    assert status == 200 and reply["command"]["success"]
    assert server.read("SCADA[2-4]") == [[0, 4, 0]]
    status, reply = server.get("api/tags/SCADA/attribute[3]")
    assert reply["command"]["message"].endswith(": 4")


def test_connections_are_listed_and_closed(server):
    with client.connector(host="127.0.0.1", port=server.port, timeout=5) as conn:
        conn.process(client.parse_operations(["SCADA[0]"]))
        status, reply = server.get("api/connections")
        ((key, entry),) = reply["data"]["connections"].items()
        assert key == f"127_0_0_1_{entry['port']}" and entry["interface"] == "127.0.0.1"
        assert entry["requests"] >= 2 and entry["received"] > 40 and entry["eof"] is False
        status, reply = server.get(f"api/connections/{key}/eof/true")
        assert status == 200 and reply["command"]["success"]
        with pytest.raises(CpppoError):
            conn.process(client.parse_operations(["SCADA[0]"]), timeout=2)
    deadline = time.monotonic() + 5
    while server.get("api/connections")[1]["data"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.get("api/connections")[1]["data"] == {}  # the entry goes once closed


@pytest.mark.parametrize("form", ["/", "="])
def test_disable_closes_the_port_and_enable_opens_it_again(server, form):
    assert server.get(f"api/server/control/disable{form}true")[1]["data"]["server"]["control"]["disable"] is True
    with pytest.raises(CpppoError):
        server.read("SCADA[0]", timeout=2)
    assert server.get(f"api/server/control/disable{form}false")[0] == 200  # cpppo 5 crashed here
    assert server.read("SCADA[0]") == [[0]]
    assert server.get("api/server/control/latency=0.2")[1]["data"]["server"]["control"]["latency"] == 0.2


def test_done_ends_the_server_cleanly(server):
    assert server.get("api/server/control/done/true")[0] == 200
    assert server.proc.wait(timeout=10) == 0
    assert "Traceback" not in server.proc.stderr.read()


@pytest.mark.parametrize(("path", "status", "says"), [
    ("api/bogus", 404, "unknown group"),
    ("api/tags/NOPE/error=1", 404, "no tag matches"),
    ("api/tags/SCADA/colour=1", 404, "unknown command"),
    ("api/tags/SCADA/error=lots", 400, "not a status number"),
    ("api/tags/SCADA/attribute[100]=1", 400, "outside SCADA[0..99]"),
    ("api/tags/SCADA/attribute[1]=hello", 400, "not a INT"),
    ("api/options/delay/value=-1", 400, "finite number"),
    ("api/server/control/disable=maybe", 400, "not true or false"),
])
def test_bad_requests_are_4xx_json_and_change_nothing(server, path, status, says):
    got, reply = server.get(path)
    assert got == status and reply["command"]["success"] is False and says in reply["command"]["message"]
    assert server.read("SCADA[1]") == [[0]]
    assert server.get("api/tags/SCADA")[1]["data"]["tags"]["SCADA"]["error"] == 0


NAMESPACE = textwrap.dedent("""
    import json, re, subprocess, sys, urllib.error, urllib.request
    run = lambda *a: subprocess.run(a, check=True)
    run("ip", "link", "set", "lo", "up")
    run("ip", "addr", "add", "192.0.2.1/24", "dev", "lo")  # a documentation address: not a loopback one
    server = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", "--web", "0.0.0.0:8080",
                               "--web-token", "s3cret", "X=DINT"], stdout=subprocess.PIPE, text=True)
    server.stdout.readline(); server.stdout.readline(); server.stdout.readline()
    def get(url):
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
    print(get("http://192.0.2.1:8080/api"), get("http://192.0.2.1:8080/api/options/delay/value=1"),
          get("http://192.0.2.1:8080/api/options/delay/value=1?token=wrong"),
          get("http://192.0.2.1:8080/api/options/delay/value=1?token=s3cret"),
          get("http://127.0.0.1:8080/api/options/delay/value=0"))
    server.terminate(); server.wait(10)
""")


def test_changes_need_loopback_or_the_token():
    assert shutil.which("unshare") and shutil.which("ip"), "this test needs unshare and ip (util-linux, iproute2)"
    done = subprocess.run(["unshare", "-rn", sys.executable, "-c", NAMESPACE], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    # reading is open; a change from 192.0.2.1 needs the token; loopback needs none
    assert done.stdout.split() == ["200", "403", "403", "200", "200"]


def _ref_python() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    try:
        from _refvenv import ref_python
    finally:
        sys.path.pop(0)
    return str(ref_python())


def _json(url: str) -> dict:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def test_cpppo_5s_web_api_and_ours_answer_alike(tmp_path):
    """The same URLs against cpppo 5.2.5's enip_server --web and ours: the same ``command`` and
    ``data`` (but the addresses), and the same effects on a client, where 5.2.5 has them."""
    tags = ["SCADA=INT[10]", "SPEED=REAL", "X@0x22/1/1=INT"]
    port, web = _free_port(), _free_port()
    theirs = subprocess.Popen([_ref_python(), "-m", "cpppo.server.enip", "-a", f"127.0.0.1:{port}", "--web",
                               f"127.0.0.1:{web}", *tags], cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    ours = Server(*tags)
    try:
        deadline = time.monotonic() + 30
        while True:  # theirs says nothing when it listens: ask until it answers
            try:
                _json(f"http://127.0.0.1:{web}/api")
                break
            except OSError:
                assert time.monotonic() < deadline and theirs.poll() is None, "cpppo 5.2.5's web API did not start"
                time.sleep(0.2)
        for path in ["api", "api/tags/SCADA/attribute[3]=7", "api/tags/SCADA/attribute[3]", "api/tags/X/error=8",
                     "api/options/delay/value=0.5", "api/server/control/latency=0.3", "api/options/delay/value=0",
                     "api/tags"]:
            quoted = urllib.parse.quote(path)
            a, b = _json(f"http://127.0.0.1:{web}/{quoted}"), _json(f"http://127.0.0.1:{ours.web}/{quoted}")
            for reply in (a, b):
                control = reply["data"].get("server", {}).get("control", {})
                assert control.pop("address", None) == control.pop("address_udp", None)
            assert (b["command"], b["data"]) == (a["command"], a["data"]), path
        for p in (port, ours.port):  # the same effects on the wire
            with client.connector(host="127.0.0.1", port=p, timeout=5) as conn:
                results = list(conn.pipeline(operations=client.parse_operations(["SCADA[3]", "X"]), depth=1))
            assert [(status, value) for _, _, _, _, status, value in results] == [(0, [7]), (8, None)], p
    finally:
        theirs.terminate()
        theirs.wait(10)
        ours.stop()
