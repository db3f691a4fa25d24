"""The streaming TCP framer: whole frames out of arbitrary chunks, a bounded buffer, big frames refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpppo.enip.encapsulation import Command, EncapStatus, Encapsulation, decode_frame
from cpppo.enip.framer import Framer
from cpppo.errors import DecodeError, FrameTooLarge

from .support import FRAMES, raw


def feed_all(framer: Framer, chunks) -> list[Encapsulation]:
    out: list[Encapsulation] = []
    for chunk in chunks:
        out += framer.feed(chunk)
    return out


@pytest.mark.parametrize("name", FRAMES)
def test_vector_fed_whole(name):
    wire = raw(name)
    framer = Framer()
    assert framer.feed(wire) == [decode_frame(wire)]
    assert framer.buffered == 0


@pytest.mark.parametrize("name", FRAMES)
def test_vector_fed_byte_by_byte(name):
    wire = raw(name)
    framer = Framer()
    got = []
    for i in range(len(wire)):
        frames = framer.feed(wire[i : i + 1])
        if i < len(wire) - 1:
            assert frames == []
            assert framer.buffered == i + 1
        got += frames
    assert got == [decode_frame(wire)]
    assert framer.buffered == 0


@pytest.mark.parametrize("name", FRAMES)
def test_vector_with_trailing_data(name):
    wire = raw(name)
    tail = Encapsulation(Command.NOP, data=b"next").encode()
    framer = Framer()
    # the frame and the first 10 bytes of the next one
    assert framer.feed(wire + tail[:10]) == [decode_frame(wire)]
    assert framer.buffered == 10
    assert framer.feed(tail[10:]) == [Encapsulation(Command.NOP, data=b"next")]
    assert framer.buffered == 0


def test_every_vector_in_one_read():
    stream = b"".join(raw(n) for n in FRAMES)
    framer = Framer()
    assert framer.feed(memoryview(stream)) == [decode_frame(raw(n)) for n in FRAMES]
    assert framer.buffered == 0


def test_every_vector_in_odd_sized_reads():
    stream = b"".join(raw(n) for n in FRAMES)
    framer = Framer()
    got = feed_all(framer, (bytearray(stream[i : i + 7]) for i in range(0, len(stream), 7)))
    assert got == [decode_frame(raw(n)) for n in FRAMES]


def test_empty_chunks_are_harmless():
    framer = Framer()
    assert framer.feed(b"") == []
    assert framer.buffered == 0


def test_frame_longer_than_the_maximum_is_refused_from_its_header():
    framer = Framer(max_length=100)
    ok = Encapsulation(Command.NOP, data=bytes(100)).encode()
    assert len(framer.feed(ok)) == 1
    header = Encapsulation(Command.SEND_RR_DATA, data=bytes(101)).encode()[:24]
    with pytest.raises(FrameTooLarge) as info:
        framer.feed(header)  # refused before any of its body arrives
    err = info.value
    assert isinstance(err, DecodeError)
    assert err.status == EncapStatus.INVALID_LENGTH
    assert "101" in err.what and "100" in err.what
    assert err.offset == 2
    assert framer.buffered == 0


def test_big_frame_is_refused_without_buffering_its_body():
    framer = Framer(max_length=1000)
    header = (0x6F).to_bytes(2, "little") + (0xFFFF).to_bytes(2, "little") + bytes(20)
    with pytest.raises(FrameTooLarge):
        framer.feed(header + bytes(5000))
    assert framer.buffered == 0


def test_error_is_sticky():
    framer = Framer(max_length=10)
    with pytest.raises(FrameTooLarge) as first:
        framer.feed(Encapsulation(Command.NOP, data=bytes(11)).encode())
    with pytest.raises(FrameTooLarge) as again:
        framer.feed(Encapsulation(Command.NOP).encode())
    assert again.value is first.value
    assert framer.error is first.value


def test_oversized_frame_after_a_good_one_delivers_the_good_one_first():
    framer = Framer(max_length=10)
    good = Encapsulation(Command.NOP, data=b"ok").encode()
    assert framer.feed(good + Encapsulation(Command.NOP, data=bytes(11)).encode()) == [
        Encapsulation(Command.NOP, data=b"ok")]
    assert isinstance(framer.error, FrameTooLarge)
    assert framer.error.offset == len(good) + 2  # it reports its own length field
    with pytest.raises(FrameTooLarge):
        framer.feed(b"")


def test_buffer_is_bounded_by_one_frame_plus_the_chunk():
    framer = Framer(max_length=64)
    frame = Encapsulation(Command.SEND_RR_DATA, data=bytes(64)).encode()
    stream = frame * 50
    peak = 0
    for i in range(0, len(stream), 13):
        framer.feed(stream[i : i + 13])
        peak = max(peak, framer.buffered)
    assert peak < len(frame)
    assert framer.buffered == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.builds(Encapsulation, command=st.integers(0, 0xFFFF), session=st.integers(0, 0xFFFFFFFF),
                       data=st.binary(max_size=40)), max_size=6),
    st.lists(st.integers(1, 50), min_size=1, max_size=20),
)
def test_any_chunking_gives_the_same_frames(frames, sizes):
    stream = b"".join(f.encode() for f in frames)
    chunks = []
    at = 0
    i = 0
    while at < len(stream):
        chunks.append(stream[at : at + sizes[i % len(sizes)]])
        at += sizes[i % len(sizes)]
        i += 1
    framer = Framer()
    assert feed_all(framer, chunks) == frames
    assert framer.buffered == 0


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 300))
def test_random_bytes_yield_frames_or_frame_too_large_only(stream, max_length):
    framer = Framer(max_length=max_length)
    try:
        for frame in framer.feed(stream):
            assert len(frame.data) <= max_length
    except DecodeError as exc:
        assert isinstance(exc, FrameTooLarge)
