"""Many clients at once: 1000 sessions, stalling and flooding peers, concurrent writers, slow attributes."""

from __future__ import annotations

import resource
import selectors
import socket
import struct
import threading
import time

from cpppo.device.tags import Attribute
from cpppo.enip.encapsulation import decode_frame
from cpppo.enip.frames import register_session, reply_message, send_rr_data

from .conftest import wait_for
from .rawclient import RawClient, read_tag, tag, values

SESSIONS = 1000


def _raise_nofile(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))


def _exchange(socks: list[socket.socket], frames: list[bytes], timeout: float = 30.0) -> list[bytes]:
    """Send one frame on every socket, then collect one whole reply frame from each."""
    for s, f in zip(socks, frames):
        s.sendall(f)
    replies: dict[int, bytearray] = {i: bytearray() for i in range(len(socks))}
    done: dict[int, bytes] = {}
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
    deadline = time.monotonic() + timeout
    try:
        while len(done) < len(socks) and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                i = key.data
                chunk = key.fileobj.recv(4096)  # type: ignore[union-attr]
                assert chunk, f"connection {i} closed by the server"
                buf = replies[i]
                buf += chunk
                if len(buf) >= 24 and len(buf) >= 24 + struct.unpack_from("<H", buf, 2)[0]:
                    done[i] = bytes(buf)
                    sel.unregister(key.fileobj)
    finally:
        sel.close()
    assert len(done) == len(socks), f"only {len(done)} of {len(socks)} answered"
    return [done[i] for i in range(len(socks))]


def test_a_thousand_concurrent_sessions(make_sim):
    _raise_nofile(2 * SESSIONS + 200)
    sim = make_sim("COUNT=DINT")
    sim["COUNT"] = 1234
    socks: list[socket.socket] = []
    try:
        for _ in range(SESSIONS):
            socks.append(socket.create_connection(sim.address, timeout=30))
        raw = _exchange(socks, [register_session(i.to_bytes(8, "little")).encode() for i in range(SESSIONS)])
        handles = [struct.unpack_from("<I", r, 4)[0] for r in raw]
        assert all(handles) and len(set(handles)) == SESSIONS
        assert len(sim.server.connections) == SESSIONS  # all held open at once
        reads = [send_rr_data(h, read_tag(tag("COUNT")), i.to_bytes(8, "little")).encode()
                 for i, h in enumerate(handles)]
        for i, r in enumerate(_exchange(socks, reads)):
            frame = decode_frame(r)
            assert frame.context == i.to_bytes(8, "little")
            assert values(reply_message(frame)) == [1234]
    finally:
        for s in socks:
            s.close()


def test_a_client_stalled_mid_frame_is_dropped_and_disturbs_nobody(make_sim):
    sim = make_sim("X=DINT", frame_timeout=0.5)
    sim["X"] = 7
    with RawClient(sim.address, register=True) as staller, RawClient(sim.address, register=True) as other:
        frame = staller.rr_frame(read_tag(tag("X"))).encode()
        staller.send(frame[: len(frame) // 2])  # half a frame, then silence
        for _ in range(20):
            assert other.read_values(tag("X")) == [7]
        assert staller.closed_by_server(timeout=10)
        assert other.read_values(tag("X")) == [7]  # still served after the staller is gone


def test_an_idle_connection_is_closed_after_the_idle_timeout(make_sim):
    sim = make_sim("X=DINT", idle_timeout=0.5)
    with RawClient(sim.address, register=True) as idle, RawClient(sim.address, register=True) as busy:
        deadline = time.monotonic() + 10
        while not idle.closed_by_server(timeout=0.05) and time.monotonic() < deadline:
            assert busy.read_values(tag("X")) == [0]  # keeps talking, so it stays connected
        assert time.monotonic() < deadline, "the idle connection was never closed"
        assert busy.read_values(tag("X")) == [0]


def test_a_flooding_client_affects_only_itself(make_sim):
    sim = make_sim("X=DINT", "Y=INT[200]")
    sim["X"] = 42
    with RawClient(sim.address, register=True) as flood, RawClient(sim.address, register=True) as other:
        batch = b"".join(flood.rr_frame(read_tag(tag("Y"), 200), context=i.to_bytes(8, "little")).encode()
                         for i in range(200))
        flood.sock.settimeout(0.5)
        sent_batches = 0
        try:
            for _ in range(2000):  # until the server stops reading it (it never reads its replies)
                flood.sock.sendall(batch)
                sent_batches += 1
        except TimeoutError:
            pass
        assert sent_batches < 2000, "the server never pushed back on a client that does not read"
        for _ in range(50):
            assert other.read_values(tag("X")) == [42]
        # the flooder's replies are intact and in order once it reads them
        for i in range(400):
            reply = flood.recv()
            assert reply.context == (i % 200).to_bytes(8, "little")
            assert reply_message(reply).status == 0


def test_a_flood_at_a_blocked_custom_attribute_is_pushed_back(make_sim):
    """Requests queued for a blocking attribute are not read without bound: the flooder is paused."""
    release = threading.Event()

    class Gate(Attribute):
        def __getitem__(self, key):
            release.wait(20)
            return super().__getitem__(key)

    sim = make_sim("X=DINT", "Y=DINT", attribute_class=Gate)
    try:
        with RawClient(sim.address, register=True) as flood, RawClient(sim.address, register=True) as other:
            batch = b"".join(flood.rr_frame(read_tag(tag("X"))).encode() for _ in range(500))
            flood.sock.settimeout(0.5)
            sent = 0
            try:
                for _ in range(400):  # 200,000 requests, far more than socket buffers hold
                    flood.sock.sendall(batch)
                    sent += 1
            except TimeoutError:
                pass
            assert sent < 400, "the server kept reading requests it could not serve"
            release.set()
            assert other.read_values(tag("Y")) == [0]
    finally:
        release.set()


def _torn_write_check(sim, writers: int = 4, rounds: int = 150) -> None:
    n = len(sim.tag("ARR"))
    bad: list[list[int]] = []
    errors: list[BaseException] = []
    reads = [0]
    stop = threading.Event()

    def guarded(work):  # an assertion in a thread must fail the test, not just end the thread
        def run(*args):
            try:
                work(*args)
            except BaseException as exc:
                errors.append(exc)
        return run

    def writer(k: int) -> None:
        with RawClient(sim.address, register=True) as c:
            for r in range(rounds):
                v = k * 10000 + r
                assert c.write(tag("ARR"), "DINT", [v] * n).status == 0

    def direct_writer() -> None:
        for r in range(rounds):
            sim["ARR"] = [-r] * n

    def reader() -> None:
        with RawClient(sim.address, register=True) as c:
            for _ in range(10 * rounds):
                if stop.is_set():
                    return
                got = c.read_values(tag("ARR"), n)
                if len(set(got)) != 1:
                    bad.append(got)
                direct = sim["ARR"]
                if len(set(direct)) != 1:
                    bad.append(direct)
                reads[0] += 1

    threads = [threading.Thread(target=guarded(writer), args=(k + 1,)) for k in range(writers)]
    threads.append(threading.Thread(target=guarded(direct_writer)))
    readers = [threading.Thread(target=guarded(reader)) for _ in range(2)]
    for t in threads + readers:
        t.start()
    for t in threads:
        t.join(60)
    stop.set()
    for t in readers:
        t.join(60)
    assert not any(t.is_alive() for t in threads + readers)
    assert not errors, f"a thread failed: {errors[0]!r}"
    assert reads[0] >= 10, "the readers hardly read: the check proved nothing"
    assert not bad, f"torn reads: {bad[:2]}"


def test_concurrent_writers_never_produce_a_torn_read(make_sim):
    _torn_write_check(make_sim("ARR=DINT[100]"))


class _PassThrough(Attribute):
    """A custom attribute (served from the thread pool) that changes nothing."""

    def __getitem__(self, key):
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        super().__setitem__(key, value)


def test_concurrent_writers_through_a_custom_attribute_never_tear(make_sim):
    _torn_write_check(make_sim("ARR=DINT[100]", attribute_class=_PassThrough))


def test_many_clients_at_once_each_see_their_own_writes(make_sim):
    sim = make_sim("SLOTS=DINT[20]")
    errors: list[str] = []

    def client(k: int) -> None:
        with RawClient(sim.address, register=True) as c:
            for r in range(50):
                if c.write(tag("SLOTS", k), "DINT", [k * 1000 + r]).status != 0:
                    errors.append(f"{k}: write failed")
                got = c.read_values(tag("SLOTS", k))
                if got != [k * 1000 + r]:
                    errors.append(f"{k}: read {got}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sim["SLOTS"] == [k * 1000 + 49 for k in range(20)]


def test_a_blocking_custom_attribute_stalls_only_its_own_connection(make_sim):
    entered = threading.Event()
    release = threading.Event()

    class Slow(Attribute):
        def __getitem__(self, key):
            if self.name == "SLOW":
                entered.set()
                release.wait(20)
            return super().__getitem__(key)

    sim = make_sim("SLOW=DINT", "FAST=DINT", attribute_class=Slow)
    sim["FAST"] = 5
    try:
        with RawClient(sim.address, register=True) as slow, RawClient(sim.address, register=True) as fast:
            slow.send(slow.rr_frame(read_tag(tag("SLOW"))))
            wait_for(entered.is_set)
            for _ in range(10):  # answered while the slow read is still blocked
                assert fast.read_values(tag("FAST")) == [5]
            assert fast.write(tag("FAST"), "DINT", [6]).status == 0
            assert not release.is_set()
            assert not slow.pending
            slow.sock.settimeout(0.05)
            try:
                early = slow.sock.recv(1)
            except TimeoutError:
                early = b""
            assert early == b""  # the slow connection's reply has not come yet
            release.set()
            assert reply_message(slow.recv()).status == 0
    finally:
        release.set()
    assert sim["FAST"] == 6


def test_two_simulators_in_one_process_are_independent(make_sim):
    a = make_sim("X=DINT", "ONLY_A=INT", identity={"product_name": "PLC A"})
    b = make_sim("X=DINT", identity={"product_name": "PLC B"})
    assert a.address != b.address
    with RawClient(a.address, register=True) as ca, RawClient(b.address, register=True) as cb:
        assert ca.write(tag("X"), "DINT", [111]).status == 0
        assert cb.write(tag("X"), "DINT", [222]).status == 0
        assert ca.read_values(tag("X")) == [111]
        assert cb.read_values(tag("X")) == [222]
        assert cb.read(tag("ONLY_A")).status == 0x04
        # a session handle of one means nothing to the other
        assert cb.transact(cb.rr_frame(read_tag(tag("X")), session=ca.session)).status == 0x64
        assert ca.cip(bytes((0x0E, 3, 0x20, 0x01, 0x24, 0x01, 0x30, 0x07))).data[1:] == b"PLC A"
        assert cb.cip(bytes((0x0E, 3, 0x20, 0x01, 0x24, 0x01, 0x30, 0x07))).data[1:] == b"PLC B"
    assert [e.values for e in a.io if e.kind == "write"] == [[111]]
    assert [e.values for e in b.io if e.kind == "write"] == [[222]]
    a.stop()
    with RawClient(b.address, register=True) as cb:  # stopping one leaves the other serving
        assert cb.read_values(tag("X")) == [222]
    try:
        socket.create_connection(a.address, timeout=2).close()
        refused = False
    except OSError:
        refused = True
    assert refused
