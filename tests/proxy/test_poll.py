"""Polling (seed 2.1.8) over real sockets: a drive stopped and restarted mid-poll, the command
lines, the examples, the asyncio form over many devices, and cpppo 5.2.5 on both sides."""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cpppo.server.enip import poll
from cpppo.server.enip.ab import powerflex_750_series
from cpppo.server.enip.get_attribute import AsyncProxy
from cpppo.server.enip.poll_test import powerflex_simulator

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_drive_stopped_and_restarted_mid_poll_shows_failures_then_values_again():
    port = _free_port()
    drive = powerflex_simulator(address=("127.0.0.1", port)).start()
    values, failures = [], []

    def process(par, val):
        values.append((time.monotonic(), par, val))

    def failure(exc):
        failures.append((time.monotonic(), str(exc)))

    process.done = False
    poller = threading.Thread(target=poll.poll, kwargs={
        "proxy_class": powerflex_750_series, "address": ("127.0.0.1", port), "cycle": 0.1, "timeout": 0.5,
        "process": process, "failure": failure, "params": ["Motor Velocity", "Output Current"],
        "backoff_min": 0.1, "backoff_max": 0.4, "latency": 0.1})
    poller.start()
    try:
        assert _wait(lambda: len(values) >= 4)
        assert values[0][1:] == ("Motor Velocity", [pytest.approx(789.01, rel=1e-6)])
        assert values[1][1:] == ("Output Current", [pytest.approx(123.45, rel=1e-6)])
        drive.stop()
        assert _wait(lambda: len(failures) >= 4)  # the back-off is capped: failures keep coming
        stopped_at = failures[0][0]
        assert any("refused" in text or "closed" in text or "reply" in text for _, text in failures), failures
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(failures[1:])]
        assert max(gaps) < 0.4 + 0.5 + 1.0  # backoff_max + timeout + slack on a loaded machine
        drive = powerflex_simulator(address=("127.0.0.1", port)).start()
        assert _wait(lambda: any(t > stopped_at and failures[-1][0] < t for t, _, _ in values))
    finally:
        process.done = True
        began = time.monotonic()
        poller.join(10)
        drive.stop()
    assert not poller.is_alive() and time.monotonic() - began < 5  # stopped within its latency (+ an I/O)


def test_asyncio_polls_many_devices_and_a_dead_one_costs_the_others_nothing():
    async def main(sims, dead_port):
        names = powerflex_750_series.PARAMETERS
        polls = [poll.AsyncPoll(AsyncProxy("127.0.0.1", s.address[1], timeout=1, simple=True, parameters=names,
                                           identity_default="drive"), ["Speed Units", "Output Current"], cycle=0.1)
                 for s in sims]
        polls.append(poll.AsyncPoll(AsyncProxy("127.0.0.1", dead_port, timeout=1, simple=True, parameters=names),
                                    ["Speed Units"], cycle=0.1, backoff_min=0.1, backoff_max=0.2))
        seen = {}

        def process(key, val):
            seen.setdefault(id(key[0]), []).append(val)

        await poll.poll_many(polls, process=process, duration=1.5)
        return polls, seen

    sims = [powerflex_simulator().start() for _ in range(20)]
    try:
        polls, seen = asyncio.run(main(sims, _free_port()))
    finally:
        for s in sims:
            s.stop()
    live, dead = polls[:-1], polls[-1]
    assert all(p.polls >= 5 and p.failures == 0 for p in live), [(p.polls, p.failures) for p in live]
    assert dead.polls == 0 and dead.failures >= 3
    assert all(seen[id(p.via)][0] == [1] for p in live)


def _run(module: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], check=False, capture_output=True, text=True,
                          timeout=timeout)


def test_poll_command_prints_identity_and_tcpip_of_a_logix():
    server = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", "X=DINT"],
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r"listening on \S+:(\d+)", server.stdout.readline()).group(1))
        done = _run("cpppo.server.enip.poll", "-a", f"127.0.0.1:{port}", "-n", "2", "-c", "0.1", "TCPIP", "Identity")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[1] == "       Identity: [1, 14, 54, 2836, 12640, 7079450, '1756-L61/B LOGIX5561', 3]"
        assert lines[0].startswith("          TCPIP: [1, 52, 0, [{'class': 246}, {'instance': 1}], '0.0.0.0'")
        assert len(lines) == 4
        thru = _run("cpppo.server.enip.poll", "-a", f"127.0.0.1:{port}", "-n", "1", "-p", "X")
        assert thru.stdout.splitlines() == ["              X: [0]"]
        bad = _run("cpppo.server.enip.poll", "-a", f"127.0.0.1:{port}", "Bogus")
        assert bad.returncode == 2 and "unrecognized parameter name 'Bogus'" in bad.stderr
    finally:
        server.terminate()
        server.communicate(timeout=10)


def test_get_attribute_command_poll_test_and_motor_velocity(tmp_path):
    port = _free_port()
    drive = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip.poll_test", "-a", f"127.0.0.1:{port}"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert "PowerFlex 750 simulator listening" in drive.stdout.readline()
        wrote = _run("cpppo.server.enip.powerflex_motor_velocity", f"@127.0.0.1:{port}", "123.45")
        assert wrote.returncode == 0 and re.search(r": Motor Velocity = \(REAL\)123\.45 +== \[True\]$",
                                                   wrote.stdout.strip()), wrote.stdout + wrote.stderr
        got = _run("cpppo.server.enip.get_attribute", "-S", "-a", f"127.0.0.1:{port}", "--print",
                   "@0x93/3/10", "@0x93/300/10=(DINT)2", "@0x93/999/10")
        lines = got.stdout.splitlines()
        assert got.returncode == 1  # the third failed
        assert lines[0].startswith("@0x93/3/10") and lines[0].endswith("== [102, 230, 246, 66]")  # 123.45, raw
        assert lines[1].endswith("== OK") and lines[2].endswith("== FAILED")
        plain = _run("cpppo.server.enip.get_attribute", "-S", "-a", f"127.0.0.1:{port}", "@0x93/300/10")
        assert plain.returncode == 0 and plain.stdout.splitlines() == [f"{'@0x93/300/10':<32} == [2, 0, 0, 0]"]
        many = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip.poll_example_many", f"127.0.0.1:{port}"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            seen = [many.stdout.readline() for _ in range(6)]
        finally:
            many.terminate()
            many.communicate(timeout=15)
        assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}: +[A-Z][\w ]+ == \[", line) for line in seen), seen
        assert any("Output Frequency == [456.7" in line for line in seen), seen
        example = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip.poll_example", f"127.0.0.1:{port}"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            first = [example.stdout.readline() for _ in range(2)]
        finally:
            example.terminate()
            example.communicate(timeout=15)
        assert any(re.search(r": +Motor Velocity == \[123\.4", line) for line in first), first
        assert any(re.search(r": +Output Current == \[123\.4", line) for line in first), first
    finally:
        drive.terminate()
        drive.communicate(timeout=10)


def _ref_python() -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from _refvenv import ref_python
    finally:
        sys.path.pop(0)
    return str(ref_python())


REF_POLL = """
import sys, threading, time
from cpppo.server.enip import poll
from cpppo.server.enip.ab import powerflex_750_series as device
got = {}
def process(par, val):
    got[par] = val
    process.done = len(got) >= 3
process.done = False
def failure(exc):
    print("failure", exc, file=sys.stderr)
poll.poll(proxy_class=device, address=("127.0.0.1", int(sys.argv[1])), cycle=0.2, timeout=2, process=process,
          failure=failure, params=["Motor Velocity", "Output Current", "Speed Units"])
print(sorted(got.items()))
"""


def test_cpppo_525_polls_our_poll_test_and_we_poll_its_simulator():
    with powerflex_simulator() as ours:
        done = subprocess.run([_ref_python(), "-c", REF_POLL, str(ours.address[1])], check=False, capture_output=True,
                              text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("[('Motor Velocity', [789.010009765625]), ('Output Current', [123.44999694824219]), "
                                   "('Speed Units', [1])]")
    port = _free_port()
    theirs = subprocess.Popen([_ref_python(), "-m", "cpppo.server.enip", "-S", "-a", f"127.0.0.1:{port}",
                               "V@0x93/3/10=REAL", "U@0x93/300/10=DINT"], cwd="/", stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        via = powerflex_750_series("127.0.0.1", port=port, timeout=5)
        assert _wait(lambda: _try(lambda: list(via.read(via.parameter_substitution("Speed Units")))), 30)
        with via:
            assert list(via.write(via.parameter_substitution(["Motor Velocity = 12.5", "Speed Units = 4"]))) == [True, True]
            assert list(via.read(via.parameter_substitution(["Motor Velocity", "Speed Units"]))) == [[12.5], [4]]
        via.close_gateway()
    finally:
        theirs.terminate()
        theirs.wait(10)


def _try(fn):
    try:
        return fn()
    except Exception:
        return None
