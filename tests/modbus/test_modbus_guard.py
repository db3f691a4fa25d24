"""The simulator against hostile Modbus/TCP clients: bad frames, bad requests, half frames, silence.

pymodbus 3.16's own server goes silent for good after one bad MBAP header, answers unknown
functions and bad quantities with function code 0x80, and never closes half-sent or idle
connections; ours must resynchronise by closing, answer with the request's code | 0x80, and time
connections out as the EtherNet/IP server does.
"""

from __future__ import annotations

import logging
import socket
import struct
import time

import pytest
from modbus_support import make_store
from pymodbus.client import ModbusTcpClient

from cpppo.modbus import ModbusSimulator
from cpppo.modbus.guard import Unframed, mbap_frame, request_exception


def frame(pdu: bytes, transaction: int = 7, unit: int = 1, protocol: int = 0, length: int | None = None) -> bytes:
    return struct.pack(">HHHB", transaction, protocol, len(pdu) + 1 if length is None else length, unit) + pdu


class Peer:
    """A raw Modbus/TCP connection to a simulator."""

    def __init__(self, sim: ModbusSimulator) -> None:
        self.sock = socket.create_connection(("127.0.0.1", sim.address[1]), timeout=5)

    def ask(self, data: bytes) -> bytes:
        self.sock.sendall(data)
        head = self._exactly(6)
        return head + self._exactly(struct.unpack(">H", head[4:6])[0])

    def _exactly(self, n: int) -> bytes:
        out = b""
        for _ in range(n + 1):
            if len(out) == n:
                return out
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    def closed_within(self, seconds: float) -> bool:
        self.sock.settimeout(seconds)
        try:
            return self.sock.recv(1) == b""
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def sim():
    with ModbusSimulator(make_store("40001-40010=7", "00001-00016=0"), host="127.0.0.1", port=0,
                         idle_timeout=0.5, frame_timeout=0.3) as simulator:
        yield simulator


@pytest.mark.parametrize("pdu, answer", [
    (b"\x55\x00\x00", b"\xd5\x01"),  # a function nobody serves: 01 under 0x55 | 0x80
    (b"\x83\x00\x00\x00\x01", b"\x83\x01"),  # a request with the exception bit set
    (b"\x03\x00\x00\x00\x00", b"\x83\x03"),  # read 0 registers
    (b"\x03\x00\x00\x00\x7e", b"\x83\x03"),  # read 126 registers (125 at most)
    (b"\x03\xff\xff\x00\x02", b"\x83\x02"),  # past the end of the address space
    (b"\x05\x00\x00\x12\x34", b"\x85\x03"),  # a coil is 0x0000 or 0xFF00
    (b"\x10\x00\x00\x00\x02\x03\x00\x01\x00", b"\x90\x03"),  # byte count does not match the count
    (b"\x03\x00\x00\x00", b"\x83\x03"),  # too short
])
def test_requests_the_specification_refuses_get_their_exception_under_their_own_code(sim, caplog, pdu, answer):
    peer = Peer(sim)
    try:
        with caplog.at_level(logging.WARNING):
            reply = peer.ask(frame(pdu, transaction=0x1234, unit=1))
        assert reply == frame(answer, transaction=0x1234, unit=1)
        assert peer.ask(frame(b"\x03\x00\x00\x00\x02")) == frame(b"\x03\x04\x00\x07\x00\x07")  # still serving
    finally:
        peer.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no tracebacks


@pytest.mark.parametrize("garbage", [
    frame(b"\x03\x00\x00\x00\x01", protocol=1),
    frame(b"\x03\x00\x00\x00\x01", length=0),
    frame(b"\x03\x00\x00\x00\x01", length=0xFFFF),
    bytes(range(0x41, 0x61)),
])
def test_a_frame_that_is_not_mbap_closes_that_connection_and_no_other(sim, garbage):
    bad, good = Peer(sim), Peer(sim)
    try:
        bad.sock.sendall(garbage)
        assert bad.closed_within(5)  # not left open and silent for ever
        assert good.ask(frame(b"\x03\x00\x00\x00\x01")) == frame(b"\x03\x02\x00\x07")
    finally:
        bad.close()
        good.close()


def test_half_a_frame_or_silence_is_timed_out_and_a_busy_client_is_not(sim):
    half, idle = Peer(sim), Peer(sim)
    try:
        half.sock.sendall(frame(b"\x03\x00\x00\x00\x01")[:5])
        assert half.closed_within(5)  # after the 0.3 s frame timeout
        assert idle.closed_within(5)  # after the 0.5 s idle timeout
    finally:
        half.close()
        idle.close()
    busy = Peer(sim)
    try:
        begun = time.monotonic()
        while time.monotonic() - begun < 1.0:  # twice the idle timeout, asking every 0.1 s: never idle
            assert busy.ask(frame(b"\x03\x00\x00\x00\x01")) == frame(b"\x03\x02\x00\x07")
            time.sleep(0.1)
        assert not busy.closed_within(0.05)
    finally:
        busy.close()


def test_pymodbus_client_is_unaffected():
    with ModbusSimulator(make_store("40001-40010=7"), host="127.0.0.1", port=0) as simulator:
        client = ModbusTcpClient("127.0.0.1", port=simulator.address[1], timeout=5)
        try:
            assert client.connect()
            assert client.read_holding_registers(0, count=3, device_id=1).registers == [7, 7, 7]
            assert client.write_registers(0, [1, 2], device_id=1).isError() is False
            assert client.read_holding_registers(0, count=2, device_id=1).registers == [1, 2]
        finally:
            client.close()


def test_the_guard_sans_io():
    assert mbap_frame(frame(b"\x03\x00\x00\x00\x01")) == 12
    assert mbap_frame(frame(b"\x03\x00\x00\x00\x01")[:11]) == 0  # not all there yet
    assert mbap_frame(b"\x00\x01") == 0
    with pytest.raises(Unframed):
        mbap_frame(frame(b"\x03", protocol=2))
    served = frozenset({3})
    assert request_exception(b"\x03\x00\x00\x00\x7d", served) is None
    assert request_exception(b"\x04\x00\x00\x00\x01", served) == 1
    assert request_exception(b"", served) == 1


def test_bad_timeouts_are_refused():
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="timeout"):
            ModbusSimulator(make_store("40001=1"), idle_timeout=bad)
