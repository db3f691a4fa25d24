"""A simulated controller as a Python object: build it, start it in the background, test against it.

    with cpppo.server.enip.simulator(["SCADA=INT[100]", "FLOAT=REAL"]) as plc:
        host, port = plc.address          # 127.0.0.1 and a free port
        plc["SCADA"] = [1, 2, 3]          # set values directly
        ...                               # point the code under test at host:port
        assert plc["FLOAT"] == 1.5        # read what it wrote
        assert plc.io[-1].kind == "write" # and see the I/O it did

Each :class:`Simulator` owns everything it serves (objects, tags, sessions), so several can run in
one process on different addresses.  Started in the background, they all run on the process's one
shared :class:`~cpppo.server.host.Host` (one loop, one thread, however many simulators), which
stops with the last of them; ``Simulator(host=...)`` puts one on a host of your own.
``enip_server`` itself is a Simulator served by a host in the foreground.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ...cip.types import DWORD, TypeCode
from ...device.backplane import Backplane
from ...device.controller import ANY_ROUTE, Controller, IOEvent, Tag
from ...device.datatypes import TypeRegistry
from ...device.events import Subscription, TagEvents
from ...device.objects import IdentityInfo, TcpipInfo
from ...device.tags import Attribute
from ...errors import EncodeError
from ..host import Host
from .config import ConfigError, TagSpec, parse_address, parse_tag
from .routes import DEFAULT_ROUTE_TIMEOUT, RouteError, attach_routes, parse_routes
from .transport import EnipServer

if TYPE_CHECKING:
    from ..web import WebService

__all__ = ["COMMUNICATION_MODULE", "Simulator", "chassis", "simulator"]


def _specs(tags: Iterable[str | TagSpec] | Mapping[str, str], types: TypeRegistry) -> list[TagSpec]:
    if isinstance(tags, Mapping):
        return [parse_tag(f"{name}={kind}", types) for name, kind in tags.items()]
    return [t if isinstance(t, TagSpec) else parse_tag(t, types) for t in tags]


def _identity(identity: IdentityInfo | Mapping[str, Any] | None) -> IdentityInfo:
    if identity is None or isinstance(identity, IdentityInfo):
        return identity or IdentityInfo()
    fields = asdict(IdentityInfo())
    unknown = set(identity) - set(fields)
    if unknown:
        raise ConfigError(f"unknown identity fields: {', '.join(sorted(unknown))}; known: {', '.join(fields)}")
    return IdentityInfo(**{**fields, **identity})


class Simulator:
    """A simulated ControlLogix serving EtherNet/IP on ``address`` (default 127.0.0.1, a free port);
    with ``web`` (an address), its web API and live dashboard too (``self.web.url``)."""

    def __init__(self, tags: Iterable[str | TagSpec] | Mapping[str, str] = (), *,
                 identity: IdentityInfo | Mapping[str, Any] | None = None, tcpip: TcpipInfo | None = None,
                 address: tuple[str, int] = ("127.0.0.1", 0), route_path: Any = ANY_ROUTE, simple: bool = False,
                 delay: tuple[float, float] | None = None, attribute_class: type[Attribute] = Attribute,
                 io_log: int = 10000, idle_timeout: float | None = 600.0, frame_timeout: float = 10.0,
                 max_frame: int = 0xFFFF, udts: Iterable[str] = (), name: str = "Simulator",
                 host: Host | None = None, routes: Mapping[str, str] | str | None = None,
                 route_timeout: float = DEFAULT_ROUTE_TIMEOUT, slots: Mapping[int, Simulator] | None = None,
                 slot: int | None = None, web: str | tuple[str, int] | None = None,
                 web_token: str | None = None) -> None:
        self.controller = Controller(_identity(identity), tcpip, route_path=route_path, simple=simple, name=name)
        try:
            for declaration in udts:  # structures first: tags may use them
                self.controller.types.parse(declaration)
        except EncodeError as exc:
            raise ConfigError(str(exc)) from None
        for spec in _specs(tags, self.controller.types):
            self.add_tag(spec, attribute_class)
        self.io: collections.deque[IOEvent] = collections.deque(maxlen=io_log or 1)
        if io_log:  # the reads and writes clients made (not direct ones); enip_server turns it off
            io = self.io
            self.controller.observers.append(
                lambda event: event.source.kind == "client" and event.kind != "error" and io.append(event))
        self.server = EnipServer(self.controller, address[0], address[1], delay=delay,
                                 offload=attribute_class._custom_io, idle_timeout=idle_timeout,
                                 frame_timeout=frame_timeout, max_frame=max_frame)
        self._own_host = host  # a host given by the caller; else the shared one, while started
        self.host: Host | None = None  # the host serving us, while started
        self.slots: dict[int, Simulator] = {}
        if slots or slot is not None:
            self._rack(dict(slots or {}), slot)
        self.web: WebService | None = None  # the web API and dashboard, served beside EtherNet/IP
        if web is not None:
            from ..web import WebService

            web_host, web_port = parse_address(web, 80) if isinstance(web, str) else web
            self.web = WebService(self, web_host, web_port, token=web_token)
        if routes:
            try:
                attach_routes(self.controller, parse_routes(routes, timeout=route_timeout))
            except RouteError as exc:
                raise ConfigError(str(exc)) from None

    def _rack(self, slots: dict[int, Simulator], slot: int | None) -> None:
        """Put ``slots`` (and this controller, at ``slot``) on one backplane behind this address."""
        backplane = self.controller.backplane or Backplane()
        if slot is not None:
            slots.setdefault(slot, self)
            if slots[slot] is not self:
                raise ConfigError(f"slot {slot} holds another module; this simulator cannot sit there too")
        for number, module in sorted(slots.items()):
            if not isinstance(module, Simulator):
                raise ConfigError(f"slot {number}: a module is a Simulator, not {type(module).__name__}")
            if not 0 <= number <= 255:
                raise ConfigError(f"slot {number} is not 0..255")
            try:
                backplane.attach(1, number, module.controller)
            except ValueError as exc:
                raise ConfigError(f"slot {number}: {exc}") from None
            if module.server.offload:  # a module whose attributes may block: serve from the pool
                self.server.offload = True
        self.controller.backplane = backplane
        self.slots = {number: module for number, module in slots.items()}

    def add_tag(self, spec: str | TagSpec, attribute_class: type[Attribute] = Attribute) -> Tag:
        server = getattr(self, "server", None)  # None while __init__ adds the first tags
        if attribute_class._custom_io and server is not None and not server.offload:
            raise ConfigError(f"tag {str(spec)!r}: a custom attribute class may block, so it must be given to "
                              "Simulator(attribute_class=...), which serves requests from a thread pool")
        spec = spec if isinstance(spec, TagSpec) else parse_tag(spec, self.controller.types)
        kind, dims = spec.type, spec.dims
        if kind.code == TypeCode.BOOL and dims:  # BOOL arrays live in 32-bit DWORDs, as in a Logix
            kind, dims = DWORD, (-(-spec.elements // 32),)
        blank: Any = "" if kind.size == 0 else (0.0 if kind.name in ("REAL", "LREAL") else 0)
        default = blank if not dims else [blank] * _count(dims)
        existing = self.controller.tags.get(spec.name.lower())
        if existing is not None:
            if existing.attribute.parser is not kind or existing.dims != dims:
                raise ConfigError(f"tag {spec.name!r} is defined twice with different types or lengths")
            return existing
        try:
            return self.controller.add_tag(spec.name, attribute_class(spec.name, kind, default=default),
                                           spec.address, dims)
        except EncodeError as exc:
            raise ConfigError(str(exc)) from None

    # -- direct access to values --------------------------------------------------------------------
    def tag(self, name: str) -> Attribute:
        """The attribute behind tag ``name`` (case-insensitive)."""
        try:
            return self.controller.tag(name).attribute
        except KeyError:
            raise KeyError(f"no tag {name!r}; tags: {', '.join(t.name for t in self.controller.tags.values())}") from None

    def __getitem__(self, name: str) -> Any:
        return self.tag(name).value

    def __setitem__(self, name: str, value: Any) -> None:
        self.tag(name).value = value

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    @property
    def events(self) -> TagEvents:
        """Every change of this simulator's tags (and every read, for listeners that ask)."""
        return self.controller.events

    def subscribe(self, *, maxsize: int = 10000, reads: bool = False) -> Subscription:
        """A bounded queue of tag events, read by coroutines on the host's loop (from any thread)."""
        loop = self.host.loop if self.host is not None else None
        if loop is None:
            raise RuntimeError("start the simulator first: subscriptions live on its host's loop")
        return self.events.subscribe(maxsize=maxsize, reads=reads, loop=loop)

    # -- running --------------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> Simulator:
        """Serve from the host's background loop (the shared one, started if need be); return once listening."""
        if self.host is not None:
            return self
        host = self._own_host or Host.acquire()
        try:
            if not host.running:
                host.start(timeout)
            host.call(host.add(self.server), timeout)
            if self.web is not None:
                try:
                    host.call(host.add(self.web), timeout)
                except BaseException:
                    host.call(host.remove(self.server), timeout)
                    raise
        except BaseException:
            if self._own_host is None:
                Host.release(host)
            raise
        self.host = host
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and close every connection (the shared host stops with its last simulator)."""
        host, self.host = self.host, None
        if host is None:
            return
        try:
            services = [self.server] if self.web is None else [self.web, self.server]
            for service in services:
                if host.on_loop_thread() and host.loop is not None:  # from a callback on the loop: no waiting
                    host.loop.create_task(host.remove(service))
                else:
                    with contextlib.suppress(RuntimeError, TimeoutError):  # the host stopped meanwhile
                        host.call(host.remove(service), timeout)
        finally:
            if self._own_host is None:
                Host.release(host)

    def serve_forever(self, stop: Callable[[], bool] | None = None,
                      ready: Callable[[tuple[str, int]], None] | None = None, extra: Iterable[Any] = ()) -> None:
        """Serve in this thread, on a host of its own, until ``stop()`` returns true (or a signal);
        ``extra`` services (a web API, ...) run on the same host."""
        if self.host is not None:
            raise RuntimeError(f"{self!r} is already serving on {self.host.name}; stop() it first")
        host = Host(name="cpppo-enip-server")

        def listening() -> None:
            if ready is not None:
                ready(self.address)

        self.host = host
        try:
            web = [self.web] if self.web is not None else []
            host.run(self.server, *web, *extra, ready=listening, stop=stop)
        finally:
            self.host = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        host, port = self.address
        return f"<Simulator {self.controller.identity.product_name!r} at {host}:{port}, {len(self.controller.tags)} tags>"


def _count(dims: tuple[int, ...]) -> int:
    n = 1
    for d in dims:
        n *= d
    return n


simulator = Simulator
"""The documented spelling: ``with cpppo.server.enip.simulator(tags=...) as plc:``."""


COMMUNICATION_MODULE = IdentityInfo(vendor_id=1, device_type=0x0C, product_code=166, revision=(11, 2),
                                    status_word=0x0030, serial_number=0x00C0FFEE, product_name="1756-EN2T/D",
                                    state=3)
"""The identity a chassis answers List Identity with: its EtherNet/IP module's, a 1756-EN2T."""


def chassis(slots: Mapping[int, Simulator], *, identity: IdentityInfo | Mapping[str, Any] | None = None,
            **kwds: Any) -> Simulator:
    """A ControlLogix chassis behind one address: ``{slot: Simulator(...)}`` on its backplane.

    What answers at the address is the chassis' EtherNet/IP module (List Identity and its Identity
    object say 1756-EN2T, a communications adapter); a route path ``1/N`` -- pylogix's
    ``processor_slot=N``, pycomm3's ``'host/N'`` -- reaches the module in slot N, unconnected or
    through a connection; an empty slot is refused as a real chassis refuses it.  The modules are
    Simulators that are never started themselves: ``rack.slots[3]["TAG"]`` reads one's tag.
    """
    front = identity if isinstance(identity, IdentityInfo) else {**asdict(COMMUNICATION_MODULE), **(identity or {})}
    return Simulator((), identity=front, slots=slots, name="chassis", **kwds)
