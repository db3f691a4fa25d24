"""A connection that sends more than one turn's requests at once is served a turn at a time.

The server answers at most a few dozen frames of one connection before letting the event loop
serve the others (what that buys a polite client's latency is measured by ``bench/fairness.py``);
these tests show that nothing is lost or reordered on the way: every request of a big pipelined
batch is answered in order, an UnRegisterSession or an oversized frame inside a batch still ends
the connection exactly there, and other clients are answered while a flood is served.
"""

from __future__ import annotations

import struct
import threading

from cpppo.enip.encapsulation import Command, EncapStatus, Encapsulation
from cpppo.enip.frames import reply_message

from .rawclient import RawClient, read_tag, tag, write_tag


def _batch(c: RawClient, count: int, first: int = 1) -> list[bytes]:
    return [c.rr_frame(read_tag(tag("X")), context=struct.pack("<Q", first + i)).encode() for i in range(count)]


def _contexts(c: RawClient, count: int) -> list[int]:
    got = []
    for _ in range(count):
        frame = c.recv(timeout=30)
        assert frame.status == 0 and reply_message(frame).status == 0
        got.append(struct.unpack("<Q", frame.context)[0])
    return got


def test_thousands_of_pipelined_requests_are_all_answered_in_order(make_sim):
    sim = make_sim("X=DINT")
    sim["X"] = 7
    with RawClient(sim.address, register=True) as c:
        c.send(b"".join(_batch(c, 3000)))
        assert _contexts(c, 3000) == list(range(1, 3001))
        assert c.read_values(tag("X")) == [7]  # and the connection goes on as usual


def test_unregister_inside_a_big_batch_ends_the_connection_there(make_sim):
    sim = make_sim("X=DINT")
    with RawClient(sim.address, register=True) as c:
        unregister = Encapsulation(Command.UNREGISTER_SESSION, c.session, 0, bytes(8), 0, b"").encode()
        writes = [c.rr_frame(write_tag(tag("X"), "DINT", [i])).encode() for i in range(1500)]
        c.send(b"".join(_batch(c, 1500)) + unregister + b"".join(writes))
        assert _contexts(c, 1500) == list(range(1, 1501))
        assert c.closed_by_server(timeout=10) and not c.pending
    assert sim["X"] == 0  # nothing after the UnRegisterSession was served


def test_an_oversized_frame_after_a_big_batch_is_refused_after_answering_the_batch(make_sim):
    sim = make_sim("X=DINT", max_frame=600)
    with RawClient(sim.address, register=True) as c:
        huge = struct.pack("<HHII8sI", Command.SEND_RR_DATA, 60000, c.session, 0, bytes(8), 0)
        c.send(b"".join(_batch(c, 2000)) + huge)
        assert _contexts(c, 2000) == list(range(1, 2001))
        assert c.recv(timeout=10).status == EncapStatus.INVALID_LENGTH
        assert c.closed_by_server(timeout=10)


def test_other_clients_are_answered_while_a_flood_is_served(make_sim):
    sim = make_sim("X=DINT", "Y=DINT")
    sim["Y"] = 5
    with RawClient(sim.address, register=True) as greedy, RawClient(sim.address, register=True) as polite:
        flood = b"".join(_batch(greedy, 20000))
        sender = threading.Thread(target=greedy.send, args=(flood,), daemon=True)
        sender.start()
        for _ in range(50):
            assert polite.read_values(tag("Y")) == [5]
        assert _contexts(greedy, 20000) == list(range(1, 20001))
        sender.join(timeout=30)
        assert not sender.is_alive()
