"""The host: one event loop for any number of simulators and other services, started and stopped as one."""

from __future__ import annotations

import asyncio
import threading

import pytest

from cpppo.server.enip import Simulator
from cpppo.server.host import Host

from .conftest import wait_for
from .rawclient import RawClient, tag


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_a_hundred_embedded_simulators_share_one_loop_in_one_thread():
    before = threading.active_count()
    sims = [Simulator([f"N{i}=DINT"]) for i in range(100)]
    try:
        for i, sim in enumerate(sims):
            sim.start()
            sim[f"N{i}"] = i * 3
        assert threading.active_count() <= before + 1  # the shared host's one thread, not a hundred
        hosts = {id(sim.host) for sim in sims}
        assert len(hosts) == 1
        assert len(next(iter(sims)).host.services) == 100  # type: ignore[union-attr]
        for i in (0, 37, 99):  # each answers on its own port, with its own tags
            with RawClient(sims[i].address, register=True) as c:
                assert c.read_values(tag(f"N{i}")) == [i * 3]
    finally:
        for sim in sims:
            sim.stop()
    wait_for(lambda: threading.active_count() <= before)  # the last one stopped the shared host


def test_the_shared_host_lives_while_any_simulator_does():
    a = Simulator(["A=DINT"]).start()
    b = Simulator(["B=DINT"]).start()
    try:
        assert a.host is b.host and a.host is not None and a.host.running
        host = a.host
        a.stop()
        assert host.running  # b still uses it
        with RawClient(b.address, register=True) as c:
            assert c.read_values(tag("B")) == [0]
    finally:
        a.stop()
        b.stop()
    wait_for(lambda: not host.running)


def test_a_host_of_your_own_runs_simulators_and_tasks_and_stops_them_as_one():
    host = Host(name="test-host").start()
    ticks: list[int] = []

    async def ticker() -> None:
        for n in range(1_000_000):
            ticks.append(n)
            await asyncio.sleep(0.01)

    try:
        first = Simulator(["X=DINT"], host=host).start()
        second = Simulator(["Y=DINT"], host=host).start()
        assert first.host is host and second.host is host
        task = host.call(_spawn(host, ticker()))
        wait_for(lambda: len(ticks) >= 3)
        with RawClient(first.address, register=True) as c, RawClient(second.address, register=True) as d:
            assert c.write(tag("X"), "DINT", [5]).status == 0
            assert d.read_values(tag("Y")) == [0]
        assert first["X"] == 5
        address = first.address
    finally:
        host.stop()  # everything on it: both servers, the ticker, the sweeper
    assert task.cancelled()
    assert not host.running
    with pytest.raises(OSError):
        RawClient(address)
    assert "test-host" not in _threads()


async def _spawn(host: Host, coro):  # type: ignore[no-untyped-def]
    return host.spawn(coro)


def test_one_sweeper_serves_every_server_on_the_host():
    with Simulator(["X=DINT"], frame_timeout=0.2) as a, Simulator(["Y=DINT"], frame_timeout=0.2) as b:
        assert a.host is b.host
        sweepers = [t for t in asyncio.all_tasks(a.host.loop) if "sweeper" in t.get_name()]  # type: ignore[union-attr, arg-type]
        assert len(sweepers) == 1
        clients = [RawClient(a.address), RawClient(b.address)]
        try:
            for c in clients:  # half a frame each: both are dropped by the one sweeper
                c.send(b"\x65\x00\x04")
            for c in clients:
                assert c.closed_by_server(timeout=5)
        finally:
            for c in clients:
                c.close()


def test_custom_attributes_of_every_simulator_share_the_hosts_thread_pool():
    from cpppo.server.enip.device import Attribute

    seen: set[str] = set()

    class Slow(Attribute):
        def __getitem__(self, key):  # type: ignore[no-untyped-def]
            seen.add(threading.current_thread().name)
            return super().__getitem__(key)

    with Simulator(["X=DINT"], attribute_class=Slow) as a, Simulator(["Y=DINT"], attribute_class=Slow) as b:
        for sim, name in ((a, "X"), (b, "Y")):
            with RawClient(sim.address, register=True) as c:
                assert c.read_values(tag(name)) == [0]
        assert seen and all(name.startswith(f"{a.host.name}-io") for name in seen)  # type: ignore[union-attr]


def test_a_failing_service_start_leaves_the_host_usable():
    with Simulator(["X=DINT"]) as first:
        clash = Simulator(["X=DINT"], address=first.address)
        with pytest.raises(OSError):
            clash.start()
        assert clash.host is None
        with RawClient(first.address, register=True) as c:
            assert c.read_values(tag("X")) == [0]
