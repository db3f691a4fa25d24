"""Simulator configuration: tag specifications, addresses, and the ``cpppo.cfg`` files.

Tags are ``NAME[@class/instance/attribute]=TYPE[length]`` (numbers in decimal, 0x, 0o or 0b).
``cpppo.cfg`` files are read from /etc (or %APPDATA% on Windows), ``~/.cpppo.cfg``,
``./cpppo.cfg`` and any ``-c`` file, later ones overriding earlier ones; sections ``[Identity]``,
``[TCPIP]``, ``[UCMM]`` (``Route Path``, ``Route``), ``[UDT]`` and ``[Web]`` (``Token``) are understood.
"""

from __future__ import annotations

import configparser
import ipaddress
import json
import logging
import math
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from ...cip.epath import parse_route_path
from ...cip.types import CIPType
from ...cli import split_host_port
from ...device.controller import ANY_ROUTE
from ...device.datatypes import TypeRegistry
from ...device.objects import IdentityInfo, TcpipInfo
from ...errors import CpppoError, EncodeError
from .routes import RouteError, parse_routes

__all__ = [
    "ConfigError",
    "SimulatorConfig",
    "TagSpec",
    "default_config_paths",
    "identity_from",
    "load_config",
    "parse_address",
    "parse_delay",
    "parse_tag",
]


log = logging.getLogger(__name__)


class ConfigError(CpppoError, ValueError):
    """A tag specification, address, option or configuration file is not valid."""


_DEFAULT_TYPES = TypeRegistry()  # read-only here: the elementary types and STRING


@dataclass(frozen=True)
class TagSpec:
    name: str
    type: CIPType
    length: int | None = None  # None: a scalar; else the number of elements
    address: tuple[int, int, int] | None = None
    dims: tuple[int, ...] = ()  # array dimensions (up to 3); () for a scalar

    @property
    def elements(self) -> int:
        return 1 if self.length is None else self.length

    def __str__(self) -> str:
        at = "@{}/{}/{}".format(*self.address) if self.address else ""
        shape = f"[{','.join(map(str, self.dims))}]" if self.dims else ""
        return f"{self.name}{at}={self.type.name}{shape}"


_TAG = re.compile(r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_:.]*)\s*(?:@(?P<addr>[^=]+))?=\s*(?P<type>[A-Za-z_][A-Za-z0-9_]*)"
                  r"\s*(?:\[\s*(?P<length>[^\]]*)\])?\s*$")


def _number(text: str, what: str) -> int:
    text = text.strip()
    if re.fullmatch(r"0[0-9]+", text):  # "01": a leading zero, in decimal (as the documents write "@0x1FF/01/0x1A")
        text = text.lstrip("0") or "0"
    try:
        value = int(text, 0)
    except ValueError:
        raise ConfigError(f"{what} {text.strip()!r} is not a number") from None
    if value < 0:
        raise ConfigError(f"{what} {value} is negative")
    return value


def parse_tag(text: str, types: TypeRegistry | None = None) -> TagSpec:
    """Parse ``NAME[@class/instance/attribute]=TYPE[length]`` (``[d0,d1,d2]`` for up to 3 dimensions).

    Types come from ``types`` (a controller's registry, with its UDTs); STRING is the Logix STRING.
    """
    m = _TAG.match(text)
    if not m:
        raise ConfigError(f"tag {text!r} is not NAME[@class/instance/attribute]=TYPE[length]")
    try:
        ctype = (types or _DEFAULT_TYPES).get(m["type"])
    except EncodeError as exc:
        raise ConfigError(f"tag {text!r}: {exc}") from None
    length = None
    dims: tuple[int, ...] = ()
    if m["length"] is not None:
        dims = tuple(_number(d, f"tag {m['name']!r} length") for d in m["length"].split(","))
        if not 1 <= len(dims) <= 3:
            raise ConfigError(f"tag {m['name']!r} has {len(dims)} dimensions; 1 to 3 are allowed")
        length = 1
        for d in dims:
            length *= d
        if not 1 <= length <= 0xFFFF or 0 in dims:
            raise ConfigError(f"tag {m['name']!r} length {length} is not 1..65535")
    address = None
    if m["addr"]:
        parts = m["addr"].strip().split("/")
        if len(parts) != 3:
            raise ConfigError(f"tag {m['name']!r} address {m['addr']!r} is not class/instance/attribute")
        cls, ins, att = (_number(p, f"tag {m['name']!r} address part") for p in parts)
        if not (1 <= cls <= 0xFFFF and 1 <= ins <= 0xFFFF and 1 <= att <= 0xFFFF):
            raise ConfigError(f"tag {m['name']!r} address {m['addr']!r}: class, instance and attribute are 1..65535")
        address = (cls, ins, att)
    return TagSpec(m["name"], ctype, length, address, dims)


def parse_address(text: str | None, default_port: int = 44818) -> tuple[str, int]:
    """``[interface][:port]`` (IPv6 in brackets) to (host, port); an empty host means all interfaces."""
    try:
        host, port = split_host_port(text, default_port)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return _check_host(host), port


def _check_host(host: str) -> str:
    """``host`` if it can name an interface: an IP address, or a host name (resolved at bind)."""
    if not host:
        return host
    if re.fullmatch(r"[0-9.]+", host):  # all digits and dots: it must be an IPv4 address
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ConfigError(f"address {host!r} is not a valid IPv4 address") from None
    elif ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ConfigError(f"address {host!r} is not a valid IPv6 address") from None
    elif not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", host):
        raise ConfigError(f"address {host!r} is not a host name or IP address")
    return host


def parse_delay(text: str | None) -> tuple[float, float] | None:
    """``#.#`` or ``#.#-#.#`` seconds."""
    if not text:
        return None
    try:
        parts = [float(p) for p in text.split("-")]
    except ValueError:
        raise ConfigError(f"delay {text!r} is not #.# or #.#-#.# seconds") from None
    if len(parts) not in (1, 2) or any(p < 0 for p in parts):
        raise ConfigError(f"delay {text!r} is not #.# or #.#-#.# seconds")
    lo, hi = parts[0], parts[-1]
    if hi < lo:
        raise ConfigError(f"delay {text!r}: the range must ascend")
    return (lo, hi) if hi or lo else None


def default_config_paths() -> list[FsPath]:
    system = FsPath(os.environ["APPDATA"]) if sys.platform == "win32" and "APPDATA" in os.environ else FsPath("/etc")
    return [system / "cpppo.cfg", FsPath.home() / ".cpppo.cfg", FsPath("cpppo.cfg")]


@dataclass
class SimulatorConfig:
    identity: IdentityInfo
    tcpip: TcpipInfo
    route_path: Any = ANY_ROUTE
    loaded: tuple[str, ...] = ()
    udts: list[str] = field(default_factory=list)  # structure declarations, "NAME = MEMBER:TYPE, ..."
    routes: dict[str, str] = field(default_factory=dict)  # [UCMM] Route: {"<port>/<link>": "<host>:<port>"}
    route_timeout: float | None = None  # [UCMM] Route Timeout (seconds)
    web_token: str | None = None  # [Web] Token: lets peers other than this host change things via the web API


_IDENTITY_KEYS: dict[str, tuple[str, Any]] = {
    "vendor number": ("vendor_id", int),
    "vendor id": ("vendor_id", int),
    "device type": ("device_type", int),
    "product code number": ("product_code", int),
    "product code": ("product_code", int),
    "status word": ("status_word", int),
    "serial number": ("serial_number", int),
    "product name": ("product_name", str),
    "state": ("state", int),
}


def _int(value: str) -> int:
    return int(value.strip(), 0)


def _at(where: str, section: str, key: str, offset: int = 0) -> str:
    """``FILE, line N`` for the line that sets ``key`` in ``[section]`` (plus ``offset`` lines into a
    multi-line value); just ``FILE`` if it cannot be found."""
    try:
        with open(where, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return where
    current, found = None, 0
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text.startswith("[") and text.endswith("]"):
            current = text[1:-1].strip()
        elif current == section and not line[:1].isspace() and \
                re.split(r"[=:]", text, maxsplit=1)[0].strip().lower() == key:
            found = number
    return f"{where}, line {found + offset}" if found else where


def _apply_identity(section: configparser.SectionProxy, ident: IdentityInfo, where: str) -> None:
    for key, value in section.items():
        if key in section.parser.defaults():
            continue
        try:
            if key == "product revision":
                major, _, minor = value.strip().partition(".")
                ident.revision = (_int(major), _int(minor or "0"))
            elif key in _IDENTITY_KEYS:
                field_name, kind = _IDENTITY_KEYS[key]
                setattr(ident, field_name, _int(value) if kind is int else value.strip())
        except ValueError:
            raise ConfigError(f"{_at(where, section.name, key)}: [Identity] {key} = {value!r} is not valid") from None


def identity_from(values: dict[str, Any], base: IdentityInfo | None = None) -> IdentityInfo:
    """An identity from ``{"Product Name": ..., "Serial Number": ...}`` (the ``[Identity]`` names of
    cpppo.cfg, any case), over ``base``; ConfigError names a key or value that is not valid."""
    ident = IdentityInfo(**vars(base)) if base is not None else IdentityInfo()
    for key, value in values.items():
        name = " ".join(str(key).replace("_", " ").split()).lower()
        try:
            if name == "product revision":
                major, _, minor = str(value).strip().partition(".")
                ident.revision = (_int(major), _int(minor or "0"))
            elif name in _IDENTITY_KEYS:
                field_name, kind = _IDENTITY_KEYS[name]
                if kind is int:
                    number = value if isinstance(value, int) and not isinstance(value, bool) else _int(str(value))
                    setattr(ident, field_name, number)
                else:
                    setattr(ident, field_name, str(value))
            else:
                known = ", ".join(k.title() for k in sorted({*_IDENTITY_KEYS, "product revision"}))
                raise ConfigError(f"identity {key!r} is not one of: {known}")
        except ValueError as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"identity {key!r} = {value!r} is not valid") from None
    return ident


def _apply_tcpip(section: configparser.SectionProxy, tcpip: TcpipInfo, where: str) -> None:
    for key, value in section.items():
        if key in section.parser.defaults():
            continue
        if key == "interface configuration":
            try:
                conf = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{_at(where, section.name, key, exc.lineno - 1)}: [TCPIP] Interface "
                                  f"Configuration is not valid JSON: {exc.msg}") from None
            if not isinstance(conf, dict):
                raise ConfigError(f"{_at(where, section.name, key)}: [TCPIP] Interface Configuration must be "
                                  "a JSON object")
            for name in ("ip_address", "network_mask", "gateway_address", "dns_primary", "dns_secondary",
                         "domain_name"):
                if name in conf:
                    setattr(tcpip, name, str(conf[name]))
            try:
                tcpip.interface_configuration()
            except ValueError as exc:
                raise ConfigError(f"{_at(where, section.name, key)}: [TCPIP] Interface Configuration: {exc}") from None
        elif key == "host name":
            tcpip.host_name = value.strip()
        elif key == "domain name":
            tcpip.domain_name = value.strip()


def _apply_ucmm(section: configparser.SectionProxy, config: SimulatorConfig, where: str) -> None:
    """``Route = {JSON}`` (merged over earlier files' routes) and ``Route Timeout = seconds``."""
    if "route" in section:
        value = section["route"]
        try:
            table = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{_at(where, section.name, 'route', exc.lineno - 1)}: [{section.name}] Route is not "
                              f"valid JSON: {exc.msg}") from None
        try:
            parse_routes(table)  # say now, with the file and line, what is wrong with it
        except RouteError as exc:
            raise ConfigError(f"{_at(where, section.name, 'route')}: [{section.name}] Route: {exc}") from None
        config.routes.update(table)
    if "route timeout" in section:
        try:
            seconds = float(section["route timeout"])
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds > 0):
            raise ConfigError(f"{_at(where, section.name, 'route timeout')}: [{section.name}] Route Timeout "
                              f"{section['route timeout']!r} is not a positive number of seconds")
        config.route_timeout = seconds


_KNOWN = {
    "identity": {*_IDENTITY_KEYS, "product revision"},
    "tcpip": {"interface configuration", "host name", "domain name"},
    "ucmm": {"route", "route timeout"},
    "web": {"token"},
}
_ANYWHERE = {"route path"}


def _warn_unknown(section: configparser.SectionProxy, where: str) -> None:
    """A key or section nothing reads is most likely a typo: say so, with the file and line."""
    lname = section.name.lower()
    if lname == "udt":
        return  # every key declares a structure
    if lname not in _KNOWN:
        log.warning("%s: [%s] is not a section cpppo reads (%s); ignored", _at_section(where, section.name),
                    section.name, ", ".join(f"[{s}]" for s in ("Identity", "TCPIP", "UCMM", "UDT", "Web")))
        return
    for key in section:
        if key in section.parser.defaults() or key in _ANYWHERE or key in _KNOWN[lname]:
            continue
        known = ", ".join(sorted(k.title() for k in (_KNOWN[lname] | _ANYWHERE)))
        log.warning("%s: [%s] %r is not a setting cpppo reads (%s); ignored", _at(where, section.name, key),
                    section.name, key, known)


def _at_section(where: str, section: str) -> str:
    try:
        with open(where, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if line.strip() == f"[{section}]":
                    return f"{where}, line {number}"
    except (OSError, UnicodeDecodeError):
        pass
    return where


def _udt_declarations(path: FsPath) -> list[str]:
    """The ``[UDT]`` section's ``NAME = MEMBER:TYPE, ...`` lines, with the names' case kept."""
    raw = configparser.ConfigParser(interpolation=None)
    raw.optionxform = str  # type: ignore[assignment,method-assign]
    with open(path, encoding="utf-8") as f:
        raw.read_file(f, source=str(path))
    out = []
    for name in raw.sections():
        if name.lower() == "udt":
            out.extend(f"{key} = {' '.join(value.split())}" for key, value in raw[name].items()
                       if key not in raw.defaults())
    return out


def load_config(extra: Iterable[str | os.PathLike[str]] = (), *, search: bool = True) -> SimulatorConfig:
    """Read the standard configuration files (when ``search``) and then ``extra`` ones."""
    config = SimulatorConfig(IdentityInfo(), TcpipInfo())
    paths = [*(default_config_paths() if search else []), *(FsPath(p) for p in extra)]
    required = {FsPath(p) for p in extra}
    loaded = []
    for path in paths:
        if not path.is_file():
            if path in required:
                raise ConfigError(f"configuration file {str(path)!r} does not exist")
            continue
        parser = configparser.ConfigParser(interpolation=None)
        try:
            with open(path, encoding="utf-8") as f:
                parser.read_file(f, source=str(path))
        except configparser.Error as exc:
            raise ConfigError(f"{path}: {' '.join(str(exc).split())}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        for name in parser.sections():
            section = parser[name]
            lname = name.lower()
            _warn_unknown(section, str(path))
            if lname == "identity":
                _apply_identity(section, config.identity, str(path))
            elif lname == "tcpip":
                _apply_tcpip(section, config.tcpip, str(path))
            elif lname == "ucmm":
                _apply_ucmm(section, config, str(path))
            elif lname == "web" and section.get("token", "").strip():
                config.web_token = section["token"].strip()
            if "route path" in section:
                try:
                    config.route_path = parse_route_path(section["route path"])
                except EncodeError as exc:
                    raise ConfigError(f"{_at(str(path), name, 'route path')}: [{name}] Route Path: {exc}") from None
        if any(name.lower() == "udt" for name in parser.sections()):
            config.udts.extend(_udt_declarations(path))
        loaded.append(str(path))
    config.loaded = tuple(loaded)
    return config
