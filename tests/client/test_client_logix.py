"""Logix tags through our client, over unconnected and connected sessions: the tag list, structures
(whole, by member, nested, in arrays), bits of integers and of BOOL arrays, multi-dimensional arrays
and program-scoped tags; every value written by us is read back by pycomm3 or pylogix, and theirs by us."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Iterator

import pytest
from pycomm3 import LogixDriver
from pylogix import PLC

from cpppo.client.cli import client_main
from cpppo.client.operations import OperationError, describe
from cpppo.client.plan import Plan
from cpppo.client.tag_list import LogixTypes, TagListError, parse_symbols, parse_template, read_template
from cpppo.client.values import RawStructure
from cpppo.device.datatypes import TypeRegistry
from cpppo.server.enip import Simulator, client
from cpppo.server.enip.aio import AsyncConnector
from cpppo.server.enip.client import parse_operations

UDTS = [
    "Motor = Speed:REAL, Count:DINT, Running:BOOL, Fault:BOOL, History:DINT[10], Label:STRING",
    "Line = Name:STRING, Motors:Motor[4], Total:LINT, Flags:BOOL[64]",
]
TAGS = [
    "S=SINT", "I=INT", "D=DINT", "L=LINT", "R=REAL", "DW=DWORD[2]", "BITS=BOOL[64]", "GRID=DINT[3,4]",
    "CUBE=INT[2,3,4]", "NAME=STRING", "M1=Motor", "MOTORS=Motor[3]", "L1=Line", "Program:Main.Local=DINT",
    "Program:Main.Pump=Motor", "Program:Aux.Count=INT[4]",
]
MOTOR = {"Speed": 1.5, "Count": 7, "Running": True, "Fault": False, "History": list(range(10)), "Label": "pump"}
BLANK = {"Speed": 0.0, "Count": 0, "Running": False, "Fault": False, "History": [0] * 10, "Label": ""}


@pytest.fixture
def plc() -> Iterator[Simulator]:
    with Simulator(TAGS, udts=UDTS, address=("127.0.0.1", 0), name="LOGIX") as sim:
        yield sim


def values(conn: client.connector, *ops: str, int_type: str | None = None) -> list[object]:
    return list(conn.results(parse_operations(list(ops), int_type=int_type)))


def pycomm3(sim: Simulator) -> LogixDriver:
    host, port = sim.address
    return LogixDriver(f"{host}:{port}")


def pylogix(sim: Simulator) -> PLC:
    host, port = sim.address
    c = PLC(host, port=port)
    c.SocketTimeout = 10
    return c


both = pytest.mark.parametrize("connected", [False, True], ids=["unconnected", "connected"])


# -- the tag list and templates -------------------------------------------------------------------
@both
def test_tag_list_names_types_dimensions_and_programs(plc, connected):
    with client.connector(*plc.address, timeout=5, connected=connected) as conn:
        tags = {t.name: t for t in conn.tag_list()}
        assert set(tags) == {t.split("=")[0] for t in TAGS}
        assert tags["GRID"].declaration == "DINT[3,4]" and tags["GRID"].dims == (3, 4)
        assert tags["CUBE"].dims == (2, 3, 4)
        assert tags["NAME"].declaration == "STRING" and tags["M1"].declaration == "Motor"
        assert tags["MOTORS"].declaration == "Motor[3]" and tags["L1"].type_name == "Line"
        assert tags["Program:Main.Pump"].declaration == "Motor"
        assert tags["Program:Aux.Count"].declaration == "INT[4]"
        assert tags["BITS"].bool_array and tags["BITS"].declaration == "DWORD[2]"
        assert not tags["D"].bool_array and not tags["M1"].bool_array
        before = conn.core.requests
        assert conn.tag_list() == list(tags.values())  # cached per connection
        assert conn.core.requests == before
        assert [t.name for t in conn.tag_list(programs=False, refresh=True)] == [
            t.split("=")[0] for t in TAGS if not t.startswith("Program:")]


def test_tag_list_pages_on_partial_transfer(make_sim):
    names = [f"A_RATHER_LONG_TAG_NAME_NUMBER_{i:04d}=DINT" for i in range(150)]
    sim = make_sim(*names)
    with client.connector(*sim.address, timeout=5) as conn:
        before = conn.core.requests
        listed = conn.tag_list()
        assert [t.name for t in listed] == [n.split("=")[0] for n in names]
        assert conn.core.requests - before >= 150 * 44 // 500  # one 504-byte page could not hold them
    with client.connector(*sim.address, timeout=5, connected=True) as conn:
        before = conn.core.requests
        assert len(conn.tag_list()) == 150
        assert conn.core.requests - before <= 3  # the connection's 4002-byte replies hold far more


def test_templates_parse_member_layout(plc):
    with client.connector(*plc.address, timeout=5) as conn:
        conn.tag_list()
        motor = conn.logix.template_named("Motor")
        line = conn.logix.template_named("Line")
    assert motor.declaration() == UDTS[0]
    assert line.declaration() == UDTS[1]
    declared = plc.controller.types.get("Motor")
    assert (motor.size, motor.handle) == (declared.size, declared.handle)
    hidden = [m for m in motor.members if m.hidden]
    assert len(hidden) == 1 and hidden[0].name.startswith("ZZZZZZZZZZ")
    running, fault = motor.by_name["running"], motor.by_name["fault"]
    assert (running.offset, running.bit, fault.offset, fault.bit) == (hidden[0].offset, 0, hidden[0].offset, 1)


def _attributes(structure: object) -> bytes:
    """A Template's Get Attribute List reply data: 1 handle, 2 members, 4 definition words, 5 size."""
    return (struct.pack("<H", 4) + struct.pack("<HHH", 1, 0, structure.handle)
            + struct.pack("<HHH", 2, 0, len(structure.members)) + struct.pack("<HHI", 4, 0, structure.definition_size)
            + struct.pack("<HHI", 5, 0, structure.size))


def test_template_attributes_with_a_failed_attribute_sans_io():
    """A failed attribute carries no value: the definition size (attribute 4) is read from the right
    bytes, and the failure is reported by attribute and status."""
    failed_handle = (struct.pack("<H", 4) + struct.pack("<HH", 1, 0x14) + struct.pack("<HHH", 2, 0, 3)
                     + struct.pack("<HHI", 4, 0, 10) + struct.pack("<HHI", 5, 0, 12))
    proc = read_template(7, LogixTypes())
    next(proc)
    (ops,) = [proc.send([(0, "attrs", {}, None, 0, failed_handle)])]
    assert [op["data"] for op in ops] == [struct.pack("<IH", 0, 10 * 4 - 20)]  # the definition, 20 bytes
    with pytest.raises(TagListError, match="attribute 1 status 0x14"):
        proc.send([(0, "definition", {}, None, 0, bytes(20))])
    with pytest.raises(TagListError, match="attribute 1 status 0x14"):
        parse_template(7, failed_handle, bytes(20), LogixTypes())
    with pytest.raises(TagListError, match="attributes truncated"):
        parse_template(7, failed_handle[:-2], bytes(20), LogixTypes())
    no_size = struct.pack("<H", 1) + struct.pack("<HH", 4, 0x14)
    proc = read_template(7, LogixTypes())
    next(proc)
    with pytest.raises(TagListError, match="no definition size"):
        proc.send([(0, "attrs", {}, None, 0, no_size)])


def test_template_and_symbol_parsing_sans_io():
    registry = TypeRegistry()
    motor = registry.parse(UDTS[0])
    string = registry.get("STRING")
    types = LogixTypes()
    logix_string = parse_template(0x0FCE, _attributes(string), string.template_data(), types)
    types.add_template(logix_string)
    assert logix_string.string and logix_string.type_name == "STRING"
    t = parse_template(motor.instance_id, _attributes(motor), motor.template_data(), types)
    types.add_template(t)
    raw = motor.encode([MOTOR, BLANK])
    assert t.decode(raw) == [MOTOR, BLANK]
    assert t.encode([MOTOR, BLANK]) == raw
    page = struct.pack("<IH", 7, 4) + b"GRID" + struct.pack("<H3I", 0x40C4, 3, 4, 0)
    page += struct.pack("<IH", 9, 2) + b"M1" + struct.pack("<H3I", 0x8000 | motor.instance_id, 0, 0, 0)
    tags, last = parse_symbols(page, "Program:P.")
    assert last == 9
    assert [(x.name, x.dims, x.type_code, x.template) for x in tags] == [
        ("Program:P.GRID", (3, 4), 0xC4, None), ("Program:P.M1", (), 0x02A0, motor.instance_id)]


# -- structures ---------------------------------------------------------------------------------------
@both
def test_structures_read_whole_by_member_nested_and_in_arrays(plc, connected):
    plc["M1"] = MOTOR
    plc["MOTORS"] = [BLANK, {**MOTOR, "Label": "second"}, BLANK]
    plc["L1"] = {"Name": "line", "Motors": [BLANK, BLANK, {**MOTOR, "Count": 99}, BLANK], "Total": 2**40,
                 "Flags": [8, 0]}  # the simulator holds BOOL[64] as two DWORDs
    with client.connector(*plc.address, timeout=5, connected=connected) as conn:
        got = values(conn, "M1", "MOTORS[1]", "MOTORS[0-2]", "M1.Speed", "MOTORS[1].Label", "L1.Motors[2].Count",
                     "L1.Motors[2].History[3-5]", "MOTORS[1].History[9]", "L1.Name", "L1.Total", "L1", "NAME")
    assert got[0] == [MOTOR]
    assert got[1] == [{**MOTOR, "Label": "second"}]
    assert got[2] == [BLANK, {**MOTOR, "Label": "second"}, BLANK]
    assert got[3:10] == [[1.5], ["second"], [99], [3, 4, 5], [9], ["line"], [2**40]]
    (line,) = got[10]
    assert line["Motors"][2]["Count"] == 99 and line["Flags"][3] is True and sum(line["Flags"]) == 1
    assert got[11] == [""]


@both
def test_structures_written_from_dicts_read_back_by_pycomm3(plc, connected):
    second = {**MOTOR, "Speed": -2.0, "Running": False, "Fault": True, "Label": "by cpppo"}
    line = {"Name": "L", "Motors": [MOTOR, second, BLANK, BLANK], "Total": -5, "Flags": [True] + [False] * 63}
    with client.connector(*plc.address, timeout=5, connected=connected) as conn:
        ops = list(parse_operations(["M1=" + _json(MOTOR), "MOTORS[1-2]=[" + _json(second) + "," + _json(BLANK) + "]"]))
        ops.append({"path": [{"symbolic": "L1"}], "method": "write", "tag_type": 0x02A0, "data": [line]})
        assert list(conn.results(ops)) == [True, True, True]
        assert values(conn, "M1", "MOTORS[1]", "L1") == [[MOTOR], [second], [line]]
    assert plc["MOTORS"][1] == second and plc["L1"]["Total"] == -5
    with pycomm3(plc) as d:
        assert d.read("M1").value == MOTOR
        assert d.read("MOTORS[1]").value == second
        assert d.read("L1.Motors[1].Label").value == "by cpppo"


def test_structure_values_from_pycomm3_read_by_us(plc):
    with pycomm3(plc) as d:
        assert d.write("MOTORS[2]", MOTOR).error is None
        assert d.write("M1.Fault", True).error is None
        assert d.write("L1.Motors[3].Label", "from pycomm3").error is None
    with client.connector(*plc.address, timeout=5, connected=True) as conn:
        got = values(conn, "MOTORS[2]", "M1.Fault", "M1", "L1.Motors[3].Label")
    assert got[0] == [MOTOR] and got[1] == [1] and got[2] == [{**BLANK, "Fault": True}]
    assert got[3] == ["from pycomm3"]


def test_structure_writes_need_every_member(plc):
    with client.connector(*plc.address, timeout=5) as conn:
        with pytest.raises(OperationError, match="missing Count"):
            values(conn, 'M1={"Speed": 1.5}')
        with pytest.raises(OperationError, match="no member 'Nope'"):
            values(conn, "M1=" + _json({**MOTOR, "Nope": 1}))
        with pytest.raises(OperationError, match="not a structure"):
            values(conn, "D=" + _json(MOTOR))


def test_templates_are_learned_once_and_only_when_needed(plc):
    with client.connector(*plc.address, timeout=5) as conn:
        assert values(conn, "D", "MOTORS[1].Count", "NAME") == [[0], [0], [""]]
        assert not conn.logix.loaded  # members and STRINGs decode by the reply's type word alone
        assert values(conn, "D", "M1", "I") == [[0], [BLANK], [0]]  # the upload happened in between, in order
        assert conn.logix.loaded
        before = conn.core.requests
        assert values(conn, "MOTORS[0]", "L1.Motors[0]") == [[BLANK], [BLANK]]
        assert conn.core.requests - before == 2


def test_plan_holds_unknown_structures_and_keeps_them_raw_if_the_upload_fails():
    types = LogixTypes()
    plan = Plan(types, parse_operations(["A", "B", "C"]))
    feed = plan.feed()
    first, second = next(feed), next(feed)
    assert describe(first) == "A" and describe(second) == "B"
    raw = RawStructure(0x1234, b"\x01\x02")
    assert plan.take((1, "A", first, None, 0, [5]))
    assert not plan.take((2, "B", second, None, 0, raw))  # held until the templates are known...
    assert list(feed) == [] and not plan.finished  # ...and no more operations meanwhile
    assert plan.wants_upload
    types.failed = "tag list: 0x08 service not supported"
    assert plan.flush() == [(2, "B", second, None, 0, [1, 2])]
    assert [describe(op) for op in plan.feed()] == ["C"] and plan.finished
    with pytest.raises(OperationError, match="service not supported"):  # a bit write needs the tag's type
        Plan(types, parse_operations(["D.3=1"])).prepare(next(iter(parse_operations(["D.3=1"]))))


# -- bits, BOOL arrays, dimensions, programs ------------------------------------------------------
@both
def test_bits_of_integers_read_modify_write(plc, connected):
    plc["D"] = 0
    plc["L"] = 0
    plc["I"] = -1
    with client.connector(*plc.address, timeout=5, connected=connected) as conn:
        assert values(conn, "D.3=1", "D.31=1", "L.40=1", "I.15=0", "S.7=true", "M1.Count.30=1") == [True] * 6
        assert values(conn, "D.3", "D.4", "D.31", "L.40", "I.15", "I.14", "S.7", "M1.Count.30") == [
            [True], [False], [True], [True], [False], [True], [True], [True]]
        assert values(conn, "D.0=(DINT)1,1,0,1") == [True]  # several bits at once, with a cast
        with pytest.raises(OperationError, match="REAL"):
            values(conn, "R.1=1")
    assert plc["D"] == -(2**31) + 0b1011
    assert plc["L"] == 1 << 40 and plc["I"] == 0x7FFF and plc["S"] == -128 and plc["M1"]["Count"] == 1 << 30
    with pycomm3(plc) as d:
        assert d.read("D.3").value is True and d.read("L.40").value is True and d.read("I.15").value is False


@both
def test_bool_arrays_with_the_tag_list(plc, connected):
    with client.connector(*plc.address, timeout=5, connected=connected, logix=True) as conn:
        assert values(conn, "BITS[37]=1", "BITS[0]=1", "BITS[63]=1", "BITS[36-38]=0,1,1") == [True] * 4
        assert values(conn, "BITS[37]", "BITS[36-40]", "BITS[30-33]", "BITS[63]", "DW[1]") == [
            [True], [False, True, True, False, False], [False, False, False, False], [True], [False]]
        with pytest.raises(OperationError, match="within one DWORD"):
            values(conn, "BITS[30-33]=1,1,1,1")
        assert values(conn, "L1.Flags[40]=1", "L1.Flags[39-41]", "Program:Main.Pump.History[1]=-1") == [
            True, [False, True, False], True]  # BOOL array members too; DINT arrays stay DINTs
    assert plc["BITS"] == [1, 1 << 5 | 1 << 6 | 1 << 31]
    assert plc["L1"]["Flags"] == [0, 1 << 8] and plc["Program:Main.Pump"]["History"][1] == -1
    with client.connector(*plc.address, timeout=5) as conn:  # without logix=True a DWORD array is DWORDs
        assert values(conn, "BITS[1]", "BITS[1].6") == [[1 << 5 | 1 << 6 | 1 << 31], [True]]
    with pycomm3(plc) as d:
        assert d.read("BITS[37]").value is True and d.read("BITS[36]").value is False
    with pylogix(plc) as c:
        assert c.Write("BITS[12]", True).Status == "Success"
    with client.connector(*plc.address, timeout=5, logix=True) as conn:
        assert values(conn, "BITS[12]", "BITS[0-2]") == [[True], [True, False, False]]


@both
def test_multi_dimensional_and_program_scoped_tags(plc, connected):
    plc["GRID"] = list(range(12))
    with client.connector(*plc.address, timeout=5, connected=connected) as conn:
        assert values(conn, "GRID[1,2]", "GRID[2][3]", "GRID[2,1]*3", "CUBE[1,2,3]=(INT)-9", "CUBE[1,2,3]") == [
            [6], [11], [9, 10, 11], True, [-9]]
        assert values(conn, "GRID[0,1]=(DINT)41", "Program:Main.Local=(DINT)5", "Program:Main.Local",
                      "Program:Main.Pump.Label=(STRING)\"prog\"", "Program:Aux.Count[2]=(INT)3",
                      "Program:Aux.Count[0-3]") == [True, True, [5], True, True, [0, 0, 3, 0]]
        assert values(conn, "Program:Main.Pump") == [[{**BLANK, "Label": "prog"}]]
    assert plc["CUBE"][1 * 12 + 2 * 4 + 3] == -9
    with pycomm3(plc) as d:
        assert d.read("GRID[0,1]").value == 41
        assert d.read("Program:Main.Local").value == 5
        assert d.read("Program:Main.Pump.Label").value == "prog"


@both
def test_values_written_by_us_read_by_pylogix_and_back(plc, connected):
    with client.connector(*plc.address, timeout=5, connected=connected, logix=True) as conn:
        assert values(conn, "D=123456", "R=2", "NAME=\"ours\"", "M1.Speed=4.5", "MOTORS[2].Label=\"xyz\"",
                      "Program:Main.Local=3", "BITS[37]=1", "I=-4", int_type="DINT") == [True] * 8
    with pylogix(plc) as c:
        got = {n: c.Read(n).Value for n in ("D", "R", "NAME", "M1.Speed", "MOTORS[2].Label", "Program:Main.Local",
                                             "BITS[37]", "I")}
        assert got == {"D": 123456, "R": 2.0, "NAME": "ours", "M1.Speed": 4.5, "MOTORS[2].Label": "xyz",
                       "Program:Main.Local": 3, "BITS[37]": True, "I": -4}
        for name, value in {"D": 99, "NAME": "theirs", "MOTORS[0].Count": 12, "GRID[2,2]": 5, "D.5": True}.items():
            assert c.Write(name, value).Status == "Success", name
    with client.connector(*plc.address, timeout=5, connected=connected) as conn:
        assert values(conn, "D", "NAME", "MOTORS[0].Count", "GRID[2,2]", "D.5") == [[99 | 32], ["theirs"], [12],
                                                                                    [5], [True]]


def test_asyncio_connector_reaches_the_same_tags(plc):
    async def main() -> list[object]:
        async with AsyncConnector(*plc.address, timeout=5, connected=True, logix=True) as conn:
            tags = [t.name for t in await conn.tag_list()]
            assert "Program:Main.Local" in tags
            assert await conn.write("MOTORS[1]", MOTOR)
            assert await conn.write("D.4", [True])
            assert await conn.write("BITS[40]=1")
            assert await conn.write("GRID[1,1]=7")
            got = [await conn.read(t) for t in ("MOTORS[1]", "D.4", "BITS[40]", "GRID[1,1]", "MOTORS[1].Label")]
        async with AsyncConnector(*plc.address, timeout=5) as conn:  # templates learned when first needed
            assert not conn.logix.loaded
            failures, results = await conn.process(parse_operations(["D", "MOTORS[0-1]", "GRID[1,1]"]), depth=3)
            assert conn.logix.loaded and failures == 0
            return [*got, *results]

    assert asyncio.run(main()) == [[MOTOR], [True], [True], [7], ["pump"], [16], [BLANK, MOTOR], [7]]
    with pycomm3(plc) as d:
        assert d.read("MOTORS[1]").value == MOTOR and d.read("BITS[40]").value is True


# -- the command line ---------------------------------------------------------------------------------
def cli(capsys, *argv: str) -> tuple[int, list[str], list[str]]:
    status = client_main(list(argv))
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


def test_cli_lists_tags_and_structures(plc, capsys):
    address = f"{plc.address[0]}:{plc.address[1]}"
    status, out, _ = cli(capsys, "-a", address, "--tags")
    assert status == 0
    listed = dict(line.split() for line in out)
    assert listed["GRID"] == "DINT[3,4]" and listed["MOTORS"] == "Motor[3]" and listed["BITS"] == "DWORD[2]"
    assert listed["Program:Main.Pump"] == "Motor" and len(listed) == len(TAGS)
    status, out, _ = cli(capsys, "-a", address, "--list-udts", "--logix", "--connected", "--list-tags")
    assert status == 0
    assert "BITS  BOOL[64]" in [" ".join(line.split()).replace(" ", "  ") for line in out]
    assert out[-2:] == sorted(UDTS)


def test_cli_operations_on_logix_tags(plc, capsys):
    address = f"{plc.address[0]}:{plc.address[1]}"
    status, out, _ = cli(capsys, "-a", address, "--logix", "--connected", "-p", "M1=" + _json(MOTOR), "M1.Label",
                         "BITS[37]=1", "BITS[36-37]", "D.3=1", "D", "GRID[1,2]=70000", "GRID[1,2]", "MOTORS[1].Running=1",
                         "Program:Main.Local=-3", "Program:Main.Local")
    assert status == 0
    assert out == [f"M1 <= [{MOTOR!r}]: 'OK'", "M1.Label == ['pump']: 'OK'", "BITS[37-37] <= [1]: 'OK'",
                   "BITS[36-37] == [False, True]: 'OK'", "D.3 <= [1]: 'OK'", "D == [8]: 'OK'",
                   "GRID[1,2] <= [70000]: 'OK'", "GRID[1,2] == [70000]: 'OK'", "MOTORS[1].Running <= [1]: 'OK'",
                   "Program:Main.Local <= [-3]: 'OK'", "Program:Main.Local == [-3]: 'OK'"]
    status, out, err = cli(capsys, "-a", address, "-p", "M1", 'M1={"Speed": 1}')
    assert status == 1
    assert out == [f"M1 == [{MOTOR!r}]: 'OK'"]
    assert err == ["enip_client: M1: Motor needs every member; missing Count, Running, Fault, History, Label"]
    status, _, err = cli(capsys, "-a", address, "-u", "--tags")
    assert status == 2 and "need a TCP session" in err[0]


def _json(value: object) -> str:
    return json.dumps(value)


def test_operation_syntax_for_logix_tags():
    ops = list(parse_operations(["GRID[1,2]", "CUBE[1][2][0-3]", "D.3", "D.3=1", "M1.Count.30=(DINT)1,0",
                                 'M1={"Speed": 1}', 'MOTORS[0-1]=[{"a": 1}, {"b": 2}]', "Program:Main.Local*2"]))
    assert ops[0]["path"] == [{"symbolic": "GRID"}, {"element": 1}, {"element": 2}]
    assert ops[1] == {"path": [{"symbolic": "CUBE"}, {"element": 1}, {"element": 2}, {"element": 0}],
                      "method": "read", "elements": 4}
    assert ops[2] == {"path": [{"symbolic": "D"}], "bit": 3, "method": "read", "elements": 1}
    assert ops[3] == {"path": [{"symbolic": "D"}], "bit": 3, "method": "write", "elements": 1, "tag_type": 0xC1,
                      "data": [1]}
    assert ops[4]["path"] == [{"symbolic": "M1"}, {"symbolic": "Count"}] and ops[4]["data"] == [1, 0]
    assert ops[5]["tag_type"] == 0x02A0 and ops[5]["data"] == [{"Speed": 1}]
    assert ops[6]["elements"] == 2 and len(ops[6]["data"]) == 2
    assert ops[7]["path"] == [{"symbolic": "Program:Main"}, {"symbolic": "Local"}]
    assert [describe(op) for op in ops] == ["GRID[1,2]", "CUBE[1,2,0]*4", "D.3", "D.3", "M1.Count.30", "M1",
                                            "MOTORS[0-1]", "Program:Main.Local*2"]
    for bad, why in (("D[1-2].3", "cannot follow an index range"), ("GRID[1-2,3]", "only the last index"),
                     ("D.3=2", "out of range for BOOL"), ("D.3=(DINT)2", "a bit is 0 or 1"), ("M1={Speed: 1}", "not JSON"), ("D.3+4", "no \\+offset"),
                     ("MOTORS[0-2]=[{}]", "1 values for a range of 3")):
        with pytest.raises(OperationError, match=why):
            list(parse_operations([bad]))
