"""``modbus_sim`` console script and ``python -m cpppo.remote.modbus_sim``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cpppo.modbus.sim_main import main

__all__ = ["main", "run"]


def run(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: run the simulator, exit with its status."""
    status = main(argv)
    if argv is None:
        sys.exit(status)
    return status


if __name__ == "__main__":
    sys.exit(main())
