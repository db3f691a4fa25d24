"""Shared helpers of the codec tests: the real-device vectors and a deep decoder.

``deep_decode`` takes a whole encapsulation frame down through every layer the codec knows (CPF,
the CIP request or reply, Unconnected Send and its embedded request and route path, Forward
Open/Close, Multiple Service Packet spans, the Logix tag services, List Identity items) and returns
the layers it met as ``Layer(kind, obj, raw)``: ``raw`` is the exact slice of wire bytes ``obj``
was decoded from, so a test can re-encode ``obj`` and compare.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpppo.cip.connection_manager import (
    ConnectionFailure,
    ForwardClose,
    ForwardCloseReply,
    ForwardOpen,
    ForwardOpenReply,
    UnconnectedSend,
    decode_connection_failure,
    decode_forward_close,
    decode_forward_close_reply,
    decode_forward_open,
    decode_forward_open_reply,
    decode_unconnected_send,
)
from cpppo.cip.epath import Logical, encode_path
from cpppo.cip.message import (
    Reply,
    Request,
    decode_multiple,
    decode_reply,
    decode_request,
    encode_multiple,
)
from cpppo.cip.status import GeneralStatus
from cpppo.cip.tag_services import (
    ReadModifyWrite,
    ReadTag,
    TypedData,
    WriteTag,
    decode_attribute_list_request,
    decode_read_modify_write,
    decode_read_tag,
    decode_typed_data,
    decode_write_tag,
    encode_attribute_list_request,
)
from cpppo.enip.cpf import SendData, decode_cpf, decode_send_data, encode_cpf
from cpppo.enip.encapsulation import (
    Command,
    Encapsulation,
    RegisterSession,
    decode_frame,
    decode_register_session,
)

HERE = Path(__file__).resolve().parent
_DATA = json.loads((HERE / "enip-vectors.json").read_text())
VECTORS: dict[str, dict[str, Any]] = {v["name"]: v for v in _DATA["vectors"]}


def raw(name: str) -> bytes:
    return bytes.fromhex(VECTORS[name]["hex"])


FRAMES = sorted(n for n, v in VECTORS.items() if v["kind"] == "frame")
GOOD_FRAMES = [n for n in FRAMES if not VECTORS[n]["deliberately_malformed"]]
BAD_FRAMES = [n for n in FRAMES if VECTORS[n]["deliberately_malformed"]]
FRAGMENTS = sorted(n for n, v in VECTORS.items() if v["kind"] == "fragment")
ALL_BYTES = [raw(n) for n in sorted(VECTORS)]

CONNECTION_MANAGER = (Logical("class", 6), Logical("instance", 1))


@dataclass
class Layer:
    kind: str
    obj: Any
    raw: bytes


class Trace(list):
    def of(self, kind: str) -> list[Any]:
        return [layer.obj for layer in self if layer.kind == kind]

    def one(self, kind: str) -> Any:
        found = self.of(kind)
        assert len(found) == 1, f"{len(found)} {kind} layers in {[layer.kind for layer in self]}"
        return found[0]


def _msp_messages(data: bytes) -> list[bytes]:
    return [data[start:stop] for start, stop in decode_multiple(data)]


def decode_cip_request(msg: bytes, trace: Trace) -> Request:
    req = decode_request(msg)
    trace.append(Layer("request", req, msg))
    service, data = req.service, req.data
    if req.path[:2] == CONNECTION_MANAGER and len(req.path) == 2:
        if service == 0x52:
            us = decode_unconnected_send(data)
            trace.append(Layer("unconnected_send", us, data))
            decode_cip_request(us.message, trace)
        elif service in (0x54, 0x5B):
            trace.append(Layer("forward_open", decode_forward_open(data, service == 0x5B), data))
        elif service == 0x4E:
            trace.append(Layer("forward_close", decode_forward_close(data), data))
        return req
    if service == 0x0A:
        spans = decode_multiple(data)
        trace.append(Layer("multiple", spans, data))
        for start, stop in spans:
            decode_cip_request(data[start:stop], trace)
    elif service in (0x4C, 0x52):
        trace.append(Layer("read_tag", decode_read_tag(data, service == 0x52), data))
    elif service in (0x4D, 0x53):
        trace.append(Layer("write_tag", decode_write_tag(data, service == 0x53), data))
    elif service == 0x4E:
        trace.append(Layer("read_modify_write", decode_read_modify_write(data), data))
    elif service == 0x03:
        trace.append(Layer("attribute_list", decode_attribute_list_request(data), data))
    return req


def decode_cip_reply(msg: bytes, trace: Trace) -> Reply:
    rpy = decode_reply(msg)
    trace.append(Layer("reply", rpy, msg))
    service, data = rpy.service, rpy.data
    if service == 0x0A and data:
        spans = decode_multiple(data)
        trace.append(Layer("multiple", spans, data))
        for start, stop in spans:
            decode_cip_reply(data[start:stop], trace)
    elif service in (0x4C, 0x52) and rpy.status in (0, GeneralStatus.PARTIAL_TRANSFER) and data:
        trace.append(Layer("typed_data", decode_typed_data(data), data))
    elif service == 0x54 and rpy.status == 0:
        trace.append(Layer("forward_open_reply", decode_forward_open_reply(data), data))
    elif service == 0x4E and rpy.status == 0 and data:
        trace.append(Layer("forward_close_reply", decode_forward_close_reply(data), data))
    elif service in (0x54, 0x4E) and rpy.status == GeneralStatus.CONNECTION_FAILURE and data:
        trace.append(Layer("connection_failure", decode_connection_failure(data), data))
    return rpy


def decode_cip(msg: bytes, trace: Trace) -> Request | Reply:
    if msg and msg[0] & 0x80:
        return decode_cip_reply(msg, trace)
    return decode_cip_request(msg, trace)


def deep_decode(frame: bytes, *, cip: bool = True) -> Trace:
    """Every layer of ``frame`` that the codec decodes; ``cip=False`` stops at the CPF items."""
    trace = Trace()
    enc = decode_frame(frame)
    trace.append(Layer("frame", enc, frame))
    data = enc.data
    if enc.command == Command.REGISTER_SESSION:
        trace.append(Layer("register_session", decode_register_session(data), data))
    elif enc.command in (Command.SEND_RR_DATA, Command.SEND_UNIT_DATA):
        send = decode_send_data(data)
        trace.append(Layer("send_data", send, data))
        item = send.message
        if cip and item is not None and item.data:
            decode_cip(item.data, trace)
    elif enc.command in (Command.LIST_IDENTITY, Command.LIST_SERVICES, Command.LIST_INTERFACES,
                         Command.LEGACY_0001) and data:
        items, _ = decode_cpf(data)
        trace.append(Layer("cpf", items, data))
    return trace


def encode_layer(layer: Layer) -> bytes:
    """Re-encode one decoded layer with the codec's encoders."""
    obj = layer.obj
    if isinstance(obj, (Encapsulation, SendData, RegisterSession, Request, Reply, UnconnectedSend,
                        ForwardOpen, ForwardClose, ForwardOpenReply, ForwardCloseReply, TypedData,
                        ReadModifyWrite, ReadTag, WriteTag, ConnectionFailure)):
        return obj.encode()
    if layer.kind == "cpf":
        return encode_cpf(obj)
    if layer.kind == "multiple":
        return encode_multiple([layer.raw[a:b] for a, b in obj])
    if layer.kind == "attribute_list":
        return encode_attribute_list_request(obj)
    raise AssertionError(f"no encoder for layer {layer.kind}")


def sized_path(buf: bytes, *, reserved: bool) -> tuple[int, int, int]:
    """(start, end, trailing) of the segments after an EPATH size prefix (USINT words [+ pad])."""
    words = buf[0]
    start = 2 if reserved else 1
    return start, start + 2 * words, len(buf) - (start + 2 * words)


def cpf_item_body(type_id: int, body: bytes) -> bytes:
    """A one-item CPF list around an item's body, so decode_cpf can decode the bare body."""
    return struct.pack("<HHH", 1, type_id, len(body)) + body


def route_bytes(path: Any) -> bytes:
    raw_path = encode_path(path)
    return bytes((len(raw_path) // 2, 0)) + raw_path
