"""A simulated Logix controller's CIP request processing: message bytes in, reply bytes out.

:class:`Controller` owns the objects (Identity, TCP/IP, ...) and the tags, resolves request paths
(symbolic ``Tag[3]`` or numeric ``@class/instance/attribute/element``), and answers each service
as a ControlLogix does, including its error statuses.  It knows nothing of sockets or sessions:
the encapsulation layer hands it one CIP message and the reply size the transport allows.

Path errors answer with the Logix statuses: unknown tag 0x04; unknown object 0x05; a start
element past the end 0x05; an unknown service 0x08.  The tag services themselves live in
:mod:`cpppo.device.tagio`; the Logix objects in :mod:`~cpppo.device.symbols` and
:mod:`~cpppo.device.clock`.
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..cip.connection_manager import (
    ConnectionFailure,
    ForwardCloseReply,
    ForwardOpen,
    ForwardOpenReply,
    decode_forward_close,
    decode_forward_open,
    decode_unconnected_send,
)
from ..cip.epath import (
    CONNECTION_MANAGER_PATH,
    MESSAGE_ROUTER_PATH,
    Logical,
    Path,
    Port,
    Symbolic,
    encode_path,
    path_to_json,
)
from ..cip.message import Request, decode_multiple, decode_request, encode_multiple, encode_reply
from ..cip.services import ClassCode, CommonService, ConnectionManagerService, LogixService
from ..cip.status import ConnectionFailureStatus
from ..cip.status import GeneralStatus as S
from ..cip.tag_services import (
    AttributeValue,
    decode_attribute_list_request,
    encode_attribute_list_reply,
)
from ..errors import DecodeError, EncodeError
from .backplane import UNREACHABLE, Backplane, Forward, Relay, RemoteTarget
from .clock import WallClock
from .connections import ConnectionRefused, ConnectionTable
from .datatypes import Structure, TypeRegistry
from .events import _ORIGIN, Source, TagEvents, served, serving
from .failure import Failure
from .objects import CIPClass, CIPInstance, IdentityInfo, TcpipInfo, standard_objects
from .symbols import Symbol, instance_attribute_list, template_request
from .tagio import READS, WRITES, Answer, IOEvent, Part, Refresh, TagServices
from .tags import Attribute

log = logging.getLogger(__name__)

__all__ = ["ANY_ROUTE", "UNCONNECTED_LIMIT", "Controller", "Forward", "IOEvent", "Tag"]

UNCONNECTED_LIMIT = 504
"""The largest CIP reply (bytes) to an unconnected request, as a Logix controller allows."""

ANY_ROUTE: Any = object()
"""Route path setting that accepts any Unconnected Send route path (the default)."""

_CM_PATH = CONNECTION_MANAGER_PATH
_MR_PATH = MESSAGE_ROUTER_PATH
_CONNECTION_SERVICES = frozenset((ConnectionManagerService.FORWARD_OPEN, ConnectionManagerService.LARGE_FORWARD_OPEN,
                                  ConnectionManagerService.FORWARD_CLOSE))


@dataclass(frozen=True, slots=True)
class Tag:
    """A named attribute, and the @class/instance/attribute address it is also reachable at."""

    name: str
    attribute: Attribute
    address: tuple[int, int, int]
    dims: tuple[int, ...] = ()
    symbol: Symbol | None = None
    addressed: bool = False  # the address was given (NAME@cls/ins/att=TYPE), not assigned


def _failure_status(exc: Exception) -> tuple[int, tuple[int, ...]]:
    """The general and extended status a request that raised ``exc`` is answered with."""
    if isinstance(exc, Failure):
        return exc.status, exc.ext
    if isinstance(exc, DecodeError):
        return exc.status or S.INVALID_PARAMETER, ()
    if isinstance(exc, EncodeError):
        return S.SERVICE_NOT_SUPPORTED, ()
    return S.GENERAL_ERROR, ()


class Controller(TagServices):
    """The CIP side of a simulated controller: objects, tags, and request processing."""

    def __init__(self, identity: IdentityInfo | None = None, tcpip: TcpipInfo | None = None, *,
                 route_path: Any = ANY_ROUTE, simple: bool = False, name: str = "Simulator",
                 backplane: Backplane | None = None) -> None:
        self.identity = identity or IdentityInfo()
        self.tcpip = tcpip or TcpipInfo()
        self.name = name  # the controller (program) name clients read from class 0x64
        self.objects: dict[int, CIPClass] = standard_objects(self.identity, self.tcpip)
        self.types = TypeRegistry()
        self.tags: dict[str, Tag] = {}
        # The reply cache: request bytes -> (reply limit, refresh).  A refresh answers a repeated
        # read from the attribute's bytes as they are now (None if it no longer applies),
        # skipping all decoding; the attribute's commits tell it when to re-read them.  Routed
        # requests are cached too, so setting the route path or the backplane empties it.
        self._replies: dict[bytes, tuple[int, Refresh]] = {}
        self._route_path: Any = route_path
        self._backplane: Backplane | None = backplane  # where Unconnected Send and Forward Open route paths lead
        self.simple = simple
        # A route path whose first hop is not on the backplane: answered here (cpppo 5's router
        # with no Route Path configured), or refused as a ControlLogix refuses an empty slot.
        self.route_unknown_here = False
        self.events = TagEvents()  # the write funnel's listeners: every tag change and read
        self.connections = ConnectionTable()
        self.clock = WallClock()
        self._by_address: dict[tuple[int, int, int], Tag] = {}
        self._by_symbol: dict[int, Tag] = {}
        self._scopes: dict[str | None, list[Symbol]] = {None: []}
        self._next_symbol = 1

    # -- configuration ----------------------------------------------------------------------------
    def add_tag(self, name: str, attribute: Attribute, address: tuple[int, int, int] | None = None,
                dims: tuple[int, ...] | None = None) -> Tag:
        """Make ``attribute`` reachable as tag ``name`` (case-insensitive) and at ``address``.

        Without an address the tag takes the next attribute of the Message Router's instance 1
        (the first tag is ``@0x02/1/1``, the second ``@0x02/1/2``, ...).  ``Program:NAME.Tag``
        makes a program-scoped tag.  ``dims`` are the array dimensions (default: one dimension
        for an array, none for a scalar).
        """
        key = name.lower()
        if key in self.tags:
            raise EncodeError(f"tag {name!r} is already defined")
        self._replies.clear()
        program, short = None, name
        if key.startswith("program:"):
            program, dot, short = name[len("program:"):].partition(".")
            if not dot or not program or not short:
                raise EncodeError(f"program-scoped tag {name!r} is not Program:NAME.Tag")
        if dims is None:
            dims = (len(attribute),) if len(attribute) > 1 else ()
        if len(dims) > 3 or (dims and math.prod(dims) != len(attribute)):
            raise EncodeError(f"tag {name!r}: dimensions {dims} do not make {len(attribute)} elements")
        addressed = address is not None
        if address is None:
            router = self.objects[0x02].instances[1]
            address = (0x02, 1, max(router.attributes, default=0) + 1)
        cls_id, ins_id, att_id = address
        cls = self.objects.get(cls_id)
        if cls is None:
            cls = self.objects[cls_id] = CIPClass(cls_id, f"Class 0x{cls_id:02X}")
        inst = cls.instances.get(ins_id) or cls.add(CIPInstance(cls_id, ins_id))
        if att_id in inst.attributes:
            raise EncodeError(f"tag {name!r}: @{cls_id}/{ins_id}/{att_id} is already in use")
        inst.attributes[att_id] = attribute
        inst.settable.add(att_id)
        if program is not None and program.lower() not in {p.lower() for p in self._scopes if p}:
            self._scopes[program] = []
            self._scopes[None].append(Symbol(f"Program:{program}", self._take_symbol_id(), None))
        scope = next((p for p in self._scopes if p is not None and program is not None
                      and p.lower() == program.lower()), None)
        symbol = Symbol(short, self._take_symbol_id(), attribute, dims, scope)
        self._scopes[scope].append(symbol)
        tag = Tag(name, attribute, address, dims, symbol, addressed)
        attribute._events, attribute.tag_name = self.events, name  # its changes go through our funnel
        self.tags[key] = tag
        self._by_address[address] = tag
        self._by_symbol[symbol.instance] = tag
        return tag

    @property
    def route_path(self) -> Any:
        """The route path Unconnected Sends must carry (ANY_ROUTE: any; None: none at all)."""
        return self._route_path

    @route_path.setter
    def route_path(self, route_path: Any) -> None:
        self._route_path = route_path
        self._replies.clear()  # replies cached under the old setting may now be refusals

    @property
    def backplane(self) -> Backplane | None:
        """The modules reachable by route paths from here (None: a controller on its own)."""
        return self._backplane

    @backplane.setter
    def backplane(self, backplane: Backplane | None) -> None:
        self._backplane = backplane
        self._replies.clear()  # routed replies cached from the old modules

    @property
    def observers(self) -> list[Callable[[IOEvent], None]]:
        """Callables that see every tag event at once (see :class:`~cpppo.device.events.TagEvents`)."""
        return self.events.observers

    @observers.setter
    def observers(self, observers: Iterable[Callable[[IOEvent], None]]) -> None:  # (``observers += [...]``)
        self.events.observers = observers

    def _take_symbol_id(self) -> int:
        n = self._next_symbol
        self._next_symbol += 1
        return n

    def tag(self, name: str) -> Tag:
        return self.tags[name.lower()]

    # -- request processing -----------------------------------------------------------------------
    def handle(self, message: bytes, limit: int = UNCONNECTED_LIMIT, origin: int = 0,
               source: Source | None = None) -> bytes | Forward:
        """Answer one CIP request message: its reply, or a :class:`Forward` for the transport to do.

        ``limit`` is the largest reply the transport can carry; ``origin`` the session handle the
        request came in on (0: none, as over UDP), which owns any connection it opens; ``source``
        the client, which the tag events of this request carry.  Never raises on bad input.
        """
        if source is None or not self.events.writes or _ORIGIN.get()[0] is source:
            # A connection serving a batch of frames says who (and since when) once for all of them
            # (serving), so usually there is nothing to set here: that costs more than the read.
            answer = self._answer(message, limit, origin)
        else:  # someone listens: the events say who did it
            token = serving(source)
            try:
                answer = self._answer(message, limit, origin)
            finally:
                served(token)
        return answer if type(answer) is Forward else answer[0]  # type: ignore[index]

    def process(self, message: bytes, limit: int = UNCONNECTED_LIMIT, origin: int = 0,
                source: Source | None = None) -> bytes:
        """:meth:`handle` for callers that cannot forward: a request for a remote target fails."""
        answer = self.handle(message, limit, origin, source)
        return answer.failed() if type(answer) is Forward else answer  # type: ignore[return-value]

    def _answer(self, message: bytes, limit: int, origin: int, depth: int = 0) -> Answer | Forward:
        """The reply to ``message`` and how to refresh it, from and into the reply cache.

        ``depth`` counts the Unconnected Sends ``message`` arrived in (see :data:`MAX_NESTING`).
        """
        if depth:  # inside an Unconnected Send: the outermost message is the one cached
            return self._decode(message, limit, origin, depth)
        cached = self._replies.get(message)
        if cached is not None and cached[0] == limit:
            reply = cached[1]()
            if reply is not None:
                return reply, cached[1]
        answer = self._decode(message, limit, origin)
        if type(answer) is tuple and answer[1] is not None:
            if len(self._replies) >= _MAX_CACHED:
                self._replies.clear()
            self._replies[message] = (limit, answer[1])
        return answer

    def _decode(self, message: bytes, limit: int, origin: int, depth: int = 0) -> Answer | Forward:
        try:
            req = decode_request(message)
        except DecodeError as exc:
            service = message[0] & 0x7F if message else 0
            return encode_reply(service, exc.status or S.PATH_SEGMENT_ERROR), None
        try:
            return self._dispatch(req, limit, origin, depth)
        except Exception as exc:  # the client gets an error status, the server goes on
            if not isinstance(exc, (Failure, DecodeError, EncodeError)):  # a custom attribute failed
                log.warning("request 0x%02X to %s failed", req.service, path_to_json(req.path), exc_info=True)
            return encode_reply(req.service, *_failure_status(exc)), None

    def _dispatch(self, req: Request, limit: int, origin: int, depth: int = 0) -> Answer | Forward:
        service, path = req.service, req.path
        if path == _CM_PATH:
            if service == ConnectionManagerService.UNCONNECTED_SEND:
                if self.simple:
                    raise Failure(S.SERVICE_NOT_SUPPORTED)
                return self._unconnected_send(req, limit, origin, depth)
            if service in _CONNECTION_SERVICES:
                answer = self._connection(req, origin)
                return answer if type(answer) is Forward else (answer, None)  # type: ignore[return-value]
        if path == _MR_PATH and service == CommonService.MULTIPLE_SERVICE_PACKET:
            return self._multiple(req, limit, origin, depth)
        special = self._logix_object(req, limit)
        if special is not None:
            return special, None
        target = self._resolve(path)
        if isinstance(target, CIPInstance):
            if service == CommonService.GET_ATTRIBUTES_ALL:
                return self._reply_fit(service, target.attributes_all(), limit), None
            if service == CommonService.GET_ATTRIBUTE_LIST:
                return self._get_attribute_list(target, req, limit), None
            raise Failure(S.SERVICE_NOT_SUPPORTED)
        try:
            return self._tag_service(req, target, limit)
        except Exception as exc:  # a failed tag access is an event too (a recorder keeps it)
            if self.events.writes:
                self._tag_failed(req, target, _failure_status(exc)[0])
            raise

    def _tag_failed(self, req: Request, target: tuple[Attribute, int, str, bool, Part | None], status: int) -> None:
        """Tell the listeners a request for a tag failed with ``status`` (and what it asked for)."""
        attribute, start, name, _, sub = target
        service, data = req.service, req.data
        count, at = 1, None
        if service in READS:
            access, at = "read", 0  # element count first
        elif service in WRITES:  # type (a structure's with its handle), then the count
            access, at = "write", 4 if data[:2] == b"\xa0\x02" else 2
        else:
            access = f"service 0x{service:02X}"
        if at is not None and len(data) >= at + 2:
            count = max(1, int.from_bytes(data[at : at + 2], "little"))
        self.events.error(name, start, count, sub.type if sub is not None else attribute.parser, status=status,
                          access=access)

    def _tag_service(self, req: Request, target: tuple[Attribute, int, str, bool, Part | None], limit: int) -> Answer:
        """A tag service on the attribute (or member) ``target`` resolved to."""
        attribute, start, name, settable, sub = target
        service = req.service
        if attribute.error:
            raise Failure(attribute.error)
        if sub is not None:
            return self._member_service(req, attribute, sub, name, limit), None
        if service in READS:
            return self._read_tag(req, attribute, start, name, limit)
        if service in WRITES:
            if not settable:
                raise Failure(S.ATTRIBUTE_NOT_SETTABLE)
            return self._write_tag(req, attribute, start, name), None
        if service == LogixService.READ_MODIFY_WRITE:
            if not settable:
                raise Failure(S.ATTRIBUTE_NOT_SETTABLE)
            size = attribute.parser.size
            return self._modify(req, attribute, Part(start * size, attribute.parser, len(attribute) - start), name,
                                start), None
        if service == CommonService.GET_ATTRIBUTE_SINGLE:
            return self._reply_fit(service, attribute.read_bytes(0, len(attribute)), limit), None
        if service == CommonService.SET_ATTRIBUTE_SINGLE:
            if not settable:
                raise Failure(S.ATTRIBUTE_NOT_SETTABLE)
            return self._set_attribute(req, attribute, name), None
        raise Failure(S.SERVICE_NOT_SUPPORTED)

    # -- path resolution --------------------------------------------------------------------------
    def _resolve(self, path: Path) -> CIPInstance | tuple[Attribute, int, str, bool, Part | None]:
        """The instance, or (attribute, start element, tag name, settable, member) a path names."""
        if not path:
            raise Failure(S.PATH_DESTINATION_UNKNOWN)
        first = path[0]
        if isinstance(first, Symbolic):
            rest = path[1:]
            key = first.name.lower()
            if key.startswith("program:") and rest and isinstance(rest[0], Symbolic):
                key = f"{key}.{rest[0].name.lower()}"
                rest = rest[1:]
            tag = self.tags.get(key)
            if tag is None:
                raise Failure(S.PATH_SEGMENT_ERROR, (0,))
            return self._walk(tag, rest)
        kinds = [s.kind if isinstance(s, Logical) else None for s in path]
        if kinds[:1] != ["class"] or (len(kinds) > 1 and kinds[1] != "instance"):
            raise Failure(S.PATH_SEGMENT_ERROR)
        if path[0].value == ClassCode.SYMBOL and len(path) > 1:  # symbol instance addressing
            tag = self._by_symbol.get(path[1].value)  # type: ignore[union-attr]
            if tag is None:
                raise Failure(S.PATH_DESTINATION_UNKNOWN)
            return self._walk(tag, path[2:])
        cls = self.objects.get(path[0].value)  # type: ignore[union-attr]
        if cls is None or len(path) == 1:
            raise Failure(S.PATH_DESTINATION_UNKNOWN)
        inst = cls.instance(path[1].value)  # type: ignore[union-attr]
        if inst is None:
            raise Failure(S.PATH_DESTINATION_UNKNOWN)
        if len(path) == 2:
            return inst
        if kinds[2] != "attribute" or len(path) > 4 or (len(path) == 4 and kinds[3] != "element"):
            raise Failure(S.PATH_SEGMENT_ERROR)
        att_id = path[2].value  # type: ignore[union-attr]
        attribute = inst.attributes.get(att_id)
        if attribute is None:
            raise Failure(S.ATTRIBUTE_NOT_SUPPORTED)
        start = path[3].value if len(path) == 4 else 0  # type: ignore[union-attr]
        if start >= len(attribute):
            raise Failure(S.PATH_DESTINATION_UNKNOWN)
        tag = self._by_address.get((cls.class_id, inst.instance_id, att_id))
        name = tag.name if tag else f"@0x{cls.class_id:02X}/{inst.instance_id}/{att_id}"
        return attribute, start, name, att_id in inst.settable, None

    def _walk(self, tag: Tag, rest: Path) -> tuple[Attribute, int, str, bool, Part | None]:
        """Follow element indexes and member names below a tag."""
        attribute = tag.attribute
        index, rest = _elements(rest)
        start = 0
        if index:
            dims = tag.dims or (len(attribute),)
            if len(index) > len(dims):
                raise Failure(S.PATH_SEGMENT_ERROR, (0,))
            for i, (n, d) in enumerate(zip(index, dims)):
                if n >= d:
                    raise Failure(S.PATH_DESTINATION_UNKNOWN)
                start += n * math.prod(dims[i + 1 : len(index)]) * math.prod(dims[len(index):])
        if start >= len(attribute):
            raise Failure(S.PATH_DESTINATION_UNKNOWN)
        if not rest:
            return attribute, start, tag.name, True, None
        kind = attribute.parser
        offset = start * kind.size
        count = 1
        bit = None
        name = tag.name
        while rest:
            seg = rest[0]
            if not isinstance(seg, Symbolic) or not isinstance(kind, Structure) or bit is not None:
                raise Failure(S.PATH_SEGMENT_ERROR, (0,))
            member = kind.by_name.get(seg.name.lower())
            if member is None:
                raise Failure(S.PATH_SEGMENT_ERROR, (0,))
            name += "." + member.name
            offset += member.offset
            kind, count, bit = member.type, max(member.count, 1), member.bit
            index, rest = _elements(rest[1:])
            if index:
                if len(index) > 1 or not member.count:
                    raise Failure(S.PATH_SEGMENT_ERROR, (0,))
                if index[0] >= member.count:
                    raise Failure(S.PATH_DESTINATION_UNKNOWN)
                offset += index[0] * kind.size
                count -= index[0]
        return attribute, start, name, True, Part(offset, kind, count, bit)

    @staticmethod
    def _reply_fit(service: int, data: bytes, limit: int) -> bytes:
        if 4 + len(data) > limit:
            raise Failure(S.REPLY_DATA_TOO_LARGE)
        return encode_reply(service, 0, (), data)

    # -- tag services -------------------------------------------------------------------------------
    def _get_attribute_list(self, inst: CIPInstance, req: Request, limit: int) -> bytes:
        ids = decode_attribute_list_request(req.data)
        entries = []
        failed = False
        for att_id in ids:
            a = inst.attributes.get(att_id)
            if a is None:
                entries.append(AttributeValue(att_id, S.ATTRIBUTE_NOT_SUPPORTED))
                failed = True
            else:
                entries.append(AttributeValue(att_id, 0, a.read_bytes(0, len(a))))
        data = encode_attribute_list_reply(entries)
        if 4 + len(data) > limit:
            raise Failure(S.REPLY_DATA_TOO_LARGE)
        return encode_reply(req.service, S.ATTRIBUTE_LIST_ERROR if failed else 0, (), data)

    # -- the Logix objects: symbols, templates, program name, wall clock ------------------------------
    def _logix_object(self, req: Request, limit: int) -> bytes | None:
        """Answer requests to the Logix-specific objects; None for everything else."""
        path, service = req.path, req.service
        program = None
        if len(path) >= 3 and isinstance(path[0], Symbolic) and path[0].name.lower().startswith("program:"):
            program, path = path[0].name[len("program:"):], path[1:]
        if len(path) < 2 or not (isinstance(path[0], Logical) and path[0].kind == "class"
                                 and isinstance(path[1], Logical) and path[1].kind == "instance"):
            return None
        cls_id, ins_id = path[0].value, path[1].value
        if program is not None or (cls_id == ClassCode.SYMBOL and service == LogixService.GET_INSTANCE_ATTRIBUTE_LIST):
            if cls_id != ClassCode.SYMBOL or service != LogixService.GET_INSTANCE_ATTRIBUTE_LIST or len(path) != 2:
                raise Failure(S.PATH_SEGMENT_ERROR)
            scope = None
            if program is not None:
                scope = next((p for p in self._scopes if p is not None and p.lower() == program.lower()), "")
                if scope == "":
                    raise Failure(S.PATH_SEGMENT_ERROR, (0,))
            ids = decode_attribute_list_request(req.data)
            status, data = instance_attribute_list(self._scopes[scope], ins_id, ids, limit)
            return encode_reply(service, status, (), data)
        if cls_id == ClassCode.TEMPLATE and len(path) == 2:
            template = self.types.structures.get(ins_id)
            if template is None:
                raise Failure(S.PATH_DESTINATION_UNKNOWN)
            return template_request(template, req, limit)
        if cls_id == ClassCode.PROGRAM_NAME and ins_id == 1 and len(path) == 2:
            if service != CommonService.GET_ATTRIBUTES_ALL:
                raise Failure(S.SERVICE_NOT_SUPPORTED)
            raw = self.name.encode("iso-8859-1")
            return encode_reply(service, 0, (), struct.pack("<H", len(raw)) + raw)
        if cls_id == ClassCode.WALL_CLOCK_TIME and ins_id == 1 and len(path) == 2:
            return self.clock.request(req)
        return None

    # -- connections, routing and bundling --------------------------------------------------------
    def _connection(self, req: Request, origin: int) -> bytes | Forward:
        """Forward Open, Large Forward Open and Forward Close (to this controller, a module, or
        through a relay to a remote device: then a :class:`Forward` for the transport to do)."""
        if not origin:
            raise Failure(S.SERVICE_NOT_SUPPORTED)
        service = req.service
        if service == ConnectionManagerService.FORWARD_CLOSE:
            fc = decode_forward_close(req.data)
            try:
                conn = self.connections.close(fc)
            except ConnectionRefused as exc:
                return encode_reply(service, S.CONNECTION_FAILURE, (exc.ext,),
                                    ConnectionFailure(*fc.triad, 0).encode())
            closed = encode_reply(service, 0, (), ForwardCloseReply(*fc.triad).encode())
            if isinstance(conn.target, Relay):  # let the router's own connection there go too
                return Forward(conn.target.target, b"", 0, service, relay=conn.target, closing=closed)
            return closed
        fo = decode_forward_open(req.data, large=service == ConnectionManagerService.LARGE_FORWARD_OPEN)
        try:
            target = self._connection_target(fo)
            conn = self.connections.open(fo, origin, target)
        except ConnectionRefused as exc:
            return encode_reply(service, S.CONNECTION_FAILURE, (exc.ext,), ConnectionFailure(*fo.triad, 0).encode())
        opened = encode_reply(service, 0, (), ForwardOpenReply(
            conn.o_t_id, conn.t_o_id, fo.connection_serial, fo.vendor_id, fo.originator_serial,
            fo.o_t_rpi, fo.t_o_rpi).encode())
        if isinstance(target, Relay):  # answered once the router's connection at the target is open
            refused = encode_reply(service, S.CONNECTION_FAILURE, (UNREACHABLE,),
                                   ConnectionFailure(*fo.triad, 0).encode())
            return Forward(target.target, b"", 0, service, relay=target, opening=opened, failure=refused,
                           abandon=lambda: self.connections.drop(conn))
        return opened

    def _connection_target(self, fo: ForwardOpen) -> Controller | Relay | None:
        """What a Forward Open's connection path leads to: a module, a relay to a remote device, or
        None (this controller).

        Without a backplane the route part of the path is not checked, as before; with one, each
        port segment is a hop, and the connection is served by the module at the end of them.
        """
        path = fo.connection_path
        module: Controller = self
        while module.backplane is not None and path and isinstance(path[0], Port):
            found = module.backplane.lookup(path[0])
            if found is None and module.route_unknown_here:
                break
            if found is None:
                raise ConnectionRefused(_PORT_UNKNOWN if not module.backplane.has_port(path[0].port) else _LINK_UNKNOWN)
            if isinstance(found, RemoteTarget):
                rest = path[1:]
                hops = tuple(seg for seg in rest if isinstance(seg, Port))
                if rest[:len(hops)] != hops or tuple(rest[len(hops):]) != _MR_PATH:
                    raise ConnectionRefused(_LINK_UNKNOWN)  # only connections to a Message Router are relayed
                return Relay(found, hops, fo.o_t_params.size, fo.large, fo.o_t_rpi, fo.timeout_multiplier)
            module, path = found, path[1:]
        return None if module is self else module

    def _route_ok(self, route: Path | None) -> tuple[int, ...] | None:
        """None if ``route`` is acceptable, else the extended status to refuse it with."""
        route_path = self._route_path
        if route_path is ANY_ROUTE:
            return None
        if not route:
            return None if not route_path else (_LINK_UNKNOWN,)
        if route_path is None:
            return (_PORT_UNKNOWN,)
        if tuple(route) == tuple(route_path):
            return None
        first = route[0]
        want = route_path[0]
        if isinstance(first, Port) and isinstance(want, Port) and first.port != want.port:
            return (_PORT_UNKNOWN,)
        return (_LINK_UNKNOWN,)

    def _unconnected_send(self, req: Request, limit: int, origin: int, depth: int = 0) -> Answer | Forward:
        if depth >= MAX_NESTING:  # Unconnected Sends in Unconnected Sends: refused before the stack runs out
            raise Failure(S.RESOURCE_UNAVAILABLE)
        us = decode_unconnected_send(req.data)
        route = us.route_path or ()
        backplane = self._backplane
        if backplane is not None and route and not (
                self.route_unknown_here and backplane.lookup(route[0]) is None):
            return self._route(backplane, us.message, route, ticks=(us.priority_time_tick, us.timeout_ticks),
                               limit=limit, origin=origin, depth=depth + 1)
        refused = self._route_ok(us.route_path)
        if refused is not None:
            return _route_refused(route, refused), None
        return self._answer(us.message, limit, origin, depth + 1)

    @staticmethod
    def _route(backplane: Backplane, message: bytes, route: Path, *, ticks: tuple[int, int], limit: int,
               origin: int, depth: int) -> Answer | Forward:
        """Carry ``message`` along ``route``, hop by hop from ``backplane`` (a loop: routes may be long)."""
        rest = route
        while True:
            hop = rest[0]
            module = backplane.lookup(hop) if isinstance(hop, Port) else None
            if module is None:
                port_known = isinstance(hop, Port) and backplane.has_port(hop.port)
                return _route_refused(route, (_LINK_UNKNOWN if port_known else _PORT_UNKNOWN,)), None
            rest = rest[1:]
            if isinstance(module, RemoteTarget):
                return Forward.along(module, message, rest, route, ticks)
            if not rest:
                return module._answer(message, limit, origin, depth)
            if module._backplane is None:  # a module with no ports of its own: the route cannot go on
                return _route_refused(route, (_PORT_UNKNOWN,)), None
            backplane = module._backplane

    def _multiple(self, req: Request, limit: int, origin: int, depth: int = 0) -> Answer:
        spans = decode_multiple(req.data)
        room = limit - 4 - 2 - 2 * len(spans)
        replies = []
        failed = False
        data = req.data
        refreshes: list[Refresh | None] = []
        for start, stop in spans:
            refresh = None
            if room < 4:
                rpy = encode_reply(data[start] & 0x7F if stop > start else 0, S.REPLY_DATA_TOO_LARGE)
            else:
                answer = self._answer(data[start:stop], room, origin, depth)
                if type(answer) is Forward:  # not carried out inside a bundle
                    rpy = answer.failed()
                else:
                    rpy, refresh = answer  # type: ignore[misc]
            refreshes.append(refresh)
            room -= len(rpy)
            if rpy[2] not in (0, S.PARTIAL_TRANSFER):
                failed = True
            replies.append(rpy)
        body = encode_multiple(replies)
        status = S.EMBEDDED_SERVICE_ERROR if failed else 0
        # A bundle of reads, each with a refresh, is itself refreshed by re-running those.
        bundle = None
        if refreshes and all(refreshes):
            table = 2 + 2 * len(replies)
            bundle = _bundle_refresh(encode_reply(req.service, status, (), body[:table]), refreshes)  # type: ignore[arg-type]
        return encode_reply(req.service, status, (), body), bundle


_MAX_CACHED = 4096
MAX_NESTING = 8
"""Unconnected Sends nested deeper than this (counting each hop into a module) answer 0x02."""
_PORT_UNKNOWN = ConnectionFailureStatus.PORT_NOT_AVAILABLE  # a route path names a port not here
_LINK_UNKNOWN = ConnectionFailureStatus.LINK_ADDRESS_NOT_VALID  # ... or a link (slot, address) not there


def _route_refused(route: Path, ext: tuple[int, ...]) -> bytes:
    words = len(encode_path(route)) // 2
    return encode_reply(ConnectionManagerService.UNCONNECTED_SEND, S.CONNECTION_FAILURE, ext, bytes((words,)))


def _bundle_refresh(head: bytes, parts: list[Refresh]) -> Refresh:
    """Answer a repeated Multiple Service Packet of reads: the same head and offsets, fresh values."""

    def refresh() -> bytes | None:
        out = [head]
        for part in parts:
            reply = part()
            if reply is None:
                return None
            out.append(reply)
        return b"".join(out)

    return refresh


def _elements(path: Path) -> tuple[list[int], Path]:
    """The leading element indexes of ``path``, and the rest of it."""
    index = []
    for i, seg in enumerate(path):
        if isinstance(seg, Logical) and seg.kind == "element":
            index.append(seg.value)
        else:
            return index, path[i:]
    return index, ()

