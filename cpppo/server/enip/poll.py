"""``cpppo.server.enip.poll``: poll CIP devices through proxies; ``python -m cpppo.server.enip.poll``.

The documented ``poll`` / ``run`` / ``loop`` / ``execute`` (and the asyncio ``poll_many``) live
in :mod:`cpppo.client.poll`.  As a command it polls named parameters (or, with ``-p``, tags and
``@class/instance/attribute`` addresses) every ``--cycle`` seconds and prints each value::

    python -m cpppo.server.enip.poll -a 192.168.0.201 TCPIP Identity
         Identity: [1, 14, 54, 2836, 12640, 7079450, '1756-L61/B LOGIX5561', 255]
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from ...cli import UsageParser, console_entry, logging_to
from ...client.poll import AsyncPoll, execute, loop, poll, poll_many, run
from ...client.proxy import proxy, proxy_simple
from .config import ConfigError, parse_address

__all__ = ["AsyncPoll", "execute", "loop", "main", "poll", "poll_many", "run"]


def _gateway(name: str) -> type[proxy]:
    """``module.class`` (relative to cpppo.server.enip, e.g. ``ab.powerflex_750_series``) or a dotted path."""
    module, _, cls = name.rpartition(".")
    if not module:
        raise ConfigError(f"--gateway {name!r} must be module.class, as ab.powerflex_750_series")
    for where in (f"cpppo.server.enip.{module}", module):
        try:
            found = getattr(importlib.import_module(where), cls)
        except (ImportError, AttributeError):
            continue
        if isinstance(found, type) and issubclass(found, proxy):
            return found
    raise ConfigError(f"--gateway {name!r} is not a proxy class")


def main(argv: Sequence[str] | None = None, *, stop: Callable[[], bool] | None = None) -> int:
    ap = UsageParser(prog="poll", description="Poll parameters of a CIP device through a proxy "
                                              "(an AB PowerFlex 750, by default).")
    ap.add_argument("-v", "--verbose", action="count", default=0, help="more logging (repeat for more)")
    ap.add_argument("-a", "--address", default="localhost", help="HOST[:PORT] of the device (default: localhost:44818)")
    ap.add_argument("-c", "--cycle", type=float, default=1.0, help="poll cycle (s, default: 1)")
    ap.add_argument("-t", "--timeout", type=float, default=1.0, help="I/O timeout (s, default: 1)")
    ap.add_argument("--route-path", help="route path, 1/0, JSON, or false")
    ap.add_argument("--send-path", help="send path (default: @6/1); '' for none")
    ap.add_argument("-S", "--simple", action="store_true", help="a simple (non-routing) device, as a MicroLogix")
    ap.add_argument("-m", "--multiple", action="store_true", help="bundle in Multiple Service Packets (~500 bytes)")
    ap.add_argument("-d", "--depth", type=int, default=2, help="requests in flight (default: 2)")
    ap.add_argument("-g", "--gateway", default="ab.powerflex_750_series",
                    help="the proxy class, module.class (default: ab.powerflex_750_series)")
    ap.add_argument("-p", "--pass-thru", action="store_true", help="allow tags and @class/instance/attribute too")
    ap.add_argument("-n", "--count", type=int, default=0, help="stop after this many polls (default: never)")
    ap.add_argument("parameter", nargs="+", help="parameters to poll (names such as 'Motor Velocity')")
    args = ap.parse_args(argv)
    try:
        host, port = parse_address(args.address)
        gateway = proxy_simple if args.simple else _gateway(args.gateway)
        if args.cycle <= 0 or args.timeout <= 0:
            raise ConfigError("--cycle and --timeout must be positive")
        via = gateway(host=host or "localhost", port=port, timeout=args.timeout, depth=args.depth,
                      multiple=500 if args.multiple else 0, route_path=args.route_path, send_path=args.send_path)
        list(via.parameter_substitution(args.parameter, pass_thru=args.pass_thru))  # unknown names: now
    except (ConfigError, ValueError) as exc:
        print(f"{ap.prog}: error: {exc}", file=sys.stderr)
        return 2

    polled = 0

    def process(par: Any, val: Any) -> None:
        nonlocal polled
        print(f"{par:>15}: {val!r}", flush=True)
        if par == args.parameter[-1]:
            polled += 1
            process.done = bool(args.count and polled >= args.count)  # type: ignore[attr-defined]
        if stop is not None and stop():
            process.done = True  # type: ignore[attr-defined]

    def failure(exc: BaseException) -> None:
        print(f"{time.ctime()}: {exc}", file=sys.stderr, flush=True)
        if stop is not None and stop():
            process.done = True  # type: ignore[attr-defined]

    process.done = False  # type: ignore[attr-defined]
    with logging_to(args.verbose, None):
        try:
            poll(via=via, params=args.parameter, pass_thru=args.pass_thru, cycle=args.cycle, process=process,
                 failure=failure, latency=min(0.5, args.cycle))
        except KeyboardInterrupt:
            pass
        finally:
            via.close_gateway()
    return 0


run_main = console_entry(main)

if __name__ == "__main__":
    run_main()
