"""``cpppo.server.enip.get_attribute``: proxies for simple CIP devices, and ``enip_get_attribute``.

The documented names over their home, :mod:`cpppo.client.proxy`: ``proxy`` (routing controllers),
``proxy_simple`` (MicroLogix, PowerFlex: Get/Set Attribute only), ``attribute_operations`` and
``parameter``.  Run as ``python -m cpppo.server.enip.get_attribute`` (or ``enip_get_attribute``) it
reads and writes ``@class/instance/attribute[=(TYPE)values]`` on a device, one line each.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ...cli import UsageParser, console_entry, logging_to
from ...client.proxy import (
    AsyncProxy,
    ParameterError,
    ProxyCore,
    attribute_operations,
    parameter,
    proxy,
    proxy_simple,
)
from ...errors import CpppoError
from .config import ConfigError, parse_address

__all__ = ["AsyncProxy", "ParameterError", "ProxyCore", "attribute_operations", "main", "parameter", "proxy",
           "proxy_simple", "run"]


def main(argv: Sequence[str] | None = None) -> int:
    ap = UsageParser(prog="enip_get_attribute",
                     description="Get/Set Attribute Single (or Get Attributes All) on a CIP device.")
    ap.add_argument("-a", "--address", default="localhost", help="HOST[:PORT] of the device (default: localhost:44818)")
    ap.add_argument("-S", "--simple", action="store_true", help="a simple (non-routing) device: no Unconnected Send")
    ap.add_argument("--route-path", help="route path of a routing device: 1/0, JSON, or false")
    ap.add_argument("--send-path", help="send path (default: @6/1)")
    ap.add_argument("-t", "--timeout", type=float, default=5.0, help="I/O timeout (s)")
    ap.add_argument("-d", "--depth", type=int, default=1, help="requests in flight")
    ap.add_argument("-m", "--multiple", action="store_true", help="bundle requests in Multiple Service Packets")
    ap.add_argument("-p", "--print", action="store_true", help="(each operation's line is always printed)")
    ap.add_argument("-v", "--verbose", action="count", default=0, help="more logging (repeat for more)")
    ap.add_argument("attributes", nargs="+", help="@class/instance[/attribute][=(TYPE)v1,v2,...]")
    args = ap.parse_args(argv)
    try:
        host, port = parse_address(args.address)
        operations = list(attribute_operations(args.attributes))
    except (ConfigError, CpppoError) as exc:
        print(f"{ap.prog}: error: {exc}", file=sys.stderr)
        return 2
    kind = proxy_simple if args.simple else proxy
    via = kind(host or "localhost", port, timeout=args.timeout, depth=args.depth,
               multiple=500 if args.multiple else 0, route_path=args.route_path, send_path=args.send_path,
               identity_default="(not asked)")
    failures = 0
    with logging_to(args.verbose, None):
        try:
            with via:
                gateway = via.open_gateway()
                for index, _, _, _, _, value in gateway.operate(operations, depth=args.depth,
                                                                multiple=500 if args.multiple else 0,
                                                                timeout=args.timeout, validating=True):
                    failures += value is None
                    shown = "OK" if value is True else value if value is not None else "FAILED"
                    print(f"{args.attributes[index]:<32} == {shown}", flush=True)
        except (CpppoError, OSError) as exc:
            print(f"{ap.prog}: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 1
    return 1 if failures else 0


run = console_entry(main)

if __name__ == "__main__":
    run()
