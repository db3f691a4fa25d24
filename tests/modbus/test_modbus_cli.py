"""Every documented command line, run as the user would: subprocesses on 127.0.0.1."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pymodbus.client import ModbusSerialClient, ModbusTcpClient

from cpppo.modbus.typed import parse_type

SIM = [sys.executable, "-m", "cpppo.remote.modbus_sim"]
POLL = [sys.executable, "-m", "cpppo.remote.modbus_poll"]
SCRIPTS = Path(sys.executable).parent


class Proc:
    """A subprocess whose stdout and stderr lines are collected by threads, read with deadlines."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.seen: list[tuple[str, str]] = []
        self._pumps = [threading.Thread(target=self._pump, args=(name, stream), daemon=True)
                       for name, stream in (("out", self.proc.stdout), ("err", self.proc.stderr))]
        for pump in self._pumps:
            pump.start()

    def _pump(self, name, stream):
        for line in stream:
            self.lines.put((name, line.rstrip("\n")))

    def expect(self, pattern: str, timeout: float = 10.0, fresh: bool = False) -> re.Match:
        """The first line matching ``pattern``; with ``fresh``, only among lines not yet seen."""
        deadline = time.monotonic() + timeout
        for _, line in [] if fresh else self.seen:
            if match := re.search(pattern, line):
                return match
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(item)
            if match := re.search(pattern, item[1]):
                return match
        raise AssertionError(f"no line matching {pattern!r} within {timeout}s; got {self.seen}")

    def finish(self, sig: int | None = None, timeout: float = 10.0) -> int:
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        for pump in self._pumps:  # the pipes are at EOF once the process is gone
            pump.join(timeout)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return rc

    def text(self, name: str = "err") -> str:
        return "\n".join(line for n, line in self.seen if n == name)


@pytest.fixture
def procs():
    started: list[Proc] = []

    def start(argv):
        p = Proc(argv)
        started.append(p)
        return p

    yield start
    for p in started:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait(5)


def start_sim(procs, *args, command=SIM):
    sim = procs([*command, *args])
    match = sim.expect(r"^Success; Started Modbus/(TCP|RTU) Simulator; PID = (\d+); address = (.*)$")
    assert int(match[2]) == sim.proc.pid
    return sim, match


def port_of(match) -> int:
    return int(match[3].rsplit(":", 1)[1])


def poll_until(procs, args, *lines, command=POLL):
    """Run modbus_poll until each expected log line has appeared, then ^C it: status 0."""
    poll = procs([*command, *args])
    for line in lines:
        poll.expect(re.escape(line) + "$")
    assert poll.finish(signal.SIGINT) == 0
    assert "Traceback" not in poll.text()
    return poll


def test_modbus_sim_documented_success_line(procs):
    # ':PORT' (every interface) is covered by test_modbus_address.py::test_colon_port_endpoints
    sim, match = start_sim(procs, "-a", "127.0.0.1:0", "40001-40100=99")
    assert match[1] == "TCP" and re.fullmatch(r"127\.0\.0\.1:[1-9]\d*", match[3])
    client = ModbusTcpClient("127.0.0.1", port=port_of(match), timeout=2, retries=0)
    try:
        assert client.read_holding_registers(0, count=100).registers == [99] * 100
        assert client.read_holding_registers(100, count=1).exception_code == 2
    finally:
        client.close()
    assert sim.finish(signal.SIGINT) == 0
    assert "Traceback" not in sim.text()


def test_console_scripts_run(procs):
    sim, match = start_sim(procs, "-a", "127.0.0.1:0", "40001=5", command=[str(SCRIPTS / "modbus_sim")])
    poll_until(procs, ["-a", f"127.0.0.1:{port_of(match)}", "40001"], "40001 == 5 (was: None)",
               command=[str(SCRIPTS / "modbus_poll")])
    assert sim.finish(signal.SIGTERM) == 0


def test_modbus_poll_writes_then_logs_changes_as_documented(procs):
    _, match = start_sim(procs, "-a", "127.0.0.1:0", "40001-40100=99")
    address = f":{port_of(match)}"  # as documented: ':PORT' is this host
    watcher = procs([*POLL, "-a", address, "-r", "0.05", "40001-40010=0", "40001-40100"])
    watcher.expect(r" 40001 == 0 \(was: None\)$")
    watcher.expect(r" 40011 == 99 \(was: None\)$")
    watcher.expect(r" 40100 == 99 \(was: None\)$")
    other = procs([*POLL, "-a", address, "40009=999", "-d", "0"])  # "in another terminal"
    assert other.finish() == 0
    watcher.expect(r" 40009 == 999 \(was: 0\)$")
    assert watcher.finish(signal.SIGINT) == 0  # ^C ends it cleanly
    assert "Traceback" not in watcher.text()


def test_modbus_poll_typed_views_and_word_order(procs):
    _, match = start_sim(procs, "-a", "127.0.0.1:0", "40001-40030")
    address = f"127.0.0.1:{port_of(match)}"
    poll_until(procs, ["-a", address, "40001:float32=1.5", "40010:int32=-70000", "40020:str[10]=hello"],
               "40001:float32 == 1.5 (was: None)", "40010:int32 == -70000 (was: None)",
               "40020:str[10] == 'hello' (was: None)")
    swapped = parse_type("int32").decode([0xFFFE, 0xEE90], word_order="little")
    poll_until(procs, ["-a", address, "--word-order", "little", "40010:int32"],
               f"40010:int32 == {swapped} (was: None)")
    poll_until(procs, ["-a", address, "40010-40011"], "40010 == 65534 (was: None)", "40011 == 61072 (was: None)")


def test_units_reach_and_timeout_options(procs):
    _, match = start_sim(procs, "-a", "127.0.0.1:0", "--unit", "1", "--unit", "2", "40001=1", "40050=2")
    address = f"127.0.0.1:{port_of(match)}"
    poll_until(procs, ["-a", address, "--unit", "2", "-R", "0", "-t", "1", "40001=22", "40001", "40050"],
               "40001 == 22 (was: None)", "40050 == 2 (was: None)")
    poll_until(procs, ["-a", address, "--unit", "1", "40001"], "40001 == 1 (was: None)")


def test_modbus_sim_fault_options(procs):
    _, match = start_sim(procs, "-a", "127.0.0.1:0", "--delay", "0.01-0.02", "--exception", "40005=6",
                         "40001-40010=3")
    client = ModbusTcpClient("127.0.0.1", port=port_of(match), timeout=2, retries=0)
    try:
        assert client.read_holding_registers(0, count=4).registers == [3] * 4
        assert client.read_holding_registers(4, count=1).exception_code == 6
    finally:
        client.close()


def test_modbus_sim_serves_rtu_on_a_serial_device(procs, pty_line):
    _, match = start_sim(procs, "-a", pty_line.server_port, "--baudrate", "115200", "--unit", "3", "40001=8")
    assert match[1] == "RTU" and match[3] == pty_line.server_port
    client = ModbusSerialClient(pty_line.client_port, baudrate=115200, timeout=2, retries=0)
    try:
        assert client.connect()
        assert client.read_holding_registers(0, count=1, device_id=3).registers == [8]
    finally:
        client.close()


@pytest.mark.parametrize(("command", "args"), [
    (SIM, ["-a", "127.0.0.1:0", "20001=1"]),
    (SIM, ["-a", "127.0.0.1:0", "40010-40001"]),
    (SIM, ["-a", "127.0.0.1:0"]),
    (SIM, ["-a", "127.0.0.1:99999", "40001"]),
    (SIM, ["-a", "127.0.0.1:0", "--delay", "x", "40001"]),
    (SIM, ["-a", "127.0.0.1:0", "--drop", "2", "40001"]),
    (SIM, ["-a", "127.0.0.1:0", "--exception", "40001=99", "40001"]),
    (SIM, ["-a", "127.0.0.1:0", "--unit", "300", "40001"]),
    (SIM, ["--no-such-option", "40001"]),
    (POLL, ["-a", "127.0.0.1:1", "40001:float99"]),
    (POLL, ["-a", "127.0.0.1:1", "40001=hello"]),
    (POLL, ["-a", "127.0.0.1:1", "30001=5"]),
    (POLL, ["-a", "127.0.0.1:1", "10001=1"]),
    (POLL, ["-a", "127.0.0.1:1", "-r", "0", "40001"]),
    (POLL, ["-a", "127.0.0.1:1", "-r", "inf", "40001"]),
    (POLL, ["-a", "127.0.0.1:1", "-r", "nan", "40001"]),
    (POLL, ["-a", "127.0.0.1:1", "-t", "inf", "40001"]),
    (POLL, ["-a", "127.0.0.1:1", "-t", "nan", "40001"]),
    (POLL, ["-a", "127.0.0.1:1", "-d", "nan", "40001"]),
    (POLL, ["-a", "127.0.0.1:1", "-d", "inf", "40001"]),
    (POLL, ["-a", "127.0.0.1:1", "-d", "-1", "40001"]),
    (POLL, ["-a", "127.0.0.1:0", "40001"]),
    (POLL, ["-a", ":0", "40001"]),
    (POLL, ["-a", "127.0.0.1:1"]),
    (POLL, ["-a", "127.0.0.1:port", "40001"]),
])
def test_bad_input_is_one_line_and_status_2(procs, command, args):
    p = procs([*command, *args])
    assert p.finish() == 2
    err = p.text().strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1 and "error" in err


def test_modbus_sim_port_in_use_is_one_line(procs):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        p = procs([*SIM, "-a", f"127.0.0.1:{busy.getsockname()[1]}", "40001"])
        assert p.finish() == 1
    assert "Traceback" not in p.text() and "cannot listen" in p.text()


def test_modbus_poll_write_to_absent_plc_fails_cleanly(procs):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    p = procs([*POLL, "-a", f"127.0.0.1:{port}", "-t", "0.5", "40001=1"])
    assert p.finish() == 1
    assert p.text() == f"modbus_poll: 127.0.0.1:{port} unit 1: write 40001: cannot connect: Connection refused"


def test_modbus_poll_reports_a_plc_never_reached_once(procs):
    p = procs([*POLL, "-a", "/dev/nonexistent", "-r", "0.05", "-d", "1", "40001"])
    assert p.finish() == 1  # a run that never reached its PLC failed
    lines = p.text().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(" WARNING /dev/nonexistent unit 1: read 40001+1: cannot connect: "
                             "No such file or directory")


def test_modbus_poll_over_rtu_against_modbus_sim(procs, pty_line):
    start_sim(procs, "-a", pty_line.server_port, "--baudrate", "115200", "40001-40004=4")
    poll_until(procs, ["-a", pty_line.client_port, "--baudrate", "115200", "40002=5", "40001-40004"],
               "40002 == 5 (was: None)", "40004 == 4 (was: None)")


def test_modbus_poll_duration_ends_the_run(procs):
    _, match = start_sim(procs, "-a", "127.0.0.1:0", "40001=3")
    poll = procs([*POLL, "-a", f"127.0.0.1:{port_of(match)}", "-r", "0.05", "-d", "1", "40001"])
    assert poll.finish() == 0  # it ends by itself, having polled and logged the value
    assert re.search(r" modbus_poll WARNING 40001 == 3 \(was: None\)$", poll.text())
    assert "Traceback" not in poll.text()


def test_modbus_poll_shows_the_plc_going_away_and_coming_back(procs):
    sim, match = start_sim(procs, "-a", "127.0.0.1:0", "40001=5")
    port = port_of(match)
    watcher = procs([*POLL, "-a", f"127.0.0.1:{port}", "-r", "0.05", "-t", "0.5", "40001"])
    watcher.expect(r" 40001 == 5 \(was: None\)$")
    assert sim.finish(signal.SIGINT) == 0
    watcher.expect(r" 40001 == None \(was: 5\)$", fresh=True)
    start_sim(procs, "-a", f"127.0.0.1:{port}", "40001=6")
    watcher.expect(r" 40001 == 6 \(was: None\)$", fresh=True)
    watcher.expect(r"online$")
    assert watcher.finish(signal.SIGINT) == 0
