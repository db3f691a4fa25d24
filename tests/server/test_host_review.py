"""The host under misuse: stopped from its own thread, started twice, shared and released out of turn."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time

import pytest

from cpppo.server.enip import Simulator
from cpppo.server.enip.transport import EnipServer
from cpppo.server.host import Host

from .conftest import wait_for
from .rawclient import RawClient, tag


def test_stopping_a_host_from_its_own_loop_thread_neither_deadlocks_nor_raises():
    host = Host(name="self-stopper").start()
    sim = Simulator(["X=DINT"], host=host).start()
    address = sim.address
    done = threading.Event()
    errors: list[BaseException] = []

    def stop_here() -> None:
        try:
            host.stop()
        except BaseException as exc:  # what the test reports
            errors.append(exc)
        done.set()

    assert host.loop is not None
    begun = time.monotonic()
    host.loop.call_soon_threadsafe(stop_here)
    assert done.wait(20)
    assert errors == []
    wait_for(lambda: not host.running, timeout=5)
    assert time.monotonic() - begun < 5  # not the 10 s of a call() waiting on itself
    with pytest.raises(OSError):
        RawClient(address).close()  # the server is gone with its host


def test_calling_into_the_host_from_its_own_thread_says_so_instead_of_hanging():
    host = Host(name="self-caller").start()
    try:
        async def inner() -> int:
            return 1

        async def outer() -> str:
            try:
                host.call(inner(), timeout=5)
            except RuntimeError as exc:
                return str(exc)
            return "no error"

        assert "own loop" in host.call(outer(), timeout=10)
    finally:
        host.stop()


def test_adding_a_service_twice_is_refused_and_leaves_it_serving():
    host = Host(name="twice").start()
    try:
        sim = Simulator(["X=DINT"], host=host).start()
        sim["X"] = 5
        with pytest.raises(RuntimeError, match="already"):
            host.call(host.add(sim.server))
        with pytest.raises(RuntimeError, match="already"):
            host.call(sim.server.start(host))
        assert host.services.count(sim.server) == 1
        with RawClient(sim.address, register=True) as c:
            assert c.read_values(tag("X")) == [5]
        sim.stop()
        with pytest.raises(OSError):
            RawClient(sim.address).close()  # no second listener left behind
    finally:
        host.stop()


def test_a_host_serving_in_the_foreground_is_not_started_again_in_the_background():
    host = Host(name="fg")
    server = EnipServer(Simulator(["X=DINT"]).controller, "127.0.0.1", 0)
    outcome: list[object] = []

    def ready() -> None:
        try:
            host.start()
        except RuntimeError as exc:
            outcome.append(exc)

    host.run(server, ready=ready, stop=lambda: bool(outcome))
    assert len(outcome) == 1 and "running" in str(outcome[0])


def test_a_host_already_in_the_background_cannot_also_serve_in_the_foreground():
    host = Host(name="bg").start()
    try:
        sim = Simulator(["X=DINT"], host=host).start()
        with pytest.raises(RuntimeError, match="running"):
            host.run(EnipServer(sim.controller, "127.0.0.1", 0), stop=lambda: True)
        with RawClient(sim.address, register=True) as c:  # what ran before still runs
            assert c.read_values(tag("X")) == [0]
    finally:
        host.stop()


def test_the_shared_host_after_it_died_is_replaced_and_the_replacement_stops_with_its_last_user():
    first = Host.acquire()
    second_user = Host.acquire()
    assert first is second_user
    first.stop()  # stopped behind the users' backs
    fresh = Host.acquire()
    assert fresh is not first and fresh.running
    Host.release(first)  # the old host's users let go late: harmless
    Host.release(first)
    assert fresh.running
    Host.release(fresh)
    wait_for(lambda: not fresh.running, timeout=5)
    again = Host.acquire()
    try:
        assert again.running and again is not fresh
        sim = Simulator(["X=DINT"]).start()
        assert sim.host is again
        sim.stop()
        assert again.running  # our own acquire holds it
    finally:
        Host.release(again)
    wait_for(lambda: not again.running, timeout=5)


def test_releasing_a_host_never_acquired_is_harmless():
    with Simulator(["X=DINT"]) as sim:
        shared = sim.host
        assert shared is not None
        Host.release(Host(name="stranger"))
        with RawClient(sim.address, register=True) as c:
            assert c.read_values(tag("X")) == [0]
    assert not shared.running


def test_tasks_left_on_a_stopped_background_host_are_cancelled_not_destroyed_pending():
    host = Host(name="leftovers").start()
    assert host.loop is not None

    async def forever() -> None:
        await asyncio.sleep(3600)

    future = asyncio.run_coroutine_threadsafe(forever(), host.loop)
    time.sleep(0.05)
    host.stop()
    with pytest.raises(concurrent.futures.CancelledError):
        future.result(5)


def test_a_server_restarts_on_the_port_it_just_left_even_after_serving_clients():
    first = Simulator(["X=DINT"]).start()
    port = first.address[1]
    with RawClient(first.address, register=True) as c:
        assert c.read_values(tag("X")) == [0]
        first.stop()  # the server closes first: its side of the connection lingers in TIME_WAIT
        assert c.closed_by_server(timeout=5)
    for round_ in range(3):
        again = Simulator(["X=DINT"], address=("127.0.0.1", port)).start()
        try:
            again["X"] = round_
            with RawClient(again.address, register=True) as c:
                assert c.read_values(tag("X")) == [round_]
        finally:
            again.stop()


def test_an_enip_server_object_stopped_can_be_started_again_on_its_host():
    host = Host(name="restart").start()
    try:
        sim = Simulator(["X=DINT"], host=host).start()
        sim.stop()
        sim.start()
        with RawClient(sim.address, register=True) as c:
            assert c.read_values(tag("X")) == [0]
        sim.stop()
    finally:
        host.stop()


def test_a_simulator_stopped_from_a_callback_on_its_hosts_loop_stops_serving():
    with Simulator(["KEEP=DINT"]) as keeper:  # keeps the shared host running
        sim = Simulator(["X=DINT"]).start()
        address = sim.address
        assert sim.host is keeper.host and sim.host is not None and sim.host.loop is not None
        done = threading.Event()
        errors: list[BaseException] = []

        def stop_here() -> None:
            try:
                sim.stop()
            except BaseException as exc:  # what the test reports
                errors.append(exc)
            done.set()

        sim.host.loop.call_soon_threadsafe(stop_here)
        assert done.wait(20) and errors == []

        def refused() -> bool:
            try:
                RawClient(address).close()
            except OSError:
                return True
            return False

        wait_for(refused, timeout=5)
        with RawClient(keeper.address, register=True) as c:
            assert c.read_values(tag("KEEP")) == [0]


def test_serving_in_the_foreground_a_simulator_already_started_is_refused_and_it_still_stops():
    sim = Simulator(["X=DINT"]).start()
    address = sim.address
    with pytest.raises(RuntimeError, match="already"):
        sim.serve_forever(stop=lambda: True)
    with RawClient(address, register=True) as c:
        assert c.read_values(tag("X")) == [0]
    sim.stop()
    with pytest.raises(OSError):
        RawClient(address).close()
