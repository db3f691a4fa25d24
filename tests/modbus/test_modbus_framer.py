"""HuntingFramerRTU without any I/O: frames fed whole, byte by byte, after noise, and fuzzed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.bit_message import WriteSingleCoilRequest
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    WriteMultipleRegistersRequest,
)

from cpppo.modbus import HuntingFramerRTU

REQUESTS = [
    ReadHoldingRegistersRequest(address=5, count=3, dev_id=1),
    WriteMultipleRegistersRequest(address=0, registers=[1, 2, 3, 0xFFFF], dev_id=17),
    WriteSingleCoilRequest(address=9, bits=[True], dev_id=247),
]
NOISE = [b"", b"\x55", b"\x01\x03\xff", b"\x00\x10\xff\xff", b"\x01\x03" * 40, bytes(range(256))[:100]]


def server_framer(kind=HuntingFramerRTU):
    return kind(DecodePDU(True))


def decode_stream(framer, chunks):
    """Feed chunks as a transport would; return every PDU decoded, and what is left buffered."""
    buffer, pdus = b"", []
    for chunk in chunks:
        buffer += chunk
        while buffer:
            used, pdu = framer.handleFrame(buffer, 0, 0)
            buffer = buffer[used:]
            if pdu is None:
                break
            pdus.append(pdu)
    return pdus, buffer


@pytest.mark.parametrize("request_pdu", REQUESTS, ids=lambda r: type(r).__name__)
@pytest.mark.parametrize("noise", NOISE, ids=lambda n: f"noise{len(n)}")
@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_frame_found_after_noise(request_pdu, noise, bytewise):
    framer = server_framer()
    frame = framer.buildFrame(request_pdu)
    data = noise + frame
    chunks = [data[i:i + 1] for i in range(len(data))] if bytewise else [data]
    pdus, _ = decode_stream(framer, chunks)
    assert len(pdus) == 1
    assert pdus[0].encode() == request_pdu.encode() and pdus[0].dev_id == request_pdu.dev_id


def test_frames_back_to_back_and_trailing_partial():
    framer = server_framer()
    frames = [framer.buildFrame(r) for r in REQUESTS]
    pdus, left = decode_stream(framer, [b"".join(frames) + frames[0][:3]])
    assert [p.function_code for p in pdus] == [r.function_code for r in REQUESTS]
    assert left == frames[0][:3]  # a frame still arriving is kept


def test_stock_framer_loses_a_frame_after_one_noise_byte():
    frame = server_framer().buildFrame(REQUESTS[0])
    pdus, _ = decode_stream(server_framer(FramerRTU), [b"\x55" + frame])
    assert pdus == []
    pdus, _ = decode_stream(server_framer(), [b"\x55" + frame])
    assert len(pdus) == 1


def test_responses_are_found_too():
    framer = HuntingFramerRTU(DecodePDU(False))
    frame = framer.buildFrame(ReadHoldingRegistersResponse(registers=[7, 8], dev_id=3))
    pdus, _ = decode_stream(framer, [b"\x03\x03\x02" + frame])
    assert pdus[0].registers == [7, 8] and pdus[0].dev_id == 3


@given(st.lists(st.binary(max_size=64), max_size=12))
def test_fuzz_never_raises_and_buffer_stays_bounded(chunks):
    framer = server_framer()
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        used, _ = framer.handleFrame(buffer, 0, 0) if buffer else (0, None)
        assert 0 <= used <= len(buffer)
        buffer = buffer[used:]
        assert len(buffer) <= 256 + 64  # at most one frame in waiting, plus the latest chunk
