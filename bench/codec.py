"""How many EtherNet/IP frames per second the sans-I/O codec decodes and encodes.

The frames are a typical Logix Read Tag of one DINT, request and reply, in the two forms clients use:

* unconnected: SendRRData, null address + unconnected data; the request wrapped in a Connection
  Manager Unconnected Send routed 1/0 (the reply comes back unwrapped);
* connected: SendUnitData, connected address + connected data with its sequence count.

"Decode" is the whole way down from the frame's bytes to the tag name, element count, and value;
"encode" is the whole way up from those to the frame's bytes.  Each figure is the median of
several runs.  Usage::

    .venv/bin/python bench/codec.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cpppo.cip.connection_manager import UnconnectedSend, decode_unconnected_send
from cpppo.cip.epath import Logical, Port, Symbolic
from cpppo.cip.message import Reply, Request, decode_reply, decode_request
from cpppo.cip.tag_services import ReadTag, TypedData, decode_read_tag, decode_typed_data
from cpppo.cip.types import DINT
from cpppo.enip.cpf import (
    ConnectedAddress,
    ConnectedData,
    NullAddress,
    SendData,
    UnconnectedData,
    decode_send_data,
)
from cpppo.enip.encapsulation import Command, Encapsulation, decode_frame

SESSION = 0x11021E01
CONTEXT = b"cpppo\0\0\0"
TAG = (Symbolic("Motor_Speed"),)
ROUTE = (Port(1, 0),)
CONNECTION_MANAGER = (Logical("class", 6), Logical("instance", 1))
O_T, T_O = 0x8DEE0016, 0x80000004
VALUE = 1750


# --- encoders: from the values to the bytes ------------------------------------------------------


def encode_unconnected_request() -> bytes:
    read = Request(0x4C, TAG, ReadTag(1).encode()).encode()
    send = Request(0x52, CONNECTION_MANAGER, UnconnectedSend(read, ROUTE).encode()).encode()
    data = SendData((NullAddress(), UnconnectedData(send)), 0, 5).encode()
    return Encapsulation(Command.SEND_RR_DATA, SESSION, 0, CONTEXT, 0, data).encode()


def encode_unconnected_reply() -> bytes:
    reply = Reply(0x4C, data=TypedData(DINT.code, DINT.encode([VALUE])).encode()).encode()
    data = SendData((NullAddress(), UnconnectedData(reply))).encode()
    return Encapsulation(Command.SEND_RR_DATA, SESSION, 0, CONTEXT, 0, data).encode()


def encode_connected_request(sequence: int = 7) -> bytes:
    read = Request(0x4C, TAG, ReadTag(1).encode()).encode()
    data = SendData((ConnectedAddress(O_T), ConnectedData(sequence, read))).encode()
    return Encapsulation(Command.SEND_UNIT_DATA, SESSION, 0, CONTEXT, 0, data).encode()


def encode_connected_reply(sequence: int = 7) -> bytes:
    reply = Reply(0x4C, data=TypedData(DINT.code, DINT.encode([VALUE])).encode()).encode()
    data = SendData((ConnectedAddress(T_O), ConnectedData(sequence, reply))).encode()
    return Encapsulation(Command.SEND_UNIT_DATA, SESSION, 0, CONTEXT, 0, data).encode()


# --- decoders: from the bytes to the values ------------------------------------------------------


def decode_unconnected_request(frame: bytes) -> tuple:
    send = decode_send_data(decode_frame(frame).data)
    outer = decode_request(send.message.data)
    us = decode_unconnected_send(outer.data)
    read = decode_request(us.message)
    return read.path, decode_read_tag(read.data, False).count, us.route_path


def decode_reply_frame(frame: bytes) -> tuple:
    send = decode_send_data(decode_frame(frame).data)
    reply = decode_reply(send.message.data)
    typed = decode_typed_data(reply.data)
    return reply.status, typed.type_code, DINT.decode(typed.data)


def decode_connected_request(frame: bytes) -> tuple:
    send = decode_send_data(decode_frame(frame).data)
    item = send.message
    read = decode_request(item.data)
    return read.path, decode_read_tag(read.data, False).count, item.sequence


# --- measuring ------------------------------------------------------------------------------------


def rate(fn: Callable[[], object], iterations: int, runs: int) -> float:
    """Median calls per second of ``fn`` over ``runs`` runs of ``iterations`` calls."""
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        rates.append(iterations / (time.perf_counter() - start))
    return statistics.median(rates)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs (a smoke test)")
    args = parser.parse_args(argv)
    iterations, runs = (2_000, 3) if args.quick else (20_000, 7)

    frames = {
        ("SendRRData + Unconnected Send", "request"): (encode_unconnected_request, decode_unconnected_request),
        ("SendRRData + Unconnected Send", "reply"): (encode_unconnected_reply, decode_reply_frame),
        ("SendUnitData (connected)", "request"): (encode_connected_request, decode_connected_request),
        ("SendUnitData (connected)", "reply"): (encode_connected_reply, decode_reply_frame),
    }
    # check each pair agrees before timing it (correctness, not speed)
    expected = {
        "request": (TAG, 1),
        "reply": (0, DINT.code, [VALUE]),
    }
    for (_, kind), (encode, decode) in frames.items():
        got = decode(encode())
        assert got[: len(expected[kind])] == expected[kind], got

    print(f"cpppo codec, Read Tag of one DINT: median of {runs} runs x {iterations} frames, Python "
          f"{sys.version.split()[0]}")
    print(f"{'form':32} {'message':8} {'bytes':>5} {'decode frames/s':>16} {'encode frames/s':>16}")
    for (form, kind), (encode, decode) in frames.items():
        wire = encode()
        dec = rate(lambda wire=wire, decode=decode: decode(wire), iterations, runs)
        enc = rate(encode, iterations, runs)
        print(f"{form:32} {kind:8} {len(wire):5} {dec:16,.0f} {enc:16,.0f}")


if __name__ == "__main__":
    main()
