"""The write funnel under misuse: observers that raise, subscribers in many threads, hosts that stop."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading

import pytest

from cpppo.device.events import TagEvents
from cpppo.server.enip import Simulator
from cpppo.server.enip.device import Attribute

from .rawclient import RawClient, tag


def test_an_observer_that_raises_is_logged_and_the_others_and_the_reply_still_come(caplog):
    with Simulator(["X=DINT"]) as plc:
        seen: list[int] = []

        def broken(event):  # type: ignore[no-untyped-def]
            raise ValueError("observer bug")

        plc.controller.observers[:0] = [broken]  # first, ahead of the io log
        plc.controller.observers.append(lambda event: seen.append(event.values[0]))
        with caplog.at_level(logging.ERROR), RawClient(plc.address, register=True) as c:
            assert c.write(tag("X"), "DINT", [7]).status == 0  # the write committed: success, not 0x01
            assert c.read_values(tag("X")) == [7]
            plc["X"] = 8  # a direct write does not raise either
            for n in range(9, 20):
                plc["X"] = n
        assert plc["X"] == 19
        assert 7 in seen and 8 in seen and 19 in seen
        assert [e.values for e in plc.io if e.kind == "write"] == [[7]]
    failures = [r for r in caplog.records if "observer" in r.getMessage()]
    assert len(failures) == 1 and "observer bug" in caplog.text  # once in full, not once per write


def _racing(target, threads: int, timeout: float) -> list[threading.Thread]:  # type: ignore[no-untyped-def]
    """Run ``target`` in ``threads`` threads at once, switching between them as often as Python can."""
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        running = [threading.Thread(target=target) for _ in range(threads)]
        for t in running:
            t.start()
        for t in running:
            t.join(timeout)
    finally:
        sys.setswitchinterval(switch)
    return running


def test_subscribing_and_unsubscribing_from_many_threads_loses_no_subscription():
    events = TagEvents()
    loop = asyncio.new_event_loop()
    subs: list = []
    try:
        def churn() -> None:
            mine = [events.subscribe(loop=loop, reads=True) for _ in range(300)]
            subs.extend(mine)
            for sub in mine[::2]:
                sub.close()

        _racing(churn, 8, 30)
    finally:
        loop.close()
    open_subs = [s for s in subs if not s.closed]
    assert len(open_subs) == 8 * 150
    assert sorted(map(id, events.subscriptions)) == sorted(map(id, open_subs))
    assert events.reads
    for sub in open_subs:
        sub.close()
        sub.close()  # twice: harmless
    assert not events.reads and not events.writes


def test_a_subscription_ends_when_its_simulator_stops():
    plc = Simulator(["X=DINT"]).start()
    sub = plc.subscribe()
    assert plc.host is not None
    host = plc.host
    waiter = asyncio.run_coroutine_threadsafe(sub.get(), host.loop)  # type: ignore[arg-type]
    plc.stop()
    with pytest.raises(StopAsyncIteration):
        waiter.result(5)
    assert sub.closed


class _Slow(Attribute):
    """A custom attribute: its server serves requests in the host's thread pool, several at once."""

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        value = super().__getitem__(key)
        super().__setitem__(0, 5)  # a write event from the pool thread too
        return value


def test_reads_and_writes_from_many_pool_threads_reach_a_bounded_subscription_and_are_counted():
    with Simulator(["X=DINT"], attribute_class=_Slow, io_log=0) as plc:
        sub = plc.subscribe(reads=True, maxsize=50)
        errors: list[BaseException] = []

        def client() -> None:
            try:
                with RawClient(plc.address, register=True) as c:
                    for _ in range(150):
                        assert c.read_values(tag("X")) in ([0], [5])
            except BaseException as exc:
                errors.append(exc)

        threads = _racing(client, 4, 60)
        assert not errors and not any(t.is_alive() for t in threads)
        assert sub.pending() == 50  # bounded: the newest 50 of 1 200 events

        async def drain():  # type: ignore[no-untyped-def]
            return await sub.batch(100)

        assert plc.host is not None
        events = plc.host.call(drain())
        assert len(events) == 50 and sub.pending() == 0
        for event in events:  # each one what it was, from whom
            assert event.tag == "X" and event.source.kind == "client"
            assert (event.kind, event.values) in (("read", [0]), ("read", [5]), ("write", [5]))
        # one dropped count per event lost (several threads racing for the last place may miss a few)
        assert 1100 <= sub.dropped + 50 <= 1200


def test_observers_added_and_removed_change_what_a_read_costs():
    with Simulator(["X=DINT"], io_log=0) as plc:
        events = plc.controller.events
        assert events.read_sink is None and not events.reads  # nobody listens: a read builds nothing
        seen: list[str] = []
        plc.controller.observers.append(lambda e: seen.append(e.kind))
        assert events.reads and events.writes and events.read_sink is not None
        with RawClient(plc.address, register=True) as c:
            assert c.read_values(tag("X")) == [0]
            plc.controller.observers.clear()
            assert events.read_sink is None and not events.writes
            assert c.read_values(tag("X")) == [0]
            plc.controller.observers += [lambda e: seen.append("again " + e.kind)]
            assert c.read_values(tag("X")) == [0]
        assert seen == ["read", "again read"]
