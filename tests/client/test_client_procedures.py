"""The shared procedures without sockets: each is carried out by a small driver wired back to back
to the simulator's sans-I/O Session and Controller (h11's tests/helpers.py pattern), so what the
procedures decide is tested apart from the blocking and asyncio drivers that carry them out."""

from __future__ import annotations

import collections
from typing import Any

import pytest

from cpppo.client.core import ClientCore
from cpppo.client.procedures import (
    BATCH,
    Deliver,
    Link,
    Procedure,
    RequestFailed,
    collect,
    command,
    forward_close,
    forward_open,
    get_attribute,
    pipeline,
    read_tag,
    register,
    results,
    set_attribute,
    tag_list,
    write_tag,
)
from cpppo.enip.encapsulation import Command, Encapsulation
from cpppo.enip.framer import Framer
from cpppo.errors import CommunicationError, EncodeError
from cpppo.server.enip import Simulator
from cpppo.server.enip.client import parse_operations
from cpppo.server.enip.session import Session, SessionTable

PEER = ("wired", 44818)
UDTS = ["Motor = Speed:REAL, Count:DINT, Running:BOOL, Label:STRING"]
TAGS = ["SCADA=INT[1000]", "BIG=DINT[2000]", "D=DINT", "I=INT", "M1=Motor", "MOTORS=Motor[2]",
        "Program:Main.Local=DINT"]
BLANK = {"Speed": 0.0, "Count": 0, "Running": False, "Label": ""}


class Wired:
    """A driver for procedures with the simulator's Session at the other end, no sockets between.

    What a procedure sends reaches the device at once; the replies reach the procedure when it
    next waits (Receive), so until then its requests are outstanding.  Each Deliver is recorded with
    the number of requests outstanding at that moment."""

    def __init__(self, sim: Simulator) -> None:
        self.session = Session(sim.controller, SessionTable())
        self.link = Link(ClientCore(), "wired")
        self.framer = Framer()
        self.answered: list[tuple[Encapsulation, Any]] = []  # by the device, not yet received
        self.frames: collections.deque[tuple[Encapsulation, Any]] = collections.deque()
        self.sent: list[Encapsulation] = []
        self.deliveries: list[tuple[int, int]] = []  # (results delivered, requests outstanding)
        self.run(register(self.link))

    def _flush(self) -> None:
        for raw in self.link.outbox:
            for frame in self.framer.feed(raw):
                self.sent.append(frame)
                reply, _ = self.session.handle(frame)
                if reply is not None:
                    self.answered.append((reply, PEER))
        self.link.outbox.clear()

    def stream(self, proc: Procedure[Any]) -> list[Any]:
        """Carry ``proc`` out; everything it delivered, in order."""
        out: list[Any] = []
        answer: Any = None
        for _ in range(100000):
            try:
                effect = proc.send(answer)
            except StopIteration:
                self._flush()
                return out
            self._flush()
            answer = None
            if type(effect) is Deliver:
                self.deliveries.append((len(effect.results), len(self.answered)))
                out += effect.results
            else:
                self.frames.extend(self.answered)
                self.answered.clear()
                answer = self.frames
        raise AssertionError("the procedure did not finish")

    def run(self, proc: Procedure[Any]) -> Any:
        """Carry ``proc`` out; its return value (it must deliver nothing)."""
        box: list[Any] = []

        def returned() -> Procedure[None]:
            box.append((yield from proc))

        assert self.stream(returned()) == []
        return box[0]


def answering(proc: Procedure[Any], answer: Any) -> None:
    """Carry ``proc`` out, answering every Receive with ``answer`` (an empty queue: the time ran
    out; None: the peer hung up)."""
    effect = proc.send(None)
    for _ in range(10):
        effect = proc.send(answer)
    raise AssertionError(f"still waiting: {effect!r}")


@pytest.fixture
def sim() -> Simulator:
    s = Simulator(TAGS, udts=UDTS)
    s["SCADA"] = list(range(1000))
    s["BIG"] = list(range(2000))
    return s


def test_pipeline_in_batches_delivers_with_nothing_outstanding(sim):
    """What lets the asyncio connector release the connection whenever it hands out results."""
    wired = Wired(sim)
    got = wired.stream(pipeline(wired.link, parse_operations([f"SCADA[{i}]" for i in range(600)]), depth=5,
                                batch=BATCH))
    assert [r[5] for r in got] == [[i] for i in range(600)]
    assert all(outstanding == 0 for _, outstanding in wired.deliveries)
    assert max(n for n, _ in wired.deliveries) <= BATCH + 2 * 5 and len(wired.deliveries) >= 3  # the in-flight drained


def test_pipeline_streamed_keeps_requests_in_flight_while_delivering(sim):
    """The blocking connector's pipelining: results are handed out as they come, the next requests
    already on their way."""
    wired = Wired(sim)
    got = wired.stream(pipeline(wired.link, parse_operations([f"SCADA[{i}]" for i in range(50)]), depth=5))
    assert [r[5] for r in got] == [[i] for i in range(50)]
    assert max(outstanding for _, outstanding in wired.deliveries) == 5


def test_pipeline_learns_the_templates_it_needs_and_keeps_the_order(sim):
    wired = Wired(sim)
    ops = parse_operations(["D", "M1", "I", "MOTORS[0-1]", "BIG[0-1999]", "NOPE"])
    assert wired.stream(results(wired.link, ops, depth=3)) == [[0], [BLANK], [0], [BLANK, BLANK], list(range(2000)),
                                                               None]
    assert wired.link.core.logix.loaded  # learned in the middle of the operations
    assert [t.name for t in wired.run(tag_list(wired.link))] == [
        "SCADA", "BIG", "D", "I", "M1", "MOTORS", "Program:Main.Local"]  # cached, in the controller's order


def test_forward_open_route_path_and_close(sim):
    wired = Wired(sim)
    conn = wired.run(forward_open(wired.link, 500, large=False, route_path="1/3"))
    assert conn.path[0].port == 1 and conn.path[0].link == 3 and conn.t_o_size == 500
    assert len(sim.controller.connections) == 1
    del wired.sent[:]
    assert wired.stream(results(wired.link, parse_operations(["SCADA[1-2]", "SCADA[3]=(INT)9", "SCADA[3]"]))) == [
        [1, 2], True, [9]]
    assert {f.command for f in wired.sent} == {Command.SEND_UNIT_DATA}  # connected
    wired.run(forward_close(wired.link))
    assert wired.link.core.connection is None and len(sim.controller.connections) == 0
    with pytest.raises(EncodeError):
        wired.run(forward_open(wired.link, route_path="1/0/2"))  # refused before anything is sent
    assert wired.link.core.connection is None


def test_forward_open_and_close_on_a_closed_link(sim):
    wired = Wired(sim)
    wired.run(forward_open(wired.link))
    wired.link.closed = True  # as a driver marks it when the peer hangs up
    del wired.sent[:]
    wired.run(forward_close(wired.link))  # nobody to tell: the connection is just forgotten
    assert wired.link.core.connection is None and wired.sent == []
    with pytest.raises(CommunicationError, match="Forward Open: the connection to wired is closed"):
        wired.run(forward_open(wired.link))


def test_request_reply_silence_and_hang_up(sim):
    link = Wired(sim).link
    with pytest.raises(CommunicationError, match=r"^no reply to Forward Open from wired within 0\.5s$"):
        answering(forward_open(link, wait=0.5), collections.deque())
    with pytest.raises(CommunicationError, match=r"^wired closed the connection: no reply to RegisterSession$"):
        answering(register(link), None)
    with pytest.raises(CommunicationError, match=r"^no reply from wired within 2s \(1 requests unanswered\)$"):
        answering(pipeline(link, parse_operations(["D"]), wait=2), collections.deque())


def test_replies_to_other_requests_are_skipped(sim):
    wired = Wired(sim)
    stray, _ = wired.run(command(wired.link, Command.LIST_SERVICES))
    wired.frames.append((stray, PEER))  # a reply nobody waits for any more, queued ahead
    ident, peer = wired.run(command(wired.link, Command.LIST_IDENTITY))
    assert ident.command == Command.LIST_IDENTITY and peer == PEER and not wired.frames


def test_one_shots(sim):
    wired = Wired(sim)
    link = wired.link
    assert wired.run(write_tag(link, "SCADA[0-2]=(INT)7,8,9")) is True
    assert wired.run(read_tag(link, "SCADA[0-3]")) == [7, 8, 9, 3]
    assert wired.run(write_tag(link, "M1", {**BLANK, "Count": 5})) is True
    assert wired.run(read_tag(link, "M1.Count")) == [5]
    assert wired.run(write_tag(link, "D.3", [True])) is True and sim["D"] == 8
    assert wired.run(set_attribute(link, "@2/1/4", [-7], tag_type="INT")) is True  # tag I, in the Message Router
    assert wired.run(get_attribute(link, "@2/1/4", tag_type="INT")) == [-7] and sim["I"] == -7
    with pytest.raises(RequestFailed) as info:
        wired.run(read_tag(link, "NOPE"))
    assert info.value.status == (0x04, [0]) and info.value.dsc == "NOPE"
    with pytest.raises(ValueError, match="is a write"):
        read_tag(link, "D=1")


def test_collect_gathers_what_a_procedure_delivers(sim):
    wired = Wired(sim)
    values = wired.run(collect(results(wired.link, parse_operations(["SCADA[5]", "SCADA[6]"]), depth=2)))
    assert values == [[5], [6]]
