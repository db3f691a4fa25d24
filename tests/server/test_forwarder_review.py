"""Forwarding to remote targets under load and trouble: concurrency, restarts, hang-ups, limits."""

from __future__ import annotations

import pytest

from cpppo.device.backplane import RemoteTarget
from cpppo.enip.frames import reply_message
from cpppo.server.enip import Simulator

from .conftest import Rig, wait_for
from .rawclient import RawClient, read_tag, tag, values

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_a_slow_forward_does_not_hold_up_another_connections_forward_to_the_same_target(rig: Rig):
    with RawClient(rig.front.address, register=True) as a, RawClient(rig.front.address, register=True) as b:
        a.send(a.rr_frame(read_tag(tag("SLOW")), "1/2"))
        wait_for(lambda: rig.gate.waiting == 1, timeout=5)
        assert b.read_values(tag("FAST"), route="1/2") == [11]  # while SLOW is still being read
        assert rig.gate.waiting == 1
        rig.gate.opened.set()
        assert values(reply_message(a.recv(timeout=5))) == [22]


def _sessions(sim: Simulator) -> int:
    return len(sim.server.connections)


def test_at_most_two_idle_sessions_per_target_are_kept(rig):
    clients = [RawClient(rig.front.address, register=True) for _ in range(4)]
    try:
        for c in clients:
            c.send(c.rr_frame(read_tag(tag("SLOW")), "1/2"))
        wait_for(lambda: rig.gate.waiting == 4, timeout=5)  # four at once: four sessions
        rig.gate.opened.set()
        for c in clients:
            assert values(reply_message(c.recv(timeout=5))) == [22]
        wait_for(lambda: _sessions(rig.remote) == 2, timeout=5)
        assert clients[0].read_values(tag("FAST"), route="1/2") == [11]  # an idle one is used again
        assert _sessions(rig.remote) == 2
    finally:
        for c in clients:
            c.close()


def test_a_forward_whose_client_hangs_up_is_abandoned_and_its_session_closed(rig):
    with RawClient(rig.front.address, register=True) as keep:
        assert keep.read_values(tag("FAST"), route="1/2") == [11]  # one idle session to the target
    c = RawClient(rig.front.address, register=True)
    c.send(c.rr_frame(read_tag(tag("SLOW")), "1/2"))
    wait_for(lambda: rig.gate.waiting == 1, timeout=5)
    assert _sessions(rig.remote) == 1  # the idle one, now busy with SLOW
    c.close()
    wait_for(lambda: _sessions(rig.remote) == 0, timeout=3)  # well before the target's 8 s timeout  # nobody waits for that reply: session closed
    rig.gate.opened.set()
    with RawClient(rig.front.address, register=True) as again:
        assert again.read_values(tag("FAST"), route="1/2") == [11]


def test_a_restarted_target_is_reached_at_the_first_request_after_the_restart(rig):
    with RawClient(rig.front.address, register=True) as c:
        assert c.read_values(tag("FAST"), route="1/2") == [11]
        port = rig.remote.address[1]
        rig.remote.stop()
        rig.remote = Simulator(["FAST=DINT"], address=("127.0.0.1", port), name="REMOTE2").start()
        rig.remote["FAST"] = 12
        assert c.read_values(tag("FAST"), route="1/2") == [12]  # not a 0x01 from the dead session
        assert c.read_values(tag("FAST"), route="1/2") == [12]
    rig.remote.stop()


def _close_wait_to(port: int) -> int:
    """Sockets of this machine in CLOSE_WAIT toward ``port`` on 127.0.0.1 (what netstat shows)."""
    count = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == "08" and int(remote.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def test_an_idle_session_whose_target_hangs_up_is_closed_not_left_in_close_wait(rig):
    with RawClient(rig.front.address, register=True) as c:
        assert c.read_values(tag("FAST"), route="1/2") == [11]
    port = rig.remote.address[1]
    assert _close_wait_to(port) == 0
    rig.remote.stop()
    wait_for(lambda: _close_wait_to(port) == 0 and rig.front.host is not None, timeout=5)
    # and it stays closed: the sweeper had its turn (about once a second)
    wait_for(lambda: _forwarder_idle(rig.front) == 0, timeout=5)


def _forwarder_idle(sim: Simulator) -> int:
    assert sim.host is not None
    forwarder = sim.host.forwarder
    return sum(len(v) for v in getattr(forwarder, "_idle", {}).values()) if forwarder else 0


def test_a_forward_that_times_out_closes_its_session_and_the_next_request_gets_its_own_reply(rig: Rig):
    target = RemoteTarget(*rig.remote.address, timeout=0.5)
    assert rig.front.controller.backplane is not None
    rig.front.controller.backplane.attach(1, 3, target)
    with RawClient(rig.front.address, register=True) as c:
        reply = c.read(tag("SLOW"), route="1/3")
        assert (reply.status, list(reply.ext_status)) == (0x01, [0x0204])
        wait_for(lambda: _sessions(rig.remote) == 0, timeout=3)  # not kept: its reply may still come
        rig.gate.opened.set()
        assert c.read_values(tag("FAST"), route="1/3") == [11]
        assert c.read_values(tag("SLOW"), route="1/3") == [22]


def test_no_more_than_eight_sessions_go_to_one_target_however_many_clients_forward(rig: Rig):
    clients = [RawClient(rig.front.address, register=True) for _ in range(10)]
    try:
        for c in clients:
            c.send(c.rr_frame(read_tag(tag("SLOW")), "1/2"))
        wait_for(lambda: rig.gate.waiting == 8, timeout=5)
        assert _sessions(rig.remote) == 8  # the other two requests wait for a session
        rig.gate.opened.set()
        for c in clients:
            assert values(reply_message(c.recv(timeout=5))) == [22]
        assert rig.gate.most == 8
    finally:
        for c in clients:
            c.close()
