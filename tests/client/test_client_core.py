"""The sans-I/O core: replies fed whole, byte by byte and in one run; garbage in a reply fails the
operation (never the engine); the documented reply keys for every kind of reply."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpppo.cip.epath import Port
from cpppo.client.core import Addressing, ClientCore
from cpppo.client.engine import OperationEngine
from cpppo.client.replies import enip_format, frame_dotdict
from cpppo.enip.encapsulation import Command, Encapsulation, decode_frame
from cpppo.enip.frames import unconnected_send
from cpppo.errors import DecodeError, EncodeError
from cpppo.server.enip import Simulator
from cpppo.server.enip.client import parse_operations
from cpppo.server.enip.session import Session, SessionTable


@pytest.fixture(scope="module")
def device():
    sim = Simulator(["SCADA=INT[100]", "F=REAL"])
    sim["SCADA"] = list(range(100))
    return sim


def registered(sim):
    session = Session(sim.controller, SessionTable())
    core = ClientCore()
    core.registered(session.handle(decode_frame(core.register_frame()))[0])
    return session, core


@pytest.mark.parametrize("feed", ["whole", "bytewise", "together"])
def test_replies_through_the_framer(device, feed):
    session, core = registered(device)
    engine = OperationEngine(core, parse_operations([f"SCADA[{i}]" for i in range(10)]), depth=10)
    raw = b"".join(session.handle(decode_frame(f))[0].encode() for f in engine.outgoing())
    if feed == "whole":
        chunks = [raw]
    elif feed == "bytewise":
        chunks = [raw[i : i + 1] for i in range(len(raw))]
    else:
        chunks = [raw[:7], raw[7:]]
    for chunk in chunks:
        for frame in core.receive_data(chunk):
            assert engine.receive(frame)
    assert [r[5] for r in engine.results()] == [[i] for i in range(10)]
    assert engine.finished


def test_stray_replies_are_counted_not_taken(device):
    session, core = registered(device)
    engine = OperationEngine(core, parse_operations(["SCADA[1]"]))
    (raw,) = engine.outgoing()
    reply = session.handle(decode_frame(raw))[0]
    stray = Encapsulation(reply.command, reply.session, 0, b"zzzzzzzz", 0, reply.data)
    assert not engine.receive(stray) and engine.stray == 1
    assert engine.receive(reply) and engine.results()[0][5] == [1]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=80), status=st.integers(0, 3))
def test_garbage_replies_fail_the_operation_only(device, data, status):
    _, core = registered(device)
    engine = OperationEngine(core, parse_operations(["SCADA[0-9]", "F"]), depth=2, multiple=200)
    for raw in engine.outgoing():
        frame = decode_frame(raw)
        assert engine.receive(Encapsulation(Command.SEND_RR_DATA, core.session, status, frame.context, 0, data))
    results = engine.results()
    assert len(results) == 2
    for _, _, _, rpy, sts, val in results:
        assert val is None or sts == 0
        assert rpy.enip.status == status


def test_encapsulation_error_status_fails_every_operation_in_the_request(device):
    _, core = registered(device)
    engine = OperationEngine(core, parse_operations(["SCADA[0]", "SCADA[1]"]), multiple=200)
    (raw,) = engine.outgoing()
    frame = decode_frame(raw)
    engine.receive(Encapsulation(Command.SEND_RR_DATA, core.session, 0x64, frame.context))
    assert [(r[4], r[5]) for r in engine.results()] == [(0x64, None), (0x64, None)]


def test_addressing_forms():
    assert Addressing.of().route_path is not None and Addressing.of(simple=True).send_path == ()
    assert Addressing.of(route_path=False).route_path is None
    assert Addressing.of(send_path="").wrap(b"\x4c\x00") == b"\x4c\x00"
    # by default: an Unconnected Send to @6/1 along route path 1/0, priority tick 5, 157 ticks
    assert Addressing.of().wrap(b"\x4c\x00") == unconnected_send(b"\x4c\x00", (Port(1, 0),)).encode()
    assert Addressing.of(route_path=False, priority_time_tick=3, timeout_ticks=9).wrap(b"\x4c\x00") == \
        unconnected_send(b"\x4c\x00", None, priority_time_tick=3, timeout_ticks=9).encode()
    with pytest.raises(EncodeError):
        Addressing.of(priority_time_tick=16)
    with pytest.raises(EncodeError):
        Addressing.of(route_path="1/0/2")


def test_framer_errors_are_decode_errors():
    core = ClientCore(max_frame=1000)
    with pytest.raises(DecodeError):
        core.receive_data(struct.pack("<HHII8sI", 0x6F, 0xFFFF, 0, 0, bytes(8), 0))


def test_reply_dotdicts_of_list_and_register(device):
    session, core = registered(device)
    for command, key in ((Command.LIST_IDENTITY, "list_identity"), (Command.LIST_SERVICES, "list_services"),
                         (Command.LIST_INTERFACES, "list_interfaces"), (Command.LEGACY_0001, "legacy_CPF_0x0001")):
        rpy = frame_dotdict(session.handle(decode_frame(core.command_frame(command)))[0], ("10.0.0.1", 44818))
        assert rpy.peer == ("10.0.0.1", 44818) and rpy.enip.command == command
        assert key in rpy.enip.CIP
        assert enip_format(rpy).startswith('{\n    "peer": [')
    fresh = Session(device.controller, SessionTable())
    rpy = frame_dotdict(fresh.handle(decode_frame(ClientCore().register_frame()))[0])
    assert rpy.enip.CIP.register.protocol_version == 1


@pytest.mark.parametrize("size", [0, 2, 40, 600])
def test_send_frames_are_the_shared_frame_builders(size):
    """The client's SendRRData/SendUnitData frames are exactly what cpppo.enip.frames builds, and
    split_send_data takes them apart as cpppo.enip.cpf does."""
    from cpppo.client.connection import Connection
    from cpppo.client.replies import split_send_data
    from cpppo.enip.frames import send_rr_data, send_unit_data

    core = ClientCore()
    core.session = 0x01020304
    message = bytes(range(256)) * 3
    message = message[:size]
    context = b"ctx-1234"
    frame = core.send_frame(message, context, timeout=7)
    assert frame == send_rr_data(core.session, message, context, 7).encode()
    assert split_send_data(Command.SEND_RR_DATA, frame[24:]) == (0, 7, None, None, message)
    core.connection = Connection(0xAABBCCDD, 0x11223344, (1, 2, 3), 4002, 4002, ())
    sequence, frame = core.unit_frame(message, context)
    assert frame == send_unit_data(core.session, 0xAABBCCDD, sequence, message, context).encode()
    assert split_send_data(Command.SEND_UNIT_DATA, frame[24:]) == (0, 0, 0xAABBCCDD, sequence, message)
    assert split_send_data(Command.SEND_RR_DATA, frame[24:]) is None  # not the unconnected layout
    assert split_send_data(Command.SEND_UNIT_DATA, frame[24:-1]) is None  # length disagrees
