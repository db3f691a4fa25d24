"""Encapsulation-level behaviour over real sockets: sessions, list commands, TCP and UDP."""

from __future__ import annotations

import socket

from cpppo.enip.cpf import IdentityItem, LegacyItem, ServiceItem, decode_cpf
from cpppo.enip.encapsulation import Command, EncapStatus, Encapsulation, RegisterSession
from cpppo.enip.frames import register_session, reply_message

from .rawclient import RawClient, command, read_tag, tag, udp_transact, values


def test_register_session_returns_fresh_nonzero_handles(plc):
    handles = []
    for _ in range(5):
        with RawClient(plc.address) as c:
            reply = c.transact(register_session(b"regist01"))
            assert reply.status == 0
            assert reply.command == Command.REGISTER_SESSION
            assert reply.context == b"regist01"
            assert reply.data == RegisterSession().encode()
            handles.append(reply.session)
    assert all(handles)
    assert len(set(handles)) == len(handles)


def test_requests_must_carry_the_session_handle(plc):
    with RawClient(plc.address) as c:
        # before registering, SendRRData is refused with 0x64, and the connection stays up
        unregistered = c.transact(c.rr_frame(read_tag(tag("FLOAT")), session=0))
        assert unregistered.status == EncapStatus.INVALID_SESSION
        c.register()
        wrong = c.transact(c.rr_frame(read_tag(tag("FLOAT")), session=c.session ^ 0x5A5A))
        assert wrong.status == EncapStatus.INVALID_SESSION
        assert wrong.data == b""
        plc["FLOAT"] = 2.5
        assert c.read_values(tag("FLOAT")) == [2.5]


def test_another_connections_handle_is_refused(plc):
    with RawClient(plc.address, register=True) as a, RawClient(plc.address, register=True) as b:
        stolen = b.transact(b.rr_frame(read_tag(tag("FLOAT")), session=a.session))
        assert stolen.status == EncapStatus.INVALID_SESSION
        assert b.read_values(tag("FLOAT")) == [0.0]
        assert a.read_values(tag("FLOAT")) == [0.0]


def test_register_twice_on_one_connection_is_refused(plc):
    with RawClient(plc.address, register=True) as c:
        again = c.transact(register_session())
        assert again.status != 0
        assert c.read_values(tag("FLOAT")) == [0.0]


def test_register_with_unsupported_version_is_refused(plc):
    with RawClient(plc.address) as c:
        reply = c.transact(Encapsulation(Command.REGISTER_SESSION, 0, 0, bytes(8), 0,
                                         RegisterSession(version=2).encode()))
        assert reply.status == EncapStatus.UNSUPPORTED_PROTOCOL
        assert reply.session == 0
        assert c.register()


def test_unregister_session_closes_the_connection(plc):
    with RawClient(plc.address, register=True) as c:
        c.send(command(Command.UNREGISTER_SESSION, session=c.session))
        assert c.closed_by_server()
    with RawClient(plc.address, register=True) as c:  # the server goes on serving others
        assert c.read_values(tag("FLOAT")) == [0.0]


def test_unregister_with_wrong_handle_keeps_the_connection(plc):
    with RawClient(plc.address, register=True) as c:
        reply = c.transact(command(Command.UNREGISTER_SESSION, session=c.session + 1))
        assert reply.status == EncapStatus.INVALID_SESSION
        assert c.read_values(tag("FLOAT")) == [0.0]


def test_unknown_command_answers_invalid_command_and_keeps_the_session(plc):
    with RawClient(plc.address, register=True) as c:
        reply = c.transact(command(0x0099, session=c.session))
        assert reply.status == EncapStatus.INVALID_COMMAND
        assert c.read_values(tag("FLOAT")) == [0.0]


def _identity(frame: Encapsulation) -> IdentityItem:
    assert frame.status == 0
    items, _ = decode_cpf(frame.data)
    assert len(items) == 1 and isinstance(items[0], IdentityItem)
    return items[0]


def test_list_identity_over_tcp_and_udp_carries_the_identity_and_address(plc):
    host, port = plc.address
    with RawClient(plc.address) as c:  # no session needed
        tcp = _identity(c.transact(command(Command.LIST_IDENTITY)))
    udp = _identity(udp_transact(plc.address, command(Command.LIST_IDENTITY)))
    for item in (tcp, udp):
        assert item.product_name == "1756-L61/B LOGIX5561"
        assert item.vendor_id == 1
        assert item.device_type == 0x0E
        assert item.product_code == 0x36
        assert item.revision == (20, 11)
        assert item.serial_number == 0x006C061A
        assert item.sin_family == socket.AF_INET
        assert (item.sin_addr, item.sin_port) == (host, port)


def test_list_identity_matches_the_identity_object(plc):
    with RawClient(plc.address, register=True) as c:
        name = c.cip(bytes((0x0E, 3, 0x20, 0x01, 0x24, 0x01, 0x30, 0x07)))
        serial = c.cip(bytes((0x0E, 3, 0x20, 0x01, 0x24, 0x01, 0x30, 0x06)))
        item = _identity(c.transact(command(Command.LIST_IDENTITY)))
    assert name.data[1:].decode() == item.product_name
    assert int.from_bytes(serial.data, "little") == item.serial_number


def test_list_services_over_tcp_and_udp(plc):
    with RawClient(plc.address) as c:
        frames = [c.transact(command(Command.LIST_SERVICES))]
    frames.append(udp_transact(plc.address, command(Command.LIST_SERVICES)))
    for frame in frames:
        assert frame.status == 0 and frame.context == b"ctx-1234"
        items, _ = decode_cpf(frame.data)
        assert len(items) == 1 and isinstance(items[0], ServiceItem)
        assert items[0].name == "Communications"
        assert items[0].capability & 0x0020  # CIP encapsulation over TCP


def test_list_interfaces_over_tcp_and_udp(plc):
    with RawClient(plc.address) as c:
        frames = [c.transact(command(Command.LIST_INTERFACES))]
    frames.append(udp_transact(plc.address, command(Command.LIST_INTERFACES)))
    for frame in frames:
        assert frame.status == 0
        assert frame.command == Command.LIST_INTERFACES
        items, _ = decode_cpf(frame.data)
        assert items == []


def test_legacy_0001_command_over_tcp_and_udp(plc):
    host, port = plc.address
    with RawClient(plc.address) as c:
        frames = [c.transact(command(Command.LEGACY_0001))]
    frames.append(udp_transact(plc.address, command(Command.LEGACY_0001)))
    for frame in frames:
        assert frame.status == 0
        items, _ = decode_cpf(frame.data)
        assert len(items) == 1 and isinstance(items[0], LegacyItem)
        assert items[0].sin_port == port
        assert items[0].ip_address == host


def test_udp_does_not_register_sessions(plc):
    reply = udp_transact(plc.address, register_session())
    assert reply.status != 0
    assert reply.session == 0


def test_udp_garbage_is_ignored_and_udp_keeps_answering(plc):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x63\x00\x05", plc.address)  # truncated header
    assert _identity(udp_transact(plc.address, command(Command.LIST_IDENTITY))).product_name


def test_nop_gets_no_reply_and_the_session_continues(plc):
    with RawClient(plc.address, register=True) as c:
        c.send(command(Command.NOP, b"padding", session=c.session))
        plc["SCADA"] = [7]
        reply = c.cip(read_tag(tag("SCADA")))  # the next frame is the read's reply, not a NOP's
        assert values(reply) == [7]


def test_pipelined_requests_are_answered_in_order_with_their_contexts(plc):
    plc["SCADA"] = list(range(50))
    with RawClient(plc.address, register=True) as c:
        frames = [c.rr_frame(read_tag(tag("SCADA", i)), context=i.to_bytes(8, "little")) for i in range(50)]
        c.send(b"".join(f.encode() for f in frames))
        for i in range(50):
            reply = c.recv()
            assert reply.context == i.to_bytes(8, "little")
            assert values(reply_message(reply)) == [i]


def test_a_frame_split_byte_by_byte_is_reassembled(plc):
    plc["FLOAT"] = 1.25
    with RawClient(plc.address, register=True) as c:
        raw = c.rr_frame(read_tag(tag("FLOAT"))).encode()
        for i in range(len(raw)):
            c.send(raw[i : i + 1])
        assert values(reply_message(c.recv())) == [1.25]


def test_with_a_response_delay_replies_before_unregister_are_still_sent(make_sim):
    sim = make_sim("X=DINT", delay=(0.05, 0.1))
    sim["X"] = 3
    with RawClient(sim.address, register=True) as c:
        reads = b"".join(c.rr_frame(read_tag(tag("X")), context=bytes([i]) * 8).encode() for i in range(5))
        c.send(reads + command(Command.UNREGISTER_SESSION, session=c.session).encode())
        for i in range(5):  # every reply, in order, before the connection closes
            reply = c.recv()
            assert reply.context == bytes([i]) * 8
            assert values(reply_message(reply)) == [3]
        assert c.closed_by_server()
