"""The documented-style asyncio client: ``cpppo.server.enip.aio.AsyncConnector`` and ``discover``.

A thin module over :mod:`cpppo.client.aio`, which shares the sans-I/O core and the operation
parsing with the blocking ``cpppo.server.enip.client``.
"""

from __future__ import annotations

from ...client.aio import AsyncConnector, RequestFailed, discover
from ...client.operations import parse_operations
from ...client.tag_list import TagInfo, TagListError

__all__ = ["AsyncConnector", "RequestFailed", "TagInfo", "TagListError", "discover", "parse_operations"]
