"""Where a route path leads: the modules of a backplane, and the effect of forwarding a request.

A real ControlLogix chassis is reached through one address; a request's route path then picks a
module: ``1/3`` leaves the communication module by port 1 (the backplane) toward slot 3.  A
:class:`Backplane` maps the first hop of a route path, a (port, link) pair, to what is there:

* a local module -- another :class:`~cpppo.device.controller.Controller` in this process, which
  answers the request at once, with the rest of the route path;
* a :class:`RemoteTarget` -- a device reached over EtherNet/IP.  The controller cannot answer
  that without I/O, so it returns a :class:`Forward` *effect* instead of reply bytes: the
  transport carries the message to the target (without blocking its loop) and answers the
  client with what comes back, or with the failure status the effect builds.

This is the sans-I/O seam routing is built on: the controller decides, the transport moves bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from ..cip.connection_manager import UnconnectedSend
from ..cip.epath import CONNECTION_MANAGER_PATH, Path, Port, encode_path
from ..cip.message import encode_reply, encode_request
from ..cip.services import ConnectionManagerService
from ..cip.status import ConnectionFailureStatus
from ..cip.status import GeneralStatus as S

if TYPE_CHECKING:
    from .controller import Controller

__all__ = ["UNREACHABLE", "Backplane", "Forward", "Module", "Relay", "RemoteTarget"]

_CM = encode_path(CONNECTION_MANAGER_PATH)

UNREACHABLE = ConnectionFailureStatus.UNCONNECTED_REQUEST_TIMED_OUT
"""What a client is told when a forwarded request gets no answer (under Connection Failure, 0x01)."""


@dataclass(frozen=True, slots=True)
class RemoteTarget:
    """A device outside this process, reached over EtherNet/IP at ``host``:``port``."""

    host: str
    port: int = 44818
    timeout: float = 5.0  # seconds the transport waits for the target before answering UNREACHABLE

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host.strip():
            raise ValueError(f"a remote target needs a host name or address, not {self.host!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 0x10000:
            raise ValueError(f"remote target {self.host}: port {self.port!r} is not 1-65535")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) \
                or not math.isfinite(self.timeout) or self.timeout <= 0:
            raise ValueError(f"remote target {self.host}: timeout {self.timeout!r} is not a positive number of seconds")

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


Module = Union["Controller", RemoteTarget]


@dataclass(eq=False)
class Relay:
    """A client's connection through this router to a :class:`RemoteTarget`.

    The router answers the client's Forward Open with connection ids of its own and opens a
    connection of its own at the target (same size, along the ``route`` left after the first
    hop); each request the client sends on its connection goes out on the router's, and the reply
    comes back.  The transport's forwarder keeps the router's connection, one per relay (compared
    by identity); ``closed`` is set when the client's connection ends, so it can be let go.
    """

    target: RemoteTarget
    route: Path  # the port hops after the first, leading to the target's Message Router
    size: int  # the client's connection size, asked of the target too
    large: bool
    rpi_us: int = 2_000_000
    timeout_multiplier: int = 5
    closed: bool = False

    def handle(self, message: bytes, limit: int = 0, origin: int = 0, source: Any = None) -> Forward:
        """A request on the client's connection: relayed as it is (what a module's ``handle`` does)."""
        return Forward(self.target, message, 0, message[0] if message else 0, relay=self)

    def release(self) -> None:
        """The client's connection has ended (closed, timed out, or its session gone)."""
        self.closed = True


@dataclass(frozen=True, slots=True)
class Forward:
    """An effect: send ``message`` to ``target``; answer the client with the target's reply.

    ``message`` is what the target must see: the embedded request itself when the route ends at
    the target, else an Unconnected Send carrying it along the rest of the route.  The reply to
    an Unconnected Send is the embedded request's reply, so the target's reply goes back to the
    client unchanged; :meth:`failed` builds the answer when the target cannot be reached.
    """

    target: RemoteTarget
    message: bytes
    route_words: int  # the original route path's size in words, which a Connection Failure reports
    service: int = ConnectionManagerService.UNCONNECTED_SEND
    relay: Relay | None = None  # carried on the router's connection at the target (see Relay)
    opening: bytes | None = None  # a Forward Open through a relay: the client's reply once it is open
    closing: bytes | None = None  # a Forward Close of a relay: the client's reply once it is let go
    failure: bytes | None = None  # the client's reply if this cannot be done (default: see failed)
    abandon: Callable[[], None] | None = None  # undo what was done here if it cannot be done there

    def failed(self, ext: int = UNREACHABLE) -> bytes:
        """The client's reply when the target failed to answer: Connection Failure with ``ext``
        (or the reply prepared for the purpose), after undoing what was done here for it."""
        if self.abandon is not None:
            self.abandon()
        if self.failure is not None:
            return self.failure
        if self.relay is not None:  # a request on a relayed connection: its own service failed
            return encode_reply(self.service, S.CONNECTION_FAILURE, (ext,))
        return encode_reply(self.service, S.CONNECTION_FAILURE, (ext,), bytes((self.route_words,)))

    @classmethod
    def along(cls, target: RemoteTarget, message: bytes, rest: Path, route: Path,
              ticks: tuple[int, int] = (5, 157)) -> Forward:
        """Forward ``message`` to ``target``, wrapped for the ``rest`` of the route if any remains."""
        if rest:
            carried = UnconnectedSend(message, rest, *ticks).encode()
            message = encode_request(ConnectionManagerService.UNCONNECTED_SEND, _CM, carried)
        return cls(target, message, len(encode_path(route)) // 2)




@dataclass
class Backplane:
    """The modules reachable by the first hop of a route path: ``{(port, link): module}``."""

    modules: dict[tuple[int, int | str], Module] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for (port, link), module in self.modules.items():
            _check_hop(port, link, module)

    def attach(self, port: int, link: int | str, module: Module) -> Module:
        _check_hop(port, link, module)
        if (port, link) in self.modules:
            raise ValueError(f"port {port} link {link} is already in use")
        self.modules[(port, link)] = module
        return module

    def lookup(self, hop: object) -> Module | None:
        """The module at the ``hop`` (a :class:`Port` segment); None for anything else."""
        return self.modules.get((hop.port, hop.link)) if isinstance(hop, Port) else None

    def has_port(self, port: int) -> bool:
        return any(p == port for p, _ in self.modules)


def _check_hop(port: object, link: object, module: object) -> None:
    """Refuse a (port, link) no route path can name, and a module nothing can answer from."""
    from .controller import Controller  # the controller imports this module

    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 0x10000:
        raise ValueError(f"backplane port {port!r} is not 1-65535 (1 is the backplane)")
    if isinstance(link, str):
        if not link:
            raise ValueError(f"port {port}: an empty link address")
    elif isinstance(link, bool) or not isinstance(link, int) or not 0 <= link <= 255:
        raise ValueError(f"port {port}: link {link!r} is not a slot 0-255 or an address")
    if not isinstance(module, (Controller, RemoteTarget)):
        raise TypeError(f"port {port} link {link}: a module is a Controller or a RemoteTarget, not {module!r}")
