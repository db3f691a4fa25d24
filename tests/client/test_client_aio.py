"""The asyncio client: the same operations as coroutines, many controllers from one event loop,
UDP discovery, and the same errors as the blocking client."""

from __future__ import annotations

import asyncio

import pytest

from cpppo.errors import CommunicationError
from cpppo.server.enip.aio import AsyncConnector, RequestFailed, discover, parse_operations

from .support import silent_server


def test_coroutines(plc):
    async def main():
        async with AsyncConnector(*plc.address, timeout=5) as conn:
            assert conn.session
            assert await conn.write("SCADA[0-2]=(INT)1,2,3") is True
            assert await conn.read("SCADA[0-3]") == [1, 2, 3, 0]
            assert await conn.write("FLOATS[1-2]", [1.5, 2.5], tag_type="REAL") is True
            assert await conn.read("FLOATS[0-2]") == [0.0, 1.5, 2.5]
            assert await conn.read([{"symbolic": "SCADA"}, {"element": 1}], elements=2) == [2, 3]
            assert await conn.write('NAME=(STRING)"from asyncio"')
            assert await conn.read("NAME") == ["from asyncio"]
            name = await conn.get_attribute_single("@1/1/7")
            assert bytes(name[1:]).decode() == "1756-L61/B LOGIX5561"
            assert len(await conn.get_attributes_all("@1/1")) > 20
            assert await conn.set_attribute_single("@2/1/5", [3.25], tag_type="REAL")
            assert await conn.get_attribute_single("@2/1/5", tag_type="REAL") == [3.25]
            with pytest.raises(RequestFailed) as info:
                await conn.read("NOPE")
            assert info.value.status == (0x04, [0]) and "NOPE" in str(info.value)
            ident = await conn.list_identity()
            assert ident["enip.CIP.list_identity.CPF.item[0].identity_object.product_name"] == "1756-L61/B LOGIX5561"
            services = await conn.list_services()
            assert services["enip.CIP.list_services.CPF.item[0].communications_service.service_name"]
            assert (await conn.list_interfaces()).enip.CIP.list_interfaces.CPF.count == 0
            plc["BIG"] = list(range(10000))
            failures, values = await conn.process(parse_operations(["BIG[0-9999]", "NOPE", "SCADA[1]"]), depth=20,
                                                  multiple=300)
            assert failures == 1 and values[0] == list(range(10000)) and values[2] == [2]
            results = [r async for r in conn.pipeline(parse_operations(["SCADA[0]", "SCADA[1]"]), depth=2)]
            assert [(r[1], r[4], r[5]) for r in results] == [("SCADA[0-0]", 0, [1]), ("SCADA[1-1]", 0, [2])]
        assert conn.writer is None

    asyncio.run(main())


def test_many_controllers_from_one_loop(make_sim):
    sims = [make_sim("X=DINT[10]", delay=(0.05, 0.05)) for _ in range(4)]
    for n, sim in enumerate(sims):
        sim["X"] = [n] * 10

    events = []  # "connected" and "polled" of each controller, in the order they happened

    async def poll(sim):
        async with AsyncConnector(*sim.address, timeout=5) as conn:
            events.append("connected")
            failures, values = await conn.process(parse_operations(["X[0-9]"] * 10), depth=10)
            events.append("polled")
            return failures, values[0]

    async def main():
        return await asyncio.gather(*(poll(s) for s in sims))

    assert asyncio.run(main()) == [(0, [n] * 10) for n in range(4)]
    # polled concurrently: every controller was connected before any had finished its polling
    # (one blocking the loop would have connected, polled and finished before the next connected)
    assert events == ["connected"] * 4 + ["polled"] * 4


def test_discover_on_loopback(make_sim):
    sim = make_sim("X=INT", address=("0.0.0.0", 0))
    replies = asyncio.run(discover("127.255.255.255", sim.address[1], timeout=0.3))
    assert [r.peer for r in replies] == [("127.0.0.1", sim.address[1])]
    assert replies[0]["enip.CIP.list_identity.CPF.item[0].identity_object.product_name"]


def test_errors():
    async def connect(host, port, timeout):
        async with AsyncConnector(host, port, timeout=timeout) as conn:
            return [r async for r in conn.pipeline(parse_operations(["X"]))]

    with pytest.raises(CommunicationError, match=r"cannot connect to 127\.0\.0\.1:1: .*refused"):
        asyncio.run(connect("127.0.0.1", 1, 1))
    with silent_server(register=False) as (host, port), pytest.raises(CommunicationError, match="RegisterSession"):
        asyncio.run(connect(host, port, 0.2))
    with silent_server() as (host, port), pytest.raises(CommunicationError, match=r"within 0\.2s"):
        asyncio.run(connect(host, port, 0.2))


def test_same_results_as_the_blocking_client(plc):
    from cpppo.server.enip import client

    tags = ["SCADA[0-5]", "FLOAT", "Tag[0-9]+16", "NOPE", "@0x02/1/1", "TEXT[0-3]"]
    with client.connector(*plc.address, timeout=5) as conn:
        blocking = [r[1:3] + r[4:] for r in conn.pipeline(parse_operations(tags), depth=3, multiple=200)]

    async def main():
        async with AsyncConnector(*plc.address, timeout=5) as conn:
            return [r[1:3] + r[4:] async for r in conn.pipeline(parse_operations(tags), depth=3, multiple=200)]

    assert asyncio.run(main()) == blocking


def test_connection_usable_while_a_pipeline_is_suspended(plc):
    """A pipeline holds the connection only while its requests are outstanding, never while the
    caller holds the generator suspended.  (Before, the read and the close below waited forever for
    the generator's lock: the guards turn such a hang into a failure.)"""
    plc["SCADA"] = list(range(1000))
    guard = 10  # seconds: a hang guard, far above what each step takes

    async def main():
        conn = await AsyncConnector(*plc.address, timeout=5, connected=True).open()
        gen = conn.pipeline(parse_operations([f"SCADA[{i}]" for i in range(600)]), depth=5)
        first = await gen.__anext__()
        assert first[5] == [0]
        assert await asyncio.wait_for(conn.read("SCADA[999]"), guard) == [999]
        assert await asyncio.wait_for(conn.write("SCADA[998]=(INT)7"), guard) is True
        rest = [r[5] async for r in gen]
        assert rest == [[i] for i in range(1, 600)]
        suspended = conn.pipeline(parse_operations(["SCADA[1]", "SCADA[2]"]))
        assert (await suspended.__anext__())[5] == [1]
        await asyncio.wait_for(conn.close(), guard)  # Forward Close, with the generator still suspended
        assert conn.writer is None and conn.core.connection is None
        await suspended.aclose()

    asyncio.run(main())
