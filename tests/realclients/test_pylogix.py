"""pylogix's PLC, unmodified, against the simulator; values cross-checked through pycomm3."""

from __future__ import annotations

import datetime

from pycomm3 import LogixDriver
from pylogix import PLC

from cpppo.server.enip import Simulator


def plc_client(plc: Simulator) -> PLC:
    host, port = plc.address
    client = PLC(host, port=port)
    client.SocketTimeout = 10
    return client


def test_read_and_write_every_kind_of_tag(plc):
    plc["D"] = 314159  # only our simulator holds this value
    with plc_client(plc) as c:
        assert c.Read("D").Value == 314159
        writes = {"S": -7, "I": 1000, "D": 123456, "L": 2**40, "R": 0.25, "LR": -1.5, "B": True,
                  "NAME": "from pylogix", "M1.Speed": 4.5, "MOTORS[2].Label": "xyz", "Program:Main.Local": 3,
                  "BITS[37]": True, "SCADA[5]": 55}
        for name, value in writes.items():
            assert c.Write(name, value).Status == "Success", name
        for name, value in writes.items():
            assert c.Read(name).Value == value, name
        assert c.Write("D.2", True).Status == "Success"
        assert c.Read("D.2").Value is True
    host, port = plc.address
    with LogixDriver(f"{host}:{port}") as d:  # read back through a different client
        assert d.read("NAME").value == "from pylogix"
        assert d.read("MOTORS[2].Label").value == "xyz"
        assert d.read("M1.Speed").value == 4.5
        assert d.read("D").value == 123456 | 4
        assert d.read("BITS[37]").value is True


def test_read_counts_and_lists_of_tags(plc):
    plc["SCADA"] = list(range(100))
    with plc_client(plc) as c:
        assert c.Read("SCADA[10]", 5).Value == [10, 11, 12, 13, 14]
        results = c.Read(["SCADA[3]", "D", "NAME"])
        assert [r.Status for r in results] == ["Success"] * 3
        assert results[0].Value == 3


def test_tag_list_with_programs_and_structures(plc):
    with plc_client(plc) as c:
        listing = c.GetTagList(True)
        assert listing.Status == "Success"
        kinds = {t.TagName: t.DataType for t in listing.Value}
        assert kinds["SCADA"] == "INT"
        assert kinds["M1"] == "Motor"
        assert kinds["Program:Main.Local"] == "DINT"


def test_plc_time_and_device_properties(plc):
    with plc_client(plc) as c:
        assert c.SetPLCTime().Status == "Success"
        now = c.GetPLCTime()
        assert now.Status == "Success"
        assert abs((now.Value - datetime.datetime.utcnow()).total_seconds()) < 60
        device = c.GetDeviceProperties().Value
        assert device.ProductName == "1756-L61/B LOGIX5561"
        assert device.Revision == "20.11"
