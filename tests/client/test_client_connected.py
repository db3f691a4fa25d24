"""Connected explicit messaging: Forward Open, operations as SendUnitData matched by sequence count,
larger fragments through the connection size, Forward Close."""

from __future__ import annotations

import asyncio
import random

import pytest

from cpppo.client.connection import forward_open_message, opened
from cpppo.client.core import ClientCore
from cpppo.client.engine import OperationEngine
from cpppo.enip.encapsulation import Command, decode_frame
from cpppo.errors import CommunicationError
from cpppo.server.enip import Simulator, client
from cpppo.server.enip.aio import AsyncConnector
from cpppo.server.enip.client import parse_operations
from cpppo.server.enip.session import Session, SessionTable


def test_connected_operations_with_out_of_order_replies():
    sim = Simulator(["BIG=DINT[10000]", "X=INT[10]"])
    sim["BIG"] = list(range(10000))
    session = Session(sim.controller, SessionTable())
    core = ClientCore()
    core.registered(session.handle(decode_frame(core.register_frame()))[0])
    message, fo = forward_open_message(core.addressing.route_path, 4002)
    core.connection = opened(session.handle(decode_frame(core.send_frame(message, 1)))[0], fo)
    engine = OperationEngine(core, parse_operations(["BIG[0-9999]", "X[0-2]=1,2,3", "X[0-3]", "NOPE"]), depth=8,
                             multiple=400)
    rng = random.Random(5)
    results, frames = [], 0
    for _ in range(1000):
        if engine.finished:
            break
        out = engine.outgoing()
        frames += len(out)
        assert all(decode_frame(raw).command == Command.SEND_UNIT_DATA for raw in out)
        replies = [session.handle(decode_frame(raw))[0] for raw in out]
        rng.shuffle(replies)
        for reply in replies:
            assert engine.receive(reply)
        results.extend(engine.results())
    assert [r[5] for r in results] == [list(range(10000)), True, [1, 2, 3, 0], None]
    assert frames <= 40000 // 4000 + 3  # fragments of nearly the connection size, not 500 bytes


def test_blocking_connected_connector(make_sim):
    sim = make_sim("BIG=DINT[10000]", "X=INT[10]", 'NAME=STRING')
    sim["BIG"] = [-i for i in range(10000)]
    ops = list(parse_operations(["BIG[0-9999]", "X[1]=7", "X[0-2]", 'NAME=(STRING)"connected"', "NAME", "NOPE"]))
    with client.connector(*sim.address, timeout=5) as plain:
        before = plain.core.requests
        expect = list(plain.results(ops, depth=4))
        unconnected = plain.core.requests - before
    with client.connector(*sim.address, timeout=5, connected=True) as conn:
        assert conn.core.connection is not None and len(sim.controller.connections) == 1
        before = conn.core.requests
        assert list(conn.results(ops, depth=4)) == expect
        assert conn.core.requests - before < unconnected / 4
        assert expect[0] == [-i for i in range(10000)] and expect[4] == ["connected"] and expect[5] is None
        conn.forward_close()
        assert len(sim.controller.connections) == 0
        assert list(conn.results(ops[1:3])) == expect[1:3]  # unconnected again
        conn.forward_open(500, large=False)
        assert conn.core.connection.t_o_size == 500
        assert list(conn.results(ops, depth=2, multiple=300)) == expect
    assert len(sim.controller.connections) == 0


def test_forward_open_refused(make_sim):
    sim = make_sim("X=INT")
    with client.connector(*sim.address, timeout=5) as conn, pytest.raises(CommunicationError, match="refused"):
        conn.forward_open(5000)


def test_asyncio_connected(make_sim):
    sim = make_sim("BIG=DINT[2000]", "X=INT[10]")
    sim["BIG"] = list(range(2000))

    async def main():
        async with AsyncConnector(*sim.address, timeout=5, connected=True) as conn:
            assert conn.core.connection is not None
            assert await conn.read("BIG[0-1999]") == list(range(2000))
            assert await conn.write("X[0-1]=(INT)4,5")
            assert await conn.read("X[0-2]") == [4, 5, 0]
            assert len(sim.controller.connections) == 1
        assert len(sim.controller.connections) == 0

    asyncio.run(main())
