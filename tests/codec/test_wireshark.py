"""An independent check of the wire format: Wireshark's own dissector reads what the codec writes.

Every frame below is built only with the cpppo codec (encapsulation, CPF, EPATH, CIP messages,
Connection Manager and Logix service data), wrapped by the pure-Python writer in ``pcap.py`` into
Ethernet/IPv4/TCP and UDP, and handed to ``tshark -2 -T json`` (two passes, so request/reply
matching and TCP reassembly are complete; a private configuration directory, so a user's
preferences change nothing).  The capture holds:

* one TCP conversation to port 44818 (handshake, consistent sequence numbers, FIN exchange) with
  every encapsulation command, requests and replies: NOP, ListServices, ListIdentity,
  ListInterfaces, legacy 0x0001, RegisterSession (refused with status 0x69, then accepted),
  SendRRData with Unconnected Send wrapping Read Tag (also of array elements, of a structure
  with its handle, and with two symbols and a 32-bit element), Read Tag Fragmented (partial-
  transfer reply 0x06), Write Tag (REAL; SINT, whose odd length is padded; a structure), Write
  Tag Fragmented (split across three TCP segments), Read-Modify-Write, Get Attributes All, Get
  Attribute Single (also with 16/32-bit segments, and over route paths with IP-address links and
  extended port numbers), Set Attribute Single, Get Attribute List (with a failed attribute), a
  Multiple Service Packet, error replies with extended status (two of them pipelined in one
  segment), Forward Open, Large Forward Open (routed via an IP link address), a class 1 Forward
  Open whose reply carries a T->O socket address item, Forward Close, SendUnitData with
  connected address + connected data (sequence count) carrying a Read Tag request and reply,
  and UnRegisterSession;
* UDP: broadcast ListIdentity and ListServices with their replies (port 44818), and class 1 I/O
  (sequenced address + connected data, port 2222) of the connection opened above.

The test asserts, frame by frame:

* no ``_ws.malformed`` anywhere, and no expert info at all except TCP "Sequence" chats and notes
  (connection establish request/acknowledge, connection finish, "initiates/undergoes the
  connection closing"): they only describe the conversation's life cycle.  Anything else, of any
  severity, from any protocol, fails the test;
* IP, TCP and UDP checksums verify (the writer is right, so nothing else is blamed on it);
* exactly the frames that carry an encapsulation message have an ENIP layer, and each shows the
  field values we meant: ``enip.*`` fields exactly, in order; CIP fields (which Wireshark
  repeats, as generated items, from the matched request into a reply) as a sub-multiset;
* Wireshark paired every SendRRData/SendUnitData reply with its request.

What tshark 4.0 cannot check, and so is checked differently:

* Logix tag services (0x4C, 0x4D, 0x4E on a tag, 0x52, 0x53) are not dissected: Wireshark shows
  them as "Unknown Service" with their service data as raw ``cip.data`` (in "CIP Class
  Generic").  We assert that Wireshark's path parsing ends exactly where the data we meant
  begins, and compare ``cip.data`` with the type word, element count, byte offset and values laid
  out independently with ``struct`` here.
* The undocumented legacy command 0x0001 is unknown to Wireshark ("Unknown Command (0x0001)",
  without any expert item), which shows its data as raw ``enip.encap_data``; we compare that
  with an independent layout.
* Wireshark follows the specification in reading the first two bytes of a List Identity
  request's sender context as the "max response delay"; our List Identity requests put a delay
  there, and the rest of the context is compared as the 6 bytes Wireshark shows.

A negative control (a List Identity reply whose CPF item claims more bytes than it has) is in
the same capture and must be flagged, so a tshark that reported nothing at all would fail.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cpppo.cip.connection_manager import (
    ConnectionParams,
    ForwardClose,
    ForwardCloseReply,
    ForwardOpen,
    ForwardOpenReply,
    UnconnectedSend,
)
from cpppo.cip.epath import Logical, Port, Symbolic
from cpppo.cip.message import Request, encode_multiple, encode_reply, multiple_request
from cpppo.cip.services import CommonService, ConnectionManagerService, LogixService
from cpppo.cip.status import GeneralStatus
from cpppo.cip.tag_services import (
    AttributeValue,
    ReadModifyWrite,
    ReadTag,
    TypedData,
    WriteTag,
    encode_attribute_list_reply,
    encode_attribute_list_request,
)
from cpppo.cip.types import STRUCTURE, TypeCode
from cpppo.enip.cpf import (
    ConnectedAddress,
    ConnectedData,
    IdentityItem,
    ItemType,
    LegacyItem,
    NullAddress,
    SendData,
    SequencedAddress,
    ServiceItem,
    SockAddr,
    UnconnectedData,
    encode_cpf,
)
from cpppo.enip.encapsulation import Command, EncapStatus, Encapsulation, RegisterSession

try:  # tests/codec as a package, or (pytest's default "prepend" import mode) as a plain directory
    from .pcap import Capture, TcpStream
except ImportError:
    from pcap import Capture, TcpStream  # type: ignore[no-redef]

TSHARK = shutil.which("tshark")

CLIENT = ("192.168.1.10", 50000)
SERVER = ("192.168.1.20", 44818)
UDP_CLIENT = ("192.168.1.10", 50001)
BROADCAST = ("192.168.1.255", 44818)
SESSION = 0x0A0B0C0D

CM = (Logical("class", 6), Logical("instance", 1))  # Connection Manager @6/1
ROUTE = (Port(1, 0),)  # backplane, slot 0
PRODUCT = "1756-L61/B LOGIX5561"
SERIAL = 0x7C3F1A2B

# Expert info severities (epan/proto.h: chat 0x00200000 < note < warn 0x00600000 < error) and the
# group of TCP connection life-cycle items.
PI_NOTE, PI_ERROR = 0x00400000, 0x00800000
PI_SEQUENCE = 0x02000000

# Values are compared by the type of the expectation: int (tshark's decimal or 0x text),
# bytes (tshark's colon-separated hex), or str (verbatim).
Value = int | bytes | str
Fields = Mapping[str, Iterable[Value]]


@dataclass
class Expect:
    """What one captured frame must show."""

    frame: int
    what: str
    fields: dict[str, list[Value]]


class Script:
    """Builds the capture and, alongside, the expectations of every ENIP-bearing frame."""

    def __init__(self) -> None:
        self.capture = Capture()
        self.expected: dict[int, Expect] = {}
        self.bad_frame = 0
        self.pairs: list[tuple[int, int, str]] = []  # request frame, reply frame, what
        self._count = 0

    def context(self) -> bytes:
        self._count += 1
        return b"cpppo%03d" % self._count

    @property
    def frame(self) -> int:
        """The number (1-based, as Wireshark counts) of the last frame written."""
        return len(self.capture.records)

    def expect(self, what: str, fields: Fields) -> None:
        """Expect ``fields`` in the last frame written (merged if it carries several messages)."""
        frame = self.frame
        entry = self.expected.setdefault(frame, Expect(frame, what, {}))
        if entry.what != what:
            entry.what += " + " + what
        for name, values in fields.items():
            entry.fields.setdefault(name, []).extend(values)


def header(command: int, data: bytes, *, session: int = 0, status: int = 0, context: bytes = bytes(8)) -> Fields:
    """The encapsulation header fields we mean, from our own inputs (not from the encoded bytes)."""
    return {"enip.command": [command], "enip.length": [len(data)], "enip.session": [session],
            "enip.status": [status], "enip.context": [context], "enip.options": [0]}


def merge(*parts: Fields) -> dict[str, list[Value]]:
    out: dict[str, list[Value]] = defaultdict(list)
    for part in parts:
        for name, values in part.items():
            out[name].extend(values)
    return dict(out)


def send_rr(script: Script, tcp: TcpStream, what: str, request: bytes, reply: bytes,
            request_fields: Fields, reply_fields: Fields, *, cuts: tuple[int, ...] = ()) -> None:
    """One SendRRData exchange: ``request`` and ``reply`` are CIP messages in unconnected data items."""
    ctx = script.context()
    req = SendData((NullAddress(), UnconnectedData(request)), timeout=5).encode()
    rep = SendData((NullAddress(), UnconnectedData(reply))).encode()
    cpf = {"enip.srrd.iface": [0], "enip.cpf.itemcount": [2], "enip.cpf.typeid": [0x0000, 0x00B2]}
    tcp.send(Encapsulation(Command.SEND_RR_DATA, SESSION, context=ctx, data=req).encode(), cuts)
    script.expect(what + " request", merge(
        header(Command.SEND_RR_DATA, req, session=SESSION, context=ctx), cpf,
        {"enip.timeout": [5], "enip.cpf.length": [0, len(request)]}, request_fields))
    tcp.reply(Encapsulation(Command.SEND_RR_DATA, SESSION, context=ctx, data=rep).encode())
    script.pairs.append((script.frame - 1, script.frame, what))
    script.expect(what + " reply", merge(
        header(Command.SEND_RR_DATA, rep, session=SESSION, context=ctx), cpf,
        {"enip.timeout": [0], "enip.cpf.length": [0, len(reply)]}, reply_fields))


def unconnected_send(message: Request, route: tuple[Port, ...] = ROUTE) -> bytes:
    """``message`` wrapped in an Unconnected Send to the Connection Manager, routed to slot 0."""
    return Request(ConnectionManagerService.UNCONNECTED_SEND, CM,
                   UnconnectedSend(message.encode(), route).encode()).encode()


BACKPLANE: Fields = {"cip.cm.route_path_size": [1], "cip.port": [1], "cip.linkaddress.byte": [0],
                     "cip.epath": [b"\x01\x00"]}


def routed(message: Request, route: Fields = BACKPLANE) -> Fields:
    """The Unconnected Send wrapper fields of a routed request (``route``: those of its route path)."""
    return merge({"cip.sc": [ConnectionManagerService.UNCONNECTED_SEND, message.service],
                  "cip.cm.tick_time": [5], "cip.cm.timeout_tick": [157],
                  "cip.cm.msg_req_size": [len(message.encode())],
                  "cip.class": [6], "cip.instance": [1], "cip.epath": [b"\x20\x06\x24\x01"]}, route)


def reply_fields(service: int, status: int = 0, ext: tuple[int, ...] = ()) -> Fields:
    return {"cip.rr": [1], "cip.sc": [service], "cip.genstat": [status], "cip.addstat_size": [len(ext)],
            "cip.addstat": list(ext)}


def identity(**overrides: Any) -> IdentityItem:
    values: dict[str, Any] = {"sin_addr": SERVER[0], "vendor_id": 1, "device_type": 0x0E, "product_code": 0x36,
                              "product_revision": 0x0B14, "serial_number": SERIAL, "product_name": PRODUCT,
                              "state": 3}
    values.update(overrides)
    return IdentityItem(**values)


IDENTITY_FIELDS: Fields = {
    "enip.cpf.itemcount": [1], "enip.cpf.typeid": [0x000C], "enip.encapver": [1], "enip.sinfamily": [2],
    "enip.sinport": [44818], "enip.sinaddr": [SERVER[0]], "enip.lir.vendor": [1], "enip.lir.devtype": [0x0E],
    "enip.lir.prodcode": [0x36],
    # Wireshark reads the two revision bytes (major 20, then minor 11) as one big-endian UINT.
    "enip.lir.revision": [20 << 8 | 11],
    "enip.lir.status": [0], "enip.lir.serial": [SERIAL], "enip.lir.namelen": [len(PRODUCT)],
    "enip.lir.name": [PRODUCT], "enip.lir.state": [3],
}


def list_identity_context(delay_ms: int, tag: bytes) -> bytes:
    """A List Identity request's sender context: max response delay (ms) UINT, then 6 bytes."""
    return struct.pack("<H6s", delay_ms, tag)


def build() -> Script:
    s = Script()
    tcp = s.capture.tcp(CLIENT, SERVER)

    # --- Session-less commands ---------------------------------------------------------------
    nop = Encapsulation(Command.NOP, data=b"ping")
    tcp.send(nop.encode())
    s.expect("NOP", header(Command.NOP, b"ping"))

    ctx = s.context()
    tcp.send(Encapsulation(Command.LIST_SERVICES, context=ctx).encode())
    s.expect("ListServices request", header(Command.LIST_SERVICES, b"", context=ctx))
    data = encode_cpf([ServiceItem(version=1, capability=0x0120, name="Communications")])
    tcp.reply(Encapsulation(Command.LIST_SERVICES, context=ctx, data=data).encode())
    s.expect("ListServices reply", merge(header(Command.LIST_SERVICES, data, context=ctx), {
        "enip.cpf.itemcount": [1], "enip.cpf.typeid": [0x0100], "enip.cpf.length": [20], "enip.encapver": [1],
        "enip.lsr.capaflags": [0x0120], "enip.lsr.capaflags.tcp": [1], "enip.lsr.capaflags.udp": [1],
        "enip.lsr.servicename": ["Communications"]}))

    ctx = list_identity_context(250, b"ident1")
    tcp.send(Encapsulation(Command.LIST_IDENTITY, context=ctx).encode())
    s.expect("ListIdentity request (TCP)", merge(header(Command.LIST_IDENTITY, b"", context=ctx[2:]),
                                                 {"enip.listid_delay": [250]}))
    data = encode_cpf([identity()])
    tcp.reply(Encapsulation(Command.LIST_IDENTITY, context=ctx, data=data).encode())
    s.expect("ListIdentity reply (TCP)", merge(header(Command.LIST_IDENTITY, data, context=ctx),
                                               IDENTITY_FIELDS, {"enip.cpf.length": [len(data) - 6]}))

    ctx = s.context()
    tcp.send(Encapsulation(Command.LIST_INTERFACES, context=ctx).encode())
    s.expect("ListInterfaces request", header(Command.LIST_INTERFACES, b"", context=ctx))
    data = encode_cpf([])
    tcp.reply(Encapsulation(Command.LIST_INTERFACES, context=ctx, data=data).encode())
    s.expect("ListInterfaces reply", merge(header(Command.LIST_INTERFACES, data, context=ctx),
                                           {"enip.cpf.itemcount": [0]}))

    # Legacy 0x0001: unknown to Wireshark, which shows the data raw; compare with our own layout.
    ctx = s.context()
    tcp.send(Encapsulation(Command.LEGACY_0001, context=ctx).encode())
    s.expect("legacy 0x0001 request", header(Command.LEGACY_0001, b"", context=ctx))
    data = encode_cpf([LegacyItem(sin_addr=SERVER[0], ip_address=SERVER[0])])
    tcp.reply(Encapsulation(Command.LEGACY_0001, context=ctx, data=data).encode())
    layout = (struct.pack("<HHHHH", 1, 0x0001, 36, 1, 0) + struct.pack(">hH4s8x", 2, 44818, bytes((192, 168, 1, 20)))
              + SERVER[0].encode().ljust(16, b"\0"))
    s.expect("legacy 0x0001 reply", merge(header(Command.LEGACY_0001, data, context=ctx),
                                          {"enip.encap_data": [layout]}))

    # --- Session ------------------------------------------------------------------------------
    ctx = s.context()
    data = RegisterSession(version=2).encode()
    tcp.send(Encapsulation(Command.REGISTER_SESSION, context=ctx, data=data).encode())
    s.expect("RegisterSession request (version 2)", merge(header(Command.REGISTER_SESSION, data, context=ctx),
                                                          {"enip.rs.version": [2], "enip.rs.flags": [0]}))
    data = RegisterSession(version=1).encode()
    tcp.reply(Encapsulation(Command.REGISTER_SESSION, context=ctx, status=EncapStatus.UNSUPPORTED_PROTOCOL,
                            data=data).encode())
    s.expect("RegisterSession refused", merge(
        header(Command.REGISTER_SESSION, data, context=ctx, status=EncapStatus.UNSUPPORTED_PROTOCOL),
        {"enip.rs.version": [1]}))

    ctx = s.context()
    data = RegisterSession().encode()
    tcp.send(Encapsulation(Command.REGISTER_SESSION, context=ctx, data=data).encode())
    s.expect("RegisterSession request", merge(header(Command.REGISTER_SESSION, data, context=ctx),
                                              {"enip.rs.version": [1], "enip.rs.flags": [0]}))
    tcp.reply(Encapsulation(Command.REGISTER_SESSION, SESSION, context=ctx, data=data).encode())
    s.expect("RegisterSession reply", merge(header(Command.REGISTER_SESSION, data, session=SESSION, context=ctx),
                                            {"enip.rs.version": [1], "enip.rs.flags": [0]}))

    # --- SendRRData: Unconnected Send wrapping Logix tag services -----------------------------
    msg = Request(LogixService.READ_TAG, (Symbolic("Counter"),), ReadTag(1).encode())
    send_rr(s, tcp, "Read Tag", unconnected_send(msg),
            encode_reply(msg.service, 0, (), TypedData(TypeCode.DINT, struct.pack("<i", 42)).encode()),
            merge(routed(msg), {"cip.symbol": ["Counter"], "cip.data": [struct.pack("<H", 1)]}),
            merge(reply_fields(msg.service), {"cip.symbol": ["Counter"],
                                              "cip.data": [struct.pack("<Hi", 0xC4, 42)]}))

    # An element of an array: a member (element) logical segment after the symbol.
    msg = Request(LogixService.READ_TAG, (Symbolic("Temps"), Logical("element", 3)), ReadTag(2).encode())
    send_rr(s, tcp, "Read Tag of elements", unconnected_send(msg),
            encode_reply(msg.service, 0, (), TypedData(TypeCode.REAL, struct.pack("<2f", 20.5, 21.5)).encode()),
            merge(routed(msg), {"cip.symbol": ["Temps"], "cip.member": [3], "cip.data": [struct.pack("<H", 2)]}),
            merge(reply_fields(msg.service), {"cip.data": [struct.pack("<H2f", 0xCA, 20.5, 21.5)]}))

    big = struct.pack("<50i", *range(50))
    msg = Request(LogixService.READ_TAG_FRAGMENTED, (Symbolic("Big"),), ReadTag(100, 0).encode())
    send_rr(s, tcp, "Read Tag Fragmented (partial transfer)", unconnected_send(msg),
            encode_reply(msg.service, GeneralStatus.PARTIAL_TRANSFER, (), TypedData(TypeCode.DINT, big).encode()),
            merge(routed(msg), {"cip.symbol": ["Big"], "cip.data": [struct.pack("<HI", 100, 0)]}),
            merge(reply_fields(msg.service, 0x06), {"cip.symbol": ["Big"],
                                                    "cip.data": [struct.pack("<H", 0xC4) + big]}))

    msg = Request(LogixService.WRITE_TAG, (Symbolic("Setpoint"),),
                  WriteTag(TypeCode.REAL, 1, struct.pack("<f", 1.5)).encode())
    send_rr(s, tcp, "Write Tag REAL", unconnected_send(msg), encode_reply(msg.service),
            merge(routed(msg), {"cip.symbol": ["Setpoint"], "cip.data": [struct.pack("<HHf", 0xCA, 1, 1.5)]}),
            reply_fields(msg.service))

    # An odd-length embedded message: the Unconnected Send pads it before the route path.
    msg = Request(LogixService.WRITE_TAG, (Symbolic("Mode"),), WriteTag(TypeCode.SINT, 1, b"\x07").encode())
    assert len(msg.encode()) % 2 == 1
    send_rr(s, tcp, "Write Tag SINT (padded)", unconnected_send(msg), encode_reply(msg.service),
            merge(routed(msg), {"cip.symbol": ["Mode"], "cip.data": [struct.pack("<HHb", 0xC2, 1, 7)]}),
            reply_fields(msg.service))

    # Split across three TCP segments (inside the encapsulation header, and inside the path).
    chunk = struct.pack("<50i", *range(50, 100))
    msg = Request(LogixService.WRITE_TAG_FRAGMENTED, (Symbolic("Big"),),
                  WriteTag(TypeCode.DINT, 100, chunk, offset=200).encode())
    send_rr(s, tcp, "Write Tag Fragmented (3 segments)", unconnected_send(msg), encode_reply(msg.service),
            merge(routed(msg), {"cip.symbol": ["Big"], "cip.data": [struct.pack("<HHI", 0xC4, 100, 200) + chunk]}),
            reply_fields(msg.service), cuts=(10, 70))

    # A structure (UDT): the type word is 0x02A0 followed by the structure handle.
    udt = struct.pack("<iif", 1, 2, 3.5)
    msg = Request(LogixService.READ_TAG, (Symbolic("Recipe"),), ReadTag(1).encode())
    send_rr(s, tcp, "Read Tag of a structure", unconnected_send(msg),
            encode_reply(msg.service, 0, (), TypedData(STRUCTURE, udt, handle=0x8F3A).encode()),
            merge(routed(msg), {"cip.symbol": ["Recipe"]}),
            merge(reply_fields(msg.service), {"cip.data": [struct.pack("<HH", 0x02A0, 0x8F3A) + udt]}))
    msg = Request(LogixService.WRITE_TAG, (Symbolic("Recipe"),),
                  WriteTag(STRUCTURE, 1, udt, handle=0x8F3A).encode())
    send_rr(s, tcp, "Write Tag of a structure", unconnected_send(msg), encode_reply(msg.service),
            merge(routed(msg), {"cip.symbol": ["Recipe"],
                                "cip.data": [struct.pack("<HHH", 0x02A0, 0x8F3A, 1) + udt]}),
            reply_fields(msg.service))

    # Read-Modify-Write: 0x4E, which on the Connection Manager would be Forward Close.
    msg = Request(LogixService.READ_MODIFY_WRITE, (Symbolic("Flags"),),
                  ReadModifyWrite(b"\x01\0\0\0", b"\xff\xff\xff\xfd").encode())
    send_rr(s, tcp, "Read-Modify-Write", unconnected_send(msg), encode_reply(msg.service),
            merge(routed(msg), {"cip.symbol": ["Flags"],
                                "cip.data": [struct.pack("<H4s4s", 4, b"\x01\0\0\0", b"\xff\xff\xff\xfd")]}),
            merge(reply_fields(msg.service), {"cip.symbol": ["Flags"]}))

    # --- Generic attribute services -------------------------------------------------------------
    attrs_all = (struct.pack("<HHHBBHIB", 1, 0x0E, 0x36, 20, 11, 0x0060, SERIAL, len(PRODUCT))
                 + PRODUCT.encode())
    msg = Request(CommonService.GET_ATTRIBUTES_ALL, (Logical("class", 1), Logical("instance", 1)))
    send_rr(s, tcp, "Get Attributes All", unconnected_send(msg), encode_reply(msg.service, 0, (), attrs_all),
            merge(routed(msg), {"cip.class": [1], "cip.instance": [1]}),
            merge(reply_fields(msg.service), {
                "cip.id.vendor_id": [1], "cip.id.device_type": [0x0E], "cip.id.product_code": [0x36],
                "cip.id.major_rev": [20], "cip.id.minor_rev": [11], "cip.id.status": [0x0060],
                "cip.id.serial_number": [SERIAL], "cip.id.product_name": [PRODUCT]}))

    msg = Request(CommonService.GET_ATTRIBUTE_SINGLE, (Logical("class", 1), Logical("instance", 1),
                                                       Logical("attribute", 7)))
    send_rr(s, tcp, "Get Attribute Single", unconnected_send(msg),
            encode_reply(msg.service, 0, (), bytes((len(PRODUCT),)) + PRODUCT.encode()),
            merge(routed(msg), {"cip.class": [1], "cip.instance": [1], "cip.attribute": [7]}),
            merge(reply_fields(msg.service), {"cip.attribute": [7], "cip.id.product_name": [PRODUCT]}))

    # 16-bit (padded) logical segments: a Symbol object instance above 255.
    msg = Request(CommonService.GET_ATTRIBUTE_SINGLE, (Logical("class", 0x6B), Logical("instance", 0x1234),
                                                       Logical("attribute", 2)))
    send_rr(s, tcp, "Get Attribute Single, 16-bit instance", unconnected_send(msg),
            encode_reply(msg.service, 0, (), struct.pack("<H", 0xC4)),
            merge(routed(msg), {"cip.class": [0x6B], "cip.instance": [0x1234], "cip.attribute": [2],
                                "cip.logical_segment.format": [1]}),
            merge(reply_fields(msg.service), {"cip.data": [struct.pack("<H", 0xC4)]}))

    msg = Request(CommonService.SET_ATTRIBUTE_SINGLE, (Logical("class", 0xF5), Logical("instance", 1),
                                                       Logical("attribute", 13)), struct.pack("<H", 120))
    send_rr(s, tcp, "Set Attribute Single", unconnected_send(msg), encode_reply(msg.service),
            merge(routed(msg), {"cip.class": [0xF5], "cip.instance": [1], "cip.attribute": [13]}),
            merge(reply_fields(msg.service), {"cip.attribute": [13]}))

    msg = Request(CommonService.GET_ATTRIBUTE_LIST, (Logical("class", 1), Logical("instance", 1)),
                  encode_attribute_list_request([1, 2, 7, 99]))
    values = [AttributeValue(1, 0, struct.pack("<H", 1)), AttributeValue(2, 0, struct.pack("<H", 0x0E)),
              AttributeValue(7, 0, bytes((5,)) + b"Logix"), AttributeValue(99, GeneralStatus.ATTRIBUTE_NOT_SUPPORTED)]
    send_rr(s, tcp, "Get Attribute List", unconnected_send(msg),
            encode_reply(msg.service, 0, (), encode_attribute_list_reply(values)),
            merge(routed(msg), {"cip.getlist.attr_count": [4], "cip.attribute": [1, 2, 7, 99]}),
            merge(reply_fields(msg.service), {
                "cip.getlist.attr_count": [4], "cip.getlist.attr_status": [0, 0, 0, 0x14],
                "cip.id.vendor_id": [1], "cip.id.device_type": [0x0E], "cip.id.product_name": ["Logix"]}))

    # Wide logical segments (16-bit class and attribute, 32-bit instance), each with its pad byte.
    msg = Request(CommonService.GET_ATTRIBUTE_SINGLE, (Logical("class", 0x300), Logical("instance", 0x12345),
                                                       Logical("attribute", 0x101)))
    send_rr(s, tcp, "Get Attribute Single, wide segments", unconnected_send(msg),
            encode_reply(msg.service, 0, (), b"\x00"),
            merge(routed(msg), {"cip.class": [0x300], "cip.instance": [0x12345], "cip.attribute": [0x101],
                                "cip.epath": [bytes.fromhex("2100 0003 2600 45230100 3100 0101")]}),
            merge(reply_fields(msg.service), {"cip.attribute": [0x101]}))

    # Two symbols (odd lengths, so padded) and a 32-bit element.
    msg = Request(LogixService.READ_TAG, (Symbolic("Prog:Main"), Symbolic("Odd"), Logical("element", 70000)),
                  ReadTag(1).encode())
    send_rr(s, tcp, "Read Tag, program scope, 32-bit element", unconnected_send(msg),
            encode_reply(msg.service, 0, (), TypedData(TypeCode.LINT, struct.pack("<q", -1)).encode()),
            merge(routed(msg), {"cip.symbol": ["Prog:Main", "Odd"], "cip.member": [70000],
                                "cip.epath": [b"\x91\x09Prog:Main\x00\x91\x03Odd\x00\x2a\x00" + struct.pack("<I", 70000)],
                                "cip.data": [struct.pack("<H", 1)]}),
            merge(reply_fields(msg.service), {"cip.data": [struct.pack("<Hq", 0xC5, -1)]}))

    # Route paths: out an Ethernet port to an IP address (odd length, padded) then the backplane;
    # an extended port number (18) with a one-byte link; an extended port with an IP address.
    vendor = Request(CommonService.GET_ATTRIBUTE_SINGLE, (Logical("class", 1), Logical("instance", 1),
                                                          Logical("attribute", 1)))
    routes: list[tuple[str, tuple[Port, ...], Fields]] = [
        ("via 10.0.0.10, slot 3", (Port(2, "10.0.0.10"), Port(1, 3)), {
            "cip.cm.route_path_size": [7], "cip.port": [2, 1], "cip.linkaddress_size": [9],
            "cip.linkaddress.string": ["10.0.0.10"], "cip.linkaddress.byte": [3],
            "cip.epath": [b"\x12\x0910.0.0.10\x00\x01\x03"]}),
        ("via port 18, link 1", (Port(18, 1),), {
            "cip.cm.route_path_size": [2], "cip.port": [15], "cip.linkaddress.byte": [1],
            "cip.epath": [b"\x0f\x12\x00\x01"]}),
        ("via port 20, 10.1.1.1", (Port(20, "10.1.1.1"),), {
            "cip.cm.route_path_size": [6], "cip.port": [15, 20], "cip.linkaddress_size": [8],
            "cip.linkaddress.string": ["10.1.1.1"], "cip.epath": [b"\x1f\x08\x14\x0010.1.1.1"]}),
    ]
    for what, route, fields in routes:
        send_rr(s, tcp, f"Get Attribute Single routed {what}", unconnected_send(vendor, route),
                encode_reply(vendor.service, 0, (), struct.pack("<H", 1)),
                routed(vendor, fields), merge(reply_fields(vendor.service), {"cip.id.vendor_id": [1]}))

    # --- Multiple Service Packet to the Message Router, with its reply ----------------------------
    inner = [Request(LogixService.READ_TAG, (Symbolic("A"),), ReadTag(1).encode()),
             Request(LogixService.READ_TAG, (Symbolic("Bb"),), ReadTag(2).encode()),
             Request(CommonService.GET_ATTRIBUTE_SINGLE, (Logical("class", 1), Logical("instance", 1),
                                                          Logical("attribute", 6)))]
    msp = multiple_request((Logical("class", 2), Logical("instance", 1)), inner)
    replies = [encode_reply(0x4C, 0, (), TypedData(TypeCode.INT, struct.pack("<h", 7)).encode()),
               encode_reply(0x4C, 0, (), TypedData(TypeCode.DINT, struct.pack("<2i", 1, 2)).encode()),
               encode_reply(0x0E, 0, (), struct.pack("<I", SERIAL))]
    sizes = [len(r.encode()) for r in inner]
    send_rr(s, tcp, "Multiple Service Packet", unconnected_send(msp),
            encode_reply(msp.service, 0, (), encode_multiple(replies)),
            merge(routed(msp), {"cip.class": [2, 1], "cip.msp.num_services": [3],
                                "cip.msp.offset": [8, 8 + sizes[0], 8 + sizes[0] + sizes[1]],
                                "cip.sc": [0x4C, 0x4C, 0x0E], "cip.symbol": ["A", "Bb"], "cip.attribute": [6],
                                "cip.data": [struct.pack("<H", 1), struct.pack("<H", 2)]}),
            merge(reply_fields(msp.service), {
                "cip.msp.num_services": [3],
                "cip.msp.offset": [8, 8 + len(replies[0]), 8 + len(replies[0]) + len(replies[1])],
                "cip.sc": [0x4C, 0x4C, 0x0E], "cip.genstat": [0, 0, 0],
                "cip.data": [struct.pack("<Hh", 0xC3, 7), struct.pack("<H2i", 0xC4, 1, 2)],
                "cip.id.serial_number": [SERIAL]}))

    # --- An error reply with extended status (Logix: general error 0xFF, 0x2105 = beyond end) --
    msg = Request(LogixService.READ_TAG, (Symbolic("Missing"),), ReadTag(1).encode())
    send_rr(s, tcp, "Read Tag error", unconnected_send(msg), encode_reply(msg.service, 0xFF, (0x2105,)),
            merge(routed(msg), {"cip.symbol": ["Missing"]}),
            merge(reply_fields(msg.service, 0xFF, (0x2105,)), {"cip.symbol": ["Missing"]}))

    # Pipelined: two requests in one TCP segment, both replies in one segment.
    first = Request(CommonService.GET_ATTRIBUTE_SINGLE, (Logical("class", 1), Logical("instance", 1),
                                                         Logical("attribute", 1)))
    second = Request(LogixService.READ_TAG, (Symbolic("NoSuchTag"),), ReadTag(1).encode())
    c1, c2 = s.context(), s.context()
    r1 = SendData((NullAddress(), UnconnectedData(unconnected_send(first))), timeout=5).encode()
    r2 = SendData((NullAddress(), UnconnectedData(unconnected_send(second))), timeout=5).encode()
    tcp.send(Encapsulation(Command.SEND_RR_DATA, SESSION, context=c1, data=r1).encode()
             + Encapsulation(Command.SEND_RR_DATA, SESSION, context=c2, data=r2).encode())
    s.expect("two pipelined requests", merge(
        header(Command.SEND_RR_DATA, r1, session=SESSION, context=c1),
        header(Command.SEND_RR_DATA, r2, session=SESSION, context=c2),
        {"cip.sc": [0x0E, 0x4C], "cip.attribute": [1], "cip.symbol": ["NoSuchTag"]}))
    p1 = SendData((NullAddress(), UnconnectedData(encode_reply(0x0E, 0, (), struct.pack("<H", 1))))).encode()
    # Path destination unknown, with the word offset of the bad segment as extended status.
    p2 = SendData((NullAddress(), UnconnectedData(encode_reply(0x4C, GeneralStatus.PATH_DESTINATION_UNKNOWN,
                                                               (0x0000,))))).encode()
    tcp.reply(Encapsulation(Command.SEND_RR_DATA, SESSION, context=c1, data=p1).encode()
              + Encapsulation(Command.SEND_RR_DATA, SESSION, context=c2, data=p2).encode())
    s.pairs += [(s.frame - 1, s.frame, "pipelined Get Attribute Single"), (s.frame - 1, s.frame, "pipelined Read Tag")]
    s.expect("two pipelined replies", merge(
        header(Command.SEND_RR_DATA, p1, session=SESSION, context=c1),
        header(Command.SEND_RR_DATA, p2, session=SESSION, context=c2),
        {"cip.genstat": [0x00, 0x05], "cip.addstat": [0x0000], "cip.id.vendor_id": [1]}))

    # --- Connection Manager: Forward Open, connected Read Tag, Forward Close, Large Forward Open -
    path = (Port(1, 0), Logical("class", 2), Logical("instance", 1))
    fo = ForwardOpen(0, 0x20000002, 0x1234, 0x1337, 0x00C0FFEE, 2_000_000, ConnectionParams(500),
                     1_000_000, ConnectionParams(500), path, timeout_multiplier=1)
    forep = ForwardOpenReply(0x10000001, 0x20000002, 0x1234, 0x1337, 0x00C0FFEE, 2_000_000, 1_000_000)
    conn_fields: Fields = {"cip.cm.conn_serial_num": [0x1234], "cip.cm.vendor": [0x1337],
                           "cip.cm.orig_serial_num": [0x00C0FFEE]}
    params = {"cip.cm.fwo.consize": [500, 500], "cip.cm.fwo.f_v": [1, 1], "cip.cm.fwo.type": [2, 2],
              "cip.cm.fwo.prio": [0, 0], "cip.cm.fwo.owner": [0, 0]}
    send_rr(s, tcp, "Forward Open",
            Request(ConnectionManagerService.FORWARD_OPEN, CM, fo.encode()).encode(),
            encode_reply(ConnectionManagerService.FORWARD_OPEN, 0, (), forep.encode()),
            merge(conn_fields, params, {
                "cip.sc": [0x54], "cip.cm.tick_time": [10], "cip.cm.timeout_tick": [14],
                "cip.cm.ot_connid": [0], "cip.cm.to_connid": [0x20000002], "cip.cm.timeout_multiplier": [1],
                "cip.cm.otrpi": [2_000_000], "cip.cm.torpi": [1_000_000],
                "cip.cm.ot_net_params": [0x43F4], "cip.cm.to_net_params": [0x43F4],
                "cip.cm.transport_type_trigger": [0xA3], "cip.cm.fwo.transport": [3],
                "cip.cm.connpath_size": [3], "cip.port": [1], "cip.class": [6, 2], "cip.instance": [1, 1]}),
            merge(reply_fields(0x54), conn_fields, {
                "cip.cm.ot_connid": [0x10000001], "cip.cm.to_connid": [0x20000002],
                "cip.cm.otapi": [2_000_000], "cip.cm.toapi": [1_000_000], "cip.cm.app_reply_size": [0]}))
    fo_frame = s.frame - 1

    ctx = s.context()
    msg = Request(LogixService.READ_TAG, (Symbolic("Counter"),), ReadTag(1).encode())
    data = SendData((ConnectedAddress(0x10000001), ConnectedData(1, msg.encode()))).encode()
    tcp.send(Encapsulation(Command.SEND_UNIT_DATA, SESSION, context=ctx, data=data).encode())
    s.expect("SendUnitData Read Tag request", merge(header(Command.SEND_UNIT_DATA, data, session=SESSION,
                                                           context=ctx), {
        "enip.sud.iface": [0], "enip.timeout": [0], "enip.cpf.itemcount": [2], "enip.cpf.typeid": [0xA1, 0xB1],
        "enip.cpf.length": [4, 2 + len(msg.encode())], "enip.cpf.cai.connid": [0x10000001],
        "enip.fwd_open_in": [fo_frame], "cip.seq": [1], "cip.connid": [0x10000001], "cip.sc": [0x4C],
        "cip.symbol": ["Counter"], "cip.data": [struct.pack("<H", 1)]}))
    reply = encode_reply(0x4C, 0, (), TypedData(TypeCode.DINT, struct.pack("<i", -5)).encode())
    data = SendData((ConnectedAddress(0x20000002), ConnectedData(1, reply))).encode()
    tcp.reply(Encapsulation(Command.SEND_UNIT_DATA, SESSION, context=ctx, data=data).encode())
    s.pairs.append((s.frame - 1, s.frame, "SendUnitData Read Tag"))
    s.expect("SendUnitData Read Tag reply", merge(header(Command.SEND_UNIT_DATA, data, session=SESSION,
                                                         context=ctx), {
        "enip.sud.iface": [0], "enip.timeout": [0], "enip.cpf.itemcount": [2], "enip.cpf.typeid": [0xA1, 0xB1],
        "enip.cpf.length": [4, 2 + len(reply)], "enip.cpf.cai.connid": [0x20000002],
        "enip.fwd_open_in": [fo_frame], "cip.seq": [1], "cip.connid": [0x20000002]},
        reply_fields(0x4C), {"cip.symbol": ["Counter"], "cip.data": [struct.pack("<Hi", 0xC4, -5)]}))

    fc = ForwardClose(0x1234, 0x1337, 0x00C0FFEE, path)
    send_rr(s, tcp, "Forward Close",
            Request(ConnectionManagerService.FORWARD_CLOSE, CM, fc.encode()).encode(),
            encode_reply(ConnectionManagerService.FORWARD_CLOSE, 0, (),
                         ForwardCloseReply(0x1234, 0x1337, 0x00C0FFEE).encode()),
            merge(conn_fields, {"cip.sc": [0x4E], "cip.cm.connpath_size": [3], "cip.class": [6, 2],
                                "cip.port": [1], "cip.fwd_open_in": [fo_frame],
                                # Wireshark's O->T and T->O timeouts: RPI x (4 << multiplier), in ms
                                "cip.cm.ot_timeout": [round(fo.timeout_s * 1000)],
                                "cip.cm.to_timeout": [1_000 * (4 << 1)]}),
            merge(reply_fields(0x4E), conn_fields, {"cip.cm.app_reply_size": [0]}))

    # Large Forward Open, routed out of an Ethernet port to an IP address (extended link address).
    lpath = (Port(2, "192.168.1.30"), Port(1, 0), Logical("class", 2), Logical("instance", 1))
    lfo = ForwardOpen(0, 0x20000003, 0x1235, 0x1337, 0x00C0FFEE, 500_000, ConnectionParams(4000, priority=1),
                      500_000, ConnectionParams(4000, priority=1), lpath, timeout_multiplier=2, large=True)
    lfo_rep = ForwardOpenReply(0x10000004, 0x20000003, 0x1235, 0x1337, 0x00C0FFEE, 500_000, 500_000,
                               application_reply=b"\x01\x02")
    large = 4000 | 1 << 25 | 1 << 26 | 2 << 29
    send_rr(s, tcp, "Large Forward Open",
            Request(ConnectionManagerService.LARGE_FORWARD_OPEN, CM, lfo.encode()).encode(),
            encode_reply(ConnectionManagerService.LARGE_FORWARD_OPEN, 0, (), lfo_rep.encode()),
            {"cip.sc": [0x5B], "cip.cm.to_connid": [0x20000003], "cip.cm.conn_serial_num": [0x1235],
             "cip.cm.timeout_multiplier": [2], "cip.cm.otrpi": [500_000], "cip.cm.torpi": [500_000],
             "cip.cm.ot_net_params": [large], "cip.cm.to_net_params": [large],
             "cip.cm.fwo.consize": [4000, 4000], "cip.cm.fwo.prio": [1, 1], "cip.cm.fwo.type": [2, 2],
             "cip.cm.fwo.f_v": [1, 1], "cip.cm.connpath_size": [10],  # 14-byte IP port segment + 3 two-byte segments
             "cip.port": [2, 1], "cip.linkaddress.string": ["192.168.1.30"], "cip.linkaddress.byte": [0]},
            merge(reply_fields(0x5B), {"cip.cm.ot_connid": [0x10000004], "cip.cm.to_connid": [0x20000003],
                                       "cip.cm.conn_serial_num": [0x1235], "cip.cm.app_reply_size": [1],
                                       "cip.cm.app_reply_data": [b"\x01\x02"]}))

    # A class 1 (cyclic I/O) Forward Open to an assembly's connection points; the reply carries a
    # T->O socket address item (multicast) after the CIP reply.
    io_path = (Logical("class", 4), Logical("instance", 1), Logical("connection", 0x65),
               Logical("connection", 0x66))
    io = ForwardOpen(0, 0x20000010, 0x2222, 0x1337, 0x00C0FFEE, 10_000, ConnectionParams(36, variable=False),
                     10_000, ConnectionParams(34, variable=False, type=1), io_path, timeout_multiplier=2,
                     transport=0x01)
    io_rep = ForwardOpenReply(0x10000010, 0x20000010, 0x2222, 0x1337, 0x00C0FFEE, 10_000, 10_000)
    ctx = s.context()
    request = Request(ConnectionManagerService.FORWARD_OPEN, CM, io.encode()).encode()
    data = SendData((NullAddress(), UnconnectedData(request))).encode()
    tcp.send(Encapsulation(Command.SEND_RR_DATA, SESSION, context=ctx, data=data).encode())
    s.expect("Forward Open class 1 request", merge(header(Command.SEND_RR_DATA, data, session=SESSION, context=ctx), {
        "enip.srrd.iface": [0], "enip.timeout": [0], "enip.cpf.itemcount": [2], "enip.cpf.typeid": [0, 0xB2],
        "enip.cpf.length": [0, len(request)], "cip.cm.to_connid": [0x20000010], "cip.cm.otrpi": [10_000],
        "cip.cm.ot_net_params": [0x4024], "cip.cm.to_net_params": [0x2022],
        "cip.cm.fwo.consize": [36, 34], "cip.cm.fwo.f_v": [0, 0], "cip.cm.fwo.type": [2, 1],
        "cip.cm.transport_type_trigger": [0x01], "cip.cm.fwo.transport": [1], "cip.cm.fwo.dir": [0],
        "cip.cm.fwo.trigger": [0], "cip.cm.connpath_size": [4], "cip.class": [4], "cip.connpoint": [0x65, 0x66]}))
    io_frame = s.frame
    reply = encode_reply(ConnectionManagerService.FORWARD_OPEN, 0, (), io_rep.encode())
    data = SendData((NullAddress(), UnconnectedData(reply),
                     SockAddr(ItemType.SOCKADDR_T_O, sin_port=2222, sin_addr="239.192.1.1"))).encode()
    tcp.reply(Encapsulation(Command.SEND_RR_DATA, SESSION, context=ctx, data=data).encode())
    s.pairs.append((s.frame - 1, s.frame, "Forward Open class 1"))
    s.expect("Forward Open class 1 reply", merge(header(Command.SEND_RR_DATA, data, session=SESSION, context=ctx), {
        "enip.srrd.iface": [0], "enip.timeout": [0], "enip.cpf.itemcount": [3],
        "enip.cpf.typeid": [0, 0xB2, 0x8001], "enip.cpf.length": [0, len(reply), 16], "enip.sinfamily": [2],
        "enip.sinport": [2222], "enip.sinaddr": ["239.192.1.1"], "enip.sinzero": [bytes(8)]},
        reply_fields(0x54), {"cip.cm.ot_connid": [0x10000010], "cip.cm.to_connid": [0x20000010],
                             "cip.cm.otapi": [10_000], "cip.cm.toapi": [10_000]}))

    ctx = s.context()
    tcp.send(Encapsulation(Command.UNREGISTER_SESSION, SESSION, context=ctx).encode())
    s.expect("UnRegisterSession", header(Command.UNREGISTER_SESSION, b"", session=SESSION, context=ctx))
    tcp.close()

    # --- UDP: broadcast List Identity and List Services, and their replies --------------------------
    ctx = list_identity_context(1000, b"bcast1")
    s.capture.udp(UDP_CLIENT, BROADCAST, Encapsulation(Command.LIST_IDENTITY, context=ctx).encode())
    s.expect("ListIdentity request (UDP)", merge(header(Command.LIST_IDENTITY, b"", context=ctx[2:]),
                                                 {"enip.listid_delay": [1000]}))
    data = encode_cpf([identity(sin_addr="192.168.1.21", serial_number=0x00BC614E, product_name="cpppo",
                                product_revision=0x0201, device_type=0x0C, state=0xFF)])
    s.capture.udp(("192.168.1.21", 44818), UDP_CLIENT, Encapsulation(Command.LIST_IDENTITY, context=ctx,
                                                                    data=data).encode())
    s.expect("ListIdentity reply (UDP)", merge(header(Command.LIST_IDENTITY, data, context=ctx), {
        "enip.cpf.itemcount": [1], "enip.cpf.typeid": [0x000C], "enip.cpf.length": [len(data) - 6],
        "enip.encapver": [1], "enip.sinfamily": [2], "enip.sinport": [44818], "enip.sinaddr": ["192.168.1.21"],
        "enip.lir.vendor": [1], "enip.lir.devtype": [0x0C], "enip.lir.prodcode": [0x36],
        "enip.lir.revision": [1 << 8 | 2], "enip.lir.status": [0], "enip.lir.serial": [0x00BC614E],
        "enip.lir.namelen": [5], "enip.lir.name": ["cpppo"], "enip.lir.state": [0xFF]}))
    ctx = s.context()
    s.capture.udp(UDP_CLIENT, SERVER, Encapsulation(Command.LIST_SERVICES, context=ctx).encode())
    s.expect("ListServices request (UDP)", header(Command.LIST_SERVICES, b"", context=ctx))
    data = encode_cpf([ServiceItem(capability=0x0020)])
    s.capture.udp(SERVER, UDP_CLIENT, Encapsulation(Command.LIST_SERVICES, context=ctx, data=data).encode())
    s.expect("ListServices reply (UDP)", merge(header(Command.LIST_SERVICES, data, context=ctx), {
        "enip.cpf.itemcount": [1], "enip.cpf.typeid": [0x0100], "enip.lsr.capaflags": [0x0020],
        "enip.lsr.capaflags.tcp": [1], "enip.lsr.capaflags.udp": [0], "enip.lsr.servicename": ["Communications"]}))

    # --- Class 1 I/O over UDP port 2222: sequenced address + connected data (no encapsulation) ---
    for seq in (1, 2):
        values = bytes(range(seq, seq + 32))
        cpf = encode_cpf([SequencedAddress(0x10000010, seq), ConnectedData(seq, struct.pack("<I", 1) + values)])
        s.capture.udp(("192.168.1.10", 2222), ("192.168.1.20", 2222), cpf)
        s.expect(f"class 1 O->T #{seq}", {
            "enip.cpf.itemcount": [2], "enip.cpf.typeid": [0x8002, 0xB1], "enip.cpf.length": [8, 2 + 4 + 32],
            "enip.cpf.sai.connid": [0x10000010], "enip.cpf.sai.seq": [seq], "enip.fwd_open_in": [io_frame],
            "cip.seq": [seq], "cip.32bitheader.run_idle": [1], "cipio.data": [values]})
        cpf = encode_cpf([SequencedAddress(0x20000010, seq), ConnectedData(seq, values)])
        s.capture.udp(("192.168.1.20", 2222), ("239.192.1.1", 2222), cpf)
        s.expect(f"class 1 T->O #{seq}", {
            "enip.cpf.itemcount": [2], "enip.cpf.typeid": [0x8002, 0xB1], "enip.cpf.length": [8, 2 + 32],
            "enip.cpf.sai.connid": [0x20000010], "enip.cpf.sai.seq": [seq], "enip.fwd_open_in": [io_frame],
            "cip.seq": [seq], "cipio.data": [values]})

    # --- Negative control: a CPF item claiming 4 more bytes than the frame holds -----------------
    good = Encapsulation(Command.LIST_IDENTITY, context=ctx, data=encode_cpf([identity()])).encode()
    bad = good[:24 + 4] + struct.pack("<H", len(good) - 24 - 6 + 4) + good[24 + 6:]
    s.capture.udp(("192.168.1.22", 44818), UDP_CLIENT, bad)
    s.bad_frame = s.frame
    return s


# --- Reading tshark's JSON -------------------------------------------------------------------------


@dataclass
class Dissected:
    """One frame as tshark decoded it: every field's values in tree order, and the expert items."""

    number: int
    layers: dict[str, Any]
    fields: dict[str, list[str]]
    experts: list[dict[str, str]]
    malformed: list[str]


def _walk(node: Any, fields: dict[str, list[str]], experts: list[dict[str, str]], malformed: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, fields, experts, malformed)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key.startswith("_ws.malformed"):
            malformed.append(key)
        if key == "_ws.expert":
            experts.extend(value if isinstance(value, list) else [value])
        if isinstance(value, str):
            fields[key].append(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    fields[key].append(item)
                else:
                    _walk(item, fields, experts, malformed)
        else:
            _walk(value, fields, experts, malformed)


def tshark(pcap: Path, home: Path) -> list[Dissected]:
    assert TSHARK is not None
    # A private configuration directory: a user's Wireshark preferences must not change the result.
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "WIRESHARK_CONFIG_DIR": str(home)}
    cmd = [TSHARK, "-n", "-2", "-r", str(pcap), "-T", "json", "--no-duplicate-keys",
           "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
           "-o", "tcp.desegment_tcp_streams:TRUE", "-o", "enip.desegment:TRUE"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert proc.returncode == 0, f"tshark failed ({proc.returncode}): {proc.stderr}"
    out = []
    for packet in json.loads(proc.stdout):
        layers = packet["_source"]["layers"]
        fields: dict[str, list[str]] = defaultdict(list)
        experts: list[dict[str, str]] = []
        malformed: list[str] = []
        _walk(layers, fields, experts, malformed)
        number = int(fields["frame.number"][0])
        out.append(Dissected(number, layers, dict(fields), experts, malformed))
    return out


def _same(expected: Value, shown: str) -> bool:
    if isinstance(expected, bool) or not isinstance(expected, (int, bytes)):
        return shown == expected
    try:
        if isinstance(expected, bytes):
            return bytes.fromhex(shown.replace(":", "")) == expected
        return int(shown, 16 if shown.lower().startswith("0x") else 10) == expected
    except ValueError:
        return False


def _show(value: Value) -> str:
    return value.hex(":") if isinstance(value, bytes) else hex(value) if isinstance(value, int) else repr(value)


def mismatches(expect: Expect, frame: Dissected) -> list[str]:
    """``enip.*`` fields must match exactly and in order; others must all be present (as a multiset)."""
    problems = []
    for name, wanted in expect.fields.items():
        shown = list(frame.fields.get(name, []))
        if name.startswith("enip."):
            if len(shown) != len(wanted) or not all(_same(w, v) for w, v in zip(wanted, shown)):
                problems.append(f"{name}: wanted {[_show(w) for w in wanted]}, tshark shows {shown}")
            continue
        for w in wanted:
            hit = next((i for i, v in enumerate(shown) if _same(w, v)), None)
            if hit is None:
                problems.append(f"{name}: wanted {_show(w)} among {frame.fields.get(name, [])}")
                break
            del shown[hit]
    return problems


def unexpected_experts(frame: Dissected) -> list[str]:
    """Expert items other than TCP connection life-cycle chats and notes (SYN, FIN, closing)."""
    bad = []
    for item in frame.experts:
        severity = int(item.get("_ws.expert.severity", "0"))
        group = int(item.get("_ws.expert.group", "0"))
        if severity > PI_NOTE or group != PI_SEQUENCE or "tcp" not in frame.layers:
            bad.append(f"{item.get('_ws.expert.message')} (severity 0x{severity:X}, group 0x{group:X})")
    return bad


# --- The test --------------------------------------------------------------------------------------


@dataclass
class Run:
    script: Script
    frames: dict[int, Dissected]
    version: str  # tshark's, for failure messages: the expectations were set against tshark 4.0


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    if TSHARK is None:
        pytest.skip("tshark (Wireshark) is not installed: the wire-format cross-check did not run; "
                    "apt-get install tshark")
    version = subprocess.run([TSHARK, "--version"], capture_output=True, text=True, timeout=60,
                             check=False).stdout.partition("\n")[0]
    script = build()
    where = tmp_path_factory.mktemp("wireshark")
    pcap = where / "cpppo-enip.pcap"
    script.capture.write(str(pcap))
    return Run(script, {f.number: f for f in tshark(pcap, where)}, version)


def test_every_frame_was_dissected(run: Run) -> None:
    assert sorted(run.frames) == list(range(1, len(run.script.capture.records) + 1)), run.version


def test_the_script_covers_every_command_and_service(run: Run) -> None:
    """A check of this test's own script, not of the codec: the capture it writes holds every
    encapsulation command, and each service as request and reply, so the other tests see them all."""
    commands = {c for e in run.script.expected.values() for c in e.fields.get("enip.command", [])}
    assert commands == set(Command)
    services = {0x01, 0x03, 0x0A, 0x0E, 0x10, 0x4C, 0x4D, 0x4E, 0x52, 0x53, 0x54, 0x5B}
    for kind in ("request", "reply"):
        shown = {c for e in run.script.expected.values() if kind in e.what for c in e.fields.get("cip.sc", [])}
        assert services <= shown, (kind, sorted(services - shown))


def test_checksums_verify(run: Run) -> None:
    """The pcap writer's IPv4, TCP and UDP checksums are right (status 1 = good, when checked)."""
    for frame in run.frames.values():
        assert frame.fields["ip.checksum.status"] == ["1"], frame.number
        proto = "tcp" if "tcp" in frame.layers else "udp"
        assert frame.fields[f"{proto}.checksum.status"] == ["1"], frame.number


def test_nothing_malformed_and_no_expert_warnings(run: Run) -> None:
    problems = {}
    for number, frame in run.frames.items():
        if number == run.script.bad_frame:
            continue
        found = frame.malformed + unexpected_experts(frame)
        if found:
            problems[number] = (run.script.expected.get(number, Expect(number, "(transport)", {})).what, found)
    assert not problems, (run.version, problems)


def test_the_negative_control_is_flagged(run: Run) -> None:
    """A truncated CPF item must be reported, or the check above could not fail."""
    frame = run.frames[run.script.bad_frame]
    assert frame.malformed, run.version
    assert any(int(e.get("_ws.expert.severity", "0")) >= PI_ERROR for e in frame.experts), frame.experts


def test_exactly_the_expected_frames_carry_enip(run: Run) -> None:
    """Handshake, FIN and the first segments of a split message carry no ENIP; every message lands once."""
    carrying = {n for n, f in run.frames.items() if "enip" in f.layers and n != run.script.bad_frame}
    assert carrying == set(run.script.expected), run.version


def test_field_values_are_what_we_meant(run: Run) -> None:
    problems = {}
    for number, expect in sorted(run.script.expected.items()):
        found = mismatches(expect, run.frames[number])
        if found:
            problems[f"frame {number}: {expect.what}"] = found
    assert not problems, run.version + "\n" + json.dumps(problems, indent=1)


def test_requests_and_replies_are_paired(run: Run) -> None:
    """Wireshark matched every SendRRData/SendUnitData reply to its request (so it decoded its data)."""
    assert len(run.script.pairs) == 28
    wanted_in: dict[int, list[int]] = defaultdict(list)
    wanted_to: dict[int, list[int]] = defaultdict(list)
    for request, reply, _ in run.script.pairs:
        wanted_in[request].append(reply)
        wanted_to[reply].append(request)
    shown_in = {n: [int(v) for v in f.fields.get("enip.response_in", [])] for n, f in run.frames.items()}
    shown_to = {n: [int(v) for v in f.fields.get("enip.response_to", [])] for n, f in run.frames.items()}
    assert {n: v for n, v in shown_in.items() if v} == wanted_in, run.version
    assert {n: v for n, v in shown_to.items() if v} == wanted_to, run.version
