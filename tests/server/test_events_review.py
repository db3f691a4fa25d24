"""The write funnel under misuse: observers that raise, subscribers in many threads, hosts that stop."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading

import pytest

from cpppo.device.events import TagEvents
from cpppo.server.enip import Simulator

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


def test_subscribing_and_unsubscribing_from_many_threads_loses_no_subscription():
    events = TagEvents()
    loop = asyncio.new_event_loop()
    subs: list = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        def churn() -> None:
            mine = [events.subscribe(loop=loop, reads=True) for _ in range(300)]
            subs.extend(mine)
            for sub in mine[::2]:
                sub.close()

        threads = [threading.Thread(target=churn) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        sys.setswitchinterval(switch)
        loop.close()
    open_subs = [s for s in subs if not s.closed]
    assert len(open_subs) == 8 * 150
    assert sorted(map(id, events._subscriptions)) == sorted(map(id, open_subs))
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
