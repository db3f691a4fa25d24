"""The write funnel: every change of a tag, from any source, as a timestamped event to every listener."""

from __future__ import annotations

import asyncio
import threading
import time

from cpppo.cip.types import DINT
from cpppo.device.events import PLAYBACK, Subscription, TagEvent, changes_by
from cpppo.server.enip import Simulator
from cpppo.server.enip.device import Attribute

from .conftest import wait_for
from .rawclient import RawClient, read_tag, tag


def take(sim: Simulator, sub: Subscription, n: int, timeout: float = 5.0) -> list[TagEvent]:
    """The next ``n`` events of ``sub``, awaited on the simulator's host loop."""

    async def collect() -> list[TagEvent]:
        return [await asyncio.wait_for(sub.get(), timeout) for _ in range(n)]

    assert sim.host is not None
    return sim.host.call(collect(), timeout + 1)


class Counter(Attribute):
    """A custom attribute that counts its own reads, storing the count through the funnel."""

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        value = super().__getitem__(key)
        super().__setitem__(0, super().__getitem__(0) + 1)
        return value


def test_a_subscriber_sees_direct_client_and_custom_attribute_writes_with_times_and_sources():
    with Simulator(["X=DINT[4]", "NAME=SSTRING"]) as plc, Simulator(["HITS=DINT"], attribute_class=Counter) as hits:
        sub, hit_sub = plc.subscribe(), hits.subscribe()
        begun = time.time()
        plc["X"] = [1, 2, 3, 4]  # direct
        with RawClient(plc.address, register=True) as c:
            assert c.write(tag("X", 2), "DINT", [30, 40]).status == 0  # a client
            assert c.write(tag("NAME"), "SSTRING", ["pump"]).status == 0
            client = c.sock.getsockname()
        with RawClient(hits.address, register=True) as c:
            assert c.read_values(tag("HITS")) == [0]  # the read makes the custom attribute write
        direct, wrote, named = take(plc, sub, 3)
        (counted,) = take(hits, hit_sub, 1)
        ended = time.time()

    assert (direct.kind, direct.tag, direct.start, direct.count) == ("write", "X", 0, 4)
    assert direct.old_values == [0, 0, 0, 0] and direct.values == [1, 2, 3, 4]
    assert direct.source.kind == "direct"
    assert (wrote.tag, wrote.start, wrote.count, wrote.old_values, wrote.values) == ("X", 2, 2, [3, 4], [30, 40])
    assert wrote.source.kind == "client" and wrote.source.peer == client[:2]
    assert named.values == ["pump"] and named.old_values == [""]
    assert (counted.tag, counted.old_values, counted.values) == ("HITS", [0], [1])
    assert counted.source.kind == "client"  # written by the attribute while serving a client's read
    times = [direct.time, wrote.time, named.time]
    assert begun <= times[0] <= times[1] <= times[2] <= ended and begun <= counted.time <= ended


def test_member_and_bit_writes_are_named_as_the_client_named_them():
    with Simulator(["M=Motor"], udts=["Motor = Speed:REAL, Running:BOOL, Count:DINT"]) as plc:
        sub = plc.subscribe()
        with RawClient(plc.address, register=True) as c:
            speed = (*tag("M"), *tag("Speed"))
            running = (*tag("M"), *tag("Running"))
            assert c.write(speed, "REAL", [1.5]).status == 0
            assert c.write(running, "BOOL", [1]).status == 0
        speed_event, bit_event = take(plc, sub, 2)
    assert (speed_event.tag, speed_event.values, speed_event.old_values) == ("M.Speed", [1.5], [0.0])
    assert (bit_event.tag, bit_event.values, bit_event.old_values) == ("M.Running", [True], [False])


def test_reads_reach_only_the_subscribers_that_ask_for_them():
    with Simulator(["X=DINT"], io_log=0) as plc:
        writes_only, everything = plc.subscribe(), plc.subscribe(reads=True)
        with RawClient(plc.address, register=True) as c:
            for _ in range(3):
                assert c.read_values(tag("X")) == [0]
            assert c.write(tag("X"), "DINT", [9]).status == 0
        assert [e.kind for e in take(plc, everything, 4)] == ["read", "read", "read", "write"]
        assert [e.kind for e in take(plc, writes_only, 1)] == ["write"]
        assert writes_only.pending() == 0


def test_a_reader_waiting_for_events_is_given_a_read_though_reads_wake_nobody():
    with Simulator(["X=DINT"], io_log=0) as plc:
        sub = plc.subscribe(reads=True)
        assert plc.host is not None
        waiting = asyncio.run_coroutine_threadsafe(asyncio.wait_for(sub.get(), 5.0), plc.host.loop)
        time.sleep(0.05)  # the reader is asleep before anything happens
        began = time.monotonic()
        with RawClient(plc.address, register=True) as c:
            assert c.read_values(tag("X")) == [0]
        event = waiting.result(6.0)
        assert (event.kind, event.tag, event.values) == ("read", "X", [0])
        assert time.monotonic() - began < 2.0  # found by the reader's poll (READ_POLL), not at the timeout


def test_a_reads_time_is_when_its_batch_of_requests_was_served():
    with Simulator(["X=DINT[8]"], io_log=0) as plc:
        sub = plc.subscribe(reads=True)
        with RawClient(plc.address, register=True) as c:
            began = time.time()
            assert c.read_values(tag("X", 0)) == [0]  # alone
            c.send(b"".join(c.rr_frame(read_tag(tag("X", i))).encode() for i in range(1, 8)))  # seven in one send
            replies = [c.recv() for _ in range(7)]
            ended = time.time()
        assert all(r.status == 0 for r in replies)
        events = take(plc, sub, 8)
    assert [e.start for e in events] == list(range(8)) and {e.kind for e in events} == {"read"}
    assert all(began <= e.time <= ended for e in events)
    assert events[0].time <= events[1].time
    # requests that arrived together were served as one batch, stamped once (a segment may split them)
    assert len({e.time for e in events[1:]}) <= 2


def test_a_slow_reading_subscriber_loses_the_oldest_reads_and_counts_them():
    with Simulator(["X=DINT[50]"], io_log=0) as plc:
        slow = plc.subscribe(maxsize=5, reads=True)
        with RawClient(plc.address, register=True) as c:
            for i in range(50):
                assert c.read_values(tag("X", i)) == [0]
        wait_for(lambda: slow.pending() == 5 and slow.dropped == 45)
        assert [e.start for e in take(plc, slow, 5)] == [45, 46, 47, 48, 49]


def test_a_failed_access_is_an_event_with_its_status_for_every_listener():
    with Simulator(["X=DINT[4]", "S=SINT"]) as plc:
        sub = plc.subscribe()  # writes only: errors come too, as writes do
        with RawClient(plc.address, register=True) as c:
            assert c.read(tag("X", 2), 3).status == 0xFF  # beyond the end (extended status 0x2105)
            plc.tag("S").error = 8
            assert c.write(tag("S"), "SINT", [1]).status == 8
            assert c.write(tag("X", 1), "DINT", [7]).status == 0
        beyond, forced, fine = take(plc, sub, 3)
        assert (beyond.kind, beyond.tag, beyond.start, beyond.count, beyond.access, beyond.status) == (
            "error", "X", 2, 3, "read", 0xFF)
        assert (forced.kind, forced.tag, forced.access, forced.status) == ("error", "S", "write", 8)
        assert forced.source.kind == "client" and forced.values == [] and "status=0x08" in repr(forced)
        assert fine.kind == "write" and fine.values == [7]
        assert [e.kind for e in plc.io] == ["write"]  # the io log keeps reads and writes only


def test_the_reply_cache_stays_on_with_listeners_and_answers_fresh_values():
    with Simulator(["X=DINT[4]"]) as plc:  # the io log listens to everything
        sub = plc.subscribe(reads=True)
        decoded: list[bytes] = []
        original = plc.controller._decode

        def counting(message, limit, origin):  # type: ignore[no-untyped-def]
            decoded.append(message)
            return original(message, limit, origin)

        plc.controller._decode = counting  # type: ignore[method-assign]
        with RawClient(plc.address, register=True) as c:
            for n in range(5):
                plc["X"] = [n, n, n, n]
                assert c.read_values(tag("X"), 4) == [n] * 4
        assert len(decoded) == 1  # decoded once; then answered from the cache, with fresh bytes
        reads = [e for e in take(plc, sub, 10) if e.kind == "read"]
        assert [e.values for e in reads] == [[n] * 4 for n in range(5)]  # cached reads are still seen
        assert [e.kind for e in plc.io] == ["read"] * 5


def test_a_slow_subscriber_loses_the_oldest_events_and_never_holds_up_a_client():
    with Simulator(["X=DINT"]) as plc:
        slow = plc.subscribe(maxsize=5)
        with RawClient(plc.address, register=True) as c:
            for i in range(50):
                assert c.write(tag("X"), "DINT", [i]).status == 0
        wait_for(lambda: slow.pending() == 5 and slow.dropped == 45)
        assert [e.values for e in take(plc, slow, 5)] == [[i] for i in range(45, 50)]
        assert plc["X"] == 49  # every write was made, and acknowledged


def test_writes_from_other_threads_reach_subscribers_on_the_hosts_loop():
    with Simulator(["X=DINT"]) as plc:
        sub = plc.subscribe()
        loop_threads: list[threading.Thread] = []
        done = threading.Event()

        def writer(base: int) -> None:
            for i in range(10):
                plc["X"] = base + i

        threads = [threading.Thread(target=writer, args=(100 * k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)

        async def consume() -> list[TagEvent]:
            loop_threads.append(threading.current_thread())
            events = [await asyncio.wait_for(sub.get(), 5) for _ in range(40)]
            done.set()
            return events

        assert plc.host is not None
        events = plc.host.call(consume(), 10)
        assert done.is_set() and loop_threads[0].name == plc.host.name
        assert sorted(e.values[0] for e in events) == sorted(100 * k + i for k in range(4) for i in range(10))
        assert all(e.source.kind == "direct" for e in events)


def test_changes_made_on_behalf_of_playback_say_so():
    with Simulator(["X=DINT"]) as plc:
        sub = plc.subscribe()
        with changes_by(PLAYBACK):
            plc["X"] = 7
        plc["X"] = 8
        playback, direct = take(plc, sub, 2)
    assert (playback.source, playback.values) == (PLAYBACK, [7])
    assert direct.source.kind == "direct"


def test_an_attribute_outside_any_controller_emits_nothing_and_a_closed_subscription_ends():
    lone = Attribute("LONE", DINT, 0)
    lone[0] = 5  # no controller, no listeners: nothing to emit, nothing fails
    assert lone[0] == 5
    with Simulator(["X=DINT"]) as plc:
        sub = plc.subscribe()
        sub.close()
        plc["X"] = 1
        assert sub.pending() == 0

        async def ended() -> bool:
            try:
                await asyncio.wait_for(sub.get(), 2)
            except StopAsyncIteration:
                return True
            return False

        assert plc.host is not None and plc.host.call(ended())


def test_the_docs_example_of_watching_changes_runs():
    import contextlib
    import io
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "simulator.md").read_text()
    marker = "<!-- this example runs in tests/server/test_events.py -->"
    code = text.split(marker)[0].rsplit("```python\n", 1)[1].split("```")[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/simulator.md", "exec"), {})
    assert out.getvalue() == "SPEED [0.0] [42.5] direct\n"
