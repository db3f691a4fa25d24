"""``enip_fleet`` / ``python -m cpppo.server.enip.fleet``: a plant of simulated devices in one process.

cpppo 5 ran one simulator per process (a container or VM each, seed section 7); here every device
of a fleet is a :class:`~.embedded.Simulator` on one :class:`~cpppo.server.host.Host`: one event
loop, one thread, one sweeper, however many devices.  Each device has its own address, tags,
identity, connections and sessions, exactly as if it ran alone.

Two ways to say what the fleet is::

    enip_fleet --count 100 --base 127.1.0.1:44818 SCADA=INT[100] SPEED=REAL
    enip_fleet plant.toml

``--count`` makes identical Logix controllers on consecutive addresses (127.1.0.1, 127.1.0.2, ...;
with ``--port-step 1`` consecutive ports of one address instead); each gets its own serial number.
A fleet file holds ``[[device]]`` tables::

    [[device]]
    name     = "line1"                          # optional: kind and number otherwise
    address  = "127.1.0.1:44818"
    kind     = "logix"                          # logix, simple (MicroLogix-like) or powerflex
    tags     = ["SCADA=INT[100]", "SPEED=REAL"] # as enip_server takes them
    identity = { "Product Name" = "1756-L61/B LOGIX5561", "Serial Number" = 1001 }
    udts     = ["Motor = Speed:REAL, Count:DINT"]
    route    = { "1/1-15" = "127.1.0.2:44818" } # forward by route path ([UCMM] Route)
    slot     = 0                                # its own slot: route path 1/0 ([UCMM] Route Path)
    count    = 10                               # this device 10 times, on consecutive addresses
    port_step = 0

A mistake in the file is one line naming the file, the line and the field.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ipaddress
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...cip.epath import Port
from ...cli import UsageParser, console_entry, logging_to
from ...device.objects import IdentityInfo
from ...errors import CpppoError
from ..host import Host
from .config import ConfigError, identity_from, parse_address
from .embedded import Simulator

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

try:
    import resource
except ImportError:  # not POSIX
    resource = None  # type: ignore[assignment]

__all__ = ["KINDS", "DeviceSpec", "Fleet", "identical", "load_fleet", "main", "run"]

log = logging.getLogger(__name__)

SIMPLE_IDENTITY = IdentityInfo(vendor_id=1, device_type=0x0E, product_code=0x5A, revision=(21, 3),
                               status_word=0x0030, serial_number=0x40001000, product_name="1766-L32BXB C/21.03",
                               state=3)
"""A simple (non-routing) controller's identity: a MicroLogix 1400."""

KINDS: dict[str, dict[str, Any]] = {
    "logix": {},
    "simple": {"simple": True, "identity": SIMPLE_IDENTITY},
}
"""What each ``kind`` of device is built with (see :func:`_kinds` for the PowerFlex drive)."""

_FIELDS = {"name", "address", "kind", "tags", "identity", "udts", "route", "slot", "count", "port_step"}
_MAX_COUNT = 65536


@dataclass
class DeviceSpec:
    """One device of a fleet, as a file or the command line describes it."""

    name: str
    address: tuple[str, int]
    kind: str = "logix"
    tags: list[str] = field(default_factory=list)
    identity: dict[str, Any] = field(default_factory=dict)
    udts: list[str] = field(default_factory=list)
    routes: dict[str, str] = field(default_factory=dict)
    slot: int | None = None

    def build(self, host: Host | None = None) -> Simulator:
        """The Simulator this spec describes (not started)."""
        kinds = _kinds()
        options = dict(kinds[self.kind])
        base = options.pop("identity", None)
        make_tags = options.pop("tags", None)
        values = options.pop("values", {})
        identity = identity_from(self.identity, base)
        tags = [*(make_tags() if make_tags else ()), *self.tags]
        route_path = (Port(1, self.slot),) if self.slot is not None else options.pop("route_path", None)
        extra = {"route_path": route_path} if route_path is not None else {}
        sim = Simulator(tags, identity=identity, address=self.address, udts=self.udts, routes=self.routes or None,
                        name=self.name, host=host, io_log=0, **options, **extra)
        for tag, value in values.items():
            sim[tag] = value
        return sim


def _kinds() -> dict[str, dict[str, Any]]:
    kinds = dict(KINDS)
    try:  # the simulated PowerFlex drive, where this installation has it
        from .ab import powerflex_fleet_kind
    except ImportError:  # pragma: no cover - part of this package
        return kinds
    kinds["powerflex"] = powerflex_fleet_kind()
    return kinds


def _shifted(address: tuple[str, int], i: int, port_step: int) -> tuple[str, int]:
    """The ``i``-th address after ``address``: the next ports (``port_step``) or the next IP addresses."""
    host, port = address
    if port_step:
        port += i * port_step
        if not 0 < port <= 0xFFFF:
            raise ConfigError(f"device {i + 1} would listen on port {port}, outside 1..65535")
        return host, port
    if not i:
        return address
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"address {host!r} must be an IP address to be counted up from "
                          "(or give a port step)") from None
    try:
        return str(ip + i), port
    except (ValueError, ipaddress.AddressValueError):
        raise ConfigError(f"{i} addresses after {host} run out of the address space") from None


def identical(count: int, base: str, tags: Sequence[str], *, port_step: int = 0, kind: str = "logix",
              udts: Sequence[str] = ()) -> list[DeviceSpec]:
    """``count`` devices alike but for their address and serial number, from ``base`` on."""
    if not 0 < count <= _MAX_COUNT:
        raise ConfigError(f"--count {count} is not 1..{_MAX_COUNT}")
    address = parse_address(base)
    if not address[0]:
        raise ConfigError(f"--base {base!r} needs an IP address to count up from")
    serial = identity_from({}, _kinds()[kind].get("identity")).serial_number
    return [DeviceSpec(f"{kind}{i + 1}", _shifted(address, i, port_step), kind, list(tags),
                       {"Serial Number": (serial + i) & 0xFFFFFFFF}, list(udts)) for i in range(count)]


# -- fleet files ------------------------------------------------------------------------------------
class _Located:
    """Line numbers of a fleet file's ``[[device]]`` tables and their fields, for error messages."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.starts = [n for n, line in enumerate(self.lines, 1) if re.match(r"\s*\[\[\s*device\s*\]\]", line)]

    def at(self, index: int, key: str | None = None) -> str:
        if index >= len(self.starts):
            return str(self.path)
        start = self.starts[index]
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.lines) + 1
        if key is not None:
            for n in range(start + 1, end):
                if re.match(rf"\s*{re.escape(key)}\s*=", self.lines[n - 1]):
                    return f"{self.path}, line {n}"
        return f"{self.path}, line {start}"


def load_fleet(path: str | os.PathLike[str]) -> list[DeviceSpec]:
    """The devices of a fleet file (``count`` expanded); ConfigError says where a mistake is."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    where = _Located(path, text)
    unknown = set(data) - {"device"}
    if unknown:
        raise ConfigError(f"{path}: {', '.join(sorted(unknown))}: a fleet file holds only [[device]] tables")
    tables = data.get("device")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{path}: no [[device]] tables")
    devices: list[DeviceSpec] = []
    for index, table in enumerate(tables):
        devices.extend(_device(table, index, where))
    seen: dict[tuple[str, int], str] = {}
    for device in devices:
        if device.address in seen:
            raise ConfigError(f"{path}: {device.name} and {seen[device.address]} both listen on "
                              f"{device.address[0]}:{device.address[1]}")
        seen[device.address] = device.name
    return devices


def _device(table: dict[str, Any], index: int, where: _Located) -> list[DeviceSpec]:
    def bad(key: str | None, why: str) -> ConfigError:
        return ConfigError(f"{where.at(index, key)}: device {index + 1}" + (f" {key}" if key else "") + f": {why}")

    for key in table:
        if key not in _FIELDS:
            raise bad(key, f"is not a field of a device ({', '.join(sorted(_FIELDS))})")
    kinds = _kinds()
    kind = table.get("kind", "logix")
    if kind not in kinds:
        raise bad("kind", f"{kind!r} is not one of {', '.join(kinds)}")
    if "address" not in table:
        raise bad(None, "has no address")
    try:
        address = parse_address(_str(table["address"]))
    except (ConfigError, TypeError) as exc:
        raise bad("address", str(exc)) from None
    tags = table.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise bad("tags", "must be a list of tag strings, as enip_server takes them")
    udts = table.get("udts", [])
    if not isinstance(udts, list) or not all(isinstance(u, str) for u in udts):
        raise bad("udts", "must be a list of structure declarations")
    identity = table.get("identity", {})
    if not isinstance(identity, dict):
        raise bad("identity", "must be a table of [Identity] settings")
    try:
        base_identity = identity_from(identity, kinds[kind].get("identity"))
    except ConfigError as exc:
        raise bad("identity", str(exc)) from None
    routes = table.get("route", {})
    if not isinstance(routes, dict):
        raise bad("route", 'must be a table of "<port>/<link>" = "<host>:<port>"')
    slot = table.get("slot")
    if slot is not None and (not isinstance(slot, int) or isinstance(slot, bool) or not 0 <= slot <= 255):
        raise bad("slot", f"{slot!r} is not a slot number 0..255")
    count = table.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= _MAX_COUNT:
        raise bad("count", f"{count!r} is not 1..{_MAX_COUNT}")
    step = table.get("port_step", 0)
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise bad("port_step", f"{step!r} is not a whole number of ports")
    name = table.get("name", f"{kind}{index + 1}")
    if not isinstance(name, str) or not name:
        raise bad("name", "must be a non-empty string")
    specs = []
    for i in range(count):
        try:
            addr = _shifted(address, i, step)
        except ConfigError as exc:
            raise bad("count", str(exc)) from None
        ident = dict(identity)
        if count > 1:  # replicas are distinct devices: each its own serial number
            ident["Serial Number"] = (base_identity.serial_number + i) & 0xFFFFFFFF
        spec = DeviceSpec(name if count == 1 else f"{name}-{i + 1}", addr, kind, list(tags), ident, list(udts),
                          {str(k): _str(v) for k, v in routes.items()}, slot)
        if i == 0:
            try:  # build one to find a bad tag, UDT or route now, with the file and line
                spec.build()
            except CpppoError as exc:
                key = next((k for k in ("tags", "udts", "route") if str(exc) and k in table), None)
                raise bad(key, str(exc)) from None
        specs.append(spec)
    return specs


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{value!r} is not a string")
    return value


# -- running ----------------------------------------------------------------------------------------
def _raise_nofile(wanted: int) -> None:
    """Each device holds a TCP and a UDP socket: make room for them (within the hard limit)."""
    if resource is None:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class Fleet:
    """Many simulated devices on one host: ``start()`` in the background, or ``serve_forever()``."""

    def __init__(self, specs: Iterable[DeviceSpec]) -> None:
        self.specs = list(specs)
        self.host = Host(name="cpppo-fleet")
        self.devices = [spec.build(self.host) for spec in self.specs]

    def __len__(self) -> int:
        return len(self.devices)

    def __iter__(self) -> Iterator[Simulator]:
        return iter(self.devices)

    def __getitem__(self, index: int) -> Simulator:
        return self.devices[index]

    def start(self, timeout: float = 30.0) -> Fleet:
        """Serve every device from the fleet's host on a background thread; return once all listen."""
        _raise_nofile(2 * len(self.devices) + 256)
        if not self.host.running:
            self.host.start(timeout)
        try:
            for spec, device in zip(self.specs, self.devices):
                try:
                    device.start(timeout)
                except OSError as exc:
                    raise ConfigError(f"{spec.name}: cannot listen on {spec.address[0]}:{spec.address[1]}: "
                                      f"{exc.strerror or exc}") from None
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every device, then the host."""
        for device in self.devices:
            device.stop()
        if self.host.running:
            self.host.stop()

    def serve_forever(self, stop: Callable[[], bool] | None = None,
                      ready: Callable[[Fleet], None] | None = None, extra: Iterable[Any] = ()) -> None:
        """Serve in this thread until SIGINT/SIGTERM (or ``stop()`` returns true); ``extra``
        services (the web API) run on the same host."""
        _raise_nofile(2 * len(self.devices) + 256)
        asyncio.run(self._serve(stop, ready, list(extra)))

    async def _serve(self, stop: Callable[[], bool] | None, ready: Callable[[Fleet], None] | None,
                     extra: list[Any]) -> None:
        host = self.host
        try:
            for service in extra:
                await host.add(service)
            for spec, device in zip(self.specs, self.devices):
                try:
                    await host.add(device.server)
                except OSError as exc:
                    raise ConfigError(f"{spec.name}: cannot listen on {spec.address[0]}:{spec.address[1]}: "
                                      f"{exc.strerror or exc}") from None
                device.host = host
        except BaseException:
            await host.close()
            raise
        try:
            await host.serve(stop=stop, ready=(lambda: ready(self)) if ready is not None else None)
        finally:
            for device in self.devices:
                device.host = None

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the command line -------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    ap = UsageParser(prog="enip_fleet", description="Simulate many EtherNet/IP devices in one process.",
                     epilog="Either a fleet file (TOML, [[device]] tables) or --count/--base with tags.")
    ap.add_argument("fleet", nargs="?", help="a fleet file (.toml)")
    ap.add_argument("tags", nargs="*", help="with --count: the tags of every device")
    ap.add_argument("-n", "--count", type=int, help="this many identical Logix controllers")
    ap.add_argument("-b", "--base", help="the first one's HOST:PORT; the next ones count up from it")
    ap.add_argument("--port-step", type=int, default=0, help="count up ports by this much instead of addresses")
    ap.add_argument("--kind", default="logix", help="with --count: logix, simple or powerflex")
    ap.add_argument("-U", "--udt", action="append", default=[], help="with --count: declare a structure (UDT)")
    ap.add_argument("--web", metavar="[HOST]:PORT", help="serve the web API of every device (/device/<name>/api)")
    ap.add_argument("--web-token", help="a token that lets peers other than this host change things via the web API")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only the summary, not a line per device")
    ap.add_argument("-v", "--verbose", action="count", default=0, help="more logging (repeat for more)")
    return ap


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def main(argv: Sequence[str] | None = None, *, stop: Callable[[], bool] | None = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    try:
        if args.count is not None:
            tags = [*([args.fleet] if args.fleet else []), *args.tags]  # with --count, the first word is a tag
            if args.base is None:
                ap.error("--count needs --base HOST:PORT")
            if args.kind not in _kinds():
                ap.error(f"--kind {args.kind!r} is not one of {', '.join(_kinds())}")
            specs = identical(args.count, args.base, tags, port_step=args.port_step, kind=args.kind,
                              udts=args.udt)
        elif args.fleet:
            if args.tags or args.base:
                ap.error("a fleet file says everything: no tags or --base with it")
            specs = load_fleet(args.fleet)
        else:
            ap.error("give a fleet file, or --count N --base HOST:PORT and the tags")
        began = time.monotonic()
        fleet = Fleet(specs)
        web = None
        if args.web is not None:
            from ..web import WebService

            host, port = parse_address(args.web, 80)
            web = WebService(None, host, port, token=args.web_token,
                             devices={spec.name: device for spec, device in zip(fleet.specs, fleet.devices)})
    except CpppoError as exc:
        print(f"{ap.prog}: error: {exc}", file=sys.stderr)
        return 2

    def ready(running: Fleet) -> None:
        if not args.quiet:
            for spec, device in zip(running.specs, running.devices):
                host, port = device.address
                print(f"{spec.name}: {spec.kind} {device.controller.identity.product_name!r} at {host}:{port}, "
                      f"{len(device.controller.tags)} tags", flush=True)
        rss = _rss_mb()
        counts = collections.Counter(spec.kind for spec in running.specs)
        kinds = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        print(f"{len(running)} devices listening ({kinds}) in {time.monotonic() - began:.1f} s"
              + (f", {rss:.0f} MB resident" if rss else ""), flush=True)
        if web is not None:
            print(f"Web API on {web.url}api (each device's dashboard at {web.url}device/<name>/)", flush=True)

    with logging_to(args.verbose, None):
        try:
            fleet.serve_forever(stop=stop, ready=ready, extra=[web] if web is not None else [])
        except (ConfigError, OSError) as exc:
            print(f"{ap.prog}: error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            pass
    return 0


run = console_entry(main)

if __name__ == "__main__":
    run()
