"""The simulator's web API (seed 2.1.9) and live dashboard: inspect a running simulator and inject
faults into it over HTTP, or watch it in a browser.  :mod:`.api` is the API itself, without HTTP;
:mod:`.dashboard` the page's state and live feed (from the write funnel); :mod:`.service` serves
both with aiohttp on the simulator's host (``enip_server --web :PORT``), the page from ``static/``."""

from __future__ import annotations

from .api import ApiError, Controls, handle, parse_path, snapshot
from .service import WebService

__all__ = ["ApiError", "Controls", "WebService", "handle", "parse_path", "snapshot"]
