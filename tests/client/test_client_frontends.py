"""One procedure layer, two front ends: the same steps through the blocking connector and the
AsyncConnector, against the same simulator over 127.0.0.1, give the same results; Forward Open
takes a route path and refuses a wrong one on both; both forget a connection whose link has closed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from cpppo.cip.epath import Logical, Port
from cpppo.client.connection import Connection
from cpppo.client.tag_list import TagInfo
from cpppo.errors import CommunicationError, CpppoError, EncodeError
from cpppo.server.enip import client
from cpppo.server.enip.aio import AsyncConnector, RequestFailed
from cpppo.server.enip.client import parse_operations

UDTS = ["Motor = Speed:REAL, Count:DINT, Running:BOOL, Label:STRING"]
TAGS = ("SCADA=INT[100]", "BIG=DINT[2000]", "FLOAT=REAL", "TEXT=SSTRING[4]", "D=DINT", "BITS=BOOL[64]",
        "M1=Motor", "MOTORS=Motor[2]", "Program:Main.Local=DINT")
MOTOR = {"Speed": 1.5, "Count": 7, "Running": True, "Label": "pump"}
OPS = ["SCADA[1]=(INT)42", "SCADA[0-5]", "SCADA[1]", "FLOAT", "BIG[0-1999]", "NOPE", "@0x02/1/1", "TEXT[0-3]",
       "M1", "D.3=1", "D.3", 'MOTORS[1].Label=(STRING)"fan"', "MOTORS[1].Label", "MOTORS[0-1]", "SCADA[9000]"]

Step = tuple[str, tuple[Any, ...], dict[str, Any]]
SCENARIOS: dict[str, tuple[dict[str, Any], list[Step]]] = {
    "operations": ({}, [
        ("pipeline", (list(parse_operations(OPS)),), {"depth": 3, "multiple": 200}),
        ("operate", (list(parse_operations(OPS)),), {"depth": 5, "validating": True}),
        ("results", (list(parse_operations(OPS)),), {"fragment": True}),
        ("process", (list(parse_operations(OPS)),), {"depth": 2}),
    ]),
    "forward open, reads, forward close": ({}, [
        ("forward_open", (), {"route_path": "1/0"}),
        ("results", (list(parse_operations(OPS)),), {"depth": 4}),
        ("forward_close", (), {}),
        ("results", (list(parse_operations(OPS[:3])),), {}),
        ("forward_open", (500,), {"large": False}),
        ("pipeline", (list(parse_operations(["BIG[0-1999]", "SCADA[0-9]"])),), {"depth": 2}),
        ("forward_close", (), {}),
    ]),
    "tag list upload": ({"logix": True}, [
        ("tag_list", (), {}),
        ("tag_list", (False,), {"refresh": True}),
        ("results", (list(parse_operations(["BITS[37]=1", "BITS[36-38]", "D=2", "D"])),), {}),
    ]),
    "one-shots": ({"connected": True}, [
        ("write_tag", ("SCADA[0-2]=(INT)1,2,3",), {}),
        ("read_tag", ("SCADA[0-3]",), {}),
        ("write_tag", ("FLOAT", [2.5]), {"tag_type": "REAL"}),
        ("read_tag", ([{"symbolic": "FLOAT"}],), {}),
        ("write_tag", ("M1", MOTOR), {}),
        ("read_tag", ("M1",), {}),
        ("write_tag", ("D.0", [True]), {}),
        ("read_tag", ("BIG[5]",), {"elements": 3}),
        ("get_attribute", ("@1/1/7",), {}),
        ("get_attributes", ("@1/1",), {}),
        ("set_attribute", ("@2/1/3", [2.25]), {"tag_type": "REAL"}),  # FLOAT: the Message Router's attribute 3
        ("get_attribute", ("@2/1/3",), {"tag_type": "REAL"}),
        ("read_tag", ("NOPE",), {}),
        ("write_tag", ("SCADA[0]=(DINT)1",), {}),
    ]),
}


def normal(got: Any) -> Any:
    """What a step gave, without what differs between two sessions (handles, connection ids)."""
    if isinstance(got, BaseException):
        status = getattr(got, "status", None)
        return type(got).__name__, str(got), status
    if isinstance(got, Connection):
        return "Connection", got.o_t_size, got.t_o_size, got.path, got.large
    if isinstance(got, TagInfo):
        return got.name, got.declaration
    if isinstance(got, tuple) and len(got) == 6 and isinstance(got[2], dict):  # a 6-tuple
        idx, dsc, req, rpy, sts, val = got
        return idx, dsc, req, None if rpy is None else rpy.enip.status, sts, val
    if isinstance(got, (list, tuple)):
        return type(got)(normal(g) for g in got)
    return got


def run_blocking(address: tuple[str, int], connect: dict[str, Any], steps: list[Step]) -> list[Any]:
    out = []
    with client.connector(*address, timeout=5, **connect) as conn:
        for name, args, kwds in steps:
            try:
                got = getattr(conn, name)(*args, **kwds)
                if isinstance(got, Iterator):
                    got = list(got)
            except CpppoError as exc:
                got = exc
            out.append(normal(got))
    return out


def run_async(address: tuple[str, int], connect: dict[str, Any], steps: list[Step]) -> list[Any]:
    async def main() -> list[Any]:
        out = []
        async with AsyncConnector(*address, timeout=5, **connect) as conn:
            for name, args, kwds in steps:
                try:
                    got = getattr(conn, name)(*args, **kwds)
                    got = [g async for g in got] if hasattr(got, "__aiter__") else await got
                except CpppoError as exc:
                    got = exc
                out.append(normal(got))
        return out

    return asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_same_steps_same_results_on_both_front_ends(make_sim, scenario):
    connect, steps = SCENARIOS[scenario]
    sim = make_sim(*TAGS, udts=UDTS)
    sim["BIG"] = list(range(2000))
    blocking = run_blocking(sim.address, connect, steps)
    state = sim["SCADA"], sim["D"], sim["BITS"], sim["M1"]
    assert run_async(sim.address, connect, steps) == blocking
    assert (sim["SCADA"], sim["D"], sim["BITS"], sim["M1"]) == state  # every write is repeated exactly
    assert len(sim.controller.connections) == 0  # both closed what they opened
    if scenario == "operations":  # what a user sees, spelled out once
        results, _, values, (failures, processed) = blocking
        assert [r[5] for r in results] == values
        assert processed == values  # as cpppo 5: a write gives True
        assert values[:5] == [True, [0, 42, 0, 0, 0, 0], [42], [0.0], list(range(2000))]
        assert values[5] is None and results[5][4] == (0x04, [0])
        assert values[8] == [{"Speed": 0.0, "Count": 0, "Running": False, "Label": ""}]
        assert values[9:13] == [True, [True], True, ["fan"]] and values[14] is None and failures == 2
    if scenario == "one-shots":
        assert blocking[:8] == [True, [1, 2, 3, 0], True, [2.5], True, [MOTOR], True, [5, 6, 7]]
        assert bytes(blocking[8][1:]).decode() == "1756-L61/B LOGIX5561" and len(blocking[9]) > 20
        assert blocking[10:12] == [True, [2.25]]
        assert blocking[12] == ("RequestFailed", "NOPE: 0x04 path segment error [0x0000]", (0x04, [0]))
        assert blocking[13][0] == "RequestFailed"  # a Logix refuses a write in another type
    if scenario == "tag list upload":
        assert ("M1", "Motor") in blocking[0] and ("Program:Main.Local", "DINT") in blocking[0]
        assert ("Program:Main.Local", "DINT") not in blocking[1]
        assert blocking[2] == [True, [False, True, False], True, [2]]


def test_forward_open_along_a_route_path_on_both_front_ends(make_sim):
    sim = make_sim("X=INT[4]")
    route = (Port(1, 3), Logical("class", 2), Logical("instance", 1))
    steps: list[Step] = [
        ("forward_open", (), {"route_path": "1/3"}),
        ("results", (list(parse_operations(["X[0-1]=(INT)5,6", "X[0-3]"])),), {}),
        ("forward_close", (), {}),
        ("forward_open", (), {"route_path": "1/0/2"}),  # not a route path: refused before anything is sent
        ("results", (list(parse_operations(["X[0-3]"])),), {}),  # and nothing was opened
    ]
    blocking = run_blocking(sim.address, {}, steps)
    assert run_async(sim.address, {}, steps) == blocking
    assert blocking[0] == ("Connection", 4002, 4002, route, True)
    assert blocking[1] == [True, [5, 6, 0, 0]] and blocking[2] is None
    assert blocking[3][0] == EncodeError.__name__ and blocking[4] == [[5, 6, 0, 0]]
    assert len(sim.controller.connections) == 0


def test_a_closed_link_forgets_its_connection_on_both_front_ends(make_sim):
    """When the peer has gone, Forward Close has nobody to tell (the connection is forgotten) and
    Forward Open is refused at once."""
    def blocking(sim):
        conn = client.connector(*sim.address, timeout=5, connected=True)
        try:
            sim.stop()
            with pytest.raises(CommunicationError):
                list(conn.results(parse_operations(["X"])))
            conn.forward_close()
            assert conn.core.connection is None
            with pytest.raises(CommunicationError, match="closed"):
                conn.forward_open()
        finally:
            conn.close()

    async def asynchronous(sim):
        conn = await AsyncConnector(*sim.address, timeout=5, connected=True).open()
        try:
            sim.stop()
            with pytest.raises(CommunicationError):
                await conn.read("X")
            await conn.forward_close()
            assert conn.core.connection is None
            with pytest.raises(CommunicationError, match="closed"):
                await conn.forward_open()
        finally:
            await conn.close()

    blocking(make_sim("X=INT"))
    asyncio.run(asyncio.wait_for(asynchronous(make_sim("X=INT")), 60))


def test_request_failed_is_one_class(plc):
    from cpppo.client import RequestFailed as exported

    with client.connector(*plc.address, timeout=5) as conn, pytest.raises(exported) as info:
        conn.read_tag("NOPE")
    assert isinstance(info.value, RequestFailed) and info.value.status == (0x04, [0])
