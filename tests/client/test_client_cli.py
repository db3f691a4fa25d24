"""The command lines: enip_client (every documented option), list_services, thruput, the io example;
output formats as documented, and exit statuses (1 on any failure, one clear line on errors)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cpppo.cip.epath import Port
from cpppo.client.cli import client_main, list_services_main, thruput_main
from cpppo.server.enip import io as io_example

from .support import silent_server

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def addr(sim) -> str:
    return f"{sim.address[0]}:{sim.address[1]}"


def run(capsys, *argv):
    status = client_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


def test_print_lines_and_exit_status(plc, capsys):
    status, out, _ = run(capsys, "-a", addr(plc), "--print", "SCADA[1]=99", "SCADA[0-10]",
                         'TEXT[1]=(SSTRING)"Hello, world!"', "TEXT[0-3]", "FLOAT=1.5", "FLOAT")
    assert status == 0
    assert out == ["SCADA[1-1] <= [99]: 'OK'", "SCADA[0-10] == [0, 99, 0, 0, 0, 0, 0, 0, 0, 0, 0]: 'OK'",
                   "TEXT[1-1] <= ['Hello, world!']: 'OK'", "TEXT[0-3] == ['', 'Hello, world!', '', '']: 'OK'",
                   "FLOAT <= [1.5]: 'OK'", "FLOAT == [1.5]: 'OK'"]
    status, out, _ = run(capsys, "-a", addr(plc), "-p", "SCADA[1]", "NOPE")
    assert status == 1
    assert out == ["SCADA[1-1] == [99]: 'OK'", "NOPE == None: '0x04 path segment error [0x0000]'"]


def test_no_output_without_print_or_verbose(plc, capsys):
    assert run(capsys, "-a", addr(plc), "SCADA[1]", "--no-print") == (0, [], [])
    assert run(capsys, "-a", addr(plc), "SCADA[1]=5") == (0, [], [])
    assert plc["SCADA"][1] == 5


def test_verbose_logs_and_log_file(plc, capsys, tmp_path):
    status, out, err = run(capsys, "-a", addr(plc), "-v", "SCADA[1]", "NOPE")
    assert status == 1 and out == []
    assert any("SCADA[1-1] == [5]: 'OK'" in line for line in err)
    assert any("Average" in line and "TPS" in line for line in err)
    log = tmp_path / "client.log"
    assert run(capsys, "-a", addr(plc), "-v", "-l", log, "SCADA[1]")[0] == 0
    assert "SCADA[1-1] == [5]: 'OK'" in log.read_text()


@pytest.mark.parametrize("options", [[], ["-d", "5"], ["-m"], ["-n"], ["-m", "-d", "3", "-n"],
                                     ["--timeout-ticks", "63", "--priority-time-tick", "0"],
                                     ["--route-path", "1/0"], ["--route-path", '[{"port": 1, "link": 0}]'],
                                     ["--route-path", "false", "--send-path", "@6/1"], ["-t", "2.5"]])
def test_operation_options(plc, capsys, options):
    plc["BIG"] = list(range(10000))
    status, out, _ = run(capsys, "-a", addr(plc), "-p", *options, "-r", "3", "SCADA[2]=(INT)7", "SCADA[2]",
                         "BIG[0-9999]", "Tag[0-9]+16=(DINT)4,5,6,7,8,9")
    assert status == 0
    assert len(out) == 12
    assert out[1] == "SCADA[2-2] == [7]: 'OK'"
    assert out[2] == f"BIG[0-9999] == {list(range(10000))!r}: 'OK'"


def test_simple_devices_and_routing_failures(make_sim, capsys):
    simple = make_sim("X=INT[4]", simple=True)
    assert run(capsys, "-a", addr(simple), "X[0]")[0] == 1  # Unconnected Send not supported
    assert run(capsys, "-a", addr(simple), "-S", "X[0-1]=1,2", "X[0-1]") [0] == 0
    assert run(capsys, "-a", addr(simple), "--send-path=", "--route-path=false", "-p", "X[0-1]")[1] == [
        "X[0-1] == [1, 2]: 'OK'"]
    routed = make_sim("X=INT", route_path=(Port(1, 0),))
    assert run(capsys, "-a", addr(routed), "--route-path", "1/3", "X")[0] == 1
    assert run(capsys, "-a", addr(routed), "--route-path", '["1/0"]', "X")[0] == 0


def test_list_identity_services_interfaces_legacy_over_tcp(plc, capsys):
    status, out, _ = run(capsys, "-a", addr(plc), "-i", "-s", "-I", "--legacy", "0x0001")
    assert status == 0
    text = "\n".join(out)
    assert out[0] == f"List Identity 0 from ('127.0.0.1', {plc.address[1]}): {{"
    blocks = text.split("\n}")
    ident = json.loads(blocks[0].split(": ", 1)[1] + "}")
    assert ident["item[0].identity_object.product_name"] == "1756-L61/B LOGIX5561"
    assert ident["item[0].type_id"] == 12 and ident["count"] == 1
    assert "List Services 0 from" in text and '"item[0].communications_service.capability": 288' in text
    assert "List Interfaces 0 from" in text
    assert "Legacy 0x0001 0 from" in text and '"item[0].legacy_CPF_0x0001.ip_address": "127.0.0.1"' in text


def test_udp_and_broadcast_list_identity(make_sim, capsys):
    sim = make_sim("X=INT", address=("0.0.0.0", 0))
    port = sim.address[1]
    status, out, _ = run(capsys, "-u", "-i", "-a", f"127.0.0.1:{port}", "-t", "2")
    assert status == 0 and out[0] == f"List Identity 0 from ('127.0.0.1', {port}): {{"
    status, out, _ = run(capsys, "--udp", "--broadcast", "--list-identity", "-a", f"127.255.255.255:{port}",
                         "-t", "0.5")
    assert status == 0
    assert [line for line in out if line.startswith("List Identity")] == [
        f"List Identity 0 from ('127.0.0.1', {port}): {{"]
    status, _, err = run(capsys, "-u", "-i", "-a", "127.0.0.1:9", "-t", "0.2")  # nobody there
    assert status == 1 and len(err) == 1  # ICMP port unreachable, or no reply within the timeout


def test_errors_are_one_line_and_nonzero(plc, capsys):
    status, out, err = run(capsys, "-a", "127.0.0.1:1", "SCADA")
    assert (status, out) == (1, []) and err == ["enip_client: cannot connect to 127.0.0.1:1: Connection refused"]
    status, _, err = run(capsys, "-a", "10.255.255.1", "-t", "0.3", "SCADA")  # unreachable (or refused)
    assert status == 1 and len(err) == 1 and err[0].startswith("enip_client: cannot connect to 10.255.255.1:44818: ")
    status, _, err = run(capsys, "-a", "nonexistent.invalid", "SCADA")
    assert status == 1 and len(err) == 1 and "unknown host" in err[0]
    with silent_server(register=False) as (host, port):
        status, _, err = run(capsys, "-a", f"{host}:{port}", "-t", "0.2", "SCADA")
    assert status == 1 and len(err) == 1 and "no reply to RegisterSession" in err[0]
    with silent_server() as (host, port):
        status, _, err = run(capsys, "-a", f"{host}:{port}", "-t", "0.2", "SCADA")
    assert status == 1 and len(err) == 1 and "within 0.2s" in err[0]
    status, _, err = run(capsys, "-a", addr(plc), "SCADA[1-3]=1,2")
    assert status == 2 and err == ["enip_client: error: operation 'SCADA[1-3]=1,2': 2 values for a range of 3 elements"]
    with pytest.raises(SystemExit) as info:
        client_main([])
    assert info.value.code == 2
    assert run(capsys, "-a", addr(plc), "--priority-time-tick", "16", "SCADA")[0] == 2


def test_list_services_module(plc, capsys):
    assert list_services_main(["-a", addr(plc), "-i", "-I"]) == 0
    out = capsys.readouterr().out
    docs = [json.loads("{" + chunk) for chunk in out.strip()[1:].split("\n{")]
    assert [d["enip.command"] for d in docs] == [4, 99, 100]
    assert docs[0]["peer"] == ["127.0.0.1", plc.address[1]]
    assert docs[0]["enip.CIP.list_services.CPF.item[0].communications_service.service_name"] == "Communications"
    assert docs[1]["enip.CIP.list_identity.CPF.item[0].identity_object.product_name"] == "1756-L61/B LOGIX5561"
    assert list_services_main(["-u", "-a", addr(plc)]) == 0
    assert json.loads(capsys.readouterr().out)["enip.command"] == 4
    assert list_services_main(["-a", "127.0.0.1:1"]) == 1


def test_thruput_module(plc, capsys):
    assert thruput_main(["-a", addr(plc), "SCADA[1]", "FLOAT", "-r", "5", "-d", "4", "-m", "250"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 11
    assert out[-1].startswith(" 10 operations using ") and "at pipeline depth  4;" in out[-1]
    assert out[-1].endswith(" TPS")
    assert thruput_main(["-a", addr(plc), "-q", "NOPE"]) == 1
    assert capsys.readouterr().out.count("\n") == 1


@pytest.mark.timeout(60)  # before 5.0s became the default, thruput waited for a silent device forever
def test_thruput_gives_up_on_a_silent_device(capsys):
    with silent_server() as (host, port):
        assert thruput_main(["-a", f"{host}:{port}", "-q", "SCADA[1]"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("thruput: no reply from") and "within 5.0s" in err[0]


@pytest.mark.parametrize("main", [thruput_main, list_services_main, io_example.main])
@pytest.mark.parametrize("address", ["localhost:abc", "[::1", "localhost:0"])
def test_bad_address_one_line(main, address, capsys):
    argv = ["-a", address] + (["SCADA[1]"] if main is thruput_main else [])
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "address" in err and "Traceback" not in err


@pytest.mark.timeout(60)
@pytest.mark.parametrize("module", ["thruput", "list_services", "io"])
def test_interrupted_while_waiting_exits_cleanly(module):
    """Ctrl-C while the command waits for a device: exit status 1, no traceback."""
    import signal
    import socket

    with socket.socket() as lsock:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        lsock.settimeout(30)
        argv = ["-a", f"127.0.0.1:{lsock.getsockname()[1]}"] + (["-t", "30"] if module != "io" else [])
        proc = subprocess.Popen([sys.executable, "-m", f"cpppo.server.enip.{module}", *argv]
                                + (["SCADA[1]"] if module == "thruput" else []),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        try:
            conn, _ = lsock.accept()
            with conn:
                conn.settimeout(30)
                assert conn.recv(24)  # its first request: it is waiting for the reply now
                proc.send_signal(signal.SIGINT)
                _, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_io_example(make_sim, capsys):
    sim = make_sim("Tag=DINT[10]")
    assert io_example.main(["-a", addr(sim)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Tag[0-9]+16 <= [4, 5, 6, 7, 8, 9]: 'OK'", "@0x02/1/1 == [0]: 'OK'", "Tag[3-5] == [0, 4, 5]: 'OK'"]


def test_python_dash_m_and_console_script(plc):
    cmd = [sys.executable, "-m", "cpppo.server.enip.client", "-a", addr(plc), "--print", "SCADA[1]=42", "SCADA[1]"]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60, env=ENV)
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["SCADA[1-1] <= [42]: 'OK'", "SCADA[1-1] == [42]: 'OK'"]
    script = Path(sys.executable).with_name("enip_client")
    done = subprocess.run([str(script), "-a", "127.0.0.1:1", "SCADA"], check=False, capture_output=True, text=True, timeout=60,
                          env=ENV)
    assert done.returncode == 1 and done.stderr.strip().count("\n") == 0 and "Connection refused" in done.stderr
