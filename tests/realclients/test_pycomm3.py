"""pycomm3's LogixDriver, unmodified, against the simulator: everything its public API does."""

from __future__ import annotations

import time

from pycomm3 import CIPDriver, ClassCode, LogixDriver, Services

from cpppo.server.enip import Simulator


def driver(plc: Simulator, **kwds: object) -> LogixDriver:
    host, port = plc.address
    return LogixDriver(f"{host}:{port}", **kwds)


def test_open_uploads_the_tag_list_and_identity(plc):
    plc["D"] = 271828  # a value only our simulator holds proves pycomm3 talked to it
    with driver(plc) as d:
        assert d.read("D").value == 271828
        assert d.info["product_name"] == "1756-L61/B LOGIX5561"
        assert d.info["revision"] == {"major": 20, "minor": 11}
        assert d.info["name"] == "CPPPO_SIM"
        assert "Main" in d.info["programs"]
        assert "Program:Main.Local" in d.tags  # the upload at open includes program-scoped tags
        tags = {t["tag_name"]: t for t in d.get_tag_list()}
        assert set(tags) >= {"S", "D", "SCADA", "ARR", "BITS", "GRID", "NAME", "M1", "MOTORS"}
        assert tags["SCADA"]["dimensions"] == [100, 0, 0]
        assert tags["GRID"]["dim"] == 2 and tags["GRID"]["dimensions"] == [3, 4, 0]
        assert tags["NAME"]["data_type_name"] == "STRING"
        assert tags["M1"]["data_type_name"] == "Motor"
        assert d.data_types["Motor"]["attributes"] == ["Speed", "Count", "Running", "Fault", "History", "Label"]


def test_scalars_of_every_type_round_trip(plc):
    values = {"S": -5, "I": -1234, "D": 2**31 - 1, "L": -(2**62), "R": 1.5, "LR": 2.25e100, "B": True}
    with driver(plc) as d:
        for name, value in values.items():
            assert d.write(name, value).error is None, name
        for name, value in values.items():
            assert d.read(name).value == value, name
    assert plc["S"] == -5 and plc["L"] == -(2**62) and plc["B"] == 1


def test_arrays_slices_and_a_5000_element_array(plc):
    plc["ARR"] = list(range(5000))
    with driver(plc) as d:
        whole = d.read("ARR{5000}")
        assert whole.error is None and whole.value == list(range(5000))
        assert d.read("ARR[10]{5}").value == [10, 11, 12, 13, 14]
        assert d.write("SCADA[10]{3}", [7, 8, 9]).error is None
        assert d.write("ARR{5000}", [i * 2 for i in range(5000)]).error is None  # fragmented write
    assert plc["SCADA"][9:14] == [0, 7, 8, 9, 0]
    assert plc["ARR"][4999] == 9998


def test_bool_arrays_and_bits_of_integers(plc):
    with driver(plc) as d:
        assert d.write("BITS[37]", True).error is None
        assert d.write("D.3", True).error is None
        assert d.read("BITS[37]").value is True
        assert d.read("BITS[36]").value is False
        assert d.read("D.3").value is True
    assert plc["BITS"] == [0, 1 << 5]
    assert plc["D"] == 8


def test_multi_dimensional_arrays(plc):
    plc["GRID"] = list(range(12))
    with driver(plc) as d:
        assert d.read("GRID[1,2]").value == 6
        assert d.write("GRID[2,3]", 99).error is None
    assert plc["GRID"][11] == 99


def test_strings(plc):
    plc["NAME"] = "set by the simulator"
    with driver(plc) as d:
        assert d.read("NAME").value == "set by the simulator"
        assert d.write("NAME", "written by pycomm3").error is None
    assert plc["NAME"] == "written by pycomm3"


def test_structures_whole_by_member_and_in_arrays(plc):
    with driver(plc) as d:
        assert d.write("M1.Speed", 2.5).error is None
        assert d.write("M1.Fault", True).error is None
        assert d.write("MOTORS[1].Label", "pump 2").error is None
        assert d.write("MOTORS[2].History[3]", 42).error is None
        whole = {"Speed": 1.0, "Count": 3, "Running": True, "Fault": False, "History": list(range(10)),
                 "Label": "whole"}
        assert d.write("MOTORS[0]", whole).error is None
        m1 = d.read("M1").value
        assert m1["Speed"] == 2.5 and m1["Fault"] is True and m1["Running"] is False
        assert d.read("MOTORS[1].Label").value == "pump 2"
        assert d.read("MOTORS[0]").value == whole
    assert plc["MOTORS"][2]["History"][3] == 42
    assert plc["MOTORS"][0]["Label"] == "whole"


def test_program_scoped_tags_and_many_tags_in_one_call(plc):
    with driver(plc) as d:
        assert d.write("Program:Main.Local", 5).error is None
        results = d.read("D", "R", "NAME", "Program:Main.Local", "M1.Count")
        assert [r.error for r in results] == [None] * 5
        assert results[3].value == 5
        written = d.write(("I", 11), ("R", 0.5), ("NAME", "multi"))
        assert [w.error for w in written] == [None] * 3
    assert plc["Program:Main.Local"] == 5
    assert (plc["I"], plc["R"], plc["NAME"]) == (11, 0.5, "multi")


def test_plc_time(plc):
    with driver(plc) as d:
        now = int(time.time() * 1e6)
        assert abs(d.get_plc_time().value["microseconds"] - now) < 60_000_000
        target = now - 3600 * 1_000_000
        assert d.set_plc_time(target).error is None
        assert abs(d.get_plc_time().value["microseconds"] - target) < 60_000_000


def test_generic_messages_connected_and_unconnected_and_list_identity(plc):
    host, port = plc.address
    with CIPDriver(f"{host}:{port}") as d:
        for connected in (True, False):
            r = d.generic_message(service=Services.get_attribute_single, class_code=ClassCode.identity_object,
                                  instance=1, attribute=7, connected=connected, unconnected_send=not connected)
            assert r.error is None
            assert r.value == b"\x141756-L61/B LOGIX5561"
    identity = CIPDriver.list_identity(f"{host}:{port}")
    assert identity["product_name"] == "1756-L61/B LOGIX5561"
    assert identity["serial"] == "006c061a"


def test_nested_structures_and_string_members():
    udts = ["Motor = Speed:REAL, Label:STRING", "Line = Name:STRING, Motors:Motor[4], Total:LINT"]
    with Simulator(["NAME=STRING", "L1=Line"], udts=udts) as plc:
        plc["NAME"] = "abc"
        with driver(plc) as d:
            assert d.read("NAME.LEN").value == 3
            assert d.read("NAME.DATA[0]{3}").value == [97, 98, 99]
            assert d.write("NAME.LEN", 2).error is None
            assert d.write("L1.Motors[2].Label", "deep").error is None
            assert d.read("L1.Motors[2]").value == {"Speed": 0.0, "Label": "deep"}
        assert plc["NAME"] == "ab"
        assert plc["L1"]["Motors"][2]["Label"] == "deep"


def test_firmware_21_and_later_is_addressed_by_symbol_instance():
    """From revision 21 pycomm3 addresses tags as Symbol instances (20 6B 24 <id>), not by name."""
    seen: list[bytes] = []
    with Simulator(["D=DINT", "ARR=DINT[10]"], identity={"revision": (32, 11)}) as plc:
        original = plc.controller._decode

        def record(message: bytes, limit: int, origin: int, *depth: int):
            seen.append(message)
            return original(message, limit, origin, *depth)

        plc.controller._decode = record  # type: ignore[method-assign]
        plc["ARR"] = list(range(10))
        with driver(plc) as d:
            assert d.info["revision"]["major"] == 32
            assert d.write("D", 77).error is None
            assert d.read("ARR[3]").value == 3
        assert plc["D"] == 77
    by_instance = [m for m in seen if m[0] in (0x4C, 0x4D) and m[2:4] == b"\x20\x6b"]
    assert len(by_instance) >= 2
