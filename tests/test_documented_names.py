"""Names the documents import from cpppo.server.enip, as cpppo 5 had them."""

from __future__ import annotations

import json


def test_defaults_and_enip_format_are_importable_as_documented():
    from cpppo.server import enip
    from cpppo.server.enip import address, client  # the io example's import

    assert address == ("", 44818) and address[1] == 44818
    assert (enip.route_path_default, enip.send_path_default) == ("1/0", "@6/1")
    with enip.simulator(["Tag=INT[2]"]) as plc:
        host, port = plc.address
        with client.connector(host=host, port=port, timeout=5) as conn:
            conn.read("Tag[0-1]")
            assert conn.readable(timeout=5)
            response = next(conn)
    shown = json.loads(enip.enip_format(response))  # the list_identity_simple example prints this
    assert shown["enip.CIP.send_data.CPF.item[1].unconnected_send.request.service"] == 0xD2
    assert shown["enip.status"] == 0
