"""The documented ``cpppo.server.enip.client`` module and ``enip_client`` command.

A thin module: the client lives in :mod:`cpppo.client` (operations parsing, the sans-I/O core,
the blocking and asyncio front ends); scripts written against the documents import it from here.
"""

from __future__ import annotations

from ...client.blocking import await_response, client, connector
from ...client.cli import client_main as main
from ...client.cli import run
from ...client.core import Addressing
from ...client.engine import OperationEngine
from ...client.operations import OperationError, parse_operations
from ...client.replies import enip_format
from ...client.tag_list import TagInfo, TagListError

__all__ = [
    "Addressing",
    "OperationEngine",
    "OperationError",
    "TagInfo",
    "TagListError",
    "await_response",
    "client",
    "connector",
    "enip_format",
    "main",
    "parse_operations",
    "run",
]

if __name__ == "__main__":
    run()
