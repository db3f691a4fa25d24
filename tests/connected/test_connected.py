"""Connected explicit messaging over real sockets: Forward Open/Close, SendUnitData, limits, timeouts."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from cpppo.cip.connection_manager import (
    ConnectionParams,
    ForwardClose,
    ForwardOpen,
    decode_connection_failure,
    decode_forward_open_reply,
)
from cpppo.cip.epath import Logical, Port, Symbolic
from cpppo.cip.message import Reply, Request, decode_reply
from cpppo.cip.tag_services import ReadTag, WriteTag
from cpppo.cip.types import DINT, INT
from cpppo.enip import frames
from cpppo.enip.cpf import ConnectedAddress, ConnectedData, decode_send_data
from cpppo.enip.encapsulation import Command, Encapsulation
from cpppo.enip.framer import Framer
from cpppo.server.enip import Simulator

MR = (Logical("class", 2), Logical("instance", 1))


class Peer:
    """A raw EtherNet/IP peer: one TCP socket, a registered session, whole frames in and out."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=10)
        self.framer = Framer()
        self.pending: list[Encapsulation] = []
        self.session = self.transact(frames.register_session()).session

    def send(self, frame: Encapsulation) -> None:
        self.sock.sendall(frame.encode())

    def receive(self) -> Encapsulation:
        for _ in range(1000):
            if self.pending:
                return self.pending.pop(0)
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self.pending.extend(self.framer.feed(chunk))
        raise AssertionError("no frame")

    def transact(self, frame: Encapsulation) -> Encapsulation:
        self.send(frame)
        return self.receive()

    def unconnected(self, request: Request, wrap: bool = True) -> Reply:
        message = frames.unconnected_send(request, (Port(1, 0),)) if wrap else request
        return frames.reply_message(self.transact(frames.send_rr_data(self.session, message)))

    def connected(self, conn_id: int, sequence: int, request: Request, context: bytes = bytes(8)) -> Encapsulation:
        self.send(frames.send_unit_data(self.session, conn_id, sequence, request, context))
        return self.receive()

    def close(self) -> None:
        self.sock.close()


def forward_open(serial: int = 1, size: int = 500, large: bool = False, rpi: int = 2_000_000,
                 multiplier: int = 3) -> ForwardOpen:
    params = ConnectionParams(size, True, 0, 2)
    return ForwardOpen(0, 0x1234_0000 + serial, serial, 0x1337, 0xCAFE, rpi, params, rpi, params,
                       (Port(1, 0), *MR), multiplier, 0xA3, large=large)


def open_request(fo: ForwardOpen) -> Request:
    return Request(0x5B if fo.large else 0x54, frames.CONNECTION_MANAGER, fo.encode())


@pytest.fixture
def plc() -> Iterator[Simulator]:
    with Simulator(["SCADA=INT[1000]", "COUNT=DINT"]) as sim:
        yield sim


@pytest.fixture
def peer(plc: Simulator) -> Iterator[Peer]:
    p = Peer(plc.address)
    yield p
    p.close()


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.mark.parametrize("large, wrapped", [(False, False), (False, True), (True, False), (True, True)])
def test_forward_open_then_connected_reads_echo_the_sequence(plc, peer, large, wrapped):
    plc["COUNT"] = 9876
    fo = forward_open(size=4002 if large else 500, large=large)
    reply = peer.unconnected(open_request(fo), wrap=wrapped)
    assert reply.status == 0
    opened = decode_forward_open_reply(reply.data)
    assert opened.t_o_connection_id == fo.t_o_connection_id
    assert (opened.connection_serial, opened.vendor_id, opened.originator_serial) == fo.triad
    for sequence in (1, 2, 0xFFFF, 7):  # counts need not be contiguous
        frame = peer.connected(opened.o_t_connection_id, sequence, Request(0x4C, (Symbolic("COUNT"),),
                                                                            ReadTag(1).encode()))
        assert frame.command == Command.SEND_UNIT_DATA
        send = decode_send_data(frame.data)
        address, data = send.items
        assert isinstance(address, ConnectedAddress) and address.connection_id == fo.t_o_connection_id
        assert isinstance(data, ConnectedData) and data.sequence == sequence
        rpy = decode_reply(data.data)
        assert rpy.status == 0 and DINT.decode(rpy.data[2:]) == [9876]


def test_duplicate_triad_is_refused_and_forward_close_ends_the_connection(plc, peer):
    fo = forward_open(serial=7)
    first = decode_forward_open_reply(peer.unconnected(open_request(fo)).data)
    again = peer.unconnected(open_request(fo))
    assert (again.status, again.ext_status) == (0x01, (0x0100,))
    assert decode_connection_failure(again.data).connection_serial == 7
    closing = peer.unconnected(Request(0x4E, frames.CONNECTION_MANAGER,
                                       ForwardClose(*fo.triad, (Port(1, 0), *MR)).encode()))
    assert closing.status == 0
    assert len(plc.controller.connections) == 0
    # A request on the closed connection gets no reply: the next frame answers the List Services after it.
    peer.send(frames.send_unit_data(peer.session, first.o_t_connection_id, 1,
                                    Request(0x4C, (Symbolic("COUNT"),), ReadTag(1).encode())))
    peer.send(Encapsulation(Command.LIST_SERVICES, context=b"listsvcs"))
    assert peer.receive().context == b"listsvcs"
    unknown = peer.unconnected(Request(0x4E, frames.CONNECTION_MANAGER, ForwardClose(*fo.triad).encode()))
    assert (unknown.status, unknown.ext_status) == (0x01, (0x0107,))


def test_connection_size_limits_replies(plc, peer):
    plc["SCADA"] = list(range(1000))
    fo = forward_open(size=100)
    opened = decode_forward_open_reply(peer.unconnected(open_request(fo)).data)
    frame = peer.connected(opened.o_t_connection_id, 1, Request(0x4C, (Symbolic("SCADA"),), ReadTag(1000).encode()))
    rpy = decode_reply(decode_send_data(frame.data).message.data)
    assert rpy.status == 0x06  # partial: as much as fits in 100 bytes less the sequence count
    assert len(rpy.encode()) <= 98
    assert INT.decode(rpy.data[2:]) == list(range(len(rpy.data[2:]) // 2))
    too_big = peer.unconnected(open_request(forward_open(serial=2, size=4100, large=True)))  # over 4002
    assert (too_big.status, too_big.ext_status) == (0x01, (0x0109,))


def test_connections_end_with_their_session_and_on_timeout(plc):
    peer = Peer(plc.address)
    peer.unconnected(open_request(forward_open(serial=1)))
    assert len(plc.controller.connections) == 1
    peer.close()
    wait_until(lambda: len(plc.controller.connections) == 0)
    peer = Peer(plc.address)
    try:
        quick = forward_open(serial=2, rpi=10_000, multiplier=0)  # times out after 40 ms idle
        assert peer.unconnected(open_request(quick)).status == 0
        assert len(plc.controller.connections) == 1
        wait_until(lambda: len(plc.controller.connections) == 0)
    finally:
        peer.close()


def test_write_with_trailing_bytes_is_accepted_like_a_logix(plc, peer):
    data = WriteTag(0xC4, 1, DINT.encode([55])).encode() + b"\x03\x00junk"
    assert peer.unconnected(Request(0x4D, (Symbolic("COUNT"),), data)).status == 0
    assert plc["COUNT"] == 55
