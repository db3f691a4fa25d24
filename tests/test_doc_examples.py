"""Every example in the README and ``docs/`` runs as written.

Each document's ```python blocks run in order in one namespace (later blocks continue earlier
ones, as a reader pastes them), against what the document says to start first, on free ports:

* ``44818``: a simulator serving ``make run``'s tag set;
* ``44820``: the simulator of ``docs/logix.md``'s ``enip_server -a :44820 ...`` command (its tags
  and ``--udt`` read from that command);
* ``1502``: the Modbus simulator of ``modbus_sim -a :1502 40001-40100=99``;
* in ``docs/proxy.md``, ``44818`` is the simulated PowerFlex of ``poll_test``.

A block that starts a server of its own (``sys.exit(main(...))``) runs as a script in a child
process, which a client then talks to.  The README's ``enip_client`` example runs too, and prints
the lines the README shows after it.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import cpppo.server.enip
from cpppo.modbus import ModbusSimulator, parse_register_spec
from cpppo.modbus.store import DataStore
from cpppo.server.enip import client
from cpppo.server.enip.poll_test import powerflex_simulator

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
_SERVER_SCRIPT = "sys.exit(main("


def _make_run_tags() -> list[str]:
    found = re.search(r"^TAGS \?= (.*?)(?<!\\)$", (ROOT / "Makefile").read_text(), re.M | re.S)
    assert found is not None
    return found.group(1).replace("\\\n", " ").split()


def _python_blocks(doc: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", (ROOT / doc).read_text(), re.S | re.M)


def _logix_server_command() -> tuple[list[str], list[str]]:
    """The tags and UDTs of docs/logix.md's enip_server command."""
    (command,) = [b for b in re.findall(r"^```sh\n(.*?)^```", (ROOT / "docs/logix.md").read_text(), re.S | re.M)
                  if "44820" in b]
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:3] == ["enip_server", "-a", ":44820"]
    udts, tags, rest = [], [], iter(words[3:])
    for word in rest:
        if word in ("--udt", "-U"):
            udts.append(next(rest))
        else:
            tags.append(word)
    return tags, udts


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, int]]:
    """The documented endpoints, each served on a free port: {documented port: real port}."""
    tags, udts = _logix_server_command()
    store = DataStore([parse_register_spec("40001-40100=99")])
    with cpppo.server.enip.simulator(_make_run_tags()) as plc, \
            cpppo.server.enip.simulator(tags, udts=udts) as logix, \
            ModbusSimulator(store, host="127.0.0.1", port=0) as modbus, powerflex_simulator() as drive:
        yield {"44818": plc.address[1], "44820": logix.address[1], "1502": modbus.address[1],
               "drive": drive.address[1]}


DRIVE_DOCS = {"docs/proxy.md"}  # their 44818 is the simulated PowerFlex of poll_test


def _retarget(code: str, ports: dict[str, int], doc: str = "") -> str:
    ports = {**ports, "44818": ports["drive"]} if doc in DRIVE_DOCS else ports
    for documented, real in ports.items():
        if documented.isdigit():
            code = re.sub(rf"\b{documented}\b", str(real), code)
    return code


@pytest.mark.parametrize("doc", [d for d in DOCS if _python_blocks(d)])
def test_every_python_example_runs(doc, servers, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files an example writes (a history, ...) go to a fresh directory
    scope: dict[str, object] = {"__name__": "__example__"}
    ran = 0
    for number, block in enumerate(_python_blocks(doc)):
        if _SERVER_SCRIPT in block:
            continue  # a server of its own: see test_server_script_examples_serve
        code = _retarget(block, servers, doc)
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, f"{doc} (python block {number + 1})", "exec"), scope)
        ran += 1
    assert ran


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("doc", [d for d in DOCS if any(_SERVER_SCRIPT in b for b in _python_blocks(d))])
def test_server_script_examples_serve(doc, tmp_path):
    (block,) = [b for b in _python_blocks(doc) if _SERVER_SCRIPT in b]
    script = tmp_path / "example.py"
    script.write_text(block)
    port = _free_port()
    server = subprocess.Popen([sys.executable, str(script), "-a", f"127.0.0.1:{port}", "TEMP=REAL", "COUNT=DINT"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with client.connector(host="127.0.0.1", port=port, timeout=5) as conn:
                    ops = client.parse_operations(["TEMP", "COUNT", "TEMP=(REAL)30"])
                    _, values = conn.process(ops, timeout=5)
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        assert values[:2] == [[21.5], [21]]  # the example's attribute answers every read
        assert values[2] is None  # and refuses the write (the example's exception: status 0xFF)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=10)
    assert "Traceback" not in err


def test_readme_enip_client_example_prints_what_the_readme_shows(servers):
    text = (ROOT / "README.md").read_text()
    (line,) = [ln for ln in text.splitlines() if ln.startswith("enip_client -a 127.0.0.1:44818 --print")]
    shown = []
    for following in text.splitlines()[text.splitlines().index(line) + 1:]:
        if not following.startswith("# "):
            break
        shown.append(following[2:])
    argv = shlex.split(_retarget(line, servers))[1:]
    done = subprocess.run([sys.executable, "-m", "cpppo.server.enip.client", *argv],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    assert shown and all(expected in printed for expected in shown), (shown, printed)
