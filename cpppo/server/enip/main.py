"""``enip_server`` / ``python -m cpppo.server.enip``: run a simulated ControlLogix.

``main(argv, attribute_class=...)`` parses the documented command line and serves until
interrupted (or until ``stop()`` returns true, for callers that run it in a thread).
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ...cip.epath import parse_route_path
from ...cli import UsageParser, console_entry, logging_to
from ...device.controller import IOEvent
from ...device.tags import Attribute
from ...errors import CpppoError, ListenError
from ...history.times import TimestampError, timestamp
from .config import ConfigError, load_config, parse_address, parse_delay
from .embedded import Simulator
from .routes import DEFAULT_ROUTE_TIMEOUT, RouteError, parse_route_option

__all__ = ["main", "run"]

log = logging.getLogger("cpppo.server.enip")


def _parser() -> argparse.ArgumentParser:
    ap = UsageParser(prog="enip_server", description="Simulate an Allen-Bradley ControlLogix over EtherNet/IP CIP.",
                 epilog="Tags: NAME[@class/instance/attribute]=TYPE[length], e.g. SCADA=INT[1000] "
                        "FLOAT@22/1/3=REAL. Types: SINT INT DINT LINT USINT UINT UDINT ULINT REAL LREAL BOOL "
                        "WORD DWORD SSTRING STRING.")
    ap.add_argument("-a", "--address", default="", help="[interface][:port] to bind (default: all interfaces, 44818)")
    ap.add_argument("-v", "--verbose", action="count", default=0, help="more logging (repeat for more)")
    ap.add_argument("-d", "--delay", help="delay every response by #.# seconds, or by a random #.#-#.#")
    ap.add_argument("-l", "--log", help="log to this file (rotated at 10 MB, 5 kept)")
    ap.add_argument("-p", "--print", dest="print", action="store_true", default=False,
                    help="print a summary of each tag read/write")
    ap.add_argument("--no-print", dest="print", action="store_false", help="do not print tag I/O (default)")
    ap.add_argument("--route-path", help="accept only this Unconnected Send route path: 1/0, JSON, or false")
    ap.add_argument("--route", action="append", default=[], metavar="PORT/LINK=HOST[:PORT]",
                    help="forward requests whose route path starts with PORT/LINK (a link may be a range, "
                         "1-15, or an IP address) to the EtherNet/IP device at HOST:PORT; or a JSON object "
                         "of such routes, as [UCMM] Route in cpppo.cfg (repeat to add routes)")
    ap.add_argument("--route-timeout", type=float, metavar="SECONDS",
                    help=f"how long a routed request may take before the client is told it timed out "
                         f"(default: {DEFAULT_ROUTE_TIMEOUT:g})")
    ap.add_argument("--web", metavar="[HOST]:PORT", help="serve the web API on this address (e.g. :12345)")
    ap.add_argument("--web-token", help="a token that lets peers other than this host change things via the web API "
                    "(or [Web] Token in a config file)")
    ap.add_argument("--playback", metavar="FILE", help="replay the writes of this history file into the tags")
    ap.add_argument("--speed", type=float, default=1.0, help="playback speed factor (0: as fast as possible)")
    ap.add_argument("--from", dest="playback_from", metavar="TIME",
                    help="start the playback at this historical time (default: the first record)")
    ap.add_argument("-S", "--simple", action="store_true", help="a simple device: refuse Unconnected Send")
    ap.add_argument("-c", "--config", action="append", default=[], help="another cpppo.cfg file to load")
    ap.add_argument("-U", "--udt", action="append", default=[], metavar="NAME=MEMBER:TYPE,...",
                    help="declare a structure (UDT), e.g. 'Motor=Speed:REAL,Count:DINT,Running:BOOL,Hist:DINT[10]'")
    ap.add_argument("--idle-timeout", type=float, default=600.0, help="close connections silent this long (s)")
    ap.add_argument("tags", nargs="*", help="tags to serve (none: only the standard objects)")
    return ap


def format_io(event: IOEvent) -> str:
    """One line per tag I/O: ``SCADA[1-3] <= [4, 5, 6]`` for a write, ``==`` for a read, ``!!`` for a
    failed access (``SCADA[1-3] !! read: status 0x08``)."""
    end = event.start + event.count - 1
    if event.kind == "error":
        return f"{event.tag}[{event.start}-{end}] !! {event.access}: status 0x{event.status:02X}"
    return f"{event.tag}[{event.start}-{end}] {'<=' if event.kind == 'write' else '=='} {event.values!r}"


def main(argv: Sequence[str] | None = None, attribute_class: type[Attribute] = Attribute, *,
         stop: Callable[[], bool] | None = None, ready: Callable[[Simulator], None] | None = None,
         **kwds: Any) -> int:
    """Run the simulator from command-line arguments; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        with logging_to(args.verbose, args.log):
            return _serve(args, attribute_class, stop, ready, kwds)
    except OSError as exc:  # only the log file can fail here; _serve reports its own errors
        print(f"enip_server: error: cannot log to {args.log!r}: {exc.strerror or exc}", file=sys.stderr)
        return 2


def _serve(args: Any, attribute_class: type[Attribute], stop: Callable[[], bool] | None,
           ready: Callable[[Simulator], None] | None, kwds: dict[str, Any]) -> int:
    prog = "enip_server"
    try:
        if not (args.idle_timeout is None or math.isfinite(args.idle_timeout)) or (args.idle_timeout or 0) < 0:
            raise ConfigError(f"--idle-timeout {args.idle_timeout} is not a number of seconds (0: none)")
        host, port = parse_address(args.address)
        delay = parse_delay(args.delay)
        config = load_config(args.config)
        if config.loaded:
            log.info("Loaded config files: %s", list(config.loaded))
        route_path = config.route_path
        if args.route_path is not None:
            route_path = parse_route_path(args.route_path)
        if args.playback is not None:
            if not math.isfinite(args.speed) or args.speed < 0:
                raise ConfigError(f"--speed {args.speed} is not 0 (as fast as possible) or a positive factor")
            if not os.path.isfile(args.playback):
                raise ConfigError(f"--playback {args.playback!r}: no such file")
            if args.playback_from is not None:
                timestamp(args.playback_from)  # a bad time is a usage error now, not a failure later
        web_address = parse_address(args.web, 80) if args.web is not None else None
        routes = {**config.routes, **parse_route_option(args.route)}
        route_timeout = args.route_timeout if args.route_timeout is not None else config.route_timeout
        if route_timeout is not None and not (math.isfinite(route_timeout) and route_timeout > 0):
            raise ConfigError(f"--route-timeout {route_timeout} is not a positive number of seconds")
        sim = Simulator(args.tags, udts=[*config.udts, *args.udt], identity=config.identity, tcpip=config.tcpip,
                        address=(host, port), route_path=route_path, simple=args.simple, delay=delay,
                        attribute_class=attribute_class, idle_timeout=args.idle_timeout or None, io_log=0,
                        routes=routes, route_timeout=route_timeout or DEFAULT_ROUTE_TIMEOUT, web=web_address,
                        web_token=args.web_token or config.web_token, **kwds)
    except (CpppoError, OSError, RouteError, TimestampError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    if args.print:
        def show(event: IOEvent) -> None:
            print(format_io(event), flush=True)

        sim.controller.observers.append(show)

    def listening(address: tuple[str, int]) -> None:
        shown = host or "localhost"
        served = list(sim.controller.tags.values())
        tags = ", ".join(f"{t.name}={t.attribute.parser.name}" + (f"[{','.join(map(str, t.dims))}]" if t.dims else "")
                         for t in served) or "none (the standard objects only)"
        target = f"[{shown}]" if ":" in shown else shown
        bound = f"[{host}]" if ":" in host else host or "*"
        print(f"{sim.controller.identity.product_name} simulator listening on {bound}:{address[1]} "
              f"(TCP and UDP); tags: {tags}", flush=True)
        for hop, target in routes.items():
            print(f"Route {hop} -> {target}", flush=True)
        client = f"{sys.executable} -m cpppo.server.enip.client --print -a {target}:{address[1]}"
        if served:
            first = served[0]
            n = len(first.attribute)
            example = f"{first.name}[0-{min(n, 10) - 1}]" if first.dims else first.name
            print(f"Read a tag: {client} '{example}'", flush=True)
        else:
            print(f"Read its identity: {client} '@1/1/7'", flush=True)
        if web is not None:
            print(f"Dashboard on {web.url} (web API at {web.url}api)", flush=True)
        if args.playback is not None and sim.host is not None:
            from .historize import Player

            sim.host.spawn(Player(sim, args.playback, speed=args.speed, start=args.playback_from).start())
            print(f"Playing back {args.playback} at {args.speed:g}x", flush=True)
        if ready is not None:
            ready(sim)

    web = sim.web
    user_stop = stop

    def stopping() -> bool:
        return (web is not None and web.controls.done) or (user_stop is not None and user_stop())

    try:
        sim.serve_forever(stop=stopping, ready=listening)
    except ListenError as exc:  # the web API's address
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{prog}: error: cannot listen on {host or '*'}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


run = console_entry(main)
