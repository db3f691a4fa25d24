"""The documented List Identity harvesting example: ``client.client`` as a context manager and
``python -m cpppo.server.enip.list_identity_simple``."""

from __future__ import annotations

import socket
import subprocess
import sys

from cpppo.server import enip
from cpppo.server.enip import client


def test_client_is_a_context_manager_that_harvests_list_identity(make_sim):
    sim = make_sim("X=INT")
    with client.client(host="127.0.0.1", port=sim.address[1], udp=True, broadcast=True) as conn:
        conn.list_identity(timeout=1.0)
        response, _ = client.await_response(conn, timeout=2.0)
        assert response
        text = enip.enip_format(response)
        assert '"enip.CIP.list_identity.CPF.item[0].identity_object.product_name": "1756-L61/B LOGIX5561"' in text
        again, _ = client.await_response(conn, timeout=0.2)
        assert again is None  # one device, one reply
    assert conn.conn is None  # leaving the block closed the socket


def test_client_context_closes_a_tcp_connection(make_sim):
    sim = make_sim("X=INT")
    with client.client(host="127.0.0.1", port=sim.address[1]) as conn:
        sock = conn.conn
        assert isinstance(sock, socket.socket) and sock.fileno() >= 0
    assert sock.fileno() == -1


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cpppo.server.enip.list_identity_simple", *args],
                          check=False, capture_output=True, text=True, timeout=30)


def test_list_identity_simple_prints_each_reply(make_sim):
    sim = make_sim("X=INT")
    done = _run(f"127.0.0.1:{sim.address[1]}", "--timeout", "0.5")
    assert done.returncode == 0, done.stderr
    assert '"enip.CIP.list_identity.CPF.item[0].identity_object.vendor_id": 1' in done.stdout
    assert done.stdout.count("identity_object.product_name") == 1


def test_list_identity_simple_without_a_device_says_so():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))  # a UDP port where nobody answers
        done = _run(f"127.0.0.1:{quiet.getsockname()[1]}", "-t", "0.3")
    assert done.returncode == 1 and done.stdout == ""
    bad = _run("127.0.0.1:notaport")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
