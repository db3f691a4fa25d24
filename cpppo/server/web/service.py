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
from collections.abc import Mapping
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

    def __init__(self, simulator: Any = None, host: str = "127.0.0.1", port: int = 0, *, token: str | None = None,
                 devices: Mapping[str, Any] | None = None) -> None:
        self.simulator = simulator
        self.devices = dict(devices or {})  # a fleet: each device's API at /device/<name>/api/...
        self.host = host
        self.port = port
        self.token = token
        self.controls = Controls()
        self.device_controls = {name: Controls() for name in self.devices}
        self.address: tuple[str, int] = (host, port)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.since: float | None = None

    async def start(self, host: Any = None) -> tuple[str, int]:
        app = web.Application()
        if self.simulator is not None:
            app.router.add_get("/api", self._api)
            app.router.add_get("/api/{tail:.*}", self._api)
        if self.devices:
            if self.simulator is None:
                app.router.add_get("/api", self._fleet)
            app.router.add_get("/device/{name}/api", self._device_api)
            app.router.add_get("/device/{name}/api/{tail:.*}", self._device_api)
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
        return await self._serve(request, self.simulator, self.controls)

    async def _device_api(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self.devices:
            return self._reply(request, {"message": f"no device {name!r}", "success": False}, {}, 404, Controls())
        return await self._serve(request, self.devices[name], self.device_controls[name])

    async def _fleet(self, request: web.Request) -> web.StreamResponse:
        devices = {name: {"address": f"{sim.address[0]}:{sim.address[1]}",
                          "product_name": sim.controller.identity.product_name,
                          "tags": len(sim.controller.tags), "api": f"/device/{name}/api"}
                   for name, sim in self.devices.items()}
        return self._reply(request, {}, {"devices": devices}, 200, self.controls)

    async def _serve(self, request: web.Request, sim: Any, controls: Controls) -> web.StreamResponse:
        path = request.match_info.get("tail", "")
        status = 200
        try:
            value = parse_path(path)[3]
            if value is not None and not self._allowed(request):
                raise ApiError("changes are accepted from this host (loopback) or with the web token", 403)
            command_part, data, status, effects = handle(sim, controls, path)
            for effect, arg in effects:
                await self._carry_out(sim, effect, arg)
            if effects:  # what the effects changed (closed connections go)
                group, match, _, _ = parse_path(path)
                await asyncio.sleep(0)
                data = snapshot(sim, controls, group, match)
        except ApiError as exc:
            command_part, data, status = {"message": str(exc), "success": False}, {}, exc.status
        return self._reply(request, command_part, data, status, controls)

    def _reply(self, request: web.Request, command_part: Any, data: Any, status: int,
               controls: Controls) -> web.StreamResponse:
        reply = {"alarm": list(controls.alarms), "command": command_part, "data": data, "since": self.since,
                 "until": time.time()}
        if "text/html" in request.headers.get("Accept", "") and "application/json" not in request.headers.get("Accept", ""):
            return web.Response(text=_page(reply), content_type="text/html", status=status)
        return web.json_response(reply, status=status, dumps=lambda o: json.dumps(o, indent=4, default=str))

    async def _carry_out(self, sim: Any, effect: str, arg: Any) -> None:
        server = sim.server
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
