"""The real-device vectors (tests/codec/enip-vectors.json, from cpppo 5.2.5's test module).

Every well-formed frame decodes through every layer the codec knows and re-encodes to the same
bytes wherever the device's encoding is the canonical one; the deliberately malformed ones are
each either rejected with DecodeError or tolerated as a real peer would, as said per case below.
"""

from __future__ import annotations

import struct

import pytest

from cpppo.cip.connection_manager import decode_forward_open
from cpppo.cip.epath import Logical, Port, Symbolic, decode_path, encode_path
from cpppo.cip.message import decode_multiple, decode_reply, decode_request
from cpppo.cip.status import GeneralStatus
from cpppo.cip.tag_services import decode_read_tag, decode_typed_data, decode_write_tag
from cpppo.cip.types import SSTRING, STRUCTURE, TYPES
from cpppo.enip.cpf import (
    ConnectedAddress,
    ConnectedData,
    IdentityItem,
    LegacyItem,
    NullAddress,
    ServiceItem,
    UnconnectedData,
    decode_cpf,
    encode_cpf,
)
from cpppo.enip.encapsulation import HEADER, Command, decode_frame
from cpppo.errors import DecodeError

from .support import (
    BAD_FRAMES,
    FRAGMENTS,
    FRAMES,
    GOOD_FRAMES,
    VECTORS,
    cpf_item_body,
    deep_decode,
    encode_layer,
    raw,
    sized_path,
)

# The layers each well-formed frame decodes into (after the frame itself).
LAYERS = {
    "fwd_c01_request": "send_data request forward_close",
    "fwd_clo_reply_just_sts": "send_data reply",
    "fwd_f01_reply": "send_data reply connection_failure",
    "fwd_f01_reply_no_remain": "send_data reply connection_failure",
    "fwd_o01_reply": "send_data reply forward_open_reply",
    "fwd_o01_request": "send_data request forward_open",
    "fwd_o02_reply": "send_data reply forward_open_reply",
    "fwd_o02_request": "send_data request forward_open",
    "gaa_008_reply": "send_data reply",
    "gaa_008_request": "send_data request",
    "gaa_011_reply": "send_data reply",
    "gaa_011_request": "send_data request unconnected_send request",
    "gal_m01_request": "send_data request multiple request attribute_list" + " request read_tag" * 22,
    "gas_001_reply": "send_data reply",
    "gas_001_request": "send_data request",
    "gas_m01_reply": "send_data reply",
    "gas_m01_request": "send_data request multiple request request request",
    "leg_0x1_reply": "cpf",
    "listident_1_req": "",
    "listident_1_rpy": "cpf",
    "listident_2_rpy": "cpf",
    "listident_3_rpy": "cpf",
    "listifaces_1_req": "",
    "listifaces_1_rpy": "cpf",
    "lst_svc1_req": "",
    "lst_svc2_req": "cpf",
    "msp_001_reply": "send_data reply multiple" + " reply typed_data" * 17 + " reply",
    "rfg_001_reply": "send_data reply",
    "rfg_001_request": "send_data request unconnected_send request read_tag",
    "rfg_002_reply": "send_data reply",
    "rfg_002_request": "send_data request unconnected_send request read_tag",
    "rfg_gg0_req": "send_data request read_tag",
    "rfg_gg0_rpy": "send_data reply typed_data",
    "rfg_gg1_req": "send_data request read_tag",
    "rss_004_reply": "register_session",
    "rss_004_request": "register_session",
    "rtg_001_reply": "send_data reply typed_data",
    "snd_u01_req": "send_data",  # DH+ PCCC over a connection, not a Message Router request
    "snd_u01_rpy": "send_data",
    "unk_014_reply": "send_data reply typed_data",
    "unk_014_request": "send_data request unconnected_send request read_tag",
    "unk_017_reply": "send_data reply typed_data",
    "unk_017_request": "send_data request unconnected_send request read_tag",
    "unk_020_reply": "send_data reply",
    "unk_020_request": "send_data request unconnected_send request write_tag",
    "unk_023_reply": "send_data reply typed_data",
    "unk_023_request": "send_data request unconnected_send request read_tag",
    "wfg_003_request": "send_data request write_tag",
    "wtg_001_request": "send_data request write_tag",
    "wtg_002_request": "send_data request write_tag",
}
PCCC = {"snd_u01_req", "snd_u01_rpy"}

# (vector, layer kind): why the device's bytes are not what the codec's encoder produces.
NONCANONICAL = {
    ("listident_3_rpy", "cpf"): "3 bytes after the identity's state byte (ignored on decode)",
    ("lst_svc2_req", "cpf"): "the service name is sent in 15 bytes; the encoder pads it to 16",
    ("rfg_gg0_req", "request"): "instance 8 and element 0 sent in their padded 16-bit forms",
}


def test_the_vector_set_is_the_documented_one():
    assert len(VECTORS) == 79
    assert len(FRAMES) == 54  # the README says 55; the file holds 54 frames and 25 fragments
    assert sorted(BAD_FRAMES) == ["fwd_f01_request_bad", "fwd_o02_request_bad",
                                  "listident_1_rpy_bad_CPF_framing", "unc_snd_bad"]
    assert set(GOOD_FRAMES) == set(LAYERS)


@pytest.mark.parametrize("name", FRAMES)
def test_frame_length_field_and_command(name):
    vec = VECTORS[name]
    buf = raw(name)
    frame = decode_frame(buf)
    assert vec["length_field_consistent"] is (struct.unpack_from("<H", buf, 2)[0] == len(buf) - HEADER.size)
    command = {"legacy 0x0001": Command.LEGACY_0001}.get(vec["encapsulation_command"])
    if command is None:
        command = {c.name.replace("_", ""): c for c in Command}[vec["encapsulation_command"].upper()]
    assert frame.command == command
    assert frame.encode() == buf


@pytest.mark.parametrize("name", GOOD_FRAMES)
def test_good_frame_decodes_through_every_layer(name):
    trace = deep_decode(raw(name), cip=name not in PCCC)
    assert " ".join(layer.kind for layer in trace[1:]) == LAYERS[name]


@pytest.mark.parametrize("name", GOOD_FRAMES)
def test_good_frame_reencodes_layer_by_layer(name):
    trace = deep_decode(raw(name), cip=name not in PCCC)
    differing = []
    for layer in trace:
        if encode_layer(layer) != layer.raw:
            differing.append(layer.kind)
    expected = [kind for (vec, kind) in NONCANONICAL if vec == name]
    assert differing == expected


def test_noncanonical_vectors_still_round_trip_through_the_decoder():
    for name, kind in NONCANONICAL:
        layers = [layer for layer in deep_decode(raw(name)) if layer.kind == kind]
        assert layers, f"{name} has no {kind} layer to check"
        for layer in layers:
            again = encode_layer(layer)
            if kind == "cpf":
                assert decode_cpf(again)[0] == layer.obj
            else:
                assert decode_request(again) == layer.obj


# --- the deliberately malformed frames -----------------------------------------------------------


def test_bad_list_identity_cpf_framing_is_rejected():
    """The item's length (0x27) is shorter than the identity it carries: DecodeError."""
    with pytest.raises(DecodeError) as info:
        deep_decode(raw("listident_1_rpy_bad_CPF_framing"))
    assert "List Identity" in info.value.what
    # the frame itself is well framed; it is the CPF item inside that lies
    assert decode_frame(raw("listident_1_rpy_bad_CPF_framing")).command == Command.LIST_IDENTITY


def test_bad_forward_open_connection_path_is_tolerated_and_answered_by_the_device():
    """Tolerated: every length is right; the connection path names a port but no connection
    point, which the target refuses with status 0x01 / 0x0311 (fwd_f01_reply)."""
    fo = deep_decode(raw("fwd_f01_request_bad")).one("forward_open")
    assert fo.connection_path == (Port(1, 0),)
    assert fo.triad == (0, 0xFFFF, 0x12345678)
    answer = deep_decode(raw("fwd_f01_reply"))
    rpy = answer.one("reply")
    assert (rpy.service, rpy.status, rpy.ext_status) == (0x54, GeneralStatus.CONNECTION_FAILURE, (0x0311,))
    failure = answer.one("connection_failure")
    assert (failure.connection_serial, failure.vendor_id, failure.originator_serial) == fo.triad
    assert failure.remaining_path_size == 1


def test_bad_forward_open_wrapped_in_unconnected_send_is_tolerated():
    """Tolerated: the Unconnected Send around the Forward Open is framed consistently; the Forward
    Open inside has 0xA3 in its timeout multiplier (only 0..7 are defined), a value the
    Connection Manager, not the codec, must refuse."""
    trace = deep_decode(raw("fwd_o02_request_bad"))
    us = trace.one("unconnected_send")
    assert us.route_path == (Port(1, 0),)
    fo = trace.one("forward_open")
    assert fo.timeout_multiplier == 0xA3
    assert fo.connection_path == (Port(1, 0), Logical("class", 2), Logical("instance", 1))


def test_bad_unconnected_send_reply_is_tolerated_as_an_error_reply():
    """Tolerated as a client does: a well-formed reply saying Unconnected Send is not supported."""
    rpy = deep_decode(raw("unc_snd_bad")).one("reply")
    assert (rpy.service, rpy.status, rpy.ok) == (0x52, GeneralStatus.SERVICE_NOT_SUPPORTED, False)
    assert rpy.status_text == "service not supported"


# --- field values of particular frames ----------------------------------------------------------


def test_register_session():
    req = deep_decode(raw("rss_004_request"))
    rpy = deep_decode(raw("rss_004_reply"))
    assert req.one("register_session").version == 1
    assert req.one("frame").session == 0
    assert rpy.one("frame").session == 0x11021E01


def test_list_identity_powerflex():
    (item,) = deep_decode(raw("listident_1_rpy")).one("cpf")
    assert item == IdentityItem(1, 2, 44818, "10.161.1.5", 1, 123, 1168, 267, 1377, 2152275221,
                                "PowerFlex 753" + " " * 19, 255)
    assert item.revision == (11, 1)


def test_list_identity_compactlogix_with_trailing_bytes():
    (a,) = deep_decode(raw("listident_2_rpy")).one("cpf")
    (b,) = deep_decode(raw("listident_3_rpy")).one("cpf")
    assert a == b
    assert (a.product_name, a.sin_addr, a.device_type, a.product_code) == (
        "1769-L24ER-QB1B/A LOGIX5324ER", "10.161.1.3", 14, 149)
    assert a.revision == (27, 11)
    assert a.state == 3 and a.status_word == 48


def test_list_services_and_interfaces_and_legacy():
    (svc,) = deep_decode(raw("lst_svc2_req")).one("cpf")
    assert svc == ServiceItem(1, 0x0020, "Communications")
    assert deep_decode(raw("lst_svc1_req")).one("frame").context == b"Funstuff"
    assert deep_decode(raw("listifaces_1_rpy")).one("cpf") == []
    (leg,) = deep_decode(raw("leg_0x1_reply")).one("cpf")
    assert leg == LegacyItem(1, 0, 2, 44818, "192.168.5.253", "192.168.5.253")


def test_get_attributes_all_identity_reply_fields():
    """gaa_011: an Identity Get Attributes All routed 1/0, and the 1756-L61 reply."""
    trace = deep_decode(raw("gaa_011_request"))
    us = trace.one("unconnected_send")
    assert (us.route_path, us.priority_time_tick, us.timeout_ticks) == ((Port(1, 0),), 1, 250)
    assert trace.of("request")[1].path == (Logical("class", 1), Logical("instance", 1))
    rpy = deep_decode(raw("gaa_011_reply")).one("reply")
    vendor, dtype, code, major, minor, status, serial = struct.unpack_from("<HHHBBHI", rpy.data)
    assert (vendor, dtype, code, major, minor, status, serial) == (1, 14, 0x36, 20, 11, 0x3160, 0x006C061A)
    assert SSTRING.decode_one(rpy.data, 14) == ("1756-L61/B LOGIX5561", len(rpy.data))


def test_get_attribute_single_and_its_multiple_service_packet():
    req = deep_decode(raw("gas_001_request")).one("request")
    assert req.service == 0x0E
    assert req.path == (Logical("class", 0x93), Logical("instance", 11), Logical("attribute", 10))
    rpy = deep_decode(raw("gas_001_reply")).one("reply")
    assert TYPES["REAL"].decode(rpy.data) == [pytest.approx(0.08)]
    trace = deep_decode(raw("gas_m01_request"))
    assert trace.one("multiple") == [(8, 16), (16, 24), (24, 32)]
    assert [r.path[1].value for r in trace.of("request")[1:]] == [11, 3, 1]
    assert deep_decode(raw("gas_m01_reply")).one("reply").status == GeneralStatus.SERVICE_NOT_SUPPORTED


def test_read_tag_fragmented_frames():
    trace = deep_decode(raw("rfg_001_request"))
    inner = trace.of("request")[1]
    assert inner.path == (Symbolic("SCADA"), Logical("element", 10000))
    rt = trace.one("read_tag")
    assert (rt.count, rt.offset) == (10, 0)
    assert deep_decode(raw("rfg_001_reply")).one("reply").status == GeneralStatus.PATH_DESTINATION_UNKNOWN
    rpy = deep_decode(raw("rfg_002_reply")).one("reply")
    assert (rpy.status, rpy.ext_status) == (GeneralStatus.PATH_SEGMENT_ERROR, (0,))
    rt = deep_decode(raw("unk_017_request")).one("read_tag")
    assert (rt.count, rt.offset) == (20, 2)
    typed = deep_decode(raw("unk_017_reply")).one("typed_data")
    assert typed.type_code == TYPES["INT"].code
    assert TYPES["INT"].decode(typed.data)[:3] == [4172, 8, 3]


def test_read_tag_fragmented_structure_partial_transfer():
    trace = deep_decode(raw("rfg_gg0_req"))
    assert trace.one("request").path == (Logical("class", 0x6B), Logical("instance", 8), Logical("element", 0))
    assert trace.one("read_tag").count == 360
    rpy_trace = deep_decode(raw("rfg_gg0_rpy"))
    rpy = rpy_trace.one("reply")
    assert rpy.status == GeneralStatus.PARTIAL_TRANSFER
    typed = rpy_trace.one("typed_data")
    assert (typed.type_code, typed.handle) == (STRUCTURE, 0x8DF9)
    assert rpy_trace.one("send_data").items[1].sequence == 0x13
    gg1 = deep_decode(raw("rfg_gg1_req"))
    assert gg1.one("request").path == (Symbolic("GasGuardSensorDATAARRAY"),)


def test_read_tag_reply_of_ints():
    typed = deep_decode(raw("rtg_001_reply")).one("typed_data")
    assert typed.type_code == TYPES["INT"].code
    assert TYPES["INT"].decode(typed.data) == [0] * (len(typed.data) // 2)


def test_write_tag_frames():
    wt = deep_decode(raw("wtg_001_request")).one("write_tag")
    assert (wt.type_code, wt.count, wt.data, wt.offset) == (TYPES["BOOL"].code, 1, b"\xff", None)
    wt = deep_decode(raw("wtg_002_request")).one("write_tag")
    assert (wt.type_code, wt.handle, wt.count) == (STRUCTURE, 0x8899, 1)
    wf = deep_decode(raw("wfg_003_request")).one("write_tag")
    assert (wf.handle, wf.count, wf.offset, wf.data) == (0x8899, 1, 2, b"\xff")
    trace = deep_decode(raw("unk_020_request"))
    wf = trace.one("write_tag")
    assert trace.of("request")[1].path == (Symbolic("SCADA"), Logical("element", 12))
    assert TYPES["INT"].decode(wf.data) == [16585]
    assert deep_decode(raw("unk_020_reply")).one("reply").ok


def test_connected_frames_carry_their_addresses_and_sequence_counts():
    send = deep_decode(raw("wtg_001_request")).one("send_data")
    assert isinstance(send.items[0], ConnectedAddress) and send.items[0].connection_id == 0x01978F02
    assert isinstance(send.items[1], ConnectedData) and send.items[1].sequence == 2
    pccc = deep_decode(raw("snd_u01_req"), cip=False).one("send_data")
    assert pccc.items[0] == ConnectedAddress(0x8DEE0016)
    assert pccc.items[1].sequence == 1
    unconnected = deep_decode(raw("gas_001_request")).one("send_data")
    assert isinstance(unconnected.items[0], NullAddress)
    assert isinstance(unconnected.items[1], UnconnectedData)


def test_forward_open_and_close():
    fo = deep_decode(raw("fwd_o01_request")).one("forward_open")
    assert fo.triad == (17, 77, 0x1E3D7F0F)
    assert (fo.o_t_rpi, fo.t_o_rpi, fo.transport) == (8_000_000, 8_000_000, 0xA3)
    assert fo.o_t_params.size == 500 and fo.o_t_params.type == 2 and fo.o_t_params.variable
    assert fo.connection_path == (Port(1, 0), Logical("class", 2), Logical("instance", 1))
    fo2 = deep_decode(raw("fwd_o02_request")).one("forward_open")
    assert fo2.connection_path == (Port(1, 1), Logical("class", 0xA6), Logical("instance", 1),
                                   Logical("connection", 1))
    rpy = deep_decode(raw("fwd_o01_reply")).one("forward_open_reply")
    assert (rpy.connection_serial, rpy.vendor_id, rpy.originator_serial) == fo.triad
    assert rpy.t_o_connection_id == fo.t_o_connection_id
    fc = deep_decode(raw("fwd_c01_request")).one("forward_close")
    assert fc.triad == (1, 77, 0x1E3D7F0F)
    rpy = deep_decode(raw("fwd_clo_reply_just_sts")).one("reply")
    assert (rpy.service, rpy.status, rpy.ext_status, rpy.data) == (0x4E, 1, (0x0100,), b"")
    assert deep_decode(raw("fwd_f01_reply_no_remain")).one("connection_failure").remaining_path_size is None


def test_multiple_service_packet_reply_frame():
    trace = deep_decode(raw("msp_001_reply"))
    outer, *replies = trace.of("reply")
    assert outer.status == GeneralStatus.EMBEDDED_SERVICE_ERROR
    assert len(replies) == 18
    assert all(r.service == 0x4C for r in replies)
    assert replies[-1].status != 0 and replies[0].ok
    assert [t.type_code for t in trace.of("typed_data")[:2]] == [0xC1, 0xC1]


# --- fragments ------------------------------------------------------------------------------------

ROUTE_PATHS = {"extpath_5", "extpath_6", "extpath_7", "extpath_7_prod", "extpath_8", "extpath_8_prod"}
EXTPATHS = {
    "extpath_1": ((Logical("element", 1),), b"\x28\x02"),
    "extpath_2": ((Logical("element", 1), Logical("element", 2), Logical("element", 0x04030201)), b"\xff"),
    "extpath_3": ((Logical("element", 1), Logical("element", 0x0201), Logical("element", 0x04030201),
                   Logical("class", 0x11), Logical("class", 0x0211), Logical("instance", 0x21),
                   Logical("instance", 0x0221), Logical("attribute", 0x31), Logical("attribute", 0x0231)),
                  b"\xff"),
    "extpath_4": ((Symbolic("abc123"), Symbolic("xyz12")), b"\xff"),
    "extpath_5": ((Port(1, 0),), b""),
    "extpath_6": ((Port(0x0201, 0x99),), b""),
    "extpath_7": ((Port(3, "130.151.137.105"), Logical("class", 4), Logical("instance", 2),
                   Logical("attribute", 3)), b""),
    "extpath_8": ((Port(0x0103, "130.151.137.105"), Logical("class", 4), Logical("instance", 2),
                   Logical("attribute", 3)), b""),
    "extpath_9": ((Logical("class", 4), Logical("instance", 5), Logical("connection", 3),
                   Logical("connection", 100)), b""),
}
EXTPATHS["extpath_7_prod"] = (EXTPATHS["extpath_7"][0], b"")
EXTPATHS["extpath_8_prod"] = (EXTPATHS["extpath_8"][0], b"")


def test_every_fragment_is_covered():
    covered = set(EXTPATHS) | {"commserv_1", "cpf_1", "cpf_1_rpy", "cpf_2", "cpf_2_rpy", "cpf_type_0x0001",
                               "gal_2_rpy", "gal_3", "mlx_0_request", "multiple_1_rpy", "readfrag_1_req",
                               "readfrag_1_rpy", "writetag_1_req", "writetag_1_rpy"}
    assert covered == set(FRAGMENTS)


@pytest.mark.parametrize("name", sorted(EXTPATHS))
def test_sized_epath_fragments(name):
    buf = raw(name)
    start, end, trailing = sized_path(buf, reserved=name in ROUTE_PATHS)
    path = decode_path(buf, start, end)
    expected, rest = EXTPATHS[name]
    assert path == expected
    assert buf[end:] == rest and trailing == len(rest)
    # the 16-bit forms of small class/instance values in extpath_7 and _8 are not canonical;
    # their "_prod" twins carry the canonical 8-bit ones
    if name in ("extpath_7", "extpath_8"):
        assert encode_path(path) != buf[start:end]
        assert encode_path(path) == raw(name + "_prod")[2:]
    else:
        assert encode_path(path) == buf[start:end]


def test_sized_epath_fragment_read_past_its_size_is_an_error():
    buf = raw("extpath_2")  # 5 words then 0xff: 0xff is no segment
    with pytest.raises(DecodeError):
        decode_path(buf, 1)


def test_list_services_item_body():
    body = raw("commserv_1")
    (item,), _ = decode_cpf(cpf_item_body(0x0100, body))
    assert item == ServiceItem(1, 0x0020, "Communications")


@pytest.mark.parametrize("name", ["cpf_1", "cpf_2", "gal_3", "mlx_0_request"])
def test_cpf_request_fragments(name):
    buf = raw(name)
    items, end = decode_cpf(buf)
    assert end == len(buf)
    assert isinstance(items[0], NullAddress) and isinstance(items[1], UnconnectedData)
    assert encode_cpf(items) == buf
    req = decode_request(items[1].data)
    assert req.path == (Logical("class", 6), Logical("instance", 1))
    if name == "mlx_0_request":
        fo = decode_forward_open(req.data)
        assert fo.connection_path == (Logical("class", 2), Logical("instance", 1))
        assert fo.encode() == req.data


def test_cpf_reply_fragments():
    items, _ = decode_cpf(raw("cpf_2_rpy"))
    rpy = decode_reply(items[1].data)
    assert rpy.service == 0x01 and rpy.ok
    assert SSTRING.decode_one(rpy.data, 14)[0] == "1756-L61/B LOGIX5561"
    assert decode_cpf(raw("gal_2_rpy")) == decode_cpf(raw("cpf_2_rpy"))
    items, _ = decode_cpf(raw("cpf_1_rpy"))
    typed = decode_typed_data(decode_reply(items[1].data).data)
    assert typed.type_code == TYPES["INT"].code and len(TYPES["INT"].decode(typed.data)) == 19


def test_cpf_legacy_item_fragment():
    (item,), _ = decode_cpf(raw("cpf_type_0x0001"))
    assert isinstance(item, LegacyItem) and item.ip_address == "192.168.5.253"
    assert encode_cpf([item]) == raw("cpf_type_0x0001")


def test_tag_service_fragments():
    req = decode_request(raw("readfrag_1_req"))
    assert req.path == (Symbolic("SCADA"),)
    rt = decode_read_tag(req.data, fragmented=True)
    assert (rt.count, rt.offset) == (20, 2)
    assert req.encode() == raw("readfrag_1_req")
    rpy = decode_reply(raw("readfrag_1_rpy"))
    assert rpy.service == 0x52 and rpy.ok
    assert decode_typed_data(rpy.data).type_code == TYPES["INT"].code
    assert rpy.encode() == raw("readfrag_1_rpy")
    req = decode_request(raw("writetag_1_req"))
    assert req.path == (Symbolic("SCADA"), Logical("element", 12))
    wt = decode_write_tag(req.data, fragmented=True)
    assert (wt.type_code, wt.count, wt.offset, wt.data) == (0xC3, 1, 0, b"\xc9\x40")
    assert req.encode() == raw("writetag_1_req")
    assert decode_reply(raw("writetag_1_rpy")).service == 0x53


def test_multiple_service_packet_reply_fragment():
    buf = raw("multiple_1_rpy")
    rpy = decode_reply(buf)
    assert rpy.service == 0x0A and rpy.ok
    spans = decode_multiple(rpy.data)
    assert len(spans) == 17
    replies = [decode_reply(rpy.data, a, b) for a, b in spans]
    assert [r.service for r in replies] == [0x4D, 0x53, 0x4D, 0x4D, 0x4C, 0x4D, 0x4C, 0x4C, 0x4D, 0x4D,
                                            0x4C, 0x4D, 0x4D, 0x4D, 0x52, 0x4C, 0x4C]
    assert all(r.ok for r in replies)
    read = decode_typed_data(replies[7].data)
    assert read.type_code == 0xC3 and TYPES["INT"].decode(read.data) == [0, 97, 98, 99, 0]
    assert not replies[0].data
    assert rpy.encode() == buf
