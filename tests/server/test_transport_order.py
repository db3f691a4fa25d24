"""The transport keeps each connection's replies in request order behind forwarded requests, within bounds."""

from __future__ import annotations

import pytest

from cpppo.enip.frames import reply_message

from .conftest import Rig, wait_for
from .rawclient import RawClient, read_tag, tag, values

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_a_local_request_after_a_slow_forwarded_one_is_answered_after_it_in_order(rig: Rig):
    with RawClient(rig.front.address, register=True) as c:
        frames = [c.rr_frame(read_tag(tag("A")), "1/0"),  # local, answered at once
                  c.rr_frame(read_tag(tag("SLOW")), "1/2"),  # forwarded, held at the target
                  c.rr_frame(read_tag(tag("A")), "1/0"),  # local, behind it
                  c.rr_frame(read_tag(tag("FAST")), "1/2"),  # forwarded, quick
                  c.rr_frame(read_tag(tag("A")))]  # local, no route
        c.send(b"".join(f.encode() for f in frames))
        first = c.recv(timeout=5)
        assert first.context == frames[0].context
        wait_for(lambda: rig.gate.waiting == 1, timeout=5)
        with pytest.raises(TimeoutError):
            c.recv(timeout=0.2)  # nothing overtakes the slow reply
        rig.gate.opened.set()
        rest = [c.recv(timeout=5) for _ in frames[1:]]
        assert [r.context for r in rest] == [f.context for f in frames[1:]]
        assert [values(reply_message(r)) for r in [first, *rest]] == [[100], [22], [100], [11], [100]]


def test_at_most_four_forwards_of_one_connection_are_in_flight_the_rest_wait_their_turn(rig: Rig):
    with RawClient(rig.front.address, register=True) as c:
        frames = [c.rr_frame(read_tag(tag("SLOW")), "1/2") for _ in range(7)]
        c.send(b"".join(f.encode() for f in frames))
        wait_for(lambda: rig.gate.waiting == 4, timeout=5)
        with RawClient(rig.front.address, register=True) as other:  # other connections are not held back
            assert other.read_values(tag("FAST"), route="1/2") == [11]
        assert rig.gate.most == 4
        rig.gate.opened.set()
        replies = [c.recv(timeout=5) for _ in frames]
        assert [r.context for r in replies] == [f.context for f in frames]
        assert all(values(reply_message(r)) == [22] for r in replies)
        assert rig.gate.most == 4


def test_replies_held_behind_a_forward_are_bounded_then_the_connection_is_closed(rig: Rig):
    rig.front.add_tag("BIG=DINT[120]")  # replies of about 530 bytes
    with RawClient(rig.front.address, register=True) as c:
        c.send(c.rr_frame(read_tag(tag("SLOW")), "1/2"))
        wait_for(lambda: rig.gate.waiting == 1, timeout=5)
        burst = b"".join(c.rr_frame(read_tag(tag("BIG"), 120), "1/0").encode() for _ in range(500))
        closed = False
        for _ in range(8):  # 4000 replies, 2 MB, if nothing stopped them
            try:
                c.send(burst)
            except OSError:
                closed = True
                break
        assert closed or c.closed_by_server(timeout=5)
    rig.gate.opened.set()
    with RawClient(rig.front.address, register=True) as again:  # the server goes on
        assert again.read_values(tag("A")) == [100]
