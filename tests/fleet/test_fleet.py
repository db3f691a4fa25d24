"""Fleets: many simulated devices in one process, from the command line or a fleet file.

Devices listen on their own 127.x addresses (all loopback on Linux) at one free port; our asyncio
client reads every one of them at once, and each answers with what is its own.
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cpppo.client.aio import AsyncConnector
from cpppo.server.enip.config import ConfigError
from cpppo.server.enip.fleet import Fleet, identical, load_fleet, main


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


async def _read_all(addresses, path: str, simple: bool = False, **kwds):
    async def one(address):
        async with AsyncConnector(*address, timeout=10, simple=simple) as conn:
            if path.startswith("@"):
                return await conn.get_attribute(path, **kwds)
            return await conn.read_tag(path)

    return await asyncio.gather(*(one(a) for a in addresses))


def test_a_fleet_of_hundreds_answers_each_device_for_itself():
    port = _free_port("127.71.0.1")
    specs = identical(250, f"127.71.0.1:{port}", ["SPEED=REAL", "COUNTS=DINT[10]"])
    with Fleet(specs) as fleet:
        assert fleet.host.running
        for i, device in enumerate(fleet):
            device["SPEED"] = float(i)
        addresses = [device.address for device in fleet]
        assert addresses[0] == ("127.71.0.1", port) and addresses[249] == ("127.71.0.250", port)
        speeds = asyncio.run(_read_all(addresses, "SPEED"))
        assert speeds == [[float(i)] for i in range(250)]
        serials = asyncio.run(_read_all(addresses, "@1/1/6", tag_type="UDINT"))
        first = serials[0][0]
        assert [s[0] - first for s in serials] == list(range(250))  # each replica its own serial number
        threads = [t.name for t in threading.enumerate() if t.name.startswith("cpppo-fleet")]
        assert len(threads) == 1  # one loop thread serves them all


def _free_run(host: str, n: int) -> int:
    """The first of ``n`` consecutive ports free on ``host`` now (bounded tries)."""
    for _ in range(50):
        first = _free_port(host)
        probes = []
        try:
            for port in range(first, first + n):
                probe = socket.socket()
                probes.append(probe)
                probe.bind((host, port))
            return first
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no run of free ports")


def test_consecutive_ports_of_one_address():
    port = _free_run("127.0.0.1", 3)
    with Fleet(identical(3, f"127.0.0.1:{port}", ["X=DINT"], port_step=1)) as fleet:
        assert [d.address for d in fleet] == [("127.0.0.1", port + i) for i in range(3)]
        fleet[2]["X"] = 7
        assert asyncio.run(_read_all([fleet[2].address], "X")) == [[7]]


def test_three_kinds_from_one_file(tmp_path):
    port = _free_port("127.72.0.1")
    plant = tmp_path / "plant.toml"
    plant.write_text(f"""
[[device]]
name = "line"
address = "127.72.0.1:{port}"
kind = "logix"
tags = ["SPEED=REAL", "M1=Motor"]
udts = ["Motor = Speed:REAL, Count:DINT"]
identity = {{ "Product Name" = "1756-L85E/B LOGIX5585E", "Serial Number" = 0x1234 }}
route = {{ "1/3" = "127.72.0.2:{port}" }}
slot = 0

[[device]]
name = "micro"
address = "127.72.0.2:{port}"
kind = "simple"
tags = ["N7@0x93/1/10=INT[10]"]
count = 2

[[device]]
name = "drive"
address = "127.72.0.9:{port}"
kind = "powerflex"
""")
    specs = load_fleet(plant)
    assert [s.name for s in specs] == ["line", "micro-1", "micro-2", "drive"]
    assert [s.address for s in specs][:3] == [("127.72.0.1", port), ("127.72.0.2", port), ("127.72.0.3", port)]
    with Fleet(specs) as fleet:
        fleet[1]["N7"] = list(range(10))
        (line,) = asyncio.run(_read_all([fleet[0].address], "@1/1/7"))
        micros = asyncio.run(_read_all([d.address for d in list(fleet)[1:3]], "@1/1/7", simple=True))
        (drive,) = asyncio.run(_read_all([fleet[3].address], "@0x93/3/10", simple=True, tag_type="REAL"))
        assert round(drive[0], 2) == 789.01
        assert bytes(line[1:]).decode() == "1756-L85E/B LOGIX5585E"
        assert [bytes(m[1:]).decode() for m in micros] == ["1766-L32BXB C/21.03"] * 2

        async def routed():  # the line controller routes 1/3 to the first micro, which is simple
            async with AsyncConnector("127.72.0.1", port, timeout=10, route_path="1/3") as conn:
                return await conn.get_attribute("@0x93/1/10", tag_type="INT")

        assert asyncio.run(routed()) == list(range(10))


@pytest.mark.parametrize(("text", "says"), [
    ("[[device]]\naddress = '127.0.0.1:1'\nkind = 'robot'\n", "line 3: device 1 kind: 'robot' is not one of"),
    ("[[device]]\naddress = '127.0.0.1:1'\ntags = ['X=FLOATY']\n", "line 3: device 1 tags:"),
    ("[[device]]\naddress = '127.0.0.1:1'\n\n[[device]]\naddress = '127.0.0.1:2'\ncolour = 'red'\n",
     "line 6: device 2 colour: is not a field"),
    ("[[device]]\naddress = '127.0.0.1:1'\nidentity = { 'Product Nmae' = 'x' }\n",
     "line 3: device 1 identity: identity 'Product Nmae' is not one of"),
    ("[[device]]\naddress = '127.0.0.1:1'\ncount = 0\n", "line 3: device 1 count: 0 is not 1.."),
    ("[[device]]\nkind = 'logix'\n", "line 1: device 1: has no address"),
    ("[[device]]\naddress = 127\n", "line 2: device 1 address:"),
    ("[[device]\naddress = '127.0.0.1:1'\n", "plant.toml: "),  # TOML itself: its own line and column
    ("[[device]]\naddress = '127.0.0.1:1'\n[[device]]\naddress = '127.0.0.1:1'\n", "both listen on 127.0.0.1:1"),
])
def test_fleet_file_mistakes_are_one_line_naming_the_file_line_and_field(tmp_path, text, says, capsys):
    plant = tmp_path / "plant.toml"
    plant.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_fleet(plant)
    assert main([str(plant)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and says in err


def test_enip_fleet_command_starts_prints_and_stops_cleanly():
    port = _free_port("127.73.0.1")
    proc = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip.fleet", "--count", "20", "--base",
                             f"127.73.0.1:{port}", "SCADA=INT[10]"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(21)]
        assert lines[0].startswith(f"logix1: logix '1756-L61/B LOGIX5561' at 127.73.0.1:{port}")
        assert lines[19].startswith(f"logix20: logix '1756-L61/B LOGIX5561' at 127.73.0.20:{port}")
        assert lines[20].startswith("20 devices listening (20 logix)")
        assert asyncio.run(_read_all([("127.73.0.20", port)], "SCADA[0-9]")) == [[0] * 10]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0 and "Traceback" not in err
    with socket.socket() as taken:  # a port somebody else holds: one line saying which device failed
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        held = taken.getsockname()[1]
        busy = subprocess.run([sys.executable, "-m", "cpppo.server.enip.fleet", "--count", "2", "--base",
                               f"127.0.0.1:{held}", "X=DINT"], check=False, capture_output=True, text=True, timeout=30)
    assert busy.returncode == 1 and len(busy.stderr.strip().splitlines()) == 1, busy.stderr
    assert f"logix1: cannot listen on 127.0.0.1:{held}" in busy.stderr
    usage = subprocess.run([sys.executable, "-m", "cpppo.server.enip.fleet", "--count", "2", "X=DINT"],
                           check=False, capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2 and "--count needs --base" in usage.stderr


def test_the_shipped_example_fleet_file_loads():
    example = Path(__file__).resolve().parents[2] / "deploy" / "plant.toml"
    specs = load_fleet(example)
    assert len(specs) >= 3 and {s.kind for s in specs} >= {"logix", "simple"}


def test_a_fleet_of_powerflex_drives_answers_their_parameters(tmp_path):
    from cpppo.server.enip.ab import powerflex_750_series

    port = _free_port("127.74.0.1")
    plant = tmp_path / "drives.toml"
    plant.write_text(f'[[device]]\nname = "drive"\naddress = "127.74.0.1:{port}"\nkind = "powerflex"\ncount = 3\n')
    with Fleet(load_fleet(plant)) as fleet:
        assert [d.controller.identity.product_name for d in fleet] == ["PowerFlex 755"] * 3
        for device in fleet:
            via = powerflex_750_series(*device.address, timeout=5)
            try:
                (speed,), (units,) = via.read(via.parameter_substitution(["Motor Velocity", "Speed Units"]))
            finally:
                via.close_gateway()
            assert round(speed, 2) == 789.01 and units == 1


def test_the_fleet_web_api_lists_the_devices_and_acts_on_each():
    import json
    import urllib.error
    import urllib.request

    port, web = _free_port("127.75.0.1"), _free_port("127.0.0.1")
    proc = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip.fleet", "--quiet", "--count", "3", "--base",
                             f"127.75.0.1:{port}", "--web", f"127.0.0.1:{web}", "X=DINT"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)

    def get(path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web}/{path}", timeout=10) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    try:
        assert proc.stdout.readline().startswith("3 devices listening")
        assert "Web API on" in proc.stdout.readline()
        status, listing = get("api")
        assert status == 200 and sorted(listing["data"]["devices"]) == ["logix1", "logix2", "logix3"]
        assert listing["data"]["devices"]["logix2"]["address"] == f"127.75.0.2:{port}"
        status, reply = get("device/logix2/api/tags/X/attribute[0]=5")
        assert status == 200 and reply["command"]["success"]
        values = asyncio.run(_read_all([("127.75.0.1", port), ("127.75.0.2", port)], "X"))
        assert values == [[0], [5]]  # that device only
        assert get("device/nope/api")[0] == 404
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
