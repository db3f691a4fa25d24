"""A simulated Logix controller's CIP request processing: message bytes in, reply bytes out.

:class:`Controller` owns the objects (Identity, TCP/IP, ...) and the tags, resolves request paths
(symbolic ``Tag[3]`` or numeric ``@class/instance/attribute/element``), and answers each service
as a ControlLogix does, including its error statuses.  It knows nothing of sockets or sessions:
the encapsulation layer hands it one CIP message and the reply size the transport allows.

Errors answer with the Logix statuses: unknown tag 0x04; unknown object 0x05; a start element
past the end 0x05; too many elements 0xFF/0x2105; a fragment offset past the end 0xFF/0x2104;
a write of the wrong type 0xFF/0x2107; too little or too much write data 0x13/0x15; an unknown
service 0x08.
"""

from __future__ import annotations

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
from ..cip.epath import Logical, Path, Port, Symbolic, encode_path
from ..cip.logix import (
    AttributeValue,
    decode_attribute_list_request,
    decode_read_tag,
    decode_write_tag,
    encode_attribute_list_reply,
)
from ..cip.message import Request, decode_multiple, decode_request, encode_multiple, encode_reply
from ..cip.services import CommonService, ConnectionManagerService, LogixService
from ..cip.status import GeneralStatus as S
from ..cip.types import encode_type_word
from ..errors import DecodeError, EncodeError
from .connections import ConnectionRefused, ConnectionTable
from .objects import CIPClass, CIPInstance, IdentityInfo, TcpipInfo, standard_objects
from .tags import Attribute

__all__ = ["ANY_ROUTE", "UNCONNECTED_LIMIT", "Controller", "IOEvent", "Tag"]

UNCONNECTED_LIMIT = 504
"""The largest CIP reply (bytes) to an unconnected request, as a Logix controller allows."""

ANY_ROUTE: Any = object()
"""Route path setting that accepts any Unconnected Send route path (the default)."""

_CM_PATH = (Logical("class", 0x06), Logical("instance", 1))
_MR_PATH = (Logical("class", 0x02), Logical("instance", 1))
_ACCESS_BEYOND_END = (0x2105,)
_OFFSET_BEYOND_END = (0x2104,)
_TYPE_MISMATCH = (0x2107,)
_READS = frozenset((LogixService.READ_TAG, LogixService.READ_TAG_FRAGMENTED))
_CONNECTION_SERVICES = frozenset((ConnectionManagerService.FORWARD_OPEN, ConnectionManagerService.LARGE_FORWARD_OPEN,
                                  ConnectionManagerService.FORWARD_CLOSE))
_WRITES = frozenset((LogixService.WRITE_TAG, LogixService.WRITE_TAG_FRAGMENTED))


@dataclass(frozen=True, slots=True)
class Tag:
    """A named attribute, and the @class/instance/attribute address it is also reachable at."""

    name: str
    attribute: Attribute
    address: tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class IOEvent:
    """One tag read or write that succeeded: what a --print line or a test's I/O log shows."""

    kind: str  # "read" or "write"
    tag: str
    start: int
    count: int
    values: list[Any]


class _Failure(Exception):
    """Internal: a request fails with this CIP status."""

    def __init__(self, status: int, ext: tuple[int, ...] = ()) -> None:
        self.status = status
        self.ext = ext


class Controller:
    """The CIP side of a simulated controller: objects, tags, and request processing."""

    def __init__(self, identity: IdentityInfo | None = None, tcpip: TcpipInfo | None = None, *,
                 route_path: Any = ANY_ROUTE, simple: bool = False) -> None:
        self.identity = identity or IdentityInfo()
        self.tcpip = tcpip or TcpipInfo()
        self.objects: dict[int, CIPClass] = standard_objects(self.identity, self.tcpip)
        self.tags: dict[str, Tag] = {}
        self.route_path = route_path
        self.simple = simple
        self.observers: list[Callable[[IOEvent], None]] = []
        self._by_address: dict[tuple[int, int, int], Tag] = {}
        self.connections = ConnectionTable()

    # -- configuration ----------------------------------------------------------------------------
    def add_tag(self, name: str, attribute: Attribute, address: tuple[int, int, int] | None = None) -> Tag:
        """Make ``attribute`` reachable as tag ``name`` (case-insensitive) and at ``address``.

        Without an address the tag takes the next attribute of the Message Router's instance 1
        (the first tag is ``@0x02/1/1``, the second ``@0x02/1/2``, ...).
        """
        key = name.lower()
        if key in self.tags:
            raise EncodeError(f"tag {name!r} is already defined")
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
        tag = Tag(name, attribute, address)
        self.tags[key] = tag
        self._by_address[address] = tag
        return tag

    def tag(self, name: str) -> Tag:
        return self.tags[name.lower()]

    # -- request processing -----------------------------------------------------------------------
    def process(self, message: bytes, limit: int = UNCONNECTED_LIMIT, origin: int = 0) -> bytes:
        """Answer one CIP request message with its reply message, never raising on bad input.

        ``limit`` is the largest reply the transport can carry; ``origin`` the session handle the
        request came in on (0: none, as over UDP), which owns any connection it opens.
        """
        try:
            req = decode_request(message)
        except DecodeError as exc:
            service = message[0] & 0x7F if message else 0
            return encode_reply(service, exc.status or S.PATH_SEGMENT_ERROR)
        try:
            return self._dispatch(req, limit, origin)
        except _Failure as f:
            return encode_reply(req.service, f.status, f.ext)
        except DecodeError as exc:
            return encode_reply(req.service, exc.status or S.INVALID_PARAMETER)

    def _dispatch(self, req: Request, limit: int, origin: int) -> bytes:
        service, path = req.service, req.path
        if path == _CM_PATH:
            if service == ConnectionManagerService.UNCONNECTED_SEND:
                if self.simple:
                    raise _Failure(S.SERVICE_NOT_SUPPORTED)
                return self._unconnected_send(req, limit, origin)
            if service in _CONNECTION_SERVICES:
                return self._connection(req, origin)
        if path == _MR_PATH and service == CommonService.MULTIPLE_SERVICE_PACKET:
            return self._multiple(req, limit, origin)
        target = self._resolve(path)
        if isinstance(target, CIPInstance):
            if service == CommonService.GET_ATTRIBUTES_ALL:
                return self._reply_fit(service, target.attributes_all(), limit)
            if service == CommonService.GET_ATTRIBUTE_LIST:
                return self._get_attribute_list(target, req, limit)
            raise _Failure(S.SERVICE_NOT_SUPPORTED)
        attribute, start, name, settable = target
        if attribute.error:
            raise _Failure(attribute.error)
        if service in _READS:
            return self._read_tag(req, attribute, start, name, limit)
        if service in _WRITES:
            if not settable:
                raise _Failure(S.ATTRIBUTE_NOT_SETTABLE)
            return self._write_tag(req, attribute, start, name)
        if service == CommonService.GET_ATTRIBUTE_SINGLE:
            return self._reply_fit(service, attribute.read_bytes(0, len(attribute)), limit)
        if service == CommonService.SET_ATTRIBUTE_SINGLE:
            if not settable:
                raise _Failure(S.ATTRIBUTE_NOT_SETTABLE)
            return self._set_attribute(req, attribute, name)
        raise _Failure(S.SERVICE_NOT_SUPPORTED)

    def _resolve(self, path: Path) -> CIPInstance | tuple[Attribute, int, str, bool]:
        """The instance, or (attribute, start element, tag name, settable) a path names."""
        if not path:
            raise _Failure(S.PATH_DESTINATION_UNKNOWN)
        first = path[0]
        if isinstance(first, Symbolic):
            tag = self.tags.get(first.name.lower())
            if tag is None:
                raise _Failure(S.PATH_SEGMENT_ERROR, (0,))
            rest = path[1:]
            start = 0
            if rest:
                seg = rest[0]
                if len(rest) > 1 or not isinstance(seg, Logical) or seg.kind != "element":
                    raise _Failure(S.PATH_SEGMENT_ERROR, (0,))
                start = seg.value
            if start >= len(tag.attribute):
                raise _Failure(S.PATH_DESTINATION_UNKNOWN)
            return tag.attribute, start, tag.name, True
        kinds = [s.kind if isinstance(s, Logical) else None for s in path]
        if kinds[:1] != ["class"] or (len(kinds) > 1 and kinds[1] != "instance"):
            raise _Failure(S.PATH_SEGMENT_ERROR)
        cls = self.objects.get(path[0].value)  # type: ignore[union-attr]
        if cls is None:
            raise _Failure(S.PATH_DESTINATION_UNKNOWN)
        if len(path) == 1:
            raise _Failure(S.PATH_DESTINATION_UNKNOWN)
        inst = cls.instance(path[1].value)  # type: ignore[union-attr]
        if inst is None:
            raise _Failure(S.PATH_DESTINATION_UNKNOWN)
        if len(path) == 2:
            return inst
        if kinds[2] != "attribute" or len(path) > 4 or (len(path) == 4 and kinds[3] != "element"):
            raise _Failure(S.PATH_SEGMENT_ERROR)
        att_id = path[2].value  # type: ignore[union-attr]
        attribute = inst.attributes.get(att_id)
        if attribute is None:
            raise _Failure(S.ATTRIBUTE_NOT_SUPPORTED)
        start = path[3].value if len(path) == 4 else 0  # type: ignore[union-attr]
        if start >= len(attribute):
            raise _Failure(S.PATH_DESTINATION_UNKNOWN)
        tag = self._by_address.get((cls.class_id, inst.instance_id, att_id))
        name = tag.name if tag else f"@0x{cls.class_id:02X}/{inst.instance_id}/{att_id}"
        return attribute, start, name, att_id in inst.settable

    @staticmethod
    def _reply_fit(service: int, data: bytes, limit: int) -> bytes:
        if 4 + len(data) > limit:
            raise _Failure(S.REPLY_DATA_TOO_LARGE)
        return encode_reply(service, 0, (), data)

    # -- tag services -------------------------------------------------------------------------------
    def _read_tag(self, req: Request, attribute: Attribute, start: int, name: str, limit: int) -> bytes:
        fragmented = req.service == LogixService.READ_TAG_FRAGMENTED
        rt = decode_read_tag(req.data, fragmented)
        count, offset = rt.count, rt.offset or 0
        if start + count > len(attribute):
            raise _Failure(S.GENERAL_ERROR, _ACCESS_BEYOND_END)
        parser = attribute.parser
        type_word = encode_type_word(parser.code)
        room = limit - 4 - len(type_word)
        size = parser.size
        if size == 0:  # variable-length strings: all of it must fit in one reply
            if offset:
                raise _Failure(S.GENERAL_ERROR, _OFFSET_BEYOND_END)
            data = attribute.read_bytes(start, count)
            if len(data) > room:
                raise _Failure(S.REPLY_DATA_TOO_LARGE)
            status = 0
            first, n = start, count
        else:
            total = count * size
            if offset and offset >= total:
                raise _Failure(S.GENERAL_ERROR, _OFFSET_BEYOND_END)
            chunk = min(total - offset, room - room % size)
            if chunk <= 0:
                raise _Failure(S.REPLY_DATA_TOO_LARGE)
            lo = offset // size
            hi = -(-(offset + chunk) // size)
            data = attribute.read_bytes(start + lo, hi - lo)
            skip = offset - lo * size
            if skip or len(data) != chunk:
                data = data[skip : skip + chunk]
            status = S.PARTIAL_TRANSFER if offset + chunk < total else 0
            first, n = start + lo, hi - lo
        if self.observers:
            self._notify("read", name, first, n, attribute[first : first + n])
        return encode_reply(req.service, status, (), type_word + data)

    def _write_tag(self, req: Request, attribute: Attribute, start: int, name: str) -> bytes:
        fragmented = req.service == LogixService.WRITE_TAG_FRAGMENTED
        wt = decode_write_tag(req.data, fragmented)
        parser = attribute.parser
        if wt.type_code != parser.code or wt.handle is not None:
            raise _Failure(S.GENERAL_ERROR, _TYPE_MISMATCH)
        count = wt.count
        if start + count > len(attribute):
            raise _Failure(S.GENERAL_ERROR, _ACCESS_BEYOND_END)
        size = parser.size
        data = wt.data
        if size == 0:
            if wt.offset:
                raise _Failure(S.GENERAL_ERROR, _OFFSET_BEYOND_END)
            try:
                values = parser.decode(data, 0, count)
            except DecodeError:
                raise _Failure(S.NOT_ENOUGH_DATA) from None
            if len(parser.encode(values)) != len(data):
                raise _Failure(S.TOO_MUCH_DATA)
            attribute.write_bytes(start, count, data)
            first, n = start, count
        else:
            total = count * size
            offset = wt.offset or 0
            if offset and offset >= total:
                raise _Failure(S.GENERAL_ERROR, _OFFSET_BEYOND_END)
            want = total - offset if not fragmented else len(data)
            if fragmented and offset + len(data) > total:
                raise _Failure(S.TOO_MUCH_DATA)
            if len(data) < want:
                raise _Failure(S.NOT_ENOUGH_DATA)
            if len(data) > want:
                raise _Failure(S.TOO_MUCH_DATA)
            if offset % size or len(data) % size:
                if attribute._custom_io:
                    raise _Failure(S.INVALID_PARAMETER)
                attribute.write_raw_at(start * size + offset, data)
            else:
                attribute.write_bytes(start + offset // size, len(data) // size, data)
            first, n = start + offset // size, -(-len(data) // size)
        if self.observers:
            self._notify("write", name, first, n, attribute[first : first + n])
        return encode_reply(req.service)

    def _set_attribute(self, req: Request, attribute: Attribute, name: str) -> bytes:
        n = len(attribute)
        data = req.data
        parser = attribute.parser
        if parser.size:
            if len(data) < n * parser.size:
                raise _Failure(S.NOT_ENOUGH_DATA)
            if len(data) > n * parser.size:
                raise _Failure(S.TOO_MUCH_DATA)
        else:
            try:
                values = parser.decode(data, 0, n)
            except DecodeError:
                raise _Failure(S.NOT_ENOUGH_DATA) from None
            if len(parser.encode(values)) != len(data):
                raise _Failure(S.TOO_MUCH_DATA)
        attribute.write_bytes(0, n, data)
        if self.observers:
            self._notify("write", name, 0, n, attribute[0:n])
        return encode_reply(req.service)

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
            raise _Failure(S.REPLY_DATA_TOO_LARGE)
        return encode_reply(req.service, S.ATTRIBUTE_LIST_ERROR if failed else 0, (), data)

    # -- routing and bundling ---------------------------------------------------------------------
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

    def _connection(self, req: Request, origin: int) -> bytes:
        """Forward Open, Large Forward Open and Forward Close."""
        if not origin:
            raise _Failure(S.SERVICE_NOT_SUPPORTED)
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
        for start, stop in spans:
            if room < 4:
                rpy = encode_reply(data[start] & 0x7F if stop > start else 0, S.REPLY_DATA_TOO_LARGE)
            else:
                rpy = self.process(data[start:stop], room, origin)
            room -= len(rpy)
            if rpy[2] not in (0, S.PARTIAL_TRANSFER):
                failed = True
            replies.append(rpy)
        return encode_reply(req.service, S.EMBEDDED_SERVICE_ERROR if failed else 0, (), encode_multiple(replies))

    def _notify(self, kind: str, name: str, start: int, count: int, values: Any) -> None:
        event = IOEvent(kind, name, start, count, list(values) if isinstance(values, list) else [values])
        for observer in list(self.observers):
            observer(event)

