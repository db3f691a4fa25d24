"""Routing by route path (seed 2.1.3): ``[UCMM] Route`` / ``--route`` forward requests to other
devices, ``Route Path`` picks what is answered here, and a chassis puts modules behind one address.

Routers here are real ``enip_server`` processes (configured as a user would, by file or option),
targets are simulators in this process, and clients are ours, cpppo 5.2.5's, pylogix and pycomm3.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pycomm3 import LogixDriver
from pylogix import PLC

from cpppo.server.enip import Simulator, chassis, client
from cpppo.server.enip.routes import RouteError, parse_route_option, parse_routes

from .rawclient import RawClient, tag

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ROOT = Path(__file__).resolve().parents[2]


class Router:
    """``python -m cpppo.server.enip -a 127.0.0.1:0 ARGS`` in a child process; its port from its banner."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.banner: list[str] = []
        deadline = time.monotonic() + 30
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the router exited: {''.join(self.banner)}")
            self.banner.append(line)
            found = re.search(r"listening on \S+:(\d+)", line)
            if found:
                self.address = ("127.0.0.1", int(found.group(1)))
                break
        else:
            raise RuntimeError("the router did not start")
        for _ in range(40):  # the route lines and the hint follow the banner
            line = self.proc.stdout.readline()
            self.banner.append(line)
            if line.startswith(("Read a tag", "Read its identity")) or not line:
                break

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.communicate(timeout=10)


def _read(address: tuple[str, int], route: str, *ops: str, timeout: float = 10.0) -> list:
    """Each operation's result: the values read, True for a write that succeeded, None for a failure."""
    with client.connector(host=address[0], port=address[1], route_path=route, timeout=timeout) as conn:
        _, values = conn.process(client.parse_operations(list(ops)), timeout=timeout)
    return values


@pytest.fixture(scope="module")
def targets() -> Iterator[dict[str, Simulator]]:
    """A Logix, a simple device (refuses Unconnected Send: reached only by a bare request) and a chassis."""
    logix = Simulator(["R=DINT[2]", "NAME=STRING"], name="TARGET")
    simple = Simulator(["VEL@0x93/1/10=REAL", "P=REAL"], simple=True, name="DRIVE")
    inner = Simulator(["DEEP=DINT"], name="INNER")
    rack = chassis({2: inner})
    with logix, simple, rack:
        logix["R"] = [21, 22]
        simple["P"] = 1.5
        inner["DEEP"] = 42
        yield {"logix": logix, "simple": simple, "rack": rack, "inner": inner}


@pytest.fixture(scope="module")
def router(targets, tmp_path_factory) -> Iterator[Router]:
    """A router configured by cpppo.cfg: slot 0 is itself; 1-15 the Logix; 2/192.0.2.7 the simple
    device; 2/192.0.2.10-12 the chassis; slot 16 a dead address (short timeout)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    cfg = tmp_path_factory.mktemp("router") / "cpppo.cfg"
    port = {name: sim.address[1] for name, sim in targets.items()}
    cfg.write_text(f"""[UCMM]
Route Path = 1/0
Route = {{
    "1/1-15":           "127.0.0.1:{port['logix']}",
    "2/192.0.2.7":      "127.0.0.1:{port['simple']}",
    "2/192.0.2.10-12":  "127.0.0.1:{port['rack']}",
    "1/16":             "127.0.0.1:{dead}"
  }}
Route Timeout = 2
""")
    router = Router("-c", str(cfg), "LOCAL=DINT")
    yield router
    router.stop()


def test_the_router_says_where_each_route_leads(router, targets):
    text = "".join(router.banner)
    assert f"Route 1/1-15 -> 127.0.0.1:{targets['logix'].address[1]}" in text
    assert f"Route 2/192.0.2.10-12 -> 127.0.0.1:{targets['rack'].address[1]}" in text


def test_its_own_route_path_is_answered_here_and_routed_ones_there(router, targets):
    assert _read(router.address, "1/0", "LOCAL=(DINT)7", "LOCAL") == [True, [7]]
    for slot in ("1/1", "1/9", "1/15"):  # every link of the range
        assert _read(router.address, slot, "R[0-1]") == [[21, 22]]
    assert _read(router.address, "1/4", "R[1]=(DINT)23", "R[0-1]") == [True, [21, 23]]
    assert targets["logix"]["R"] == [21, 23]
    assert _read(router.address, "1/4", "NOPE") == [None]  # the target's own error comes back


def test_ip_address_links_ranges_and_the_rest_of_the_route(router, targets):
    # no segment left after the first: the request reaches the simple device bare
    assert _read(router.address, "2/192.0.2.7", "@0x93/1/10", "P") == [[0.0], [1.5]]
    with client.connector(host=router.address[0], port=router.address[1], timeout=10,
                          route_path='["2/192.0.2.11","1/2"]') as conn:  # the rest goes along, to slot 2
        _, got = conn.process(client.parse_operations(["DEEP"]), timeout=10)
    assert got == [[42]]
    with RawClient(router.address, register=True) as c:
        empty = c.read(tag("DEEP"), route="2/192.0.2.12/1/5")  # the chassis' empty slot 5: its refusal
        assert (empty.status, list(empty.ext_status)) == (0x01, [0x0312])


def test_unknown_routes_and_dead_targets_get_a_status_in_bounded_time(router):
    with RawClient(router.address, register=True) as c:
        for route, ext in (("1/17", 0x0312), ("3/1", 0x0311), ("2/192.0.2.8", 0x0312)):
            reply = c.read(tag("R"), route=route)
            assert (reply.status, list(reply.ext_status)) == (0x01, [ext]), route
        began = time.monotonic()
        dead = c.read(tag("R"), route="1/16")
        assert (dead.status, list(dead.ext_status)) == (0x01, [0x0204])
        assert time.monotonic() - began < 15
        assert c.read_values(tag("LOCAL"), route="1/0") in ([0], [7])  # the router itself is fine


def test_without_a_route_path_an_unrouted_request_is_answered_here(targets):
    router = Router("--route", f"1/3=127.0.0.1:{targets['logix'].address[1]}", "LOCAL=DINT")
    try:
        assert _read(router.address, "1/3", "R[0]") == [[21]]
        assert _read(router.address, "1/0", "LOCAL") == [[0]]  # cpppo 5: any route path is accepted
        assert _read(router.address, "1/7", "LOCAL") == [[0]]
    finally:
        router.stop()


def test_cpppo_525_client_through_our_router(router):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from _refvenv import ref_python
    finally:
        sys.path.pop(0)
    done = subprocess.run([str(ref_python()), "-m", "cpppo.server.enip.client", "-a",
                           f"{router.address[0]}:{router.address[1]}", "--route-path", "1/5", "--print", "R[0-1]"],
                          check=False, capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"== \[21, 2[23]\]: 'OK'", done.stdout), done.stdout


@pytest.mark.parametrize(("args", "says"), [
    (["--route", "1/x=127.0.0.1:1"], "link 'x' is not a number"),
    (["--route", "1/1-3"], "must be <port>/<link>=<host>[:<port>]"),
    (["--route", "1/1=127.0.0.1:99999"], "port 99999 is not 0..65535"),
    (["--route", "1/1-3=a:1", "--route", '{"1/2": "b:2"}'], "1/2 is already routed to a:1"),
    (["--route-timeout", "nan"], "--route-timeout nan"),
])
def test_bad_routes_on_the_command_line_are_one_line_errors(args, says):
    done = subprocess.run([sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", *args, "X=DINT"],
                          check=False, capture_output=True, text=True, timeout=30, input="")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert says in done.stderr


def test_a_bad_route_table_in_cpppo_cfg_names_the_file_and_line(tmp_path):
    cfg = tmp_path / "cpppo.cfg"
    cfg.write_text('[UCMM]\nRoute Path = 1/0\nRoute = {\n    "1/2": "127.0.0.1:1",\n    "1/2": 5\n  }\n')
    done = subprocess.run([sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", "-c", str(cfg), "X=DINT"],
                          check=False, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and f"{cfg}, line 3: [UCMM] Route: route '1/2'" in done.stderr, done.stderr


def test_route_tables_expand_ranges_and_refuse_overlaps():
    routes = parse_routes({"1/1-3": "h:1", "2/10.0.0.1-2": "h2", "2/::1": "[::1]:5"})
    assert sorted(map(str, routes)) == sorted(map(str, [(1, 1), (1, 2), (1, 3), (2, "10.0.0.1"), (2, "10.0.0.2"),
                                                        (2, "::1")]))
    assert str(routes[(2, "10.0.0.2")]) == "h2:44818" and str(routes[(2, "::1")]) == "[::1]:5"
    with pytest.raises(RouteError, match="already routed"):
        parse_routes({"1/1-3": "a:1", "1/3": "b:1"})
    with pytest.raises(RouteError, match="too many"):
        parse_routes({"1/0-1000": "a:1"})
    assert parse_route_option(["1/1=a:1", '{"1/2": "b:2"}']) == {"1/1": "a:1", "1/2": "b:2"}


def test_a_chassis_answers_as_its_communication_module_and_reaches_each_slot():
    slot0 = Simulator(["A=DINT", "SHARED=DINT"], name="SLOT0")
    slot3 = Simulator(["B=DINT[4]", "SHARED=DINT"], name="SLOT3")
    slot0["A"], slot0["SHARED"], slot3["B"], slot3["SHARED"] = 100, 1, [30, 31, 32, 33], 3
    with chassis({0: slot0, 3: slot3}) as rack:
        host, port = rack.address
        assert rack.slots[3] is slot3
        with client.connector(host=host, port=port, udp=True, broadcast=True) as conn:
            conn.list_identity(timeout=2)
            identity, _ = client.await_response(conn, timeout=5)
        item = identity.enip.CIP.list_identity.CPF.item[0].identity_object
        assert (item.product_name, item.device_type) == ("1756-EN2T/D", 12)
        assert _read(rack.address, "1/0", "A", "SHARED") == [[100], [1]]
        assert _read(rack.address, "1/3", "B[0-3]", "SHARED") == [[30, 31, 32, 33], [3]]
        with RawClient(rack.address, register=True) as c:
            empty = c.read(tag("A"), route="1/1")
            assert (empty.status, list(empty.ext_status)) == (0x01, [0x0312])
        with PLC(host, port=port, slot=3) as plc:
            plc.SocketTimeout = 10
            assert plc.Read("B[1]").Value == 31
            assert plc.Write("SHARED", 35).Status == "Success"
        with LogixDriver(f"{host}:{port}/0") as drv:
            assert drv.read("A").value == 100
        with LogixDriver(f"{host}:{port}/3") as drv:
            assert drv.read("SHARED").value == 35
    assert (slot0["SHARED"], slot3["SHARED"]) == (1, 35)


def test_the_shipped_router_config_loads_and_routes(targets, tmp_path):
    import cpppo
    from cpppo.server.enip.config import load_config

    sample = Path(cpppo.__file__).parent / "cpppo-router.cfg"
    config = load_config([sample], search=False)
    assert config.routes == {"1/1-15": "localhost:44819", "2/192.168.0.50": "localhost:44820"}
    assert config.route_timeout == 5.0 and [p.to_json() for p in config.route_path] == [{"port": 1, "link": 0}]
    # the same file, pointed at a target on a free port, as a user would edit it
    edited = tmp_path / "cpppo-router.cfg"
    edited.write_text(sample.read_text().replace("localhost:44819", f"127.0.0.1:{targets['logix'].address[1]}"))
    router = Router("-c", str(edited), "LOCAL=DINT")
    try:
        assert not any("warn" in line.lower() for line in router.banner)
        assert _read(router.address, "1/3", "R[0-1]")[0][0] == 21
        assert _read(router.address, "1/0", "LOCAL") == [[0]]
    finally:
        router.stop()


def _connections(sim: Simulator) -> int:
    return len(sim.controller.connections)


def test_connections_are_relayed_to_a_routed_device_for_pylogix_pycomm3_and_ours(targets):
    logix = Simulator(["R=DINT[2]", "BIG=DINT[1000]", "NAME=STRING"], name="FAR")
    with logix:
        logix["R"], logix["BIG"] = [21, 22], list(range(1000))
        router = Router("--route-path", "1/0", "--route", f"1/3=127.0.0.1:{logix.address[1]}", "LOCAL=DINT")
        try:
            host, port = router.address
            with client.connector(host=host, port=port, route_path="1/3", connected=True, timeout=10) as conn:
                assert _connections(logix) == 1  # the router opened its own connection at the target
                failures, got = conn.process(client.parse_operations(["R[0-1]", "R[1]=(DINT)23", "BIG[0-999]"]),
                                             timeout=10)
                assert failures == 0 and got[0] == [21, 22] and got[2] == list(range(1000))
            assert logix["R"] == [21, 23]
            with PLC(host, port=port, slot=3) as plc:  # pylogix: Forward Open through slot 3
                plc.SocketTimeout = 10
                assert plc.Read("R[1]").Value == 23
                assert plc.Write("NAME", "relayed").Status == "Success"
                assert [t.TagName for t in plc.GetTagList(False).Value][:3] == ["R", "BIG", "NAME"]
            with LogixDriver(f"{host}:{port}/3") as drv:  # pycomm3: a Large Forward Open and the tag list
                assert drv.read("BIG[998]").value == 998
                assert drv.read("NAME").value == "relayed"
                assert drv.write(("R[0]", 99)).error is None
            assert logix["R"][0] == 99
            with LogixDriver(f"{host}:{port}/0") as drv:  # slot 0 is the router itself
                assert drv.read("LOCAL").value == 0
            deadline = time.monotonic() + 10
            while _connections(logix) and time.monotonic() < deadline:  # closed with the clients' connections
                time.sleep(0.1)  # (by the router's sweeper, about once a second, without other traffic)
            assert _connections(logix) == 0
        finally:
            router.stop()


def test_a_connection_to_a_dead_routed_device_is_refused_with_a_status(router):
    host, port = router.address
    began = time.monotonic()
    with pytest.raises(Exception, match=r"0x0204|timed out"):
        client.connector(host=host, port=port, route_path="1/16", connected=True, timeout=10)
    assert time.monotonic() - began < 15
    assert _read(router.address, "1/0", "LOCAL") in ([[0]], [[7]])  # and the router goes on


def test_a_relayed_connection_whose_client_vanishes_is_closed_at_the_target(targets):
    logix = Simulator(["R=DINT[2]"], name="FAR")
    with logix:
        router = Router("--route", f"1/3=127.0.0.1:{logix.address[1]}", "LOCAL=DINT")
        try:
            conn = client.connector(host=router.address[0], port=router.address[1], route_path="1/3",
                                    connected=True, timeout=10)
            assert _connections(logix) == 1
            conn.conn.close()  # the client's socket is gone: no Forward Close, no UnRegisterSession
            deadline = time.monotonic() + 10
            while _connections(logix) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _connections(logix) == 0  # the router's sweeper let its connection at the target go
        finally:
            router.stop()
