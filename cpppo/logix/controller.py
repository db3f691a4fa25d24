"""A simulated Logix controller's CIP request processing: message bytes in, reply bytes out.

:class:`Controller` owns the objects (Identity, TCP/IP, ...) and the tags, resolves request paths
(symbolic ``Tag[3]`` or numeric ``@class/instance/attribute/element``), and answers each service
as a ControlLogix does, including its error statuses.  It knows nothing of sockets or sessions:
the encapsulation layer hands it one CIP message and the reply size the transport allows.

Path errors answer with the Logix statuses: unknown tag 0x04; unknown object 0x05; a start
element past the end 0x05; an unknown service 0x08.  The tag services themselves live in
:mod:`cpppo.logix.tagio`; the Logix objects in :mod:`~cpppo.logix.symbols` and
:mod:`~cpppo.logix.clock`.
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..cip.connection_manager import (
    ConnectionFailure,
    ForwardCloseReply,
    ForwardOpenReply,
    decode_forward_close,
    decode_forward_open,
    decode_unconnected_send,
)
from ..cip.epath import Logical, Path, Port, Symbolic, encode_path, path_to_json
from ..cip.logix import (
    AttributeValue,
    decode_attribute_list_request,
    encode_attribute_list_reply,
)
from ..cip.message import Request, decode_multiple, decode_request, encode_multiple, encode_reply
from ..cip.services import ClassCode, CommonService, ConnectionManagerService, LogixService
from ..cip.status import GeneralStatus as S
from ..enip.frames import CONNECTION_MANAGER
from ..errors import DecodeError, EncodeError
from .clock import WallClock
from .connections import ConnectionRefused, ConnectionTable
from .datatypes import Structure, TypeRegistry
from .failure import Failure
from .objects import CIPClass, CIPInstance, IdentityInfo, TcpipInfo, standard_objects
from .symbols import Symbol, instance_attribute_list, template_request
from .tagio import READS, WRITES, IOEvent, Part, TagServices
from .tags import Attribute

log = logging.getLogger(__name__)

__all__ = ["ANY_ROUTE", "UNCONNECTED_LIMIT", "Controller", "IOEvent", "Tag"]

UNCONNECTED_LIMIT = 504
"""The largest CIP reply (bytes) to an unconnected request, as a Logix controller allows."""

ANY_ROUTE: Any = object()
"""Route path setting that accepts any Unconnected Send route path (the default)."""

_CM_PATH = CONNECTION_MANAGER
_MR_PATH = (Logical("class", 0x02), Logical("instance", 1))
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


class Controller(TagServices):
    """The CIP side of a simulated controller: objects, tags, and request processing."""

    def __init__(self, identity: IdentityInfo | None = None, tcpip: TcpipInfo | None = None, *,
                 route_path: Any = ANY_ROUTE, simple: bool = False, name: str = "Simulator") -> None:
        self.identity = identity or IdentityInfo()
        self.tcpip = tcpip or TcpipInfo()
        self.name = name  # the controller (program) name clients read from class 0x64
        self.objects: dict[int, CIPClass] = standard_objects(self.identity, self.tcpip)
        self.types = TypeRegistry()
        self.tags: dict[str, Tag] = {}
        self.route_path = route_path
        self.simple = simple
        self.observers: list[Callable[[IOEvent], None]] = []
        # Replies to repeated reads: request bytes -> (reply limit, plan).  A plan re-reads the
        # value and returns the reply (None if it no longer applies), skipping all decoding.
        self._plans: dict[bytes, tuple[int, Callable[[], bytes | None]]] | None = {}
        self._plan: Callable[[], bytes | None] | None = None
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
        if self._plans:
            self._plans.clear()
        program, short = None, name
        if key.startswith("program:"):
            program, dot, short = name[len("program:"):].partition(".")
            if not dot or not program or not short:
                raise EncodeError(f"program-scoped tag {name!r} is not Program:NAME.Tag")
        if dims is None:
            dims = (len(attribute),) if len(attribute) > 1 else ()
        if len(dims) > 3 or (dims and math.prod(dims) != len(attribute)):
            raise EncodeError(f"tag {name!r}: dimensions {dims} do not make {len(attribute)} elements")
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
        tag = Tag(name, attribute, address, dims, symbol)
        self.tags[key] = tag
        self._by_address[address] = tag
        self._by_symbol[symbol.instance] = tag
        return tag

    def disable_plans(self) -> None:
        """Turn off the reply plans (for controllers whose requests run in several threads)."""
        self._plans = None

    def _take_symbol_id(self) -> int:
        n = self._next_symbol
        self._next_symbol += 1
        return n

    def tag(self, name: str) -> Tag:
        return self.tags[name.lower()]

    # -- request processing -----------------------------------------------------------------------
    def process(self, message: bytes, limit: int = UNCONNECTED_LIMIT, origin: int = 0) -> bytes:
        """Answer one CIP request message with its reply message, never raising on bad input.

        ``limit`` is the largest reply the transport can carry; ``origin`` the session handle the
        request came in on (0: none, as over UDP), which owns any connection it opens.
        """
        plans = self._plans
        if plans is not None:
            hit = plans.get(message)
            if hit is not None and hit[0] == limit and not self.observers:
                reply = hit[1]()
                if reply is not None:
                    self._plan = hit[1]  # a bundle around this request may make a plan of it
                    return reply
            self._plan = None
            reply = self._process(message, limit, origin)
            if self._plan is not None:
                if len(plans) >= _MAX_PLANS:
                    plans.clear()
                plans[message] = (limit, self._plan)
            return reply
        return self._process(message, limit, origin)

    def _process(self, message: bytes, limit: int, origin: int) -> bytes:
        try:
            req = decode_request(message)
        except DecodeError as exc:
            service = message[0] & 0x7F if message else 0
            return encode_reply(service, exc.status or S.PATH_SEGMENT_ERROR)
        try:
            return self._dispatch(req, limit, origin)
        except Failure as f:
            return encode_reply(req.service, f.status, f.ext)
        except DecodeError as exc:
            return encode_reply(req.service, exc.status or S.INVALID_PARAMETER)
        except EncodeError:
            return encode_reply(req.service, S.SERVICE_NOT_SUPPORTED)
        except Exception:  # a custom attribute failed: the client gets an error, the server goes on
            log.warning("request 0x%02X to %s failed", req.service, path_to_json(req.path), exc_info=True)
            return encode_reply(req.service, S.GENERAL_ERROR)

    def _dispatch(self, req: Request, limit: int, origin: int) -> bytes:
        service, path = req.service, req.path
        if path == _CM_PATH:
            if service == ConnectionManagerService.UNCONNECTED_SEND:
                if self.simple:
                    raise Failure(S.SERVICE_NOT_SUPPORTED)
                return self._unconnected_send(req, limit, origin)
            if service in _CONNECTION_SERVICES:
                return self._connection(req, origin)
        if path == _MR_PATH and service == CommonService.MULTIPLE_SERVICE_PACKET:
            return self._multiple(req, limit, origin)
        special = self._logix_object(req, limit)
        if special is not None:
            return special
        target = self._resolve(path)
        if isinstance(target, CIPInstance):
            if service == CommonService.GET_ATTRIBUTES_ALL:
                return self._reply_fit(service, target.attributes_all(), limit)
            if service == CommonService.GET_ATTRIBUTE_LIST:
                return self._get_attribute_list(target, req, limit)
            raise Failure(S.SERVICE_NOT_SUPPORTED)
        attribute, start, name, settable, sub = target
        if attribute.error:
            raise Failure(attribute.error)
        if sub is not None:
            return self._member_service(req, attribute, sub, name, limit)
        if service in READS:
            return self._read_tag(req, attribute, start, name, limit)
        if service in WRITES:
            if not settable:
                raise Failure(S.ATTRIBUTE_NOT_SETTABLE)
            return self._write_tag(req, attribute, start, name)
        if service == LogixService.READ_MODIFY_WRITE:
            if not settable:
                raise Failure(S.ATTRIBUTE_NOT_SETTABLE)
            size = attribute.parser.size
            return self._modify(req, attribute, Part(start * size, attribute.parser, len(attribute) - start), name,
                                start)
        if service == CommonService.GET_ATTRIBUTE_SINGLE:
            return self._reply_fit(service, attribute.read_bytes(0, len(attribute)), limit)
        if service == CommonService.SET_ATTRIBUTE_SINGLE:
            if not settable:
                raise Failure(S.ATTRIBUTE_NOT_SETTABLE)
            return self._set_attribute(req, attribute, name)
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
    def _connection(self, req: Request, origin: int) -> bytes:
        """Forward Open, Large Forward Open and Forward Close."""
        if not origin:
            raise Failure(S.SERVICE_NOT_SUPPORTED)
        service = req.service
        if service == ConnectionManagerService.FORWARD_CLOSE:
            fc = decode_forward_close(req.data)
            try:
                self.connections.close(fc)
            except ConnectionRefused as exc:
                return encode_reply(service, S.CONNECTION_FAILURE, (exc.ext,),
                                    ConnectionFailure(*fc.triad, 0).encode())
            return encode_reply(service, 0, (), ForwardCloseReply(*fc.triad).encode())
        fo = decode_forward_open(req.data, large=service == ConnectionManagerService.LARGE_FORWARD_OPEN)
        try:
            conn = self.connections.open(fo, origin)
        except ConnectionRefused as exc:
            return encode_reply(service, S.CONNECTION_FAILURE, (exc.ext,), ConnectionFailure(*fo.triad, 0).encode())
        return encode_reply(service, 0, (), ForwardOpenReply(
            conn.o_t_id, conn.t_o_id, fo.connection_serial, fo.vendor_id, fo.originator_serial,
            fo.o_t_rpi, fo.t_o_rpi).encode())

    def _route_ok(self, route: Path | None) -> tuple[int, ...] | None:
        """None if ``route`` is acceptable, else the extended status to refuse it with."""
        if self.route_path is ANY_ROUTE:
            return None
        if not route:
            return None if not self.route_path else (0x0312,)
        if self.route_path is None:
            return (0x0311,)
        if tuple(route) == tuple(self.route_path):
            return None
        first = route[0]
        want = self.route_path[0]
        if isinstance(first, Port) and isinstance(want, Port) and first.port != want.port:
            return (0x0311,)
        return (0x0312,)

    def _unconnected_send(self, req: Request, limit: int, origin: int) -> bytes:
        us = decode_unconnected_send(req.data)
        refused = self._route_ok(us.route_path)
        if refused is not None:
            words = len(encode_path(us.route_path or ())) // 2
            return encode_reply(req.service, S.CONNECTION_FAILURE, refused, bytes((words,)))
        return self.process(us.message, limit, origin)

    def _multiple(self, req: Request, limit: int, origin: int) -> bytes:
        spans = decode_multiple(req.data)
        room = limit - 4 - 2 - 2 * len(spans)
        replies = []
        failed = False
        data = req.data
        plans: list[Callable[[], bytes | None] | None] = []
        for start, stop in spans:
            self._plan = None
            if room < 4:
                rpy = encode_reply(data[start] & 0x7F if stop > start else 0, S.REPLY_DATA_TOO_LARGE)
            else:
                rpy = self.process(data[start:stop], room, origin)
            plans.append(self._plan)
            room -= len(rpy)
            if rpy[2] not in (0, S.PARTIAL_TRANSFER):
                failed = True
            replies.append(rpy)
        body = encode_multiple(replies)
        status = S.EMBEDDED_SERVICE_ERROR if failed else 0
        # A bundle of reads, each with a plan, is itself answered by re-running those plans.
        self._plan = None
        if plans and all(plans):
            table = 2 + 2 * len(replies)
            self._plan = _bundle_plan(encode_reply(req.service, status, (), body[:table]), plans)  # type: ignore[arg-type]
        return encode_reply(req.service, status, (), body)

_MAX_PLANS = 4096


def _bundle_plan(head: bytes, plans: list[Callable[[], bytes | None]]) -> Callable[[], bytes | None]:
    """Answer a repeated Multiple Service Packet of reads: the same head and offsets, fresh values."""

    def plan() -> bytes | None:
        parts = [head]
        for part in plans:
            reply = part()
            if reply is None:
                return None
            parts.append(reply)
        return b"".join(parts)

    return plan


def _elements(path: Path) -> tuple[list[int], Path]:
    """The leading element indexes of ``path``, and the rest of it."""
    index = []
    for i, seg in enumerate(path):
        if isinstance(seg, Logical) and seg.kind == "element":
            index.append(seg.value)
        else:
            return index, path[i:]
    return index, ()

