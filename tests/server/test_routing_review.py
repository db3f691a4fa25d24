"""Routing under misuse: deep nesting, settings changed while serving, and bad backplane entries."""

from __future__ import annotations

import logging

import pytest

from cpppo.cip.epath import parse_route_path
from cpppo.cip.message import decode_reply
from cpppo.cip.types import DINT
from cpppo.device.backplane import Backplane, RemoteTarget
from cpppo.device.controller import Controller
from cpppo.device.tags import Attribute
from cpppo.enip import frames
from cpppo.server.enip import Simulator

from .rawclient import RawClient, multiple, read_tag, tag, values


def nest(request: bytes, depth: int, route: str | None = "1/0") -> bytes:
    """``request`` wrapped in ``depth`` Unconnected Sends."""
    path = parse_route_path(route) if route else ()
    for _ in range(depth):
        request = frames.unconnected_send(request, path).encode()
    return request


def controller(value: int) -> Controller:
    c = Controller()
    c.add_tag("X", Attribute("X", DINT, value))
    return c


def test_unconnected_sends_nested_eight_deep_are_served_and_deeper_ones_refused():
    c = controller(5)
    read = read_tag(tag("X")).encode()
    assert values(decode_reply(c.process(nest(read, 8)))) == [5]
    for depth in (9, 50, 2000):
        rpy = decode_reply(c.process(nest(read, depth)))
        assert (rpy.service & 0x7F, rpy.status) == (0x52, 0x02), depth


def test_multiple_service_packets_nested_deep_are_refused_not_a_recursion_error(caplog):
    c = controller(6)
    message = read_tag(tag("X")).encode()
    for _ in range(3000):
        message = multiple([message]).encode()
    with caplog.at_level(logging.WARNING):
        rpy = decode_reply(c.process(message))
    assert rpy.service & 0x7F == 0x0A and rpy.status == 0x1E  # an embedded service failed ...
    assert "Recursion" not in caplog.text


def test_deep_nesting_over_the_wire_gets_a_status_and_the_connection_goes_on():
    with Simulator(["X=DINT"]) as plc, RawClient(plc.address, register=True) as c:
        plc["X"] = 9
        rpy = c.cip(nest(read_tag(tag("X")).encode(), 1000))
        assert rpy.status == 0x02
        assert c.read_values(tag("X")) == [9]


def test_a_route_path_set_later_is_obeyed_by_requests_already_answered_once():
    c = controller(7)
    request = nest(read_tag(tag("X")).encode(), 1, "1/5")
    assert values(decode_reply(c.process(request))) == [7]  # any route, while none is set
    c.route_path = parse_route_path("1/0")
    rpy = decode_reply(c.process(request))
    assert (rpy.status, rpy.ext_status) == (0x01, (0x0312,))  # link 5 is not the link set


def test_a_backplane_replaced_later_routes_requests_already_answered_once_to_the_new_modules():
    front = controller(1)
    front.backplane = Backplane({(1, 2): controller(2)})
    request = nest(read_tag(tag("X")).encode(), 1, "1/2")
    assert values(decode_reply(front.process(request))) == [2]
    front.backplane = Backplane({(1, 2): controller(3)})
    assert values(decode_reply(front.process(request))) == [3]
    front.backplane = None
    assert values(decode_reply(front.process(request))) == [1]  # no backplane: any route, as before


@pytest.mark.parametrize(("port", "link", "message"), [
    (0, 1, "port"), (-1, 1, "port"), (0x10000, 1, "port"), ("1", 1, "port"),
    (1, -1, "link"), (1, 256, "link"), (1, "", "link"), (1, 1.5, "link"),
])
def test_a_backplane_refuses_ports_and_links_a_route_path_cannot_name(port, link, message):
    with pytest.raises(ValueError, match=message):
        Backplane().attach(port, link, controller(0))
    with pytest.raises(ValueError, match=message):
        Backplane({(port, link): controller(0)})


def test_a_backplane_refuses_a_module_that_is_neither_a_controller_nor_a_remote_target():
    with pytest.raises(TypeError, match="module"):
        Backplane().attach(1, 0, "192.0.2.1")  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwds", "message"), [
    ({"host": ""}, "host"), ({"host": 17}, "host"), ({"host": "h", "port": 0}, "port"),
    ({"host": "h", "port": 65536}, "port"), ({"host": "h", "port": "44818"}, "port"),
    ({"host": "h", "timeout": 0}, "timeout"), ({"host": "h", "timeout": float("nan")}, "timeout"),
    ({"host": "h", "timeout": -1}, "timeout"),
])
def test_a_remote_target_refuses_an_address_or_timeout_it_could_never_use(kwds, message):
    with pytest.raises(ValueError, match=message):
        RemoteTarget(**kwds)
