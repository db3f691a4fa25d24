"""A frame the server cannot take closes the connection, but only after the whole frames before it."""

from __future__ import annotations

import socket
import struct

from cpppo.enip.encapsulation import Command, EncapStatus, Encapsulation
from cpppo.enip.framer import Framer
from cpppo.server.enip import Simulator


def test_good_frames_before_an_oversized_one_are_answered_first():
    with Simulator(["X=DINT"], max_frame=1000) as plc, socket.create_connection(plc.address, timeout=10) as s:
        good = Encapsulation(Command.LIST_SERVICES, context=b"goodreq!").encode()
        huge = struct.pack("<HHII8sI", Command.SEND_RR_DATA, 5000, 0, 0, b"too big!", 0)
        s.sendall(good + huge)
        framer = Framer()
        replies: list[Encapsulation] = []
        for _ in range(100):  # until the server closes the connection
            chunk = s.recv(65536)
            if not chunk:
                break
            replies.extend(framer.feed(chunk))
        assert [r.context for r in replies[:1]] == [b"goodreq!"]
        assert replies[-1].status == EncapStatus.INVALID_LENGTH
        assert len(replies) == 2


def test_list_identity_over_ipv6_answers_with_the_configured_ipv4_address():
    """List Identity carries only IPv4: a peer on ::1 hears the TCP/IP object's address."""
    from cpppo.device.objects import TcpipInfo
    from cpppo.enip.cpf import decode_cpf

    with Simulator(["X=DINT"], address=("::1", 0), tcpip=TcpipInfo(ip_address="10.1.2.3")) as plc, \
            socket.create_connection(plc.address[:2], timeout=10) as s:
        s.sendall(Encapsulation(Command.LIST_IDENTITY).encode())
        framer = Framer()
        replies: list[Encapsulation] = []
        for _ in range(100):
            replies.extend(framer.feed(s.recv(65536)))
            if replies:
                break
        items, _ = decode_cpf(replies[0].data)
        assert items[0].sin_addr == "10.1.2.3" and items[0].sin_port == plc.address[1]
        s.sendall(Encapsulation(Command.NOP).encode() + Encapsulation(Command.LIST_SERVICES, context=b"still up").encode())
        for _ in range(100):  # the connection survived
            got = framer.feed(s.recv(65536))
            if got:
                assert got[0].context == b"still up"
                break
