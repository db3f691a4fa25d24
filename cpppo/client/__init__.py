"""The EtherNet/IP CIP client: one sans-I/O core driven by a blocking and an asyncio front end.

``cpppo.server.enip.client`` (the documented module) re-exports the blocking API from here.
"""

from __future__ import annotations

from .blocking import await_response, client, connector
from .core import Addressing, ClientCore
from .engine import OperationEngine, Result
from .operations import OperationError, describe, parse_operations
from .procedures import RequestFailed
from .replies import enip_format

__all__ = [
    "Addressing",
    "ClientCore",
    "OperationEngine",
    "OperationError",
    "RequestFailed",
    "Result",
    "await_response",
    "client",
    "connector",
    "describe",
    "enip_format",
    "parse_operations",
]
