"""``python -m cpppo.server.enip.list_identity_simple [HOST[:PORT]]``: who answers List Identity.

The documented example of harvesting replies with :func:`client.await_response`: one List
Identity request, by UDP, broadcast when HOST is a broadcast address (the default,
255.255.255.255), and every reply printed with :func:`enip_format` until ``--timeout`` seconds
pass without one.  Exit status 0 when some device answered, 1 when none did.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ...cli import UsageParser, console_entry, split_host_port
from ...client.replies import enip_format
from ...errors import CpppoError
from . import client

__all__ = ["main", "run"]


def main(argv: Sequence[str] | None = None) -> int:
    ap = UsageParser(prog="list_identity_simple",
                     description="Print the List Identity replies of every device that answers.")
    ap.add_argument("address", nargs="?", default="255.255.255.255",
                    help="host or broadcast address[:port] (default: 255.255.255.255:44818)")
    ap.add_argument("-t", "--timeout", type=float, default=1.0,
                    help="stop after this many seconds without a reply (default: 1.0)")
    args = ap.parse_args(argv)
    try:
        host, port = split_host_port(args.address, 44818)
    except ValueError as exc:
        ap.error(str(exc))
    if not args.timeout > 0:
        ap.error(f"the timeout must be a positive number of seconds, not {args.timeout}")
    answered = 0
    try:
        with client.client(host=host or "255.255.255.255", port=port, udp=True, broadcast=True) as conn:
            conn.list_identity(timeout=args.timeout)
            while True:
                response, _ = client.await_response(conn, timeout=args.timeout)
                if not response:
                    break  # None: nothing within the timeout; {}: the connection ended
                print(enip_format(response), flush=True)
                answered += 1
    except (CpppoError, OSError) as exc:
        print(f"{ap.prog}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 1
    return 0 if answered else 1


run = console_entry(main)

if __name__ == "__main__":
    run()
