"""The client command lines: ``enip_client``, ``list_services`` and ``thruput``.

Each ``*_main(argv)`` parses the documented options, runs, and returns the exit status: 0 when
everything succeeded, 1 when an operation failed or the device could not be reached (one line
on stderr says why), 2 for a command line that cannot be understood.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import logging.handlers
import sys
import time
from collections.abc import Sequence
from typing import Any

from ..cli import UsageParser, console_entry, logging_to, split_host_port
from ..enip.encapsulation import Command
from ..errors import CpppoError
from .blocking import client, connector
from .core import MISSING, Addressing
from .operations import OperationError, parse_number, parse_operations
from .replies import enip_format
from .values import LOGIX_STRING_HANDLE

__all__ = ["client_main", "list_services_main", "parse_address", "run", "thruput_main"]

log = logging.getLogger("cpppo.client")

_LISTS = {
    Command.LIST_IDENTITY: ("List Identity", "list_identity"),
    Command.LIST_SERVICES: ("List Services", "list_services"),
    Command.LIST_INTERFACES: ("List Interfaces", "list_interfaces"),
}


def parse_address(text: str | None, default_port: int = 44818) -> tuple[str, int]:
    """``[host][:port]`` (IPv6 in brackets); an empty host is localhost."""
    try:
        host, port = split_host_port(text, default_port)
    except ValueError as exc:
        raise OperationError(str(exc)) from None
    if not port:
        raise OperationError(f"address {text!r}: port 0 cannot be connected to")
    return host or "localhost", port


def _number(text: str) -> int:
    try:
        return parse_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _add_common(ap: argparse.ArgumentParser, timeout: float | None) -> None:
    ap.add_argument("-v", "--verbose", action="count", default=0, help="Display logging information (repeat for more)")
    ap.add_argument("-a", "--address", default="localhost",
                    help="EtherNet/IP interface[:port] to connect to (default: localhost:44818)")
    ap.add_argument("-u", "--udp", action="store_true", default=False, help="Use UDP/IP queries (default: False)")
    ap.add_argument("-b", "--broadcast", action="store_true", default=False,
                    help="Allow multiple peers, and use of broadcast address (default: False)")
    ap.add_argument("-t", "--timeout", type=float, default=timeout,
                    help=f"EtherNet/IP timeout in seconds (default: {timeout}s)")


def _harvest(conn: client, expect: int, timeout: float | None, broadcast: bool) -> list[Any]:
    """Replies to list requests: all that arrive within ``timeout`` when broadcasting, else ``expect``."""
    replies: list[Any] = []
    deadline = time.monotonic() + (timeout if timeout is not None else 5.0)
    for _ in range(10000):
        left = deadline - time.monotonic()
        if left <= 0 or (not broadcast and len(replies) >= expect):
            break
        got = conn.next_frame(left)
        if got is None:
            if conn.eof:
                break
            continue
        replies.append(got)
    return replies


def _print_lists(conn: client, commands: list[int], timeout: float | None, broadcast: bool) -> int:
    from .replies import frame_dotdict

    for command in commands:
        conn.send(conn.core.command_frame(command, command))
    replies = _harvest(conn, len(commands), timeout, broadcast)
    counts: dict[int, int] = {}
    for frame, peer in replies:
        rpy = frame_dotdict(frame, peer)
        name, key = _LISTS.get(Command(frame.command) if frame.command in _LISTS else frame.command,
                               (f"Legacy 0x{frame.command:04X}", "legacy_CPF_0x0001"))
        n = counts.get(frame.command, 0)
        counts[frame.command] = n + 1
        cpf = rpy.get(f"enip.CIP.{key}.CPF")
        body = enip_format(cpf if cpf is not None else rpy)
        print(f"{name} {n} from {tuple(peer)!r}: {body}", flush=True)
    missing = [c for c in commands if c not in counts]
    if missing:
        names = ", ".join(_LISTS.get(c, (f"Legacy 0x{c:04X}",))[0] for c in missing)
        print(f"enip_client: no reply to {names} from {conn.addr[0]}:{conn.addr[1]} within {timeout}s",
              file=sys.stderr)
        return 1
    return 0


def _client_parser() -> argparse.ArgumentParser:
    ap = UsageParser(prog="enip_client", description="Issue EtherNet/IP CIP requests to a Controller or device: "
                 "Read/Write Tag [Fragmented] by default, and List Identity/Services/Interfaces.",
                 epilog="Operations: Tag Tag[3] Tag[1-5] Tag*10 Tag[1].Sub[0-9] Tag[0-9]+16=(DINT)4,5,6 "
                        "'TEXT[1]=(SSTRING)\"Hello\"' @class/instance/attribute[=value] @4/5/{\"connection\":100}")
    _add_common(ap, 5.0)
    ap.add_argument("-i", "--list-identity", action="store_true", default=False, help="List Identity (default: False)")
    ap.add_argument("-s", "--list-services", action="store_true", default=False, help="List Services (default: False)")
    ap.add_argument("-I", "--list-interfaces", action="store_true", default=False,
                    help="List Interfaces (default: False)")
    ap.add_argument("-L", "--legacy", type=_number, action="append", default=[], metavar="COMMAND",
                    help="Send a legacy EtherNet/IP command (eg. 0x0001)")
    ap.add_argument("-r", "--repeat", type=int, default=1, help="Repeat the operations this many times")
    ap.add_argument("--route-path", default=None,
                    help="Unconnected Send route path: <port>/<link>, JSON, or false (default: 1/0)")
    ap.add_argument("--send-path", default=None, help="Unconnected Send send path (default: @6/1; '' for none)")
    ap.add_argument("-S", "--simple", action="store_true", default=False,
                    help="A simple (non-routing) device: no Unconnected Send (--send-path='' --route-path=false)")
    ap.add_argument("--timeout-ticks", type=_number, default=None, help="Unconnected Send timeout ticks (default: 157)")
    ap.add_argument("--priority-time-tick", type=_number, default=None,
                    help="Unconnected Send tick: 2**<tick> ms (default: 5, 32ms)")
    ap.add_argument("-l", "--log", default=None, help="Log to this file (rotated at 10MB, 5 kept)")
    ap.add_argument("-p", "--print", dest="print", action="store_true", default=False,
                    help="Print a summary of operations to stdout")
    ap.add_argument("--no-print", dest="print", action="store_false", help="Do not print a summary (default)")
    ap.add_argument("-m", "--multiple", action="store_true", default=False,
                    help="Pack requests into Multiple Service Packets")
    ap.add_argument("-n", "--no-fragment", dest="fragment", action="store_false", default=True,
                    help="Use plain Read/Write Tag, not the Fragmented services (default: Fragmented)")
    ap.add_argument("-d", "--depth", type=int, default=0, help="Pipelining depth: requests in flight (default: 0)")
    ap.add_argument("--connected", action="store_true", default=False,
                    help="Open a class 3 connection (Large Forward Open) and send operations over it")
    ap.add_argument("--logix", action="store_true", default=False,
                    help="Upload the Logix tag list first; DWORD arrays are BOOL arrays (BITS[37] is a BOOL)")
    ap.add_argument("--tags", "--list-tags", dest="list_tags", action="store_true", default=False,
                    help="Print the Logix controller's tags (and each program's): NAME TYPE[dims]")
    ap.add_argument("--udts", "--list-udts", dest="list_udts", action="store_true", default=False,
                    help="Print the structures the tags use, as NAME = MEMBER:TYPE, ... (the --udt form)")
    ap.add_argument("tags", nargs="*", help="Tags to read/write, eg. SCADA[1]=99 SCADA[0-10] M1.Speed D.3=1")
    return ap


def client_main(argv: Sequence[str] | None = None) -> int:
    """``enip_client`` / ``python -m cpppo.server.enip.client``."""
    ap = _client_parser()
    args = ap.parse_args(argv)
    prog = ap.prog
    commands = ([Command.LIST_IDENTITY] if args.list_identity else []) + \
               ([Command.LIST_SERVICES] if args.list_services else []) + \
               ([Command.LIST_INTERFACES] if args.list_interfaces else []) + list(args.legacy)
    if not args.tags and not commands and not args.list_tags and not args.list_udts:
        ap.error("at least one tag, or a list request (-i, -s, -I, -L, --tags, --udts), is required")
    with logging_to(args.verbose, args.log):
        return _client(args, commands, prog)


def _client(args: argparse.Namespace, commands: list[int], prog: str) -> int:
    try:
        host, port = parse_address(args.address)
        operations = list(parse_operations(list(args.tags) * max(args.repeat, 1),
                                           int_type="DINT" if args.logix else None))
        routing = {} if args.simple else {k: v for k, v in (("route_path", args.route_path),
                                                            ("send_path", args.send_path)) if v is not None}
        Addressing.of(**routing, simple=args.simple, priority_time_tick=args.priority_time_tick,
                      timeout_ticks=args.timeout_ticks)  # refuse bad routing before connecting
    except (OperationError, CpppoError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    if (operations or args.list_tags or args.list_udts) and (args.udp or args.broadcast):
        print(f"{prog}: error: Read/Write operations and tag lists need a TCP session; drop -u/-b", file=sys.stderr)
        return 2
    status = 0
    try:
        if commands and (args.udp or args.broadcast):
            conn = client(host, port, timeout=args.timeout, udp=True, broadcast=args.broadcast)
            try:
                return _print_lists(conn, commands, args.timeout, args.broadcast)
            finally:
                conn.close()
        with connector(host, port, timeout=args.timeout, simple=args.simple,
                       priority_time_tick=args.priority_time_tick, timeout_ticks=args.timeout_ticks,
                       connected=args.connected, logix=args.logix,
                       **{k: (v if v is not None else MISSING) for k, v in routing.items()}) as conn:
            if commands:
                status = _print_lists(conn, commands, args.timeout, False)
            if args.list_tags or args.list_udts:
                _print_tags(conn, args.list_tags, args.list_udts, args.logix)
            if operations:
                began = time.monotonic()
                failures = 0
                for _, _, _, _, _, val in conn.operate(
                        operations, depth=args.depth, multiple=500 if args.multiple else 0,
                        fragment=args.fragment, timeout=args.timeout, validating=True, printing=args.print):
                    failures += val is None
                elapsed = time.monotonic() - began
                log.info("Client %s. Average %.3f TPS (%.3fs ea).",
                         "ReadFrg" if args.fragment else "Read", len(operations) / max(elapsed, 1e-9),
                         elapsed / len(operations))
                if failures:
                    log.warning("%d of %d operations failed", failures, len(operations))
                    status = 1
    except (CpppoError, OSError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 1
    return status


def _print_tags(conn: connector, tags: bool, udts: bool, logix: bool) -> None:
    """``--tags``: NAME TYPE[dims] per tag; ``--udts``: each structure as ``NAME = MEMBER:TYPE, ...``."""
    listed = conn.tag_list()
    if tags:
        width = max((len(t.name) for t in listed), default=0)
        for t in listed:
            kind = f"BOOL[{32 * t.dims[0]}]" if logix and t.bool_array and len(t.dims) == 1 else t.declaration
            print(f"{t.name:<{width}}  {kind}", flush=True)
    if udts:
        for template in sorted(conn.logix.templates.values(), key=lambda t: t.name.lower()):
            if template.handle != LOGIX_STRING_HANDLE:  # the built-in STRING
                print(template.declaration(), flush=True)


run = console_entry(client_main)


def list_services_main(argv: Sequence[str] | None = None) -> int:
    """``python -m cpppo.server.enip.list_services``: print every List Services (Identity, Interfaces) reply."""
    ap = UsageParser(prog="list_services", description="List Services (by default) on an EtherNet/IP CIP Server.")
    _add_common(ap, 5.0)
    ap.add_argument("-i", "--list-identity", "--identity", dest="identity", action="store_true", default=False,
                    help="List Identity (default: False)")
    ap.add_argument("-I", "--list-interfaces", "--interfaces", dest="interfaces", action="store_true",
                    default=False, help="List Interfaces (default: False)")
    args = ap.parse_args(argv)
    with logging_to(args.verbose, None):
        return _list_services(ap, args)


def _list_services(ap: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    commands = [Command.LIST_SERVICES] + ([Command.LIST_IDENTITY] if args.identity else []) + \
               ([Command.LIST_INTERFACES] if args.interfaces else [])
    try:
        host, port = parse_address(args.address)
        udp = args.udp or args.broadcast
        conn = client(host, port, timeout=args.timeout, udp=udp, broadcast=args.broadcast)
        try:
            for command in commands:
                conn.send(conn.core.command_frame(command, command))
            replies = _harvest(conn, len(commands), args.timeout, args.broadcast)
        finally:
            conn.close()
    except (CpppoError, OSError) as exc:
        print(f"{ap.prog}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 1
    from .replies import frame_dotdict

    for frame, peer in replies:
        print(enip_format(frame_dotdict(frame, peer)), flush=True)
    if not replies or (not args.broadcast and len(replies) < len(commands)):
        print(f"{ap.prog}: no reply from {host}:{port} within {args.timeout}s", file=sys.stderr)
        return 1
    return 0


def _timestamp() -> str:
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def thruput_main(argv: Sequence[str] | None = None, out: Any = None) -> int:
    """``python -m cpppo.server.enip.thruput``: transactions per second at a pipeline depth and MSP size."""
    out = out or sys.stdout
    ap = UsageParser(prog="thruput", description="Measure EtherNet/IP CIP I/O thruput (TPS).")
    ap.add_argument("-d", "--depth", default=0, type=int, help="Pipelining depth")
    ap.add_argument("-m", "--multiple", default=0, type=int, help="Multiple Service Packet size limit")
    ap.add_argument("-r", "--repeat", default=1, type=int, help="Repeat requests this many times")
    ap.add_argument("-a", "--address", default="localhost", help="Hostname of target Controller")
    ap.add_argument("-t", "--timeout", default=5.0, type=float, help="I/O timeout seconds (default: 5.0s)")
    ap.add_argument("-q", "--quiet", action="store_true", help="Print only the summary line")
    ap.add_argument("tags", nargs="+", help="Tags to read/write")
    args = ap.parse_args(argv)
    try:
        host, port = parse_address(args.address)
        operations = list(parse_operations(args.tags * max(args.repeat, 1)))
        failures = 0
        with connector(host, port, timeout=args.timeout) as conn:
            before = conn.core.requests
            start = time.perf_counter()
            num, idx = -1, -1
            for num, (idx, _, _, _, _, val) in enumerate(conn.pipeline(  # noqa: B007 - num counts
                    operations=operations, depth=args.depth, multiple=args.multiple, timeout=args.timeout)):
                failures += val is None
                if not args.quiet:
                    print(f"{_timestamp()}: {idx:3d}: {val}", file=out)
            elapsed = time.perf_counter() - start
            requests = conn.core.requests - before
    except (CpppoError, OSError) as exc:
        print(f"{ap.prog}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 1
    count = num + 1
    print(f"{count:3d} operations using {requests:3d} requests in {elapsed:7.2f}s at pipeline depth "
          f"{args.depth:2d}; {count / max(elapsed, 1e-9):5.1f} TPS", file=out, flush=True)
    return 1 if failures else 0

