"""The simulator's web API (seed 2.1.9): inspect and inject faults into a running simulator over
HTTP.  :mod:`.api` is the API itself, without HTTP; :mod:`.service` serves it with aiohttp on the
simulator's host (``enip_server --web :PORT``)."""

from __future__ import annotations

from .api import ApiError, Controls, handle, parse_path, snapshot
from .service import WebService

__all__ = ["ApiError", "Controls", "WebService", "handle", "parse_path", "snapshot"]
