"""The blocking API against the real simulator: connector operations, the 6-tuples, replies as
documented dotdicts, the low-level request methods, and addressing (route/send paths, -S)."""

from __future__ import annotations

import pytest

from cpppo.cip.connection_manager import decode_unconnected_send
from cpppo.cip.epath import Port
from cpppo.cip.message import decode_request
from cpppo.enip.cpf import decode_send_data
from cpppo.enip.encapsulation import decode_frame
from cpppo.errors import CommunicationError
from cpppo.server.enip import client
from cpppo.server.enip.client import await_response, parse_operations

from .support import silent_server


@pytest.fixture
def conn(plc):
    with client.connector(host=plc.address[0], port=plc.address[1], timeout=5.0) as c:
        yield c


def test_process_documented_example(plc, conn, capsys):
    plc["Tag"] = [0] * 10
    tags = ["Tag[0-9]+16=(DINT)4,5,6,7,8,9", "@0x2/1/2", "Tag[3-5]"]
    failures, transactions = conn.process(operations=client.parse_operations(tags), depth=1, multiple=0,
                                          fragment=False, printing=True, timeout=1.0)
    assert failures == 0
    assert transactions == [[4, 5, 6, 7, 8, 9], [0], [0, 4, 5]]
    assert plc["Tag"] == [0, 0, 0, 0, 4, 5, 6, 7, 8, 9]
    out = capsys.readouterr().out.splitlines()
    assert out == ["Tag[0-9]+16 <= [4, 5, 6, 7, 8, 9]: 'OK'", "@0x02/1/2 == [0]: 'OK'",
                   "Tag[3-5] == [0, 4, 5]: 'OK'"]


def test_six_tuples_status_and_failures(plc, conn):
    plc["SCADA"] = [7] * 1000
    ops = list(parse_operations(["SCADA[1]=99", "SCADA[0-2]", "NOPE", "SCADA[2000]", "SCADA[998-999]"]))
    results = list(conn.pipeline(operations=ops, depth=3))
    assert [r[1] for r in results] == ["SCADA[1-1]", "SCADA[0-2]", "NOPE", "SCADA[2000-2000]", "SCADA[998-999]"]
    _, _, req, rpy, sts, val = results[0]
    assert (sts, val, req) == (0, True, ops[0])
    assert rpy.enip.status == 0 and rpy["enip.CIP.send_data.CPF.item[1].unconnected_send.request.status"] == 0
    assert results[1][4:] == (0, [7, 99, 7])
    assert results[2][4:] == ((0x04, [0x0000]), None)  # unknown tag: path segment error
    assert results[3][4:] == (0x05, None)  # past the end: path destination unknown
    assert results[4][5] == [7, 7]
    assert [r[0] for r in results] == sorted(r[0] for r in results)  # idx is the sender context, ascending
    failures, values = conn.process(ops)
    assert failures == 2 and values[0] is True and values[2] is None  # as cpppo 5: a write gives True


def test_results_synchronous_and_operate(plc, conn):
    plc["FLOATS"] = [float(i) for i in range(100)]
    ops = list(parse_operations(["FLOATS[10-12]", "FLOATS[99]"]))
    assert list(conn.results(ops)) == [[10.0, 11.0, 12.0], [99.0]]
    assert [r[5] for r in conn.synchronous(operations=ops)] == [[10.0, 11.0, 12.0], [99.0]]
    assert [r[5] for r in conn.operate(ops, depth=2, validating=True)] == [[10.0, 11.0, 12.0], [99.0]]
    writes = list(parse_operations(["FLOATS[0-1]=(REAL)1.5,2.5"]))
    assert [r[5] for r in conn.operate(writes)] == [True]
    assert [r[5] for r in conn.operate(writes, validating=True)] == [[1.5, 2.5]]


@pytest.mark.parametrize(("tag", "write", "expect"), [
    ("S[0-1]", "(SINT)-128,127", [-128, 127]),
    ("U[0-1]", "(USINT)0,255", [0, 255]),
    ("SCADA[0-1]", "-32768,32767", [-32768, 32767]),
    ("UI[0]", "(UINT)65535", [65535]),
    ("Tag[0]", "(DINT)-2147483648", [-2147483648]),
    ("UD[0]", "(UDINT)4294967295", [4294967295]),
    ("L[0]", "(LINT)-9223372036854775808", [-9223372036854775808]),
    ("LR[0-1]", "(LREAL)1.25,-2.5", [1.25, -2.5]),
    ("FLOAT", "2.5", [2.5]),
    ("B", "(BOOL)1", [1]),
    ("W[0]", "(WORD)65535", [65535]),
    ("DW[1]", "(DWORD)305419896", [305419896]),
    ("TEXT[1]", '(SSTRING)"Hello, world!"', ["Hello, world!"]),
    ("NAME", '(STRING)"a longer, CIP STRING"', ["a longer, CIP STRING"]),
])
def test_write_then_read_every_type(conn, tag, write, expect):
    for fragment in (False, True):
        failures, values = conn.process(parse_operations([f"{tag}={write}", tag]), fragment=fragment)
        assert failures == 0
        assert values[1] == expect


def test_write_of_wrong_type_fails_with_extended_status(conn):
    (result,) = conn.pipeline(parse_operations(["Tag[0]=(INT)1"]))
    assert result[4] == (0xFF, [0x2107]) and result[5] is None


def test_low_level_read_and_documented_reply_keys(plc, conn):
    plc["SCADA"] = [5, 6] + [0] * 998
    req = conn.read("SCADA[0-1]")
    assert req.elements == 2
    assert conn.readable(timeout=1.0), "Failed to receive reply"
    rpy = next(conn)
    assert rpy.peer == tuple(plc.address)
    assert rpy.enip.command == 0x6F and rpy.enip.status == 0 and rpy.enip.session_handle == conn.session
    assert rpy["enip.sender_context.input"] == bytes(8)
    cpf = rpy.enip.CIP.send_data.CPF
    assert cpf.count == 2 and cpf.item[0].type_id == 0 and cpf.item[1].type_id == 0xB2
    request = rpy["enip.CIP.send_data.CPF.item[1].unconnected_send.request"]
    assert request.service == 0xD2 and request.read_frag is True and request.status == 0
    assert request.status_ext.size == 0 and request.data == [5, 6] and request.type == 0xC3
    assert next(conn) is None  # nothing more ready

    conn.write("SCADA[1]", [42], sender_context=b"abc")
    rpy, _ = await_response(conn, timeout=1.0)
    assert rpy["enip.CIP.send_data.CPF.item[1].unconnected_send.request.write_frag"] is True
    assert rpy.enip.sender_context.input == b"abc\0\0\0\0\0"
    assert plc["SCADA"][1] == 42
    conn.read("SCADA[0]", fragment=False)
    rpy, _ = await_response(conn, timeout=1.0)
    assert rpy["enip.CIP.send_data.CPF.item[1].unconnected_send.request.read_tag"] is True
    assert await_response(conn, timeout=0.01)[0] is None


def test_get_set_attribute(plc, conn):
    conn.get_attribute_single("@1/1/7")
    rpy, _ = await_response(conn, timeout=1.0)
    data = rpy["enip.CIP.send_data.CPF.item[1].unconnected_send.request.data"]
    assert bytes(data[1:]).decode() == "1756-L61/B LOGIX5561" and data[0] == 20
    conn.get_attributes_all("@1/1")
    rpy, _ = await_response(conn, timeout=1.0)
    assert rpy["enip.CIP.send_data.CPF.item[1].unconnected_send.request.get_attributes_all"] is True
    conn.set_attribute_single("@0x02/1/5", [0x00, 0x00, 0x20, 0x40], tag_type=None)  # FLOAT (5th tag) = 2.5
    rpy, _ = await_response(conn, timeout=1.0)
    assert rpy["enip.CIP.send_data.CPF.item[1].unconnected_send.request.status"] == 0
    assert plc["FLOAT"] == 2.5
    ops = [{"method": "set_attribute_single", "path": [{"class": 2}, {"instance": 1}, {"attribute": 5}],
            "tag_type": 0xCA, "data": [4.5], "elements": 1},
           {"method": "get_attribute_single", "path": [{"class": 2}, {"instance": 1}, {"attribute": 5}],
            "tag_type": 0xCA},
           {"method": "get_attribute_single", "path": [{"class": 1}, {"instance": 1}, {"attribute": 1}]},
           {"method": "get_attributes_all", "path": [{"class": 1}, {"instance": 1}]}]
    failures, values = conn.process(ops, depth=4, multiple=400)
    assert failures == 0
    assert values[0] is True and values[1] == [4.5] and values[2] == [1, 0]
    assert len(values[3]) > 20


def test_list_requests_over_tcp(plc, conn):
    conn.list_identity()
    rpy, _ = await_response(conn, timeout=1.0)
    ident = rpy.enip.CIP.list_identity.CPF.item[0].identity_object
    assert ident.product_name == "1756-L61/B LOGIX5561" and ident.sin_port == plc.address[1]
    conn.list_services()
    rpy, _ = await_response(conn, timeout=1.0)
    assert rpy["enip.CIP.list_services.CPF.item[0].communications_service.service_name"] == "Communications"
    conn.list_interfaces()
    rpy, _ = await_response(conn, timeout=1.0)
    assert rpy.enip.CIP.list_interfaces.CPF.count == 0
    conn.legacy(0x0001)
    rpy, _ = await_response(conn, timeout=1.0)
    assert rpy["enip.CIP.legacy_CPF_0x0001.CPF.item[0].legacy_CPF_0x0001.ip_address"] == "127.0.0.1"


def test_udp_list_identity_needs_no_session(plc):
    c = client.connector(host=plc.address[0], port=plc.address[1], udp=True, timeout=2.0)
    try:
        assert c.session == 0
        c.list_identity()
        rpy, _ = await_response(c, timeout=2.0)
        assert rpy.peer == tuple(plc.address)
        assert rpy["enip.CIP.list_identity.CPF.item[0].identity_object.product_name"]
    finally:
        c.close()


def test_broadcast_discovery_on_loopback(make_sim):
    sim = make_sim("X=INT", address=("0.0.0.0", 0))
    port = sim.address[1]
    with client.connector(host="127.255.255.255", port=port, udp=True, broadcast=True,
                          source_address="127.0.0.1") as c:
        c.list_identity()
        replies = []
        for _ in range(20):
            rpy, _ = await_response(c, timeout=0.3)
            if rpy is None:
                break
            replies.append(rpy)
    assert [r.peer for r in replies] == [("127.0.0.1", port)]


def _sent_unconnected_send(req):
    frame = decode_frame(req.enip.input)
    return decode_request(decode_send_data(frame.data).message.data)


@pytest.mark.parametrize(("route_path", "expect"), [
    ("1/0", (Port(1, 0),)),
    ('{"port": 1, "link": 0}', (Port(1, 0),)),
    ('[{"port": 1, "link": 0}]', (Port(1, 0),)),
    ('["1/3",{"port":2,"link":"1.2.3.4"}]', (Port(1, 3), Port(2, "1.2.3.4"))),
    ('["1/3","2/1.2.3.4"]', (Port(1, 3), Port(2, "1.2.3.4"))),
    ("false", None),
    (False, None),
    (0, None),
])
def test_route_path_forms(plc, route_path, expect):
    with client.connector(host=plc.address[0], port=plc.address[1], timeout=2, route_path=route_path) as c:
        req = c.read("SCADA[0]", send=False)
        us = decode_unconnected_send(_sent_unconnected_send(req).data)
        assert us.route_path == expect
        assert next(c.results(parse_operations(["SCADA[0]"]))) is not None


def test_timeout_ticks_and_priority_time_tick(plc):
    with client.connector(host=plc.address[0], port=plc.address[1], timeout=2, timeout_ticks=63,
                          priority_time_tick=0) as c:
        us = decode_unconnected_send(_sent_unconnected_send(c.read("SCADA[0]", send=False)).data)
        assert (us.timeout_ticks, us.priority_time_tick, us.timeout_ms) == (63, 0, 63)
    with client.connector(host=plc.address[0], port=plc.address[1], timeout=2) as c:
        us = decode_unconnected_send(_sent_unconnected_send(c.read("SCADA[0]", send=False)).data)
        assert (us.timeout_ticks, us.priority_time_tick) == (157, 5)


def test_simple_device_and_send_path(make_sim):
    sim = make_sim("X=INT[4]", simple=True)
    host, port = sim.address
    with client.connector(host=host, port=port, timeout=2) as routed:  # Unconnected Send refused
        (result,) = routed.pipeline(parse_operations(["X[0]"]))
        assert result[4] == 0x08 and result[5] is None
    for kwds in ({"simple": True}, {"send_path": "", "route_path": False}):
        with client.connector(host=host, port=port, timeout=2, **kwds) as c:
            req = c.read("X[0]", send=False)
            assert _sent_unconnected_send(req).service == 0x52  # Read Tag Fragmented itself, not wrapped
            assert c.process(parse_operations(["X[0-1]=3,4", "X[0-3]"]))[1] == [True, [3, 4, 0, 0]]
    with client.connector(host=host, port=port, timeout=2, send_path="@6/1") as c:
        assert list(c.results(parse_operations(["X[0]"]))) == [None]


def test_route_path_refused(make_sim):
    sim = make_sim("X=INT", route_path=(Port(1, 0),))
    with client.connector(host=sim.address[0], port=sim.address[1], timeout=2, route_path="1/3") as c:
        (result,) = c.pipeline(parse_operations(["X"]))
        assert result[4][0] == 0x01 and result[5] is None
    with client.connector(host=sim.address[0], port=sim.address[1], timeout=2, route_path="1/0") as c:
        assert list(c.results(parse_operations(["X"]))) == [[0]]


def test_per_operation_route_path(make_sim):
    sim = make_sim("X=INT", route_path=(Port(1, 0),))
    with client.connector(host=sim.address[0], port=sim.address[1], timeout=2) as c:
        ops = list(parse_operations(["X"])) + list(parse_operations(["X"], route_path="1/5"))
        assert list(c.results(ops, multiple=500)) == [[0], None]


def test_connection_errors():
    with pytest.raises(CommunicationError, match=r"cannot connect to 127\.0\.0\.1:1"):
        client.connector(host="127.0.0.1", port=1, timeout=1)
    with pytest.raises(CommunicationError, match="unknown host"):
        client.connector(host="nonexistent.invalid", timeout=1)
    with silent_server(register=False) as (host, port), \
            pytest.raises(CommunicationError, match="no reply to RegisterSession"):
        client.connector(host=host, port=port, timeout=0.2)
    with silent_server() as (host, port), client.connector(host=host, port=port, timeout=0.2) as c, \
            pytest.raises(CommunicationError, match=r"no reply from .* within 0\.2s"):
        list(c.pipeline(parse_operations(["X", "Y"]), depth=2))


def test_closed_connection_mid_pipeline(make_sim):
    sim = make_sim("X=INT")
    c = client.connector(host=sim.address[0], port=sim.address[1], timeout=5)
    sim.stop()
    with pytest.raises(CommunicationError):
        list(c.pipeline(parse_operations(["X"] * 3)))
    c.close()


def test_unharvested_low_level_reply_does_not_confuse_a_pipeline(plc, conn):
    plc["SCADA"] = list(range(1000))
    conn.read("SCADA[7]")  # its reply (sender context 0) is never harvested
    results = list(conn.pipeline(parse_operations(["SCADA[1]", "SCADA[2]"]), depth=2))
    assert [r[5] for r in results] == [[1], [2]]
    assert [r[0] for r in results] == [0, 1]  # idx counts this call's requests; the context is not 0


def test_values_only_callers_get_no_reply_dotdicts(plc, conn):
    (result,) = conn.pipeline(parse_operations(["SCADA[0]"]), replies=False)
    assert result[3] is None and result[5] is not None
    (result,) = conn.pipeline(parse_operations(["SCADA[0]"]))
    assert result[3].enip.status == 0
