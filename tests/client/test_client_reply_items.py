"""A reply harvested with next(conn) prints as the documents show it: one dotted leaf per line."""

from __future__ import annotations

import cpppo.server.enip
from cpppo.server.enip import client


def test_reply_items_are_the_documented_dotted_leaves():
    with cpppo.server.enip.simulator(["Tag=INT[10]"]) as plc:
        host, port = plc.address
        with client.connector(host=host, port=port, timeout=5) as conn:
            conn.write("Tag[0-1]", data=[1, 2])
            assert conn.readable(timeout=5.0), "Failed to receive reply"
            rpy = next(conn)
    items = dict(rpy.items())
    assert list(items)[1:] == [  # after the peer: the keys the documents print, in their order of nesting
        "enip.command", "enip.length", "enip.session_handle", "enip.status", "enip.options",
        "enip.sender_context.input", "enip.input", "enip.CIP.send_data.interface", "enip.CIP.send_data.timeout",
        "enip.CIP.send_data.CPF.count", "enip.CIP.send_data.CPF.item[0].type_id",
        "enip.CIP.send_data.CPF.item[0].length", "enip.CIP.send_data.CPF.item[1].type_id",
        "enip.CIP.send_data.CPF.item[1].length", "enip.CIP.send_data.CPF.item[1].unconnected_send.request.service",
        "enip.CIP.send_data.CPF.item[1].unconnected_send.request.status",
        "enip.CIP.send_data.CPF.item[1].unconnected_send.request.status_ext.size",
        "enip.CIP.send_data.CPF.item[1].unconnected_send.request.input",
        "enip.CIP.send_data.CPF.item[1].unconnected_send.request.write_frag"]
    assert items["enip.CIP.send_data.CPF.item[1].unconnected_send.request.service"] == 211  # as the documents print
    assert items["enip.CIP.send_data.CPF.item[1].type_id"] == 178
    assert items["enip.CIP.send_data.CPF.item[1].unconnected_send.request.write_frag"] is True
    assert plc["Tag"][:2] == [1, 2]
