"""The web API over HTTP (aiohttp), as a service of the simulator's host: same loop, same objects.

``GET /api[/<group>[/<match>[/<command>[/<value>]]]]`` answers JSON (``alarm``, ``command``,
``data``, ``since``, ``until``), or a minimal HTML page for a browser (``Accept: text/html``).
Reading is open; a request that changes anything is accepted from a loopback peer, or from
elsewhere only with the token (``?token=...`` or ``Authorization: Bearer ...``), else 403.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import logging
import secrets
import time
from typing import Any

from aiohttp import web

from .api import ApiError, Controls, handle, parse_path, snapshot

__all__ = ["WebService"]

log = logging.getLogger(__name__)


def _loopback(peer: str | None) -> bool:
    try:
        return peer is not None and ipaddress.ip_address(peer.split("%")[0]).is_loopback
    except ValueError:
        return False


class WebService:
    """Serve the web API of ``simulator`` on ``host``:``port`` (a service: ``await host.add(...)``)."""

    def __init__(self, simulator: Any, host: str = "127.0.0.1", port: int = 0, *, token: str | None = None) -> None:
        self.simulator = simulator
        self.host = host
        self.port = port
        self.token = token
        self.controls = Controls()
        self.address: tuple[str, int] = (host, port)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.since: float | None = None

    async def start(self, host: Any = None) -> tuple[str, int]:
        app = web.Application()
        app.router.add_get("/api", self._api)
        app.router.add_get("/api/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host or None, self.port)
        await self._site.start()
        server = self._site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            bound = sockets[0].getsockname()
            self.address = (self.host, bound[1])
        return self.address

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def _allowed(self, request: web.Request) -> bool:
        if _loopback(request.remote):
            return True
        if not self.token:
            return False
        given = request.query.get("token") or request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return bool(given) and secrets.compare_digest(given, self.token)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info.get("tail", "")
        status = 200
        try:
            value = parse_path(path)[3]
            if value is not None and not self._allowed(request):
                raise ApiError("changes are accepted from this host (loopback) or with the web token", 403)
            command_part, data, status, effects = handle(self.simulator, self.controls, path)
            for effect, arg in effects:
                await self._carry_out(effect, arg)
            if effects:  # what the effects changed (closed connections go)
                group, match, _, _ = parse_path(path)
                await asyncio.sleep(0)
                data = snapshot(self.simulator, self.controls, group, match)
        except ApiError as exc:
            command_part, data, status = {"message": str(exc), "success": False}, {}, exc.status
        reply = {"alarm": list(self.controls.alarms), "command": command_part, "data": data, "since": self.since,
                 "until": time.time()}
        if "text/html" in request.headers.get("Accept", "") and "application/json" not in request.headers.get("Accept", ""):
            return web.Response(text=_page(reply), content_type="text/html", status=status)
        return web.json_response(reply, status=status, dumps=lambda o: json.dumps(o, indent=4, default=str))

    async def _carry_out(self, effect: str, arg: Any) -> None:
        server = self.simulator.server
        if effect == "disable":
            if arg:
                await server.pause()
            else:
                await server.resume()
        elif effect == "eof":
            arg.close()
            await asyncio.sleep(0)


def _page(reply: dict[str, Any]) -> str:
    body = html.escape(json.dumps(reply, indent=4, default=str))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>cpppo simulator</title></head>"
            f"<body><h1>cpppo simulator</h1><pre>{body}</pre></body></html>")
