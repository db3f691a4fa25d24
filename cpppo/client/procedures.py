"""The client's jobs, written once as sans-I/O procedures that both front ends drive.

A procedure is a generator.  It decides everything (which frames to send, which reply answers
which request, when to stop sending, what to hand the caller); its driver only moves bytes and
waits.  What to send, the procedure queues on its :class:`Link`'s ``outbox``, as h11's
``Connection.send`` returns bytes for the caller to write; when it must wait or has something for
the caller it yields an *effect*, and the driver first writes out the outbox, then carries the
effect out and sends back what it got::

    Receive(timeout)   -> deque | None  wait until replies are queued: the driver's queue of
                                        (frame, peer), empty if the time ran out, None if the
                                        peer closed the connection; the procedure takes what it uses
    Deliver(results)   -> None         hand these to the caller (nothing is outstanding when the
                                        procedure runs in batches: the driver may let others in)

(Sending is no effect of its own so that a request/reply round trip costs the procedure one
suspension, not two: at pipeline depth 1 that is most of what the layer costs.)  When the
procedure ends the driver writes out the outbox; when it fails, the outbox is discarded.

The blocking connector carries the effects out with a selector and ``recv``, the asyncio one with
``StreamReader``; each is one short loop (``_perform`` for a procedure's return value, ``_stream``
for what it delivers).  So Forward Open, the Plan/engine/tag-list loop of ``pipeline`` and the
one-shot reads and writes behave the same on both, and a new API (a proxy, a poller) is written
once, here.  :class:`Link` is what one connection's procedures share: its :class:`~.core.ClientCore`,
where it leads (for messages), the outbox, and whether its transport has closed.
"""

from __future__ import annotations

import logging
import operator
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..cip.types import STRUCTURE, TypeCode, type_by_name
from ..enip.cpf import UnconnectedData, connected_message, decode_send_data, unconnected_message
from ..enip.encapsulation import Encapsulation
from ..errors import CommunicationError, CpppoError, DecodeError
from .connection import Connection, closed, forward_close_message, forward_open_message, opened
from .core import MISSING, ClientCore, context_bytes
from .engine import OperationEngine, Result, validate
from .operations import parse_address_text, parse_operation, parse_path
from .plan import Plan
from .replies import status_text
from .tag_list import Batches, TagInfo, TagListError, upload
from .values import as_values

__all__ = [
    "BATCH",
    "Deliver",
    "Effect",
    "Link",
    "Procedure",
    "Receive",
    "RequestFailed",
    "cip_request",
    "close",
    "collect",
    "command",
    "drive",
    "exchange",
    "forward_close",
    "forward_open",
    "get_attribute",
    "get_attributes",
    "one",
    "operate",
    "pipeline",
    "read_tag",
    "register",
    "request",
    "results",
    "run_batches",
    "set_attribute",
    "start",
    "tag_list",
    "tally",
    "write_tag",
]

T = TypeVar("T")
Frames = deque[tuple[Encapsulation, Any]]
BATCH = 256
"""Results a batched pipeline gathers before it stops sending and delivers (or 4 x its depth)."""
_STRAYS = 1000  # unrelated replies a request/reply exchange skips before it gives up
_LOG = logging.getLogger("cpppo.client")
_VALUE = operator.itemgetter(5)  # a 6-tuple's val


@dataclass(slots=True)
class Receive:
    """Wait up to ``timeout`` seconds (None: for ever) until reply frames are queued; ``deadline``
    (``time.monotonic()``), when given, is when that time runs out."""

    timeout: float | None
    deadline: float | None = None


@dataclass(slots=True)
class Deliver:
    """Hand ``results`` to the caller, then carry on."""

    results: list[Any]


Effect = Receive | Deliver
Procedure = Generator[Effect, Any, T]


@dataclass(slots=True)
class Link:
    """One connection as its procedures see it.  ``outbox`` holds the bytes a procedure has sent
    and its driver not yet written.  ``closed`` is set by the driver when the peer closed the
    connection (or garbled it) or the driver closed it: no request can travel then."""

    core: ClientCore
    where: str = "the device"
    closed: bool = False
    outbox: list[bytes] = field(default_factory=list)
    engines: list[OperationEngine] = field(default_factory=list)
    """The engines of the procedures under way (a pipeline iterated inside another's loop)."""
    strays: int = 0
    """Replies that answered no request under way (eg. to a call that timed out): dropped."""

    def send(self, data: bytes) -> None:
        """Queue ``data`` to be written before the procedure next waits (or when it ends)."""
        self.outbox.append(data)

    def dispatch(self, frame: Encapsulation, peer: Any, engine: OperationEngine | None = None) -> bool:
        """Give a reply that ``engine`` (or an exchange) did not take to the other engine it answers;
        False (and counted as a stray) if it answers none."""
        for other in self.engines:
            if other is not engine and other.receive(frame, peer):
                return True
        self.strays += 1
        return False


class RequestFailed(CpppoError):
    """A one-shot operation failed at the device: ``status`` is the 6-tuple's ``sts``."""

    def __init__(self, dsc: str, status: Any) -> None:
        super().__init__(f"{dsc}: {status_text(status)}")
        self.dsc = dsc
        self.status = status


def _silence(link: Link, what: str, wait: float | None, frames: Frames | None, strays: int = 0) -> CommunicationError:
    """The error for a reply to ``what`` that never came (``frames`` None: the peer hung up)."""
    if frames is None:
        return CommunicationError(f"{link.where} closed the connection: no reply to {what}")
    within = f" within {wait}s" if wait is not None else ""
    among = f" ({strays} stray replies)" if strays else ""
    return CommunicationError(f"no reply to {what} from {link.where}{within}{among}")


class _Deadline:
    """``wait`` seconds from the last reply that answered something: replies to nobody (strays)
    do not extend it.  ``receive`` is the effect to yield, its timeout what is left."""

    __slots__ = ("at", "receive", "wait")

    def __init__(self, wait: float | None) -> None:
        self.wait = wait
        self.at: float | None = None
        self.receive = Receive(wait)

    def left(self) -> Receive:
        if self.wait is not None:
            now = time.monotonic()
            if self.at is None:
                self.at = now + self.wait
            self.receive.timeout = max(0.0, self.at - now)
            self.receive.deadline = self.at
        return self.receive

    def progress(self) -> None:
        self.at = None


# -- request and reply ----------------------------------------------------------------------------
def exchange(link: Link, frame: bytes, context: bytes, what: str, *,
             wait: float | None = None) -> Procedure[tuple[Encapsulation, Any]]:
    """Send ``frame`` and return the (frame, peer) that answers it (by sender context), within
    ``wait`` however many other replies come meanwhile: those go to the engine they answer (a
    pipeline under way), or are dropped as strays; frames after the answer stay queued."""
    link.send(frame)
    deadline = _Deadline(wait)
    strays = 0
    for _ in range(_STRAYS):
        frames = yield deadline.left()
        if not frames:
            raise _silence(link, what, wait, frames, strays)
        got = frames.popleft()
        if got[0].context == context:
            return got
        if not link.dispatch(*got):
            strays += 1
    raise CommunicationError(f"no reply to {what} from {link.where} among {_STRAYS} others")


def request(link: Link, message: bytes, what: str, *, wait: float | None = None) -> Procedure[Encapsulation]:
    """A CIP ``message`` sent bare in SendRRData (no Unconnected Send); its reply frame."""
    core = link.core
    context = context_bytes(core.next_context())
    frame, _ = yield from exchange(link, core.send_frame(message, context), context, what, wait=wait)
    return frame


def cip_request(link: Link, message: bytes, *, wait: float | None = None) -> Procedure[bytes]:
    """A CIP ``message`` sent bare in SendRRData, and the CIP reply message it gets, as bytes
    (what a router passes on without looking inside)."""
    frame = yield from request(link, message, "a CIP request", wait=wait)
    if frame.status:
        raise CommunicationError(f"{link.where} refused the request: encapsulation status 0x{frame.status:02X}")
    found = unconnected_message(frame.data)
    if found is not None:
        return found[1]
    try:
        reply = decode_send_data(frame.data).message
    except DecodeError as exc:
        raise CommunicationError(f"invalid reply from {link.where}: {exc}") from None
    if not isinstance(reply, UnconnectedData):
        raise CommunicationError(f"invalid reply from {link.where}: no unconnected data item")
    return reply.data


def connected_cip_request(link: Link, message: bytes, *, wait: float | None = None) -> Procedure[bytes]:
    """A CIP ``message`` sent on the open connection (SendUnitData), and the CIP reply message it
    gets (matched by sequence count), as bytes: what a router relaying a connection passes on."""
    core = link.core
    conn = core.connection
    if conn is None:
        raise CommunicationError(f"no connection to {link.where} is open")
    sequence, frame = core.unit_frame(message, core.next_context())
    link.send(frame)
    for _ in range(_STRAYS):
        frames = yield Receive(wait)
        if not frames:
            raise _silence(link, "a connected request", wait, frames)
        got = frames.popleft()[0]
        found = connected_message(got.data) if not got.status else None
        if got.status:
            raise CommunicationError(f"{link.where} refused a connected request: encapsulation status "
                                     f"0x{got.status:02X}")
        if found is not None and found[1] == conn.t_o_id and found[2] == sequence:
            return found[3]
    raise CommunicationError(f"no reply to a connected request from {link.where} among {_STRAYS} others")


def register(link: Link, *, wait: float | None = None, context: Any = b"") -> Procedure[tuple[Encapsulation, Any]]:
    """Register the session; the reply (CommunicationError if refused)."""
    ctx = context_bytes(context)
    got = yield from exchange(link, link.core.register_frame(ctx), ctx, "RegisterSession", wait=wait)
    link.core.registered(got[0])
    return got


def command(link: Link, code: int, *, wait: float | None = None) -> Procedure[tuple[Encapsulation, Any]]:
    """List Identity, List Services, List Interfaces (or another session command): its reply."""
    context = context_bytes(link.core.next_context())
    return (yield from exchange(link, link.core.command_frame(code, context), context,
                                f"command 0x{code:04X}", wait=wait))


def forward_open(link: Link, size: int = 4002, *, large: bool | None = None, route_path: Any = MISSING,
                 wait: float | None = None) -> Procedure[Connection]:
    """Open a class 3 connection to the Message Router along ``route_path`` (default: the link's);
    later operations travel connected; one already open is closed first (a device has few to give).
    CommunicationError if refused or the link is closed."""
    core = link.core
    if link.closed:
        raise CommunicationError(f"Forward Open: the connection to {link.where} is closed")
    if core.connection is not None:
        yield from forward_close(link, wait=wait)
    addressing = core.addressing if route_path is MISSING else core.addressing.with_options(route_path=route_path)
    message, fo = forward_open_message(addressing.route_path, size, large)
    core.connection = opened((yield from request(link, message, "Forward Open", wait=wait)), fo)
    return core.connection


def forward_close(link: Link, *, wait: float | None = None) -> Procedure[None]:
    """Close the class 3 connection, if one is open (operations go unconnected again); when the
    link has closed there is nobody to tell, and the connection is just forgotten."""
    conn, link.core.connection = link.core.connection, None
    if conn is not None and not link.closed:
        closed((yield from request(link, forward_close_message(conn), "Forward Close", wait=wait)))


def close(link: Link, *, wait: float | None = None) -> Procedure[None]:
    """End the session, once: Forward Close if a connection is open (a failure, or no answer within
    ``wait``, does not stop the rest), then Unregister Session (which has no reply).  The link is
    closed after; a second close sends nothing."""
    core = link.core
    if core.connection is not None:
        try:
            yield from forward_close(link, wait=wait)
        except CommunicationError:
            core.connection = None
    if core.session and not link.closed:
        link.send(core.unregister_frame())
    core.session = 0
    link.closed = True


def start(link: Link, *, wait: float | None = None, connected: bool = False, size: int = 4002,
          logix: bool = False) -> Procedure[tuple[Encapsulation, Any]]:
    """A new TCP session: register, then optionally Forward Open and learn the Logix tag list."""
    reply = yield from register(link, wait=wait)
    if connected:
        yield from forward_open(link, size, wait=wait)
    if logix:
        link.core.logix.logix = True
        yield from tag_list(link, wait=wait)
    return reply


# -- operations -----------------------------------------------------------------------------------
def drive(link: Link, engine: OperationEngine, *, wait: float | None = None, batch: int | None = None,
          take: Callable[[Result], bool] | None = None,
          post: Callable[[list[Result]], list[Any]] | None = None, paced: bool = False) -> Procedure[None]:
    """Run ``engine`` to the end: send what it wants sent, feed it every reply, and deliver its
    results in order (those ``take`` passes, each batch mapped by ``post``).

    With ``batch`` None, results are delivered as they come, requests still in flight (for a
    blocking caller, the connection's only user).  With a number, sending stops once that many
    results are ready and they are delivered when the requests in flight have been answered: with
    nothing outstanding, so a driver may let others use the connection while the caller has them.
    ``paced`` (depth 0, ``synchronous``): each result is delivered before the next request is sent
    (or the next operation taken), so the caller sets the pace, as cpppo 5's synchronous does."""
    link.engines.append(engine)
    try:
        yield from _drive(link, engine, wait=wait, batch=batch, take=take, post=post, paced=paced)
    finally:
        link.engines.remove(engine)


def _drive(link: Link, engine: OperationEngine, *, wait: float | None, batch: int | None,
           take: Callable[[Result], bool] | None, post: Callable[[list[Result]], list[Any]] | None,
           paced: bool) -> Procedure[None]:
    out: list[Result] = []
    outbox = link.outbox
    deadline, deliver = _Deadline(wait), Deliver([])  # reused: one of each per call, not per request
    strays = link.strays
    while True:
        if paced:
            out += engine.results()
            if not out and not engine.waiting:
                outbox += engine.outgoing()
        else:
            if batch is None or len(out) < batch:
                outbox += engine.outgoing()
            out += engine.results()
        if out and (batch is None or paced or engine.finished or (len(out) >= batch and not engine.waiting)):
            passed = list(filter(take, out)) if take is not None else out
            out = []
            if passed:
                deliver.results = post(passed) if post is not None else passed
                yield deliver
                deadline.progress()  # however long the caller took, the wait starts again
        if engine.finished:
            return
        if not engine.waiting:
            if engine.stalled:
                raise CommunicationError(f"operations unfinished with no request to {link.where} outstanding")
            continue
        frames = yield deadline.left()
        if not frames:
            if frames is None:
                raise CommunicationError(f"{link.where} closed the connection with "
                                         f"{len(engine.inflight)} requests unanswered")
            among = f", {link.strays - strays} stray replies" if link.strays > strays else ""
            raise CommunicationError(f"no reply from {link.where}" + (f" within {wait}s" if wait is not None else "")
                                     + f" ({len(engine.inflight)} requests unanswered{among})")
        took = False
        while frames:
            frame, peer = frames.popleft()
            if engine.receive(frame, peer):
                took = True
            else:  # another engine's (a loop inside this one's), or nobody's
                took = link.dispatch(frame, peer, engine) or took
        if took:
            deadline.progress()


def run_batches(link: Link, proc: Batches, *, wait: float | None = None) -> Procedure[Any]:
    """Run a procedure that yields batches of operations and is sent their results (as
    tag_list.upload does), one engine per batch; its return value."""
    try:
        ops = next(proc)
        while True:
            engine = OperationEngine(link.core, ops, addressing=link.core.addressing)
            ops = proc.send((yield from collect(drive(link, engine, wait=wait))))
    except StopIteration as stop:
        return stop.value


def tag_list(link: Link, programs: bool = True, *, refresh: bool = False,
             wait: float | None = None) -> Procedure[list[TagInfo]]:
    """The controller's tags (and each program's, with ``programs``), uploaded once per connection
    with the templates of every structure they use; TagListError if the device refuses."""
    types = link.core.logix
    if types.loaded and not refresh:
        return list(types.tags.values())
    return (yield from run_batches(link, upload(types, programs), wait=wait))


def pipeline(link: Link, operations: Iterable[Mapping[str, Any]], *, wait: float | None = None, depth: int = 1,
             multiple: int = 0, fragment: bool = False, index: int | None = None, replies: bool = True,
             batch: int | None = None, post: Callable[[list[Result]], list[Any]] | None = None,
             **addressing: Any) -> Procedure[None]:
    """Issue ``operations`` with up to ``depth`` requests in flight; deliver the 6-tuples in order.

    Operations pass through the connection's :class:`~.logix.Plan`: when one needs the tag list or
    a structure's template, the engine is run out, the tag list uploaded, and the held results
    delivered before the next engine starts.  ``depth`` 0 is one request at a time, each result
    delivered before the next request is sent (:func:`drive`'s ``paced``).  ``batch`` as for
    :func:`drive` (at least 4 x ``depth``); ``post`` maps each delivered batch (validation, values only)."""
    core = link.core
    addr = core.addressing
    options = {k: v for k, v in addressing.items() if v is not None and v is not MISSING}
    if options:
        addr = addr.with_options(**options)
    if batch is not None:
        batch = max(batch, 4 * max(1, depth or 1))
    plan = Plan(core.logix, operations)
    while True:
        engine = OperationEngine(core, plan.feed(), depth=depth, multiple=multiple, fragment=fragment,
                                 index=index, addressing=addr, replies=replies)
        yield from drive(link, engine, wait=wait, batch=batch, take=plan.take, post=post, paced=not depth)
        index = engine.next_index  # after a pause for the tag list, idx carries on
        if plan.wants_upload:
            try:
                yield from tag_list(link, wait=wait)
            except TagListError as exc:
                core.logix.failed = str(exc)
        held = plan.flush()
        if held:
            yield Deliver(post(held) if post is not None else held)
        if plan.finished:
            return


def operate(link: Link, operations: Iterable[Mapping[str, Any]], *, depth: int = 0, validating: bool = False,
            printing: bool = False, values: bool = False, **options: Any) -> Procedure[None]:
    """:func:`pipeline` (depth 0 is one request at a time); with ``validating`` or ``printing``, each
    result is logged/printed and a successful write yields its data (not True), as cpppo 5 does;
    ``values``: just the values."""
    post: Callable[[list[Result]], list[Any]] | None = None
    if validating or printing:
        log = _LOG if validating else None

        def post(batch: list[Result]) -> list[Any]:  # as cpppo 5's validate: a write yields its data
            if printing or True in map(_VALUE, batch) or (log is not None and log.isEnabledFor(logging.INFO)):
                batch = list(validate(batch, validating=True, printing=printing, log=log))
            # else nothing to print or log, and no write whose True validating turns into its data
            return list(map(_VALUE, batch)) if values else batch
    elif values:

        def post(batch: list[Result]) -> list[Any]:
            return list(map(_VALUE, batch))
    return pipeline(link, operations, depth=depth or 0, post=post, **options)


def results(link: Link, operations: Iterable[Mapping[str, Any]], **options: Any) -> Procedure[None]:
    """:func:`operate` delivering just the values (None for each failure), with no reply dotdicts."""
    options.setdefault("replies", False)
    return operate(link, operations, values=True, **options)


def tally(values: list[Any]) -> tuple[int, list[Any]]:
    """What ``process`` returns: (number of failures, values)."""
    return sum(v is None for v in values), values


def collect(proc: Procedure[Any]) -> Procedure[list[Any]]:
    """Run ``proc``, keeping what it delivers; return that, in order."""
    out: list[Any] = []
    answer: Any = None
    while True:
        try:
            effect = proc.send(answer)
        except StopIteration:
            return out
        if type(effect) is Deliver:
            out += effect.results
            answer = None
        else:
            answer = yield effect


# -- one-shot operations: the values, or RequestFailed --------------------------------------------
def one(link: Link, op: dict[str, Any], **options: Any) -> Procedure[Any]:
    """Run one operation; its value (True for a write), or RequestFailed with its status."""
    options.setdefault("replies", False)
    (result,) = yield from collect(pipeline(link, [op], **options))
    _, dsc, _, _, sts, val = result
    if val is None:
        raise RequestFailed(dsc, sts)
    return val


def read_tag(link: Link, tag: str | list[dict[str, Any]], elements: int | None = None, offset: int | None = None,
             **options: Any) -> Procedure[list[Any]]:
    """The values of ``tag`` ("Tag[0-9]", "@2/1/1", or JSON segments): Read Tag [Fragmented]."""
    if isinstance(tag, str):
        op = parse_operation(tag)
        if op["method"] != "read":
            raise ValueError(f"{tag!r} is a write; use write_tag")
    else:
        op = {"method": "read", "path": tag, "elements": 1}
    if elements is not None:
        op["elements"] = elements
    if offset is not None:
        op["offset"] = offset
    return one(link, op, **options)


def write_tag(link: Link, tag: str | list[dict[str, Any]], data: Iterable[Any] | Mapping[str, Any] | None = None,
              tag_type: str | int | None = None, **options: Any) -> Procedure[bool]:
    """Write ``"Tag[0-2]=(DINT)1,2,3"``, or ``tag`` with ``data`` of ``tag_type`` (default INT; dicts
    are structures, and a bit address ``"D.3"`` takes bools); True once written."""
    if data is None:
        if not isinstance(tag, str):
            raise ValueError("write_tag needs data")
        op = parse_operation(tag)
        if op["method"] != "write":
            raise ValueError(f"{tag!r} has no '=' values")
    else:
        values = as_values(data)
        path, n, off, _, bit = parse_address_text(tag) if isinstance(tag, str) else (tag, None, None, False, None)
        if tag_type is not None:
            code = type_by_name(tag_type).code if isinstance(tag_type, str) else int(tag_type)
        elif values and all(isinstance(v, Mapping) for v in values):
            code = STRUCTURE
        elif values and all(isinstance(v, str) for v in values):
            code = TypeCode.STRING
        else:
            code = TypeCode.BOOL if bit is not None else TypeCode.INT
        op = {"method": "write", "path": path, "elements": n or len(values), "tag_type": code, "data": values}
        if bit is not None:
            op.update(bit=bit, elements=1)
        if off:
            op["offset"] = off
    return _true(one(link, op, **options))


def _true(proc: Procedure[Any]) -> Procedure[bool]:
    return bool((yield from proc))


def _attribute(link: Link, method: str, path: Any, options: dict[str, Any], *, tag_type: Any = None,
               data: list[Any] | None = None) -> Procedure[Any]:
    segs = parse_path(path)[0] if isinstance(path, str) else path
    op: dict[str, Any] = {"method": method, "path": segs}
    if tag_type is not None:
        op["tag_type"] = type_by_name(tag_type).code if isinstance(tag_type, str) else int(tag_type)
    if data is not None:
        op["data"] = data
        op["elements"] = len(data)
    return one(link, op, **options)


def get_attribute(link: Link, path: str | list[dict[str, Any]], tag_type: Any = None,
                  **options: Any) -> Procedure[Any]:
    """Get Attribute Single: raw USINT values, or values of ``tag_type``."""
    return _attribute(link, "get_attribute_single", path, options, tag_type=tag_type)


def get_attributes(link: Link, path: str | list[dict[str, Any]], **options: Any) -> Procedure[Any]:
    """Get Attributes All: raw USINT values."""
    return _attribute(link, "get_attributes_all", path, options)


def set_attribute(link: Link, path: str | list[dict[str, Any]], data: Any, tag_type: Any = None,
                  **options: Any) -> Procedure[bool]:
    """Set Attribute Single to ``data`` (a value, or a sequence of them): raw USINT values, or values
    of ``tag_type``; True once set."""
    return _true(_attribute(link, "set_attribute_single", path, options, tag_type=tag_type, data=as_values(data)))
