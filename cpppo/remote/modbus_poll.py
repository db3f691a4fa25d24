"""``modbus_poll`` console script and ``python -m cpppo.remote.modbus_poll``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cpppo.modbus.poll_main import main

__all__ = ["main", "run"]


def run(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: poll (and write) a PLC, exit with its status."""
    status = main(argv)
    if argv is None:
        sys.exit(status)
    return status


if __name__ == "__main__":
    sys.exit(main())
