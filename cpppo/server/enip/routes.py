"""The routing table of ``[UCMM] Route`` and ``--route``: which route path hops lead to which devices.

cpppo 5's router configuration maps the *first* segment of a request's route path to the address
of another EtherNet/IP device::

    Route = {"1/1-15": "localhost:44819", "2/1.2.3.4": "plc7:44818"}

Keys are ``<port>/<link>``; a link is a number, a range of numbers (``1-15``), an IP address, or a
range in the last octet of one (``192.0.2.10-20``).  Values are ``<host>[:<port>]`` (44818 when no
port is given).  :func:`parse_routes` expands such a table into ``{(port, link): RemoteTarget}``
and :func:`attach_routes` puts the targets on a controller's backplane, where the controller's
route path handling finds them (see :mod:`cpppo.device.backplane`).  Pure functions: no I/O.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ...cli import split_host_port
from ...device.backplane import Backplane, RemoteTarget
from ...device.controller import ANY_ROUTE, Controller

__all__ = ["DEFAULT_ROUTE_TIMEOUT", "RouteError", "attach_routes", "parse_route_option", "parse_routes"]

DEFAULT_ROUTE_TIMEOUT = 5.0
"""Seconds a router waits for a target before answering the client 0x01/0x0204 (timed out)."""

_MAX_RANGE = 256  # links one key may expand to: a backplane has 16 slots, a subnet's last octet 256


class RouteError(ValueError):
    """A route table entry that cannot be understood; the message names it."""


def _links(key: str) -> tuple[int, list[int | str]]:
    port_text, sep, link_text = key.strip().partition("/")
    if not sep or "/" in link_text:
        raise RouteError(f"route {key!r} must be <port>/<link> (one hop)")
    try:
        port = int(port_text.strip(), 0)
    except ValueError:
        raise RouteError(f"route {key!r}: port {port_text.strip()!r} is not a number") from None
    if not 0 < port <= 0xFFFF:
        raise RouteError(f"route {key!r}: port {port} is not 1..65535")
    link_text = link_text.strip()
    first, dash, last = link_text.partition("-")
    try:
        if "." in first or ":" in first:  # an IP address, or a range in its last octet
            address = ipaddress.ip_address(first.strip())
            if not dash:
                return port, [str(address)]
            if address.version != 4:
                raise RouteError(f"route {key!r}: only IPv4 addresses take a range")
            head, _, low = str(address).rpartition(".")
            lo, hi = int(low), int(last.strip(), 0)
            if not lo <= hi <= 255:
                raise RouteError(f"route {key!r}: the range {lo}-{hi} must ascend within 0..255")
            return port, [f"{head}.{octet}" for octet in range(lo, hi + 1)]
        lo = int(first.strip(), 0)
        hi = int(last.strip(), 0) if dash else lo
    except ValueError:
        raise RouteError(f"route {key!r}: link {link_text!r} is not a number, a range or an IP address") from None
    if not 0 <= lo <= hi:
        raise RouteError(f"route {key!r}: the link range {lo}-{hi} must ascend from 0")
    if hi - lo >= _MAX_RANGE:
        raise RouteError(f"route {key!r}: a range of {hi - lo + 1} links is too many (at most {_MAX_RANGE})")
    return port, list(range(lo, hi + 1))


def _target(key: str, value: Any, timeout: float) -> RemoteTarget:
    if not isinstance(value, str):
        raise RouteError(f"route {key!r}: the target must be \"<host>[:<port>]\", not {value!r}")
    try:
        host, port = split_host_port(value, 44818)
    except ValueError as exc:
        raise RouteError(f"route {key!r}: {exc}") from None
    if not host:
        raise RouteError(f"route {key!r}: the target {value!r} names no host")
    if not port:
        raise RouteError(f"route {key!r}: the target {value!r} needs a port other than 0")
    return RemoteTarget(host, port, timeout)


def parse_routes(table: Mapping[str, Any] | str, *, timeout: float = DEFAULT_ROUTE_TIMEOUT
                 ) -> dict[tuple[int, int | str], RemoteTarget]:
    """``{"<port>/<link>": "<host>[:<port>]", ...}`` (or its JSON text) as ``{(port, link): target}``.

    A hop named twice (directly or by overlapping ranges) is an error, not a silent override.
    """
    if isinstance(table, str):
        try:
            table = json.loads(table)
        except json.JSONDecodeError as exc:
            raise RouteError(f"the route table is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(table, Mapping):
        raise RouteError('the route table must be a JSON object: {"<port>/<link>": "<host>:<port>", ...}')
    if not (timeout > 0 and timeout != float("inf")):
        raise RouteError(f"the route timeout must be a positive number of seconds, not {timeout!r}")
    routes: dict[tuple[int, int | str], RemoteTarget] = {}
    for key, value in table.items():
        if not isinstance(key, str):
            raise RouteError(f"route key {key!r} must be \"<port>/<link>\"")
        port, links = _links(key)
        target = _target(key, value, timeout)
        for link in links:
            if (port, link) in routes:
                raise RouteError(f"route {key!r}: {port}/{link} is already routed to {routes[(port, link)]}")
            routes[(port, link)] = target
    return routes


def parse_route_option(values: Iterable[str]) -> dict[str, str]:
    """``--route`` values: each ``<port>/<link>=<host>[:<port>]`` or a JSON object, merged in order."""
    table: dict[str, str] = {}
    for value in values:
        text = value.strip()
        if text.startswith("{"):
            try:
                decoded = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RouteError(f"--route {value!r} is not valid JSON: {exc.msg}") from None
            if not isinstance(decoded, dict):
                raise RouteError(f"--route {value!r} must be a JSON object")
            table.update(decoded)
            continue
        key, sep, target = text.partition("=")
        if not sep or not key.strip() or not target.strip():
            raise RouteError(f"--route {value!r} must be <port>/<link>=<host>[:<port>] or a JSON object")
        table[key.strip()] = target.strip()
    return table


def attach_routes(controller: Controller, routes: Mapping[tuple[int, int | str], RemoteTarget]) -> None:
    """Put ``routes`` on ``controller``'s backplane (creating it), keeping what is already there.

    The controller's own route path (``--route-path 1/0``) is then one more hop on that backplane,
    leading to the controller itself, so requests for it are answered here and the others go on;
    with no route path configured, a request whose first hop is not routed is answered here too, as
    cpppo 5's router does.
    """
    if not routes:
        return
    backplane = controller.backplane or Backplane()
    for (port, link), target in routes.items():
        try:
            backplane.attach(port, link, target)
        except ValueError as exc:
            raise RouteError(f"route {port}/{link}: {exc}") from None
    own = controller.route_path
    if own not in (ANY_ROUTE, None) and len(own) == 1 and backplane.lookup(own[0]) is None:
        backplane.attach(own[0].port, own[0].link, controller)
    controller.backplane = backplane
    controller.route_unknown_here = own is ANY_ROUTE

