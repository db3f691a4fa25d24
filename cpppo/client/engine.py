"""The sans-I/O operation engine: operations in, request frames out; reply frames in, results out.

Both the blocking and the asyncio client are thin loops around :class:`OperationEngine`::

    operations -> chunks -> [Multiple Service Packet] -> Unconnected Send -> SendRRData frame
                                                               | up to ``depth`` in flight,
    results <- reassembled fragments <- replies matched by sender context <-+

Reads that answer 0x06 (partial transfer) continue with Read Tag Fragmented at the next byte
offset; once the first fragment shows the element size and the device's chunk size, the rest of
the array is requested at once (pipelined up to ``depth``).  Writes too large for one request
are split into Write Tag Fragmented chunks.  Chunks are packed into Multiple Service Packets
while the request stays within ``multiple`` bytes and the estimated reply within the 504 bytes
an unconnected reply may carry.  Results come out in operation order, each exactly once, as the
documented ``(idx, dsc, req, rpy, sts, val)`` 6-tuples.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import struct
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..cip.epath import Logical, encode_path, path_from_json
from ..cip.logix_objects import STRING_HANDLE, STRING_SIZE
from ..cip.message import Reply, decode_multiple, decode_reply, encode_multiple, encode_request
from ..cip.services import CommonService, LogixService
from ..cip.status import GeneralStatus
from ..cip.tag_services import ReadModifyWrite, ReadTag, WriteTag
from ..cip.types import STRUCTURE, CIPType, NumericType, TypeCode, decode_type_word, type_by_code
from ..dotdict import dotdict
from ..enip.cpf import ConnectedData, SendData, decode_send_data
from ..enip.encapsulation import Command, Encapsulation
from ..errors import CommunicationError, DecodeError, EncodeError
from .core import MISSING, REPLY_LIMIT, REQUEST_LIMIT, Addressing, ClientCore
from .operations import OperationError, describe
from .replies import frame_dotdict, result_line, split_send_data
from .values import as_values, decode_value, encode_logix_strings

__all__ = ["OperationEngine", "Result", "operation_messages", "request_dotdict", "validate"]

_CONTEXT = struct.Struct("<II")  # sender context: idx, engine serial
_SEQUENCE = struct.Struct("<H")
_MR_PATH = encode_path((Logical("class", 0x02), Logical("instance", 1)))
_MSP = CommonService.MULTIPLE_SERVICE_PACKET
_PARTIAL = GeneralStatus.PARTIAL_TRANSFER
_BAD_REPLY = GeneralStatus.INVALID_REPLY_RECEIVED
_MISSING = MISSING
_READ = int(LogixService.READ_TAG)
_READ_FRAG = int(LogixService.READ_TAG_FRAGMENTED)
_ADDRESSING_KEYS_ORDER = ("route_path", "send_path", "priority_time_tick", "timeout_ticks")
_ADDRESSING_KEYS = frozenset(_ADDRESSING_KEYS_ORDER)

Result = tuple[int, str, dict[str, Any], Any, Any, Any]
"""(idx, dsc, req, rpy, sts, val): the documented 6-tuple."""


def _sts(rpy: Reply) -> int | tuple[int, list[int]]:
    return (rpy.status, list(rpy.ext_status)) if rpy.ext_status else rpy.status


class _Spec:
    """What an operation dict says, checked and encoded once (thruput loops repeat the same operations)."""

    __slots__ = ("base", "bit", "bits", "dsc", "elements", "method", "path", "reads", "tag_type")

    def __init__(self, op: Mapping[str, Any]) -> None:
        path = op["path"]
        if isinstance(path, bytes):
            self.path = path
        else:
            self.path = encode_path(path if isinstance(path, tuple) else path_from_json(path))
        self.dsc = op.get("description") or describe(op)
        self.method = op.get("method", "read")
        self.elements = int(op.get("elements") or 1)
        self.base = int(op.get("offset") or 0)
        self.tag_type = op.get("tag_type")
        bit = op.get("bit")
        self.bit = None if bit is None else int(bit)
        self.bits = int(op.get("bits") or 1)
        self.reads: dict[tuple[bool, int], tuple[int, bytes, int]] = {}  # (fragment, reply limit): the read

    def read(self, fragment: bool, reply_limit: int) -> tuple[int, bytes, int]:
        """(service, request, reply size estimate) of this read's first request."""
        found = self.reads.get((fragment, reply_limit))
        if found is None:
            frag = fragment or self.base > 0
            service = _READ_FRAG if frag else _READ
            ctype = type_by_code(self.tag_type) if self.tag_type else None
            estimate = self.elements * ctype.size if ctype is not None and ctype.size else self.elements * 4
            message = _read_message(self.path, service, self.elements, self.base if frag else None)
            found = self.reads[fragment, reply_limit] = (service, message, 6 + min(estimate, reply_limit - 6))
        return found


_SPECS: dict[tuple[Any, ...], _Spec] = {}


def _spec(op: Mapping[str, Any]) -> _Spec:
    """The operation's :class:`_Spec`, cached by what it says (its path by ``repr``, or its symbol)."""
    get = op.get
    path = op["path"]
    pkey: Any = None
    if type(path) is list and len(path) == 1:  # the usual "Tag": [{"symbolic": "Tag"}], without repr
        seg = path[0]
        if type(seg) is dict and len(seg) == 1:
            name = seg.get("symbolic")
            if type(name) is str:
                pkey = ("symbolic", name)
    key = (pkey or repr(path), get("elements"), get("offset"), get("method"), get("bit"), get("bits"),
           get("tag_type"), get("description"))
    found = _SPECS.get(key)
    if found is None:
        found = _Spec(op)
        if len(_SPECS) >= 4096:
            _SPECS.clear()
        _SPECS[key] = found
    return found


_READ_MESSAGES: dict[tuple[bytes, int, int, int | None], bytes] = {}


def _read_message(path: bytes, service: int, elements: int, offset: int | None) -> bytes:
    """The encoded Read Tag [Fragmented] request, cached: thruput loops read the same tags."""
    key = (path, service, elements, offset)
    found = _READ_MESSAGES.get(key)
    if found is None:
        found = encode_request(service, path, ReadTag(elements, offset).encode())
        if len(_READ_MESSAGES) >= 4096:
            _READ_MESSAGES.clear()
        _READ_MESSAGES[key] = found
    return found


_ELEMENTARY: dict[int, CIPType | None] = {}


def _elementary(code: int) -> CIPType | None:
    """The fixed-size elementary type of a type word's code (None for structures, strings...)."""
    try:
        return _ELEMENTARY[code]
    except KeyError:
        ctype = type_by_code(code)
        found = ctype if isinstance(ctype, NumericType) and ctype.size else None
        if len(_ELEMENTARY) < 1024:
            _ELEMENTARY[code] = found
        return found


def _whole_read(elements: int, buf: bytes, at: int, end: int) -> tuple[int, list[Any]] | None:
    """(type code, values) of a successful read reply's data ``buf[at:end]`` that holds exactly
    ``elements`` values of an elementary type; None for anything else (the general path decides)."""
    if end - at < 2:
        return None
    code = buf[at] | buf[at + 1] << 8
    ctype = _elementary(code)
    if ctype is None or end - at - 2 != elements * ctype.size:
        return None
    return code, ctype.decode(buf, at + 2, elements)


class _Chunk:
    """One CIP request of an operation (the whole of it, or one fragment)."""

    __slots__ = ("message", "offset", "op", "reply_size", "service")

    def __init__(self, op: _Op, service: int, message: bytes, offset: int | None, reply_size: int) -> None:
        self.op = op
        self.service = service
        self.message = message
        self.offset = offset
        self.reply_size = reply_size


class _Op:
    """An operation in progress: its requests, the fragments received, and finally its result."""

    __slots__ = (
        "acked",
        "addressing",
        "base",
        "bit",
        "bits",
        "chunks",
        "connected",
        "done",
        "dsc",
        "elements",
        "final",
        "handle",
        "idx",
        "method",
        "op",
        "path",
        "pieces",
        "quick",
        "reply_limit",
        "request_limit",
        "requested",
        "seq",
        "size",
        "sts",
        "tag_type",
        "target",
        "txn",
        "type_code",
        "val",
    )

    def __init__(self, seq: int, op: dict[str, Any], addressing: Addressing, fragment: bool, *,
                 connected: bool = False, limits: tuple[int, int] = (REQUEST_LIMIT, REPLY_LIMIT)) -> None:
        self.seq = seq
        self.connected = connected
        self.request_limit, self.reply_limit = limits
        self.op = op
        self.addressing = addressing
        self.done = False
        self.sts: Any = None
        self.val: Any = None
        self.txn: Any = None
        self.idx = -1
        self.acked = 0
        self.pieces: dict[int, bytes] = {}
        self.final: int | None = None
        self.type_code: int | None = None
        self.handle: int | None = None
        self.size = 0
        self.target: int | None = None
        try:
            spec = _spec(op)
            self.dsc, self.path, self.method = spec.dsc, spec.path, spec.method
            self.elements, self.base, self.tag_type, self.bit, self.bits = \
                spec.elements, spec.base, spec.tag_type, spec.bit, spec.bits
            self.requested: set[int] | None = None  # a read's byte offsets asked for: {base} until fragments
            if self.method == "read":
                # from offset 0 without bits: the first reply, if whole, is decoded in one step
                self.quick = spec.bit is None and not spec.base
                service, message, size = spec.read(fragment, self.reply_limit)
                self.chunks = [_Chunk(self, service, message, self.base, size)]
            else:
                self.quick = False
                self.chunks = self._requests(fragment)
        except (EncodeError, KeyError, TypeError, ValueError) as exc:
            raise OperationError(f"operation {op!r} cannot be sent: {exc}") from None

    def _payload(self) -> bytes:
        encoded = self.op.get("encoded")  # a structure, encoded from dicts by its template
        if encoded is not None:
            return bytes(encoded)
        data = self.op.get("data", b"")
        if isinstance(data, (bytes, bytearray)):
            return bytes(data)
        values = as_values(data)
        ctype = type_by_code(self.tag_type) if self.tag_type is not None else None
        if ctype is None:
            if self.tag_type is None:  # Set Attribute Single without a type: raw USINT/SINT bytes
                return bytes(v & 0xFF for v in values)
            raise EncodeError(f"no encoder for type 0x{self.tag_type:04X}; give the data as bytes")
        return ctype.encode(values)

    def _requests(self, fragment: bool) -> list[_Chunk]:
        m = self.method
        if m == "write":
            if self.tag_type is None:
                raise EncodeError("a write needs a tag_type")
            if self.bit is not None:
                return [self._modify()]
            code, handle = self.tag_type, None
            if code == STRUCTURE:
                if self.op.get("handle") is None:
                    raise EncodeError("a structure write needs the structure's handle (the connector's templates)")
                handle = int(self.op["handle"])
                payload = self._payload()
                size = len(payload) // max(self.elements, 1)
            elif code == TypeCode.STRING:  # a Logix controller's STRING is a structure, not the CIP STRING
                code, handle = STRUCTURE, STRING_HANDLE
                payload = encode_logix_strings(self.op.get("data", ()))
                size = STRING_SIZE
            else:
                payload = self._payload()
                ctype = type_by_code(code)
                size = ctype.size if ctype is not None else 0
            room = self.request_limit - len(self.path) - 16
            if not fragment and not self.base and len(payload) <= room:
                service = LogixService.WRITE_TAG
                msg = encode_request(service, self.path, WriteTag(code, self.elements, payload, None, handle).encode())
                return [_Chunk(self, service, msg, None, 4)]
            service = LogixService.WRITE_TAG_FRAGMENTED
            step = room - room % size if 0 < size <= room else room - room % 4 if size else len(payload) or 1
            out = []
            for at in range(0, max(len(payload), 1), step):
                part = payload[at : at + step]
                msg = encode_request(service, self.path, WriteTag(code, self.elements, part, self.base + at,
                                                                  handle).encode())
                out.append(_Chunk(self, service, msg, self.base + at, 4))
            return out
        if m == "get_attribute_single":
            service = CommonService.GET_ATTRIBUTE_SINGLE
            return [_Chunk(self, service, encode_request(service, self.path), None, 64)]
        if m == "get_attributes_all":
            service = CommonService.GET_ATTRIBUTES_ALL
            return [_Chunk(self, service, encode_request(service, self.path), None, 200)]
        if m == "set_attribute_single":
            service = CommonService.SET_ATTRIBUTE_SINGLE
            return [_Chunk(self, service, encode_request(service, self.path, self._payload()), None, 4)]
        if m == "service":  # any other service: op['service'] with raw op['data']
            service = int(self.op["service"])
            return [_Chunk(self, service, encode_request(service, self.path, bytes(self.op.get("data", b""))),
                           None, self.reply_limit if self.op.get("raw") else 500)]
        raise EncodeError(f"unknown method {m!r}")

    def _modify(self) -> _Chunk:
        """A bit write: Read-Modify-Write with OR/AND masks the size of the integer holding the bits."""
        ctype = type_by_code(self.tag_type) if self.tag_type is not None else None
        if ctype is None or not ctype.size or ctype.size > 8:
            raise EncodeError(f"bits of type 0x{self.tag_type or 0:04X} cannot be written")
        values = as_values(self.op.get("data", ()))
        bit = self.bit or 0
        if not values or bit + len(values) > ctype.size * 8:
            raise EncodeError(f"bits {bit}..{bit + len(values) - 1} do not fit a {ctype.name}")
        ones = sum(1 << (bit + i) for i, v in enumerate(values) if v)
        zeros = sum(1 << (bit + i) for i, v in enumerate(values) if not v)
        full = (1 << (ctype.size * 8)) - 1
        rmw = ReadModifyWrite(ones.to_bytes(ctype.size, "little"), (full & ~zeros).to_bytes(ctype.size, "little"))
        service = LogixService.READ_MODIFY_WRITE
        return _Chunk(self, service, encode_request(service, self.path, rmw.encode()), None, 4)

    # -- replies ------------------------------------------------------------------------------
    def fail(self, sts: Any) -> None:
        if not self.done:
            self.done = True
            self.sts = sts
            self.val = None

    def on_reply(self, engine: OperationEngine, chunk: _Chunk, rpy: Reply) -> None:
        if self.done:
            return
        m = self.method
        if m == "read":
            self._on_read(engine, chunk, rpy)
        elif m == "service" and self.op.get("raw") and rpy.status in (0, _PARTIAL):
            self.done, self.sts, self.val = True, rpy.status, bytes(rpy.data)  # status 0x06: more to come
        elif rpy.status:
            self.fail(_sts(rpy))
        elif m in {"write", "set_attribute_single"}:
            self.acked += 1
            if self.acked >= len(self.chunks):
                self.done, self.sts, self.val = True, 0, True
        else:
            ctype = type_by_code(self.tag_type) if self.tag_type else None
            val: Any = list(rpy.data)
            if ctype is not None:
                with contextlib.suppress(DecodeError):
                    val = ctype.decode(rpy.data)
            self.done, self.sts, self.val = True, 0, val

    def _on_read(self, engine: OperationEngine, chunk: _Chunk, rpy: Reply) -> None:
        if rpy.status not in (0, _PARTIAL):
            self.fail(_sts(rpy))
            return
        try:
            code, handle, at = decode_type_word(rpy.data)
        except DecodeError:
            self.fail(_BAD_REPLY)
            return
        data = rpy.data[at:]
        if self.type_code is None:
            self.type_code, self.handle = code, handle
            ctype = type_by_code(code)
            self.size = ctype.size if ctype is not None else 0
            if code == STRUCTURE and handle == STRING_HANDLE:
                self.size = STRING_SIZE
            elif code == STRUCTURE and handle is not None:
                known = engine.core.logix.by_handle.get(handle)
                self.size = known.size if known is not None else 0
            self.target = self.elements * self.size if self.size else None
        off = chunk.offset or 0
        self.pieces[off] = data
        end = off + len(data)
        if rpy.status == 0:
            if self.target is not None and end < self.target:
                self.fail(_BAD_REPLY)  # the last of the data, and short of what was asked: never finishes
                return
            self.final = end if self.final is None else max(self.final, end)
        elif not data:
            self.fail(_sts(rpy))  # partial transfer that transfers nothing: never finishes
            return
        else:
            self._continue(engine, off, end, len(data))
        target = self.target if self.target is not None else self.final
        if target is not None and self._covered() >= target:
            self._finish(target, engine.core.logix)

    def _continue(self, engine: OperationEngine, off: int, end: int, step: int) -> None:
        """Request what follows a partial transfer ending at byte ``end``."""
        target = self.target
        if target is not None and end >= target:
            return
        requested = self.requested
        if requested is None:
            self.requested = requested = {self.base}
        if any(off < s <= end for s in requested):
            return
        offsets = [end]
        if target is not None and len(requested) == 1:  # first fragment: ask for all the rest now
            offsets = list(range(end, target, step))
        chunks = []
        for o in offsets:
            requested.add(o)
            size = min(step, target - o) if target is not None else step
            msg = _read_message(self.path, LogixService.READ_TAG_FRAGMENTED, self.elements, o)
            chunks.append(_Chunk(self, LogixService.READ_TAG_FRAGMENTED, msg, o, 6 + size))
        engine.follow_up(chunks)

    def _covered(self) -> int:
        at = self.base
        pieces = self.pieces
        for off in sorted(pieces):
            if off > at:
                break
            at = max(at, off + len(pieces[off]))
        return at

    def _assemble(self, target: int) -> bytes:
        if len(self.pieces) == 1:
            (data,) = self.pieces.values()
            return data[: target - self.base]
        buf = bytearray()
        at = self.base
        for off in sorted(self.pieces):
            piece = self.pieces[off]
            if off + len(piece) > at:
                buf += piece[at - off :]
                at = off + len(piece)
        return bytes(buf[: target - self.base])

    def _finish(self, target: int, types: Any) -> None:
        data = self._assemble(target)
        self.pieces = {}
        self.done, self.sts = True, 0
        if self.bit is not None:  # bits of an integer (D.3), or of a BOOL array's DWORDs
            word = int.from_bytes(data, "little") >> self.bit
            self.val = [bool(word >> i & 1) for i in range(self.bits)]
            return
        self.val = decode_value(self.type_code, self.handle, data, types)


class _Txn:
    __slots__ = ("chunks", "context", "frame", "known", "msp", "peer", "reply", "rpy", "send")

    def __init__(self, chunks: list[_Chunk], msp: bool, context: bytes = b"") -> None:
        self.context = context
        self.chunks = chunks
        self.msp = msp
        self.rpy: Any = None
        self.frame: Encapsulation | None = None
        self.peer: Any = None
        self.send: SendData | None = None
        self.reply: Reply | None = None
        self.known: Any = None  # what was decoded already, for the reply dotdict (see replies.cip_reply_dotdict)


class OperationEngine:
    """Pipelined, packed, fragment-following execution of operations over one session (no I/O).

    A driver loop calls :meth:`outgoing` and sends what it returns, feeds every reply frame to
    :meth:`receive`, and takes finished results from :meth:`results` until :attr:`finished`.
    """

    def __init__(self, core: ClientCore, operations: Iterable[Mapping[str, Any]], *, depth: int = 1,
                 multiple: int = 0, fragment: bool = False, index: int | None = None,
                 addressing: Addressing | None = None, lookahead: int = 512, connected: bool | None = None,
                 replies: bool = True) -> None:
        self.core = core
        self.replies = replies  # False: results carry no reply dotdict (for callers that want only values)
        if connected and core.connection is None:
            raise CommunicationError("no connection is open (Forward Open first)")
        self.connection = core.connection if connected is not False else None
        self.addressing = addressing or core.addressing
        self.depth = max(1, int(depth or 1))
        self.multiple = max(0, int(multiple or 0))
        self.fragment = bool(fragment)
        self._index = 0 if index is None else int(index)  # idx: this call's count of requests, as in cpppo 5
        # the sender context: idx, and this engine's serial (never 0: the low-level methods' default
        # context) so that replies to another engine on the session, or to an earlier call, are not ours
        self._serial = core.next_serial()
        self._ops: Iterator[Mapping[str, Any]] = iter(operations)
        self._exhausted = False
        self._seq = 0
        self._queue: collections.deque[_Chunk] = collections.deque()
        self._order: collections.deque[_Op] = collections.deque()
        self.inflight: dict[bytes, _Txn] = {}
        self._aliases: dict[bytes, bytes] = {}  # sender context -> sequence key, for connected requests
        self.lookahead = max(lookahead, self.depth * 4)
        self.stray = 0
        self._addr_cache: dict[Any, Addressing] = {}
        self._wrapped: dict[tuple[int, bytes], bytes] = {}  # (id(addressing), message): as sent
        conn = self.connection
        self._connected = conn is not None
        self._limits = (conn.request_limit, conn.reply_limit) if conn is not None else (REQUEST_LIMIT, REPLY_LIMIT)

    # -- scheduling ------------------------------------------------------------------------------
    def _op_addressing(self, op: Mapping[str, Any]) -> Addressing:
        if op.keys().isdisjoint(_ADDRESSING_KEYS):
            return self.addressing
        keys = _ADDRESSING_KEYS_ORDER
        if not any(op.get(k) is not None for k in keys):
            return self.addressing
        key = repr([op.get(k, _MISSING) for k in keys])
        found = self._addr_cache.get(key)
        if found is None:
            try:
                found = self.addressing.with_options(**{k: op[k] for k in keys if op.get(k) is not None})
            except EncodeError as exc:
                raise OperationError(f"operation {dict(op)!r}: {exc}") from None
            self._addr_cache[key] = found
        return found

    def _pull(self) -> bool:
        """Start the next operation; False when there are none (or too many are unfinished)."""
        if self._exhausted or len(self._order) >= self.lookahead:
            return False
        try:
            op = next(self._ops)
        except StopIteration:
            self._exhausted = True
            return False
        if type(op) is not dict:
            op = dict(op)
        if op.keys().isdisjoint(_ADDRESSING_KEYS):  # the usual case: the engine's own addressing
            started = _Op(self._seq, op, self.addressing, self.fragment, connected=self._connected,
                          limits=self._limits)
        else:
            addressing = self._op_addressing(op)
            conn = self.connection if addressing is self.addressing else None
            limits = (conn.request_limit, conn.reply_limit) if conn is not None else (REQUEST_LIMIT, REPLY_LIMIT)
            started = _Op(self._seq, op, addressing, self.fragment, connected=conn is not None, limits=limits)
        self._seq += 1
        self._order.append(started)
        self._queue.extend(started.chunks)
        return True

    def _peek(self) -> _Chunk | None:
        queue = self._queue
        while True:
            while queue and queue[0].op.done:
                queue.popleft()
            if queue:
                return queue[0]
            if not self._pull():
                return None

    def follow_up(self, chunks: list[_Chunk]) -> None:
        """Queue an operation's next requests ahead of operations not yet started."""
        self._queue.extendleft(reversed(chunks))

    def _next_transaction(self) -> list[_Chunk]:
        first = self._peek()
        if first is None:
            return []
        self._queue.popleft()
        chunks = [first]
        if self.multiple:
            addressing = first.op.addressing
            limit = min(self.multiple, first.op.request_limit)
            reply_limit = first.op.reply_limit
            req = 8 + len(first.message)
            rpy = 8 + first.reply_size
            queue = self._queue
            append = chunks.append
            while True:
                if not queue:
                    if not self._pull():
                        break
                    continue
                nxt = queue[0]
                op = nxt.op
                if op.done:  # failed already (eg. an earlier fragment's error)
                    queue.popleft()
                    continue
                if op.addressing is not addressing:
                    break
                more = 2 + len(nxt.message)
                if req + more > limit or rpy + 2 + nxt.reply_size > reply_limit:
                    break
                queue.popleft()
                append(nxt)
                req += more
                rpy += 2 + nxt.reply_size
        return chunks

    def outgoing(self) -> list[bytes]:
        """Frames to send now, keeping up to ``depth`` transactions in flight."""
        frames = []
        while len(self.inflight) < self.depth:
            chunks = self._next_transaction()
            if not chunks:
                break
            idx = self._index
            self._index += 1
            msp = len(chunks) > 1
            if msp:
                message = encode_request(_MSP, _MR_PATH, encode_multiple([c.message for c in chunks]))
            else:
                message = chunks[0].message
            context = _CONTEXT.pack(idx & 0xFFFFFFFF, self._serial)
            txn = _Txn(chunks, msp, context)
            if chunks[0].op.connected:  # SendUnitData: the reply echoes the sequence count
                sequence, frame = self.core.unit_frame(message, context)
                key = _SEQUENCE.pack(sequence)
                self._aliases[context] = key
            else:
                key = context
                addressing = chunks[0].op.addressing
                wrapped = self._wrapped.get((id(addressing), message))  # the engine holds its addressings
                if wrapped is None:
                    wrapped = addressing.wrap(message)
                    if len(self._wrapped) < 256:
                        self._wrapped[id(addressing), message] = wrapped
                frame = self.core.send_frame(wrapped, context)
            self.inflight[key] = txn
            for c in chunks:
                if c.op.idx < 0:
                    c.op.idx = idx
            frames.append(frame)
            self.core.requests += 1
        return frames

    # -- replies ---------------------------------------------------------------------------------
    def receive(self, frame: Encapsulation, peer: Any = None) -> bool:
        """Take one reply frame; False if it answers no request of this engine."""
        send: SendData | None = None
        txn = None
        split = split_send_data(frame.command, frame.data) if not frame.status else None
        if split is not None and split[3] is not None:  # connected: the sequence count says which
            txn = self.inflight.pop(_SEQUENCE.pack(split[3]), None)
        elif split is None and frame.command == Command.SEND_UNIT_DATA and not frame.status:
            with contextlib.suppress(DecodeError):
                send = decode_send_data(frame.data)
                if isinstance(send.message, ConnectedData):
                    txn = self.inflight.pop(_SEQUENCE.pack(send.message.sequence), None)
        if txn is None:  # unconnected, or an encapsulation error that carries only the sender context
            txn = self.inflight.pop(self._aliases.get(frame.context, frame.context), None)
        if txn is not None:
            self._aliases.pop(txn.context, None)
        if txn is None:
            self.stray += 1
            return False
        txn.frame, txn.peer = frame, peer
        chunks = txn.chunks
        for c in chunks:
            c.op.txn = txn
        if frame.status:
            for c in chunks:
                c.op.fail(frame.status)
            return True
        try:
            if split is not None:  # the usual layouts: no item objects (frame_dotdict makes do without)
                message = split[4]
            else:
                txn.send = send = decode_send_data(frame.data) if send is None else send
                item = send.message
                if item is None:
                    raise DecodeError("no data item", 0)
                message = item.data
            txn.reply = rpy = decode_reply(message)
        except DecodeError:
            for c in chunks:
                c.op.fail(_BAD_REPLY)
            return True
        expected = _MSP if txn.msp else chunks[0].service
        if rpy.service != expected:  # eg. the Unconnected Send itself failed (route path refused)
            for c in chunks:
                c.op.fail(_sts(rpy) if rpy.status else _BAD_REPLY)
            return True
        if not txn.msp:
            c = chunks[0]
            op = c.op
            if op.quick and op.type_code is None and not rpy.status and not rpy.ext_status:
                whole = _whole_read(op.elements, rpy.data, 0, len(rpy.data))
                if whole is not None:
                    txn.known = whole
                    if not op.done:
                        op.type_code = whole[0]
                        op.done, op.sts, op.val = True, 0, whole[1]
                    return True
            op.on_reply(self, c, rpy)
            return True
        # A Multiple Service Packet: each whole read of an elementary type is decoded straight from
        # the reply's bytes; anything else (errors, fragments, structures) takes the general path.
        try:
            buf = rpy.data
            spans = decode_multiple(buf) if buf else []
            if len(spans) != len(chunks):
                raise DecodeError("Multiple Service Packet reply count differs", 0)
            answers: list[Any] = []
            for c, (a, b) in zip(chunks, spans):
                op = c.op
                # service with the reply bit, then reserved, status 0, no extended status
                if op.quick and op.type_code is None and b - a >= 6 and buf[a] == c.service | 0x80 \
                        and not buf[a + 2] and not buf[a + 3]:
                    whole = _whole_read(op.elements, buf, a + 4, b)
                    if whole is not None:
                        answers.append((c.service, *whole))
                        continue
                answers.append(decode_reply(buf, a, b))
        except DecodeError:
            for c in chunks:
                c.op.fail(_sts(rpy) if rpy.status else _BAD_REPLY)
            return True
        txn.known = answers
        for c, r in zip(chunks, answers):
            if type(r) is tuple:
                op = c.op
                if not op.done:
                    op.type_code = r[1]
                    op.done, op.sts, op.val = True, 0, r[2]
            else:
                c.op.on_reply(self, c, r)
        return True

    def results(self) -> list[Result]:
        """Finished results, in operation order (each exactly once)."""
        out: list[Result] = []
        order = self._order
        while order and order[0].done:
            op = order.popleft()
            txn = op.txn
            rpy = None
            if txn is not None and self.replies:
                if txn.rpy is None and txn.frame is not None:
                    txn.rpy = frame_dotdict(txn.frame, txn.peer, txn.send, txn.reply, txn.known)
                rpy = txn.rpy
            out.append((op.idx, op.dsc, op.op, rpy, op.sts, op.val))
            # break the op <-> chunk <-> transaction cycles: freed by reference counting at once,
            # finished operations never wait for (nor provoke) the cyclic garbage collector
            op.chunks, op.txn = (), None
        return out

    @property
    def next_index(self) -> int:
        """The idx the next request would carry (a later engine of the same call continues from it)."""
        return self._index

    @property
    def finished(self) -> bool:
        """True once every operation has been answered and its result taken."""
        return not self.inflight and not self._order and self._peek() is None

    @property
    def stalled(self) -> bool:
        """True when operations remain unfinished with nothing in flight and nothing left to send: no
        reply can finish them, so a driver must stop rather than wait (or spin)."""
        return not self.inflight and self._peek() is None and any(not op.done for op in self._order)

    @property
    def waiting(self) -> bool:
        """True while replies are still expected."""
        return bool(self.inflight)


def operation_messages(op: dict[str, Any], addressing: Addressing, fragment: bool = False) -> list[bytes]:
    """The CIP request(s) one operation starts with, wrapped per ``addressing`` (for the low-level methods)."""
    return [addressing.wrap(c.message) for c in _Op(0, op, addressing, fragment).chunks]


def validate(results: Iterable[Result], *, validating: bool = False, printing: bool = False,
             log: Any = None, out: Any = None) -> Iterator[Result]:
    """Log/print each result as the documents show (``SCADA[1-1] == [0]: 'OK'``); with
    ``validating``, a successful write yields the data written instead of True."""
    logging_ = log is not None and log.isEnabledFor(logging.INFO)  # the line (every value's repr) costs
    for idx, dsc, req, rpy, sts, value in results:
        val = value
        if validating and val is True and req.get("method", "read") == "write":  # as cpppo 5: tag writes only
            val = req.get("data", val)
        if printing or logging_:
            line = result_line(dsc, req, sts, val)
            if printing:
                print(line, file=out, flush=True)
            if logging_:
                log.info(line)
        yield idx, dsc, req, rpy, sts, val


def request_dotdict(frame: bytes, op: Mapping[str, Any] | None = None) -> dotdict:
    """What the low-level methods return: the request as sent, and its operation."""
    d = dotdict(enip=dotdict(input=frame, length=len(frame) - 24,
                             sender_context=dotdict(input=frame[12:20])))
    if op is not None:
        for key, value in op.items():
            d[key] = value
    return d
