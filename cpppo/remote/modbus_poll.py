"""``modbus_poll`` console script and ``python -m cpppo.remote.modbus_poll``."""

from __future__ import annotations

import sys

from cpppo.cli import console_entry
from cpppo.modbus.poll_main import main

__all__ = ["main", "run"]

run = console_entry(main)

if __name__ == "__main__":
    sys.exit(main())
