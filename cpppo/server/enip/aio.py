"""The documented-style asyncio client: ``cpppo.server.enip.aio.AsyncConnector`` and ``discover``.

A thin module over :mod:`cpppo.client.aio`, which shares the sans-I/O core and the operation
parsing with the blocking ``cpppo.server.enip.client``.
"""

from __future__ import annotations

from ...client.aio import AsyncConnector, RequestFailed, discover
from ...client.logix import TagInfo, TagListError
from ...client.operations import parse_operations

__all__ = ["AsyncConnector", "RequestFailed", "TagInfo", "TagListError", "discover", "parse_operations"]
