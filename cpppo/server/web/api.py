"""The documented web API of a running simulator, as plain functions: no HTTP in here.

``api/<group>/<match>/<command>/<value>`` (seed 2.1.9): ``group`` is ``options``, ``server``,
``tags`` or ``connections``; ``match`` picks entities by glob (``*`` by default); ``command``
names one of their attributes, read, or set to ``value`` (``/v`` or ``=v``).  :func:`handle` does
it against a :class:`~cpppo.server.enip.embedded.Simulator` and returns the reply's ``command``
and ``data`` parts and an HTTP status; the effects are the ones a client sees on the wire:

* ``options/delay/value`` (``range`` for ``lo-hi``) delays every EtherNet/IP reply;
* ``server/control/disable`` true/false closes the port (and every connection) and opens it
  again, ``done`` true ends the server, ``latency`` and ``timeout`` are kept and shown;
* ``tags/<name>/error`` makes every access to the tag answer that status (0: succeed again);
  ``tags/<name>/attribute[i]`` reads an element, ``=v`` writes it;
* ``connections/<key>/eof/true`` closes connections (keys ``<ip with _>_<port>``).
"""

from __future__ import annotations

import fnmatch
import math
import re
import reprlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ApiError", "Controls", "handle", "parse_path", "snapshot"]


class ApiError(ValueError):
    """A request the API refuses: ``status`` is the HTTP status (400 bad, 404 unknown)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Controls:
    """What the web API controls beyond the simulator's own objects."""

    latency: float = 0.1  # cpppo 5's defaults, as its API shows them
    timeout: float = 0.2
    done: bool = False
    disable: bool = False
    alarms: list[str] = field(default_factory=list)


GROUPS = ("options", "server", "tags", "connections")


def parse_path(path: str) -> tuple[str, str, str | None, str | None]:
    """``api/<group>/<match>/<command>/<value>`` (or ``<command>=<value>``) to its four parts."""
    parts = [p for p in path.strip("/").split("/") if p != ""]
    if parts and parts[0] == "api":
        parts = parts[1:]
    if parts and "=" in parts[-1]:
        head, _, value = parts[-1].partition("=")
        parts[-1:] = [head, value]
    if len(parts) > 4:
        raise ApiError(f"too many terms in {path!r}: api/<group>/<match>/<command>/<value>")
    group, match, command, value = [*parts, None, None, None, None][:4]
    return group or "*", match or "*", command, value


def _render_tag(tag: Any) -> str:
    """A tag as cpppo 5's API shows it: ``SCADA                           INT[  10] == [0, 0, 0, 0, 0, 0, ...]``
    (name, type, ``[elements]`` or `` x1`` for a scalar, and its value, abbreviated)."""
    attribute = tag.attribute
    n = len(attribute)
    shape = f"[{n:4d}]" if tag.dims else f" x{n:<4d}"
    return f"{tag.name:<24} {attribute.parser.name:>10}{shape} == {reprlib.repr(attribute.value)}"


def _path(tag: Any) -> dict[str, Any] | None:
    """The CIP path a tag was given (``NAME@cls/ins/att``), as cpppo 5 shows it; None if assigned."""
    if not tag.addressed:
        return None
    cls, ins, att = tag.address
    return {"segment": [{"class": cls}, {"instance": ins}, {"attribute": att}]}


def _connections(sim: Any) -> dict[str, Any]:
    out = {}
    for conn in list(sim.server.connections):
        peer = conn.peer or ("?", 0)
        key = f"{str(peer[0]).replace('.', '_').replace(':', '_')}_{peer[1]}"
        closing = conn.transport is None or conn.transport.is_closing()
        out[key] = {"eof": closing, "interface": str(peer[0]), "port": int(peer[1]), "received": conn.received,
                    "requests": conn.requests, "_conn": conn}
    return out


def _delay(sim: Any) -> dict[str, Any]:
    delay = sim.server.delay
    lo, hi = delay if delay else (0.0, 0.0)
    return {"value": lo if lo == hi else None, "range": f"{lo:g}-{hi:g}" if lo != hi else None}


def snapshot(sim: Any, controls: Controls, group: str = "*", match: str = "*") -> dict[str, Any]:
    """The matched entities, as the API shows them."""
    data: dict[str, Any] = {}
    if fnmatch.fnmatchcase("options", group) and fnmatch.fnmatchcase("delay", match):
        data["options"] = {"delay": {k: v for k, v in _delay(sim).items() if v is not None}}
    if fnmatch.fnmatchcase("server", group) and fnmatch.fnmatchcase("control", match):
        address = list(sim.address)
        data["server"] = {"control": {"address": address, "address_udp": address, "disable": controls.disable,
                                      "done": controls.done, "latency": controls.latency,
                                      "timeout": controls.timeout}}
    if fnmatch.fnmatchcase("tags", group):
        tags = {t.name: {"attribute": _render_tag(t), "error": t.attribute.error, "path": _path(t)}
                for t in sim.controller.tags.values() if fnmatch.fnmatchcase(t.name, match)}
        if tags:
            data["tags"] = tags
    if fnmatch.fnmatchcase("connections", group):
        conns = {k: {f: v for f, v in c.items() if not f.startswith("_")}
                 for k, c in _connections(sim).items() if fnmatch.fnmatchcase(k, match)}
        if conns:
            data["connections"] = conns
    return data


def _number(value: str, what: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ApiError(f"{what}: {value!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise ApiError(f"{what}: {value!r} must be a finite number, 0 or more")
    return number


def _boolean(value: str, what: str) -> bool:
    text = value.strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ApiError(f"{what}: {value!r} is not true or false")


_ELEMENT = re.compile(r"^attribute(?:\[(\d+)\])?$")


def handle(sim: Any, controls: Controls, path: str) -> tuple[dict[str, Any], Any, int, list[Any]]:
    """Carry out one API request: (the reply's ``command`` part, its ``data``, the HTTP status, and
    the effects left for the caller to await: ``("disable", bool)``, ``("eof", conn)``)."""
    group, match, command, value = parse_path(path)
    if group != "*" and not any(fnmatch.fnmatchcase(g, group) for g in GROUPS):
        raise ApiError(f"unknown group {group!r}; groups: {', '.join(GROUPS)}", 404)
    effects: list[Any] = []
    if command is None:
        return {}, snapshot(sim, controls, group, match), 200, effects
    message = f"{group}.{match}.{command}"
    if group == "options" and fnmatch.fnmatchcase("delay", match):
        if command not in ("value", "range"):
            raise ApiError(f"unknown command {command!r} of options.delay: value, range", 404)
        if value is not None:
            if command == "value":
                seconds = _number(value, message)
                sim.server.delay = (seconds, seconds) if seconds else None
                parsed: Any = seconds
            else:
                lo_text, _, hi_text = value.partition("-")
                lo, hi = _number(lo_text, message), _number(hi_text or lo_text, message)
                if hi < lo:
                    raise ApiError(f"{message}: the range {value!r} must ascend")
                sim.server.delay = (lo, hi) if hi else None
                parsed = f"{lo:g}-{hi:g}"
            message += _set(value, parsed)
    elif group == "server" and fnmatch.fnmatchcase("control", match):
        if command not in ("disable", "done", "latency", "timeout"):
            raise ApiError(f"unknown command {command!r} of server.control: disable, done, latency, timeout", 404)
        if value is not None:
            if command in ("disable", "done"):
                flag = _boolean(value, message)
                if command == "disable" and flag != controls.disable:
                    effects.append(("disable", flag))
                setattr(controls, command, flag)
                parsed = flag
            else:
                parsed = _number(value, message)
                setattr(controls, command, parsed)
            message += _set(value, parsed)
    elif group == "tags":
        found = [t for t in sim.controller.tags.values() if fnmatch.fnmatchcase(t.name, match)]
        if not found:
            raise ApiError(f"no tag matches {match!r}", 404)
        element = _ELEMENT.match(command)
        if command == "error":
            if value is not None:
                try:
                    status = int(value, 0)
                except ValueError:
                    raise ApiError(f"{message}: {value!r} is not a status number") from None
                if not 0 <= status <= 0xFF:
                    raise ApiError(f"{message}: status {status} is not 0..255")
                for tag in found:
                    tag.attribute.error = status
                message += _set(value, status)
        elif element:
            index = int(element.group(1)) if element.group(1) is not None else 0
            for tag in found:
                attribute = tag.attribute
                if index >= len(attribute):
                    raise ApiError(f"{message}: index {index} is outside {tag.name}[0..{len(attribute) - 1}]")
            if value is not None:
                for tag in found:
                    parsed = _write_element(tag, index, value, message)
                message += _set(value, parsed)
            else:
                message += ": " + ", ".join(repr(_element(t.attribute, index)) for t in found)
        else:
            raise ApiError(f"unknown command {command!r} of tags: error, attribute[<index>]", 404)
    elif group == "connections":
        if command != "eof":
            raise ApiError(f"unknown command {command!r} of connections: eof", 404)
        conns = [c for k, c in _connections(sim).items() if fnmatch.fnmatchcase(k, match)]
        if value is not None and _boolean(value, message):
            effects.extend(("eof", c["_conn"]) for c in conns)
            message += _set(value, True)
    else:
        raise ApiError(f"nothing matches {group}/{match}", 404)
    return {"message": message, "success": True}, snapshot(sim, controls, group, match), 200, effects


def _set(text: str, parsed: Any) -> str:
    """How a message says what was set, as cpppo 5 says it: ``='0.5' (0.5)`` (the text, then its meaning)."""
    return f"={text!r} ({parsed})"


def _element(attribute: Any, index: int) -> Any:
    value = attribute.value
    return value[index] if isinstance(value, list) else value


def _write_element(tag: Any, index: int, text: str, what: str) -> Any:
    """Write element ``index`` of ``tag`` from ``text`` (parsed as the element's type); the value written."""
    attribute = tag.attribute
    current = _element(attribute, index)
    try:
        if isinstance(current, bool):
            new: Any = _boolean(text, what)
        elif isinstance(current, int):
            new = int(text, 0)
        elif isinstance(current, float):
            new = float(text)
        else:
            new = text
    except ValueError:
        raise ApiError(f"{what}: {text!r} is not a {attribute.parser.name}") from None
    try:
        if isinstance(attribute.value, list):
            attribute[index] = new
        else:
            attribute.value = new
    except (ValueError, TypeError, OverflowError) as exc:
        raise ApiError(f"{what}: {exc}") from None
    return new
