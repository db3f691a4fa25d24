"""The enip_server command line: options, tag syntax, error exits, and main() run in a thread."""

from __future__ import annotations

import logging
import logging.handlers
import socket
import subprocess
import sys
import threading
import time

import pytest

from cpppo.device.tags import Attribute
from cpppo.server.enip import REAL, device
from cpppo.server.enip.config import ConfigError, parse_address
from cpppo.server.enip.main import main

from .cli import ServerProcess
from .conftest import wait_for
from .rawclient import RawClient, attr, get_single, tag


@pytest.fixture(autouse=True)
def _restore_logging():
    """main() configures the 'cpppo' logger; put it back so later tests' output is untouched."""
    logger = logging.getLogger("cpppo")
    handlers, level = logger.handlers[:], logger.level
    yield
    for h in logger.handlers:
        if h not in handlers:
            h.close()
    logger.handlers[:] = handlers
    logger.setLevel(level)


class MainThread:
    """main(argv) served from a thread, stopped through its stop= callable."""

    def __init__(self, *argv: str, **kwds) -> None:
        self.stopping = threading.Event()
        self.sim = None
        self.started = threading.Event()
        self.status: list[int] = []

        def ready(sim) -> None:
            self.sim = sim
            self.started.set()

        def run() -> None:
            self.status.append(main(["-a", "127.0.0.1:0", *argv], stop=self.stopping.is_set, ready=ready, **kwds))
            self.started.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert self.started.wait(15), "main() did not start"
        assert self.sim is not None, f"main() exited with {self.status}"
        self.address = self.sim.address

    def stop(self) -> int:
        self.stopping.set()
        self.thread.join(15)
        assert not self.thread.is_alive()
        return self.status[0]

    def __enter__(self) -> MainThread:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread.is_alive():
            self.stop()


# -- the server as a separate process -------------------------------------------------------------

def test_cli_serves_tags_and_prints_io(tmp_path):
    with ServerProcess("-a", "127.0.0.1:0", "--print", "SCADA=INT[10]", "FLOAT=REAL", cwd=tmp_path) as srv:
        with RawClient(srv.address, register=True) as c:
            assert c.write(tag("SCADA", 1), "INT", [4, 5, 6]).status == 0
            assert srv.expect(r"SCADA\[1-3\] <= \[4, 5, 6\]")
            assert c.read_values(tag("SCADA"), 4) == [0, 4, 5, 6]
            assert srv.expect(r"SCADA\[0-3\] == \[0, 4, 5, 6\]")
            assert c.read_values(tag("FLOAT")) == [0.0]
            assert c.read(tag("SCADA", 8), 5).status == 0xFF
            assert srv.expect(r"SCADA\[8-12\] !! read: status 0xFF")  # a failed access says so
        assert srv.stop() == 0  # SIGTERM is a clean stop
    assert "Traceback" not in "".join(srv.stderr)


def test_cli_no_print_is_the_default(tmp_path):
    with ServerProcess("-a", "127.0.0.1:0", "X=DINT", cwd=tmp_path) as srv:
        with RawClient(srv.address, register=True) as c:
            assert c.write(tag("X"), "DINT", [3]).status == 0
            assert c.read_values(tag("X")) == [3]
        assert srv.stop() == 0
        rest = []
        for _ in range(100):  # everything else it printed, up to the end of its output
            line = srv.lines.get(timeout=10)
            if line is None:
                break
            rest.append(line)
        assert len(rest) == 1 and rest[0].startswith("Read a tag:")  # the hint; no I/O lines


def test_cli_log_file_and_verbose(tmp_path):
    log = tmp_path / "server.log"
    with ServerProcess("-a", "127.0.0.1:0", "-v", "-l", str(log), "X=DINT", cwd=tmp_path) as srv:
        with RawClient(srv.address, register=True) as c:
            assert c.read_values(tag("X")) == [0]
        wait_for(lambda: log.exists() and "connection from" in log.read_text())
        assert srv.stop() == 0
    assert "connection from" not in "".join(srv.stderr)  # went to the file instead


ERRORS = {
    "unknown type": ["X=FOO"],
    "zero length": ["X=INT[0]"],
    "bad length": ["X=INT[abc]"],
    "too long": ["X=INT[70000]"],
    "duplicate with another type": ["X=INT", "x=DINT"],
    "duplicate with another length": ["X=INT[2]", "X=INT[3]"],
    "malformed tag": ["X"],
    "bad address part": ["X@1/2=INT"],
    "address of a standard attribute": ["X@1/1/7=SSTRING"],
    "two tags at one address": ["A@0x93/1/1=INT", "B@0x93/1/1=DINT"],
    "class 0": ["X@0/1/1=INT"],
    "non-finite idle timeout": ["--idle-timeout", "nan", "X=INT"],
    "negative idle timeout": ["--idle-timeout", "-1", "X=INT"],
    "unparsable port": ["-a", "127.0.0.1:port", "X=INT"],
    "port out of range": ["-a", "127.0.0.1:70000", "X=INT"],
    "unbracketed IPv6": ["-a", "::1:44818", "X=INT"],
    "invalid IPv4 address": ["-a", "999.1.1.1:0", "X=INT"],
    "invalid IPv6 address": ["-a", "[::g]:0", "X=INT"],
    "unknown UDT member type": ["-U", "Motor=Speed:FOO", "M=Motor"],
    "UDT used before it is declared": ["M=Motor"],
    "unclosed bracket": ["-a", "[::1:44818", "X=INT"],
    "bad delay": ["-d", "fast", "X=INT"],
    "descending delay": ["-d", "0.5-0.1", "X=INT"],
    "bad route path": ["--route-path", "1/x", "X=INT"],
    "odd route path": ["--route-path", "1/0/2", "X=INT"],
    "malformed JSON route path": ["--route-path", '[{"port": 1, "link": 0]', "X=INT"],
    "missing config file": ["-c", "no-such.cfg", "X=INT"],
    "unknown option": ["--bogus", "X=INT"],
}


def test_cli_bad_arguments_exit_2_with_one_line(tmp_path):
    procs = {name: subprocess.Popen([sys.executable, "-m", "cpppo.server.enip", *(args if "-a" in args else
                                     ["-a", "127.0.0.1:0", *args])], cwd=tmp_path, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
             for name, args in ERRORS.items()}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 2, f"{name}: exit {proc.returncode}; {err}"
        lines = err.strip().splitlines()
        assert len(lines) == 1, f"{name}: {err!r}"
        assert lines[0].startswith("enip_server: error: "), f"{name}: {err!r}"
        assert "Traceback" not in err and "listening" not in out


def test_cli_with_no_tags_serves_the_standard_objects(tmp_path):
    with ServerProcess("-a", "127.0.0.1:0", cwd=tmp_path) as srv:
        with RawClient(srv.address, register=True) as c:
            assert c.cip(get_single(attr(0x01, 1, 7))).data[1:] == b"1756-L61/B LOGIX5561"
        assert srv.stop() == 0
        said = []
        for _ in range(100):
            line = srv.lines.get(timeout=10)
            if line is None:
                break
            said.append(line)
        assert said and said[0].startswith("Read its identity:") and "--print" in said[0]


def test_cli_addresses_with_leading_zero_decimals_as_the_documents_write_them(tmp_path):
    with ServerProcess("-a", "127.0.0.1:0", "X@0x1FF/01/0x1A=INT[100]", cwd=tmp_path) as srv, \
            RawClient(srv.address, register=True) as c:
        assert c.write(attr(0x1FF, 1, 26, 3), "INT", [42]).status == 0
        assert c.read_values(tag("X", 3)) == [42]


def test_cli_port_in_use_is_one_line_and_a_failure_exit(make_sim, tmp_path):
    taken = make_sim("X=DINT")
    host, port = taken.address
    result = subprocess.run([sys.executable, "-m", "cpppo.server.enip", "-a", f"{host}:{port}", "X=DINT"],
                            check=False, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert str(port) in result.stderr


def test_parse_address_forms():
    assert parse_address("") == ("", 44818)
    assert parse_address(":1234") == ("", 1234)
    assert parse_address("127.0.0.1") == ("127.0.0.1", 44818)
    assert parse_address("127.0.0.1:0x10") == ("127.0.0.1", 16)
    assert parse_address("[::1]:2222") == ("::1", 2222)
    assert parse_address("[::]") == ("::", 44818)
    for bad in ("1.2.3.4:x", "::1", "[::1", "[::1]x", "h:99999"):
        with pytest.raises(ConfigError):
            parse_address(bad)


# -- main() in a thread ---------------------------------------------------------------------------

def test_main_in_a_thread_serves_and_stops_cleanly():
    with MainThread("SCADA=INT[5]", "FLOAT@0x22/1/3=REAL") as srv:
        with RawClient(srv.address, register=True) as c:
            assert c.write(tag("SCADA"), "INT", [1, 2, 3, 4, 5]).status == 0
            assert c.read_values(attr(0x22, 1, 3)) == [0.0]
        assert srv.sim["SCADA"] == [1, 2, 3, 4, 5]
        assert srv.stop() == 0
    with pytest.raises(OSError):
        socket.create_connection(srv.address, timeout=2).close()


def test_tag_numbers_in_every_base_and_default_addresses_in_order():
    with MainThread("A=DINT", "MOTOR@0x93/0o3/0b1010=REAL", "B=INT[2]", "C=SSTRING") as srv:
        srv.sim["A"], srv.sim["MOTOR"], srv.sim["B"], srv.sim["C"] = 1, 2.5, [3, 4], "five"
        with RawClient(srv.address, register=True) as c:
            assert c.read_values(attr(0x93, 3, 10)) == [2.5]
            assert c.read_values(attr(0x02, 1, 1)) == [1]
            assert c.read_values(attr(0x02, 1, 2), 2) == [3, 4]
            assert c.read_values(attr(0x02, 1, 3)) == ["five"]
            assert c.read(attr(0x02, 1, 4)).status == 0x14


@pytest.mark.parametrize(("route_path", "accepted", "refused"), [
    ("1/0", ["1/0"], ["1/1", "2/10.0.0.1", "1/0/2/192.168.1.2"]),
    ("1/0/2/192.168.1.2", ["1/0/2/192.168.1.2"], ["1/0", "2/192.168.1.2"]),
    ('{"port": 1, "link": 0}', ["1/0"], ["1/2"]),
    ('[{"port": 1, "link": 0}]', ["1/0"], ["1/2"]),
    ('[{"port": 2, "link": "192.168.1.2"}]', ["2/192.168.1.2"], ["2/192.168.1.3", "1/0"]),
    ("2/192.168.1.2", ["2/192.168.1.2"], ["1/0"]),
    ("false", [()], ["1/0"]),
    ("0", [()], ["1/0"]),
])
def test_route_path_option_forms(route_path, accepted, refused):
    with MainThread("--route-path", route_path, "X=DINT") as srv, RawClient(srv.address, register=True) as c:
        assert c.read_values(tag("X")) == [0]  # simple requests are always accepted
        for route in accepted:
            assert c.read_values(tag("X"), route=route) == [0], route
        for route in refused:
            reply = c.read(tag("X"), route=route)
            assert reply.status == 0x01, route


def test_simple_option_refuses_unconnected_send():
    with MainThread("-S", "X=DINT") as srv, RawClient(srv.address, register=True) as c:
        assert c.read(tag("X"), route="1/0").status == 0x08
        assert c.read_values(tag("X")) == [0]


def test_log_option_rotates_at_10_mb_keeping_5(tmp_path):
    log = tmp_path / "enip.log"
    with MainThread("-v", "-l", str(log), "X=DINT") as srv, RawClient(srv.address, register=True) as c:
        assert c.read_values(tag("X")) == [0]
        handlers = [h for h in logging.getLogger("cpppo").handlers
                    if isinstance(h, logging.handlers.RotatingFileHandler)]
        assert [(h.baseFilename, h.maxBytes, h.backupCount) for h in handlers] == [(str(log), 10 * 1024 * 1024, 5)]
        wait_for(lambda: "connection from" in log.read_text())


def test_delay_option_delays_every_response():
    with MainThread("-d", "0.2-0.3", "X=DINT") as srv, RawClient(srv.address, register=True) as c:
        begun = time.monotonic()
        assert c.read_values(tag("X")) == [0]
        assert time.monotonic() - begun >= 0.2  # a lower bound only: never early


def test_custom_attribute_class_sees_every_read_and_write():
    seen: list[tuple[str, str, object]] = []

    class Recorder(device.Attribute):
        def __getitem__(self, key):
            seen.append(("get", self.name, key))
            return super().__getitem__(key)

        def __setitem__(self, key, value):
            seen.append(("set", self.name, key))
            super().__setitem__(key, value)

    with MainThread("SCADA=INT[10]", attribute_class=Recorder) as srv, RawClient(srv.address, register=True) as c:
        assert c.write(tag("SCADA", 2), "INT", [7, 8]).status == 0
        seen.clear()
        assert c.read_values(tag("SCADA", 2), 3) == [7, 8, 0]
        assert ("get", "SCADA", slice(2, 5)) in seen
        seen.clear()
        assert c.write(tag("SCADA", 4), "INT", [9]).status == 0
        assert ("set", "SCADA", slice(4, 5)) in seen


def test_documented_weather_style_attribute():
    """The doc's pattern: compute the value on each read; a list for a slice, a value for an index."""

    class Temperature(device.Attribute):
        def __getitem__(self, key):
            temperature = 21.5 if isinstance(self.parser, REAL) else 21
            return [temperature] if self._validate_key(key) is slice else temperature

        def __setitem__(self, key, value):
            raise Exception("Changing the weather isn't that easy...")

    with MainThread("Vancouver=REAL", "Calgary=DINT", attribute_class=Temperature) as srv:
        with RawClient(srv.address, register=True) as c:
            assert c.read_values(tag("Vancouver")) == [21.5]
            assert c.read_values(tag("Calgary")) == [21]
            refused = c.write(tag("Calgary"), "DINT", [30])
            assert refused.status == 0xFF  # the exception is a General Error, not a dropped connection
            assert c.read_values(tag("Calgary")) == [21]
        assert srv.sim.tag("Vancouver")[0] == 21.5


def test_main_reports_argument_errors_without_serving(capsys):
    assert main(["-a", "127.0.0.1:0", "X=NOPE"]) == 2
    assert "enip_server: error:" in capsys.readouterr().err
    assert isinstance(Attribute("x", REAL, 0.0)[0], float)
