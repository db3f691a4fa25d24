"""parse_operations: every documented operation form, and clear errors for malformed ones."""

from __future__ import annotations

import pytest

from cpppo.cip.types import TYPES, TypeCode
from cpppo.client.operations import describe
from cpppo.server.enip import client
from cpppo.server.enip.client import OperationError, parse_operations


def one(text: str) -> dict:
    (op,) = parse_operations([text])
    return op


@pytest.mark.parametrize(("text", "path", "elements", "desc"), [
    ("Tag", [{"symbolic": "Tag"}], 1, "Tag"),
    ("Tag[3]", [{"symbolic": "Tag"}, {"element": 3}], 1, "Tag[3-3]"),
    ("Tag[1-5]", [{"symbolic": "Tag"}, {"element": 1}], 5, "Tag[1-5]"),
    ("Tag*10", [{"symbolic": "Tag"}], 10, "Tag*10"),
    ("Tag[1].Sub[0-9]", [{"symbolic": "Tag"}, {"element": 1}, {"symbolic": "Sub"}, {"element": 0}], 10,
     "Tag[1].Sub[0-9]"),
    ("Tag[1].SubTag[0]*10", [{"symbolic": "Tag"}, {"element": 1}, {"symbolic": "SubTag"}, {"element": 0}], 10,
     "Tag[1].SubTag[0-9]"),
    ("Program:Main.Tag[2]", [{"symbolic": "Program:Main"}, {"symbolic": "Tag"}, {"element": 2}], 1,
     "Program:Main.Tag[2-2]"),
    ("@0x2/1/1", [{"class": 2}, {"instance": 1}, {"attribute": 1}], 1, "@0x02/1/1"),
    ("@0x1FF/01/0x1A", [{"class": 511}, {"instance": 1}, {"attribute": 26}], 1, "@0x1FF/1/26"),
    ("@1/1/7/3", [{"class": 1}, {"instance": 1}, {"attribute": 7}, {"element": 3}], 1, "@0x01/1/7[3-3]"),
    ("@4/5/{\"connection\":100}", [{"class": 4}, {"instance": 5}, {"connection": 100}], 1, None),
    ("@0x04/5/{\"connection\":100}", [{"class": 4}, {"instance": 5}, {"connection": 100}], 1, None),
    ("@{\"class\":4}/5/{\"connection\":100}", [{"class": 4}, {"instance": 5}, {"connection": 100}], 1, None),
    ("@2/1/1[0-9]", [{"class": 2}, {"instance": 1}, {"attribute": 1}, {"element": 0}], 10, None),
])
def test_read_forms(text, path, elements, desc):
    op = one(text)
    assert op["method"] == "read"
    assert op["path"] == path
    assert op["elements"] == elements
    if desc is not None:
        assert describe(op) == desc


@pytest.mark.parametrize("number", ["26", "0x1A", "0o32", "0b11010", "026"])
def test_numbers_in_every_base(number):
    assert one(f"@{number}/{number}/{number}")["path"] == [{"class": 26}, {"instance": 26}, {"attribute": 26}]


def test_documented_examples():
    assert list(client.parse_operations(["Tag[8-9]=88,99", "Tag[0-10]"])) == [
        {"path": [{"symbolic": "Tag"}, {"element": 8}], "method": "write", "elements": 2,
         "tag_type": TypeCode.INT, "data": [88, 99]},
        {"path": [{"symbolic": "Tag"}, {"element": 0}], "method": "read", "elements": 11},
    ]
    op = one("Tag[0-9]+16=(DINT)4,5,6,7,8,9")
    assert op == {"path": [{"symbolic": "Tag"}, {"element": 0}], "method": "write", "elements": 10,
                  "tag_type": TypeCode.DINT, "data": [4, 5, 6, 7, 8, 9], "offset": 16}
    assert describe(op) == "Tag[0-9]+16"
    assert one("Tag[0-9]+16")["offset"] == 16
    assert one('TEXT[1]=(SSTRING)"Hello, world!"')["data"] == ["Hello, world!"]
    assert one("Tag_Name[0-3]=[0,1,2,3]")["data"] == [0, 1, 2, 3]
    assert one("@511/01/26[99]=1")["path"][-1] == {"element": 99}


def test_value_types():
    assert one("X=1,2")["tag_type"] == TypeCode.INT
    real = one("X=9.9,10")
    assert real["tag_type"] == TypeCode.REAL and real["data"] == [9.9, 10.0]
    assert one("X=-5")["data"] == [-5]
    assert one("X=0x10")["data"] == [16]
    assert one("X=(BOOL)true,false,1")["data"] == [1, 0, 1]
    assert one('X=(STRING)"a,b","c"')["data"] == ["a,b", "c"]
    assert one("X=(sstring)plain")["data"] == ["plain"]
    assert one('X="quoted"')["tag_type"] == TypeCode.SSTRING
    assert next(parse_operations(["X=1"], int_type="DINT"))["tag_type"] == TypeCode.DINT


@pytest.mark.parametrize("name", sorted(TYPES))
def test_cast_to_every_type(name):
    value = '"x"' if "STRING" in name else "1.5" if "REAL" in name else "1"
    op = one(f"T[0]=({name}){value}")
    assert op["tag_type"] == TYPES[name].code
    assert op["elements"] == 1


def test_dict_operations_pass_through_with_defaults():
    ops = list(parse_operations([{"path": [{"symbolic": "A"}]}, "B"], route_path="1/2"))
    assert ops[0] == {"path": [{"symbolic": "A"}], "method": "read", "route_path": "1/2"}
    assert ops[1]["route_path"] == "1/2"


@pytest.mark.parametrize("text", [
    "Tag[", "Tag[5-1]", "Tag[1-5]=1,2", "Tag[a]", "@1/2/3/4/5", "@1/{bad}", "@1/{\"nope\":1}", "X=(FOO)1",
    "X=(SINT)300", "X=(USINT)-1", "X=1,,2", "", "3Tag", "Tag[0-9]+16=(DINT)1,2", "X=(INT)1.5", "X=(REAL)abc",
    'X=(INT)"s"', "Tag[1-3].Sub", "Tag[0-3]*5",
])
def test_malformed_operations_name_themselves(text):
    with pytest.raises(OperationError) as info:
        one(text)
    assert repr(text) in str(info.value)


def test_validate_builds_lines_only_when_they_are_shown(caplog):
    """validate makes each result's line (the repr of every value) only when it is printed or logged."""
    import logging

    from cpppo.client.engine import validate

    class Counted:
        shown = 0

        def __repr__(self) -> str:
            Counted.shown += 1
            return "Counted"

    log = logging.getLogger("cpppo.test.validate")
    results = [(0, "X[0-0]", {"method": "read"}, None, 0, Counted())]
    with caplog.at_level(logging.WARNING, logger=log.name):
        assert [r[5] for r in validate(results, validating=True, log=log)] == [results[0][5]]
    assert Counted.shown == 0 and not caplog.records
    with caplog.at_level(logging.INFO, logger=log.name):
        list(validate(results, validating=True, log=log))
    assert Counted.shown == 1 and caplog.messages == ["X[0-0] == Counted: 'OK'"]
