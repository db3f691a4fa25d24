"""``python -m cpppo.server.enip.thruput``: TPS of tag I/O at a pipeline depth and MSP size.

    python -m cpppo.server.enip.thruput -a <host> Volume Temperature --repeat 25 --depth 20 --multiple 250

A thin module over :func:`cpppo.client.cli.thruput_main`.
"""

from __future__ import annotations

import sys

from ...client.cli import thruput_main as main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
