"""``python -m cpppo.server.enip.list_services``: List Services (and Identity, Interfaces) replies.

A thin module over :func:`cpppo.client.cli.list_services_main`.
"""

from __future__ import annotations

import sys

from ...client.cli import list_services_main as main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
