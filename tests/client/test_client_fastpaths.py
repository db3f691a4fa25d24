"""The client's fast paths give what the general paths give: frames packed in one struct call,
whole reads decoded straight from (Multiple Service Packet) replies, cached operation specs, and
reply dotdicts built from already-decoded values with every documented key."""

from __future__ import annotations

import struct

import pytest

from cpppo.cip.message import decode_reply, encode_multiple, encode_reply
from cpppo.client.connection import Connection
from cpppo.client.core import ClientCore, context_bytes
from cpppo.client.engine import OperationEngine
from cpppo.client.replies import cip_reply_dotdict, frame_dotdict
from cpppo.dotdict import dotdict
from cpppo.enip.cpf import (
    ConnectedAddress,
    ConnectedData,
    NullAddress,
    SendData,
    UnconnectedData,
    decode_send_data,
)
from cpppo.enip.encapsulation import Command, Encapsulation, decode_frame
from cpppo.server.enip import Simulator
from cpppo.server.enip.client import parse_operations
from cpppo.server.enip.session import Session, SessionTable

TAGS = ["D=DINT[4]", "I=INT[3]", "R=REAL[2]", "B=BOOL", "U=SINT[3]", "L=LINT", "S=STRING", "A=DINT[300]"]


@pytest.fixture(scope="module")
def device():
    sim = Simulator(TAGS)
    sim["D"] = [1, -2, 3, -4]
    sim["I"] = [7, 8, 9]
    sim["R"] = [1.5, -2.25]
    sim["B"] = [1]
    sim["U"] = [-1, 0, 1]
    sim["L"] = [1 << 40]
    sim["S"] = ["hello"]
    sim["A"] = list(range(300))
    return sim


def registered(sim):
    session = Session(sim.controller, SessionTable())
    core = ClientCore()
    core.registered(session.handle(decode_frame(core.register_frame()))[0])
    return session, core


def run(session, core, ops, **kwds):
    """Drive an engine against the simulator's session without I/O; all its results."""
    engine = OperationEngine(core, ops, **kwds)
    out = []
    while not engine.finished:
        frames = engine.outgoing()
        for raw in frames:
            assert engine.receive(session.handle(decode_frame(raw))[0], ("127.0.0.1", 44818))
        out += engine.results()
    return out


def test_frames_are_those_of_the_codec():
    core = ClientCore()
    core.session = 0x12345678
    for message in (b"", b"\x4c\x02\x91\x04TEST\x01\x00", bytes(range(256)) * 8):
        for context in (0, 7, b"abc", b"12345678"):
            for timeout in (0, 5, 0xFFFF):
                data = SendData((NullAddress(), UnconnectedData(message)), 0, timeout).encode()
                want = Encapsulation(Command.SEND_RR_DATA, core.session, 0, context_bytes(context), 0, data)
                assert core.send_frame(message, context, timeout) == want.encode()
    core.connection = Connection(0xDEADBEEF, 2, (1, 2, 3), 4002, 4002, ())
    for message in (b"", b"\x4c\x02\x91\x04TEST\x01\x00", bytes(range(256)) * 8):
        for context in (0, b"zz"):
            sequence, frame = core.unit_frame(message, context)
            data = SendData((ConnectedAddress(0xDEADBEEF), ConnectedData(sequence, message))).encode()
            assert frame == Encapsulation(Command.SEND_UNIT_DATA, core.session, 0, context_bytes(context), 0,
                                          data).encode()


MIXED = ["D[0-3]", "I[1-2]", "R[0-1]", "B", "U[0-2]", "L", "S", "NOPE", "D[2]", "A[0-299]", "D[1-3]", "I*2", "D[0]+4"]


@pytest.mark.parametrize("multiple", [0, 200, 4000])
def test_results_and_reply_dotdicts_match_a_fresh_decode(device, multiple):
    """Every yielded reply dotdict equals one built from the raw frame by the general decoder."""
    session, core = registered(device)
    results = run(session, core, parse_operations(MIXED), depth=3, multiple=multiple)
    values = {dsc: val for _, dsc, _, _, _, val in results}
    assert values["D[0-3]"] == [1, -2, 3, -4]
    assert values["I[1-2]"] == [8, 9]
    assert values["R[0-1]"] == [1.5, -2.25]
    assert values["B"] == [1]
    assert values["U[0-2]"] == [-1, 0, 1]
    assert values["L"] == [1 << 40]
    assert values["S"] == ["hello"]
    assert values["NOPE"] is None
    assert values["A[0-299]"] == list(range(300))
    assert values["D[1-3]"] == [-2, 3, -4]
    for _, dsc, _, rpy, sts, val in results:
        assert isinstance(rpy, dotdict)
        assert rpy == frame_dotdict(_frame_of(rpy), rpy.peer), dsc
        assert (sts == 0) == (val is not None)


def _frame_of(rpy: dotdict) -> Encapsulation:
    e = rpy.enip
    return Encapsulation(e.command, e.session_handle, e.status, e.sender_context.input, e.options, e.input)


def test_multiple_service_packet_reply_has_the_documented_keys(device):
    session, core = registered(device)
    results = run(session, core, parse_operations(["D[0-1]", "I[2]", "NOPE", "R[1]"]), depth=1, multiple=500)
    rpy = results[0][3]
    assert all(r[3] is rpy for r in results)  # one Multiple Service Packet: one reply
    request = rpy["enip.CIP.send_data.CPF.item[1].unconnected_send.request"]
    assert request.service == 0x8A and request.status == 0x1E and request.status_ext.size == 0  # one failed
    assert request.multiple.number == 4
    first = rpy["enip.CIP.send_data.CPF.item[1].unconnected_send.request.multiple.request[0]"]
    assert list(dict.keys(first)) == ["service", "status", "status_ext", "read_tag", "type", "data"]
    assert list(first) == ["service", "status", "status_ext.size", "read_tag", "type", "data"]  # the leaves, as cpppo 5
    assert first.service == 0xCC and first.status == 0 and first.status_ext.size == 0
    assert first.read_tag is True and first.type == 0xC4 and first.data == [1, -2]
    assert request.multiple.request[1].data == [9] and request.multiple.request[1].type == 0xC3
    assert request.multiple.request[2].status != 0 and "data" not in request.multiple.request[2]
    assert request.multiple.request[3].data == [-2.25]
    # the reply's values are its own: changing a result's values leaves the reply alone
    results[0][5].append(99)
    assert first.data == [1, -2]
    for key in ("peer", "enip.command", "enip.length", "enip.session_handle", "enip.status", "enip.options",
                "enip.sender_context.input", "enip.input", "enip.CIP.send_data.interface",
                "enip.CIP.send_data.timeout", "enip.CIP.send_data.CPF.count",
                "enip.CIP.send_data.CPF.item[1].type_id", "enip.CIP.send_data.CPF.item[1].length",
                "enip.CIP.send_data.CPF.item[1].unconnected_send.request.input"):
        assert key in rpy, key


def _reply_frame(core, context, cip):
    return Encapsulation(Command.SEND_RR_DATA, core.session, 0, context, 0,
                         SendData((NullAddress(), UnconnectedData(cip))).encode())


@pytest.mark.parametrize("body, want_sts, want_val", [
    (struct.pack("<Hii", 0xC4, 5, 6), 0, [5, 6]),  # whole: the fast path
    (struct.pack("<Hiii", 0xC4, 5, 6, 7), 0, [5, 6]),  # more than asked for: the general path trims
    (struct.pack("<Hhh", 0xC3, 1, 2), 0, [1, 2]),  # INT, 2 elements: whole again
    (struct.pack("<HHii", 0x02A0, 0x1234, 1, 2), 0, [1, 0, 0, 0, 2, 0, 0, 0]),  # a structure: the general path
])
def test_whole_read_fast_path_falls_back(body, want_sts, want_val):
    """Crafted Multiple Service Packet replies: only exactly whole reads take the fast path."""
    core = ClientCore()
    core.session = 1
    engine = OperationEngine(core, parse_operations(["X[0-1]", "Y[0-1]"]), multiple=500)
    (raw,) = engine.outgoing()
    context = decode_frame(raw).context
    good = encode_reply(0x4C, 0, (), struct.pack("<Hii", 0xC4, 1, 2))
    odd = encode_reply(0x4C, 0, (), body)
    cip = encode_reply(0x0A, 0, (), encode_multiple([good, odd]))
    assert engine.receive(_reply_frame(core, context, cip))
    results = engine.results()
    assert results[0][5] == [1, 2]
    assert results[1][4] == want_sts and list(results[1][5]) == want_val
    fresh = frame_dotdict(_reply_frame(core, context, cip))
    assert results[0][3] == fresh


def test_extended_status_in_a_multiple_service_packet():
    core = ClientCore()
    core.session = 1
    engine = OperationEngine(core, parse_operations(["X", "Y"]), multiple=500)
    (raw,) = engine.outgoing()
    context = decode_frame(raw).context
    good = encode_reply(0x4C, 0, (), struct.pack("<Hi", 0xC4, 3))
    bad = encode_reply(0x4C, 0xFF, (0x2105,), b"")
    cip = encode_reply(0x0A, 0x1E, (), encode_multiple([good, bad]))
    engine.receive(_reply_frame(core, context, cip))
    (x, y) = engine.results()
    assert x[4] == 0 and x[5] == [3]
    assert y[4] == (0xFF, [0x2105]) and y[5] is None
    assert x[3] == frame_dotdict(_reply_frame(core, context, cip))


def test_known_values_give_the_same_reply_dotdict():
    raw = encode_reply(0x4C, 0, (), struct.pack("<Hii", 0xC4, 1, 2))
    rpy = decode_reply(raw)
    assert cip_reply_dotdict(rpy, raw, (0xC4, [1, 2])) == cip_reply_dotdict(rpy, raw)
    msp = encode_reply(0x0A, 0, (), encode_multiple([raw, encode_reply(0x4C, 5, (), b"")]))
    outer = decode_reply(msp)
    known = [(0x4C, 0xC4, [1, 2]), decode_reply(encode_reply(0x4C, 5, (), b""))]
    assert cip_reply_dotdict(outer, msp, known) == cip_reply_dotdict(outer, msp)


def test_cached_specs_follow_the_operation(device):
    """The same tag read with other counts, descriptions or offsets is encoded for each."""
    session, core = registered(device)
    ops = [{"path": [{"symbolic": "D"}], "elements": 2},
           {"path": [{"symbolic": "D"}], "elements": 4, "description": "all of D"},
           {"path": [{"symbolic": "D"}, {"element": 1}], "elements": 2},
           {"path": [{"symbolic": "D"}], "elements": 4, "offset": 8},
           {"path": [{"symbolic": "D"}], "elements": 2}]
    results = run(session, core, ops, multiple=500)
    assert [r[5] for r in results] == [[1, -2], [1, -2, 3, -4], [-2, 3], [3, -4], [1, -2]]
    assert results[1][1] == "all of D"
    path = [{"symbolic": "I"}]
    op = {"path": path, "elements": 1}
    assert run(session, core, [op])[0][5] == [7]
    path[0]["symbolic"] = "D"  # the same list, now naming another tag
    assert run(session, core, [op])[0][5] == [1]


@pytest.mark.parametrize("connected", [False, True])
def test_reply_dotdicts_of_the_usual_layouts_equal_those_of_the_items(connected):
    """frame_dotdict reads the usual SendRRData/SendUnitData layouts without item objects: same
    keys, same order, same values as from the decoded items."""
    cip = encode_reply(0x4C, 0, (), struct.pack("<Hii", 0xC4, 1, 2))
    if connected:
        data = SendData((ConnectedAddress(0x1234), ConnectedData(77, cip))).encode()
        frame = Encapsulation(Command.SEND_UNIT_DATA, 9, 0, b"abcdefgh", 0, data)
    else:
        data = SendData((NullAddress(), UnconnectedData(cip)), 3, 5).encode()
        frame = Encapsulation(Command.SEND_RR_DATA, 9, 0, b"abcdefgh", 0, data)
    fast = frame_dotdict(frame, ("127.0.0.1", 44818))
    slow = frame_dotdict(frame, ("127.0.0.1", 44818), decode_send_data(frame.data))
    assert list(fast.paths()) == list(slow.paths())
    key = "connected_send" if connected else "unconnected_send"
    assert fast[f"enip.CIP.send_data.CPF.item[1].{key}.request.data"] == [1, 2]
    if connected:
        assert fast.enip.CIP.send_data.CPF.item[0].connection_id == 0x1234
        assert fast.enip.CIP.send_data.CPF.item[1].sequence == 77
    # an unusual layout (a third item) takes the items' path
    odd = Encapsulation(Command.SEND_RR_DATA, 9, 0, b"abcdefgh", 0,
                        SendData((NullAddress(), UnconnectedData(cip), UnconnectedData(b""))).encode())
    assert frame_dotdict(odd).enip.CIP.send_data.CPF.count == 3


def test_finished_operations_leave_no_reference_cycles(device):
    """Results taken, nothing of the engine's is left for the cyclic garbage collector."""
    import gc

    session, core = registered(device)
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        results = run(session, core, parse_operations(MIXED * 3), depth=3, multiple=500)
        assert len(results) == 3 * len(MIXED)
        del results
        gc.collect()
        left = {type(o).__name__ for o in gc.garbage}
        assert not left & {"_Op", "_Chunk", "_Txn"}, left
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
