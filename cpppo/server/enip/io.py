"""``python -m cpppo.server.enip.io``: the documented ``connector.process`` example, runnable.

Start a simulated controller (``python -m cpppo.server.enip Tag=DINT[10]``), then run this to
write, read and print a few operations; the exit status is 1 if any of them failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ...client.cli import parse_address
from ...errors import CpppoError
from . import client

__all__ = ["main"]

TAGS = ["Tag[0-9]+16=(DINT)4,5,6,7,8,9", "@0x2/1/1", "Tag[3-5]"]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cpppo.server.enip.io", description="Process a few tag operations.")
    ap.add_argument("-a", "--address", default="localhost", help="Controller host[:port] (default: localhost)")
    ap.add_argument("tags", nargs="*", default=TAGS, help=f"operations (default: {' '.join(TAGS)})")
    args = ap.parse_args(argv)
    depth = 1  # Allow 1 transaction in-flight
    multiple = 0  # Don't use Multiple Service Packet
    fragment = False  # Don't force Read/Write Tag Fragmented
    timeout = 1.0  # Any PLC I/O fails if it takes > 1s
    printing = True  # Print a summary of I/O
    try:
        host, port = parse_address(args.address)  # Controller IP address, and port (default 44818)
        with client.connector(host=host, port=port, timeout=timeout) as connection:
            operations = client.parse_operations(args.tags)
            failures, _transactions = connection.process(
                operations=operations, depth=depth, multiple=multiple,
                fragment=fragment, printing=printing, timeout=timeout)
    except (CpppoError, OSError) as exc:
        print(f"{ap.prog}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
