"""Pipelining, Multiple Service Packets and fragmentation: first sans-I/O (the engine wired back to
back to the simulator's session, replies delivered out of order), then over real sockets."""

from __future__ import annotations

import random
import time

import pytest

from cpppo.client.core import ClientCore
from cpppo.client.engine import OperationEngine
from cpppo.enip.encapsulation import decode_frame
from cpppo.server.enip import Simulator, client
from cpppo.server.enip.client import parse_operations
from cpppo.server.enip.session import Session, SessionTable


@pytest.fixture
def wired():
    """A ClientCore registered with a simulator Session, no sockets in between."""
    sim = Simulator(["SCADA=INT[1000]", "BIG=DINT[10000]", "F=REAL[10]"])
    session = Session(sim.controller, SessionTable())
    core = ClientCore()
    reply, _ = session.handle(decode_frame(core.register_frame()))
    core.registered(reply)
    return sim, session, core


def drive(engine, session, shuffle=True, seed=1):
    """Run ``engine`` to completion; return (results, max in flight, request frames sent)."""
    rng = random.Random(seed)
    results, sent, most = [], [], 0
    for _ in range(100000):
        if engine.finished:
            break
        out = engine.outgoing()
        most = max(most, len(engine.inflight))
        sent.extend(out)
        replies = [session.handle(decode_frame(raw))[0] for raw in out]
        if shuffle:
            rng.shuffle(replies)  # a device may answer in any order: replies match by sender context
        for reply in replies:
            assert engine.receive(reply)
        results.extend(engine.results())
    assert engine.finished, f"the engine did not finish: {len(results)} results, {len(engine.inflight)} in flight"
    return results, most, sent


@pytest.mark.parametrize("depth", [1, 2, 7, 20])
def test_depth_bounds_requests_in_flight_and_order_holds(wired, depth):
    sim, session, core = wired
    sim["SCADA"] = list(range(1000))
    tags = [f"SCADA[{i}]" for i in range(60)]
    engine = OperationEngine(core, parse_operations(tags), depth=depth)
    results, most, sent = drive(engine, session)
    assert most == min(depth, 60)
    assert len(sent) == 60
    assert [r[1] for r in results] == [f"SCADA[{i}-{i}]" for i in range(60)]
    assert [r[5] for r in results] == [[i] for i in range(60)]


@pytest.mark.parametrize("multiple", [100, 250, 500])
def test_multiple_service_packets_stay_within_the_limit(wired, multiple):
    sim, session, core = wired
    sim["SCADA"] = list(range(1000))
    tags = [f"SCADA[{i}]" for i in range(50)] + ["NOPE", "SCADA[0-99]", "SCADA[5]=(INT)-5", "SCADA[5]"]
    engine = OperationEngine(core, parse_operations(tags), depth=3, multiple=multiple)
    results, _, sent = drive(engine, session)
    assert len(sent) < len(tags) / 3
    for raw in sent:  # the MSP request (service, path, count, offsets, requests) fits in `multiple`
        message = raw[24 + 16 :]  # encapsulation header, then interface/timeout/CPF headers
        assert len(message) - 12 <= multiple + 8  # minus the Unconnected Send wrapping
    values = [r[5] for r in results]
    assert values[:50] == [[i] for i in range(50)]
    assert values[50] is None and results[50][4] == (0x04, [0])
    assert values[51] == list(range(100))
    assert values[52] is True and values[53] == [-5]
    assert [r[0] for r in results] == sorted(r[0] for r in results)  # idx: the request each rode in


@pytest.mark.parametrize(("depth", "fragment"), [(1, True), (1, False), (20, True), (20, False)])
def test_large_array_reads_whole(wired, depth, fragment):
    sim, session, core = wired
    sim["BIG"] = [i * 3 - 7 for i in range(10000)]
    engine = OperationEngine(core, parse_operations(["BIG[0-9999]", "BIG[9998-9999]"]), depth=depth,
                             fragment=fragment)
    results, most, sent = drive(engine, session)
    assert results[0][4] == 0 and results[0][5] == [i * 3 - 7 for i in range(10000)]
    assert results[1][5] == [9998 * 3 - 7, 9999 * 3 - 7]
    assert len(sent) >= 40000 // 500  # one fragment per reply-full
    assert most <= depth


def test_large_array_write_is_split_into_fragments(wired):
    sim, session, core = wired
    values = [random.Random(3).randint(-(2**31), 2**31 - 1) for _ in range(10000)]
    op = {"method": "write", "path": [{"symbolic": "BIG"}, {"element": 0}], "elements": 10000,
          "tag_type": 0xC4, "data": values}
    engine = OperationEngine(core, [op, *parse_operations(["BIG[0-9999]"])], depth=8)
    results, _, sent = drive(engine, session)
    assert [r[4] for r in results] == [0, 0]
    assert sim["BIG"] == values and results[1][5] == values
    assert len(sent) > 2 * 40000 // 500


def test_offset_reads_and_writes(wired):
    _, session, core = wired
    engine = OperationEngine(core, parse_operations(["BIG[0-9]+16=(DINT)4,5,6,7,8,9", "BIG[0-9]+16",
                                                     "BIG[0-9]"]), depth=3)
    results, _, _ = drive(engine, session)
    assert [r[5] for r in results] == [True, [4, 5, 6, 7, 8, 9], [0, 0, 0, 0, 4, 5, 6, 7, 8, 9]]


def test_lookahead_is_bounded_while_a_long_read_blocks_the_head(wired):
    _, session, core = wired
    ops = parse_operations(["BIG[0-9999]"] + ["SCADA[0]"] * 5000)
    engine = OperationEngine(core, ops, depth=20, lookahead=100)
    for _ in range(5):
        for raw in engine.outgoing():
            engine.receive(session.handle(decode_frame(raw))[0])
    assert len(engine._order) <= 100
    results, _, _ = drive(engine, session)
    assert len(results) == 5001 and results[0][5] == [0] * 10000


def test_pipelining_is_real_over_a_50ms_link():
    with Simulator(["X=INT[10]"], address=("127.0.0.1", 0), delay=(0.05, 0.05)) as sim, \
            client.connector(host=sim.address[0], port=sim.address[1], timeout=5) as conn:
        ops = list(parse_operations(["X[1]"] * 40))
        began = time.perf_counter()
        assert conn.process(ops, depth=1)[0] == 0
        one = time.perf_counter() - began
        began = time.perf_counter()
        assert conn.process(ops, depth=20)[0] == 0
        twenty = time.perf_counter() - began
    assert one >= 40 * 0.05
    assert one / twenty >= 8, f"depth 1: {one:.2f}s, depth 20: {twenty:.2f}s"


def test_multiple_over_sockets_uses_fewer_requests(make_sim):
    sim = make_sim()
    sim["SCADA"] = list(range(1000))
    with client.connector(host=sim.address[0], port=sim.address[1], timeout=5) as conn:
        ops = list(parse_operations(["SCADA[3]", "FLOAT", "SCADA[10-12]"] * 30))
        before = conn.core.requests
        plain = list(conn.results(ops, depth=5))
        used_plain = conn.core.requests - before
        before = conn.core.requests
        packed = list(conn.results(ops, depth=5, multiple=250))
        used_packed = conn.core.requests - before
    assert plain == packed and plain[0] == [3] and plain[2] == [10, 11, 12]
    assert used_plain == 90 and used_packed <= 90 // 4
