"""The web API and the live dashboard over HTTP (aiohttp), as a service of the simulator's host.

Same loop, same objects as the EtherNet/IP sessions:

* ``GET /api[/<group>[/<match>[/<command>[/<value>]]]]`` answers JSON (``alarm``, ``command``,
  ``data``, ``since``, ``until``), or a minimal HTML page for a browser (``Accept: text/html``);
* ``GET /`` is the dashboard (``static/``, served from the package: no CDN), which reads
  ``/state``, pages arrays with ``/values/<tag>?start=&count=`` and follows ``/events`` (Server-Sent
  Events from the write funnel, :mod:`.dashboard`).

A fleet's devices each get the same at ``/device/<name>/``.  Reading is open; a request that
changes anything is accepted from a loopback peer, or from elsewhere only with the token
(``?token=...`` or ``Authorization: Bearer ...``), else 403.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import logging
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from ...errors import ListenError
from . import dashboard
from .api import ApiError, Controls, handle, parse_path, snapshot

STATIC = Path(__file__).with_name("static")
_ASSETS = {"dashboard.js": "application/javascript", "dashboard.css": "text/css"}

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
        self.feeds: dict[str | None, dashboard.LiveFeed] = {}  # the live feed of each device with a page open
        self.address: tuple[str, int] = (host, port)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.since: float | None = None

    async def start(self, host: Any = None) -> tuple[str, int]:
        if self.since is None:
            self.since = time.time()
        app = web.Application(middlewares=[_refusals])
        add = app.router.add_get
        if self.simulator is not None:
            add("/api", self._api)
            add("/api/{tail:.*}", self._api)
            self._dashboard_routes(app, "")
        if self.devices:
            if self.simulator is None:
                add("/api", self._fleet)
                add("/", self._fleet)
            add("/device/{name}/api", self._api)
            add("/device/{name}/api/{tail:.*}", self._api)
            self._dashboard_routes(app, "/device/{name}")
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host or None, self.port)
        try:
            await self._site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            why = os.strerror(exc.errno) if exc.errno else str(exc)
            raise ListenError(exc.errno, f"the web API cannot listen on {self.host or '*'}:{self.port}: {why}") from None
        server = self._site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            bound = sockets[0].getsockname()
            self.address = (self.host, bound[1])
        return self.address

    def _dashboard_routes(self, app: web.Application, prefix: str) -> None:
        add = app.router.add_get
        if prefix:
            add(prefix, self._to_page)
        add(prefix + "/", self._page)
        add(prefix + "/static/{asset}", self._asset)
        add(prefix + "/state", self._state)
        add(prefix + "/values/{tag}", self._values)
        add(prefix + "/events", self._events)

    @property
    def url(self) -> str:
        """The dashboard's address."""
        host = self.address[0] or "localhost"
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.address[1]}/"

    async def stop(self) -> None:
        feeds, self.feeds = list(self.feeds.values()), {}  # a service started again gets new ones
        for feed in feeds:
            await feed.stop()  # open pages' streams end, so the runner need not wait for them
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

    def _device(self, request: web.Request) -> tuple[str | None, Any, Controls]:
        """The device a request is about: the one simulator, or a fleet's ``/device/<name>``."""
        name = request.match_info.get("name")
        if name is None:
            return None, self.simulator, self.controls
        if name not in self.devices:
            raise ApiError(f"no device {name!r}", 404)
        return name, self.devices[name], self.device_controls[name]

    async def _api(self, request: web.Request) -> web.StreamResponse:
        try:
            _, sim, controls = self._device(request)
        except ApiError as exc:
            return self._reply(request, {"message": str(exc), "success": False}, {}, exc.status, Controls())
        return await self._serve(request, sim, controls)

    async def _fleet(self, request: web.Request) -> web.StreamResponse:
        devices = {name: {"address": f"{sim.address[0]}:{sim.address[1]}",
                          "product_name": sim.controller.identity.product_name,
                          "tags": len(sim.controller.tags), "api": f"/device/{name}/api",
                          "dashboard": f"/device/{name}/"}
                   for name, sim in self.devices.items()}
        if _browser(request):  # a page of links to each device's dashboard
            rows = "".join(f"<tr><td><a href='{html.escape(d['dashboard'])}'>{html.escape(name)}</a></td>"
                           f"<td>{html.escape(d['product_name'])}</td><td>{html.escape(d['address'])}</td>"
                           f"<td>{d['tags']}</td><td><a href='{html.escape(d['api'])}'>api</a></td></tr>"
                           for name, d in devices.items())
            return web.Response(text=f"<!doctype html><html><head><meta charset='utf-8'><title>cpppo fleet</title>"
                                     f"<link rel='icon' href='data:,'></head><body><h1>cpppo fleet: {len(devices)} "
                                     f"devices</h1><table><tr><th>device</th><th>product</th><th>EtherNet/IP</th>"
                                     f"<th>tags</th><th></th></tr>{rows}</table></body></html>", content_type="text/html")
        return self._reply(request, {}, {"devices": devices}, 200, self.controls)

    # -- the dashboard ---------------------------------------------------------------------------------
    async def _to_page(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.path + "/" + (f"?{request.query_string}" if request.query_string else ""))

    async def _page(self, request: web.Request) -> web.StreamResponse:
        self._device(request)
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def _asset(self, request: web.Request) -> web.StreamResponse:
        asset = request.match_info["asset"]
        if asset not in _ASSETS:
            raise ApiError(f"no asset {asset!r}", 404)
        return web.FileResponse(STATIC / asset, headers={"Content-Type": _ASSETS[asset], "Cache-Control": "no-cache"})

    async def _state(self, request: web.Request) -> web.StreamResponse:
        _, sim, controls = self._device(request)
        body = dashboard.state(sim, controls, web_address=self.address)
        body["since"] = self.since
        return _json(body)

    async def _values(self, request: web.Request) -> web.StreamResponse:
        _, sim, _ = self._device(request)
        try:
            start = int(request.query.get("start", "0"))
            count = int(request.query.get("count", "100"))
        except ValueError:
            raise ApiError("start and count are whole numbers") from None
        try:
            return _json(dashboard.values(sim, request.match_info["tag"], start, count))
        except (KeyError, IndexError) as exc:
            raise ApiError(str(exc).strip("'\""), 404) from None

    async def _events(self, request: web.Request) -> web.StreamResponse:
        name, sim, controls = self._device(request)
        feed = self.feeds.get(name)
        if feed is None:
            feed = self.feeds[name] = dashboard.LiveFeed(sim, controls)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        page = feed.open(reads=request.query.get("reads", "") in ("1", "true", "yes"))
        try:
            while True:
                message = await page.queue.get()
                if message is None:
                    break
                await response.write(message)
        except ConnectionError:  # the page went away
            pass
        finally:
            feed.close(page)
        return response

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
        if _browser(request):
            return web.Response(text=_html(reply), content_type="text/html", status=status)
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


def _browser(request: web.Request) -> bool:
    """A browser asking (HTML wanted, JSON not)."""
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "application/json" not in accept


@web.middleware
async def _refusals(request: web.Request, handler: Any) -> web.StreamResponse:
    """A request the dashboard's routes refuse (ApiError) answers JSON with the reason; the API's
    own routes answer in the API's shape themselves."""
    try:
        return await handler(request)
    except ApiError as exc:
        return _json({"message": str(exc), "success": False}, exc.status)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body, default=str), status=status, content_type="application/json")


def _html(reply: dict[str, Any]) -> str:
    body = html.escape(json.dumps(reply, indent=4, default=str))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>cpppo simulator</title></head>"
            f"<body><h1>cpppo simulator</h1><pre>{body}</pre></body></html>")
