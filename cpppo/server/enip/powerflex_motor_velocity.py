"""``python -m cpppo.server.enip.powerflex_motor_velocity [@HOST[:PORT]] [VELOCITY]``: set a PowerFlex
750's Motor Velocity (parameter 3) and print what was written, as the documents show::

    Thu Dec  3 18:40:01 2026: Motor Velocity = (REAL)123.45        == [True]

Start a drive to write to with ``python -m cpppo.server.enip.poll_test``.  Exit status 1 if the
write failed.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence

from ...cli import split_host_port
from .ab import powerflex_750_series

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    host, port = "localhost", 44818
    if args and args[0].startswith("@"):
        try:
            host, port = split_host_port(args.pop(0)[1:], 44818)
        except ValueError as exc:
            print(f"powerflex_motor_velocity: error: {exc}", file=sys.stderr)
            return 2
    try:
        velocity = float(args.pop(0)) if args else 0.0
    except ValueError:
        print("powerflex_motor_velocity: error: the velocity must be a number", file=sys.stderr)
        return 2
    param = f"Motor Velocity = (REAL){velocity}"
    try:
        via = powerflex_750_series(host=host or "localhost", port=port)
        with via:  # opens the gateway; closes it on any failure
            val = list(via.write(via.parameter_substitution(param), checking=True))
        print(f"{time.ctime()}: {param:<32} == {val}", flush=True)
    except Exception as exc:
        logging.warning("Exception writing Parameter %s: %s", param, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
