"""What a review of the client found, each pinned by what a user sees: one-shots with single values,
process/operate as cpppo 5 gives them, depth 0 paced by the caller, nested loops, timeouts among
stray or trickling replies, closing, reopening, and sockets past select()'s 1024 descriptors."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading

import pytest

from cpppo.errors import CommunicationError
from cpppo.server.enip import client
from cpppo.server.enip.aio import AsyncConnector
from cpppo.server.enip.client import parse_operations


@pytest.fixture
def conn(plc):
    with client.connector(*plc.address, timeout=5.0) as c:
        yield c


# -- one-shots take a single value ----------------------------------------------------------------
def test_write_tag_takes_a_single_value(plc, conn):
    assert conn.write_tag("FLOAT", 1.5, tag_type="REAL") is True
    assert conn.write_tag("SCADA[2]", 7) is True
    assert conn.write_tag("NAME", "hello", tag_type="STRING") is True
    assert conn.write_tag("TEXT[1]", "hi", tag_type="SSTRING") is True
    assert (plc["FLOAT"], plc["SCADA"][2], plc["NAME"], plc["TEXT"][1]) == (1.5, 7, "hello", "hi")
    assert conn.read_tag("NAME") == ["hello"]


def test_write_tag_single_value_on_asyncio(plc):
    async def main():
        async with AsyncConnector(*plc.address, timeout=5.0) as a:
            return await a.write("FLOAT", 2.5, tag_type="REAL"), await a.write("NAME", "async")
    assert asyncio.run(main()) == (True, True)
    assert (plc["FLOAT"], plc["NAME"]) == (2.5, "async")


def test_set_attribute_takes_a_single_value(make_sim):
    sim = make_sim("FLOAT@22/1/3=REAL", "COUNT@22/1/4=DINT")
    with client.connector(*sim.address, timeout=5.0) as c:
        assert c.set_attribute("@22/1/3", 4.5, tag_type="REAL") is True
        assert c.set_attribute("@22/1/4", -3, tag_type="DINT") is True
        assert c.get_attribute("@22/1/3", tag_type="REAL") == [4.5]
    assert (sim["FLOAT"], sim["COUNT"]) == (4.5, -3)


def test_a_string_value_is_one_string_not_its_characters(make_sim):
    """Operation dicts whose data is a str: a STRING, an SSTRING, and (on a Logix) a STRING structure."""
    sim = make_sim("NAME=STRING", "TEXT=SSTRING[2]", "LABEL=STRING")
    ops = [{"method": "write", "path": [{"symbolic": "NAME"}], "tag_type": 0xD0, "data": "abc", "elements": 1},
           {"method": "write", "path": [{"symbolic": "TEXT"}, {"element": 1}], "tag_type": 0xDA, "data": "xyz",
            "elements": 1}]
    with client.connector(*sim.address, timeout=5.0) as c:
        assert list(c.results(ops)) == [True, True]
    assert (sim["NAME"], sim["TEXT"]) == ("abc", ["", "xyz"])
    with client.connector(*sim.address, timeout=5.0, logix=True) as c:
        op = {"method": "write", "path": [{"symbolic": "LABEL"}], "tag_type": 0x2A0, "data": "pump", "elements": 1}
        assert list(c.results([op])) == [True]
        assert c.write_tag("NAME", "logix") is True
    assert (sim["LABEL"], sim["NAME"]) == ("pump", "logix")


# -- process / operate / pipeline as cpppo 5.2.5 gives them ---------------------------------------
def test_process_gives_true_for_a_write_and_idx_starts_at_zero_each_call(plc, conn):
    plc["Tag"] = [0] * 10
    ops = ["Tag[0-2]=(DINT)1,2,3", "Tag[0-3]", "NOPE"]
    assert conn.process(parse_operations(ops)) == (1, [True, [1, 2, 3, 0], None])
    assert conn.process(parse_operations(ops), depth=2) == (1, [True, [1, 2, 3, 0], None])
    assert conn.process(parse_operations(ops[:2]), printing=True) == (0, [[1, 2, 3], [1, 2, 3, 0]])
    for _ in range(2):
        assert [(r[0], r[5]) for r in conn.operate(parse_operations(ops[:2]))] == [(0, True), (1, [1, 2, 3, 0])]
        assert [r[0] for r in conn.pipeline(parse_operations(ops), depth=2)] == [0, 1, 2]
        assert [r[0] for r in conn.synchronous(parse_operations(ops))] == [0, 1, 2]
    assert [r[0] for r in conn.pipeline(parse_operations(ops), index=10)] == [10, 11, 12]
    assert [(r[0], r[5]) for r in conn.operate(parse_operations(ops[:1]), validating=True)] == [(0, [1, 2, 3])]


def test_process_gives_true_for_a_write_on_asyncio(plc):
    async def main():
        async with AsyncConnector(*plc.address, timeout=5.0) as a:
            first = await a.process(parse_operations(["Tag[0]=(DINT)5", "Tag[0]"]))
            idx = [r[0] async for r in a.pipeline(parse_operations(["Tag[0]", "Tag[1]"]))]
            return first, idx
    assert asyncio.run(main()) == ((0, [True, [5]]), [0, 1])


def test_the_tag_list_batching_procedure_is_named_for_what_it_is():
    """``tag_list.Batches``: a generator of operation batches, not a ``procedures.Procedure`` of effects."""
    import typing

    from cpppo.client import procedures, tag_list
    assert typing.get_type_hints(tag_list.upload)["return"] == tag_list.Batches
    assert typing.get_type_hints(procedures.run_batches)["proc"] == tag_list.Batches
    assert not hasattr(tag_list, "Procedure")


# -- sockets past select()'s limit ----------------------------------------------------------------
def test_connector_works_with_a_descriptor_past_1024(make_sim):
    """select() cannot wait on descriptor 1024 or above; a process with many files open still talks."""
    import os
    import resource

    sim = make_sim("X=DINT[4]")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 1200 if hard == resource.RLIM_INFINITY else min(hard, 1200)
    opened: list[int] = []
    try:
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        for _ in range(1100):  # bounded: enough to push the next descriptor past 1024
            fd = os.open(os.devnull, os.O_RDONLY)
            opened.append(fd)
            if fd >= 1030:
                break
        with client.connector(*sim.address, timeout=5.0) as c:
            assert c.conn.fileno() >= 1024
            assert c.write_tag("X[0-1]=(DINT)5,6") is True
            assert list(c.results(parse_operations(["X[0-3]", "X[1]"]), depth=2)) == [[5, 6, 0, 0], [6]]
            c.list_identity()
            rpy, _ = client.await_response(c, timeout=5.0)
            assert rpy.enip.CIP.list_identity.CPF.item[0].identity_object.product_name
        with client.client(*sim.address, udp=True) as u:
            assert u.conn.fileno() >= 1024
            u.list_identity()
            rpy, _ = client.await_response(u, timeout=5.0)
            assert rpy.enip.CIP.list_identity.CPF.count == 1
    finally:
        for fd in opened:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# -- depth 0: the caller sets the pace ------------------------------------------------------------
def _paced_ops(log: list[str], n: int = 3):
    for i in range(n):
        log.append(f"op{i}")
        yield {"method": "read", "path": [{"symbolic": "X"}], "elements": 1}


def test_depth_zero_sends_each_request_after_the_caller_has_the_previous_result(make_sim):
    sim = make_sim("X=DINT")
    with client.connector(*sim.address, timeout=5.0) as c:
        for run in (c.synchronous, c.operate, lambda ops: c.pipeline(ops, depth=0)):
            log: list[str] = []
            sim["X"] = 0
            values = []
            for result in run(_paced_ops(log)):
                log.append("result")
                values.append(result[5][0])
                sim["X"] = values[-1] + 1  # the next read, sent after this, sees it
            assert log == ["op0", "result", "op1", "result", "op2", "result"]
            assert values == [0, 1, 2]


def test_depth_zero_paced_on_asyncio(make_sim):
    sim = make_sim("X=DINT")

    async def main():
        log: list[str] = []
        async with AsyncConnector(*sim.address, timeout=5.0) as a:
            async for result in a.operate(_paced_ops(log)):
                log.append("result")
                sim["X"] = result[5][0] + 1
        return log
    assert asyncio.run(main()) == ["op0", "result", "op1", "result", "op2", "result"]
    assert sim["X"] == 3


# -- a scripted device: timeouts among stray replies and replies in pieces -----------------------
@contextlib.contextmanager
def scripted_server(on_request):
    """A TCP device that registers sessions and hands each SendRRData frame, with its connection
    and the (status 0, two DINTs) Read Tag reply to it, to ``on_request(conn, frame, reply)``."""
    from cpppo.cip.message import encode_reply
    from cpppo.cip.services import LogixService
    from cpppo.cip.types import TypeCode
    from cpppo.enip.cpf import NullAddress, SendData, UnconnectedData
    from cpppo.enip.encapsulation import HEADER, Command, decode_frame

    data = encode_reply(LogixService.READ_TAG, 0, (), struct.pack("<Hii", TypeCode.DINT, 7, 8))
    answer = SendData((NullAddress(), UnconnectedData(data)), 0, 0).encode()
    lsock = socket.create_server(("127.0.0.1", 0))
    lsock.settimeout(0.1)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def recv_exactly(conn, size):
        buf = b""
        while len(buf) < size:
            got = conn.recv(size - len(buf))
            if not got:
                raise EOFError
            buf += got
        return buf

    def session(conn):
        with conn, contextlib.suppress(OSError, EOFError):
            conn.settimeout(10)
            while not stop.is_set():
                head = recv_exactly(conn, HEADER.size)
                frame = decode_frame(head + recv_exactly(conn, HEADER.unpack(head)[1]))
                if frame.command == Command.REGISTER_SESSION:
                    conn.sendall(frame.reply(frame.data, session=0x1234).encode())
                elif frame.command == Command.SEND_RR_DATA:
                    on_request(conn, frame, frame.reply(answer).encode(), stop)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
            except OSError:
                continue
            t = threading.Thread(target=session, args=(conn,), daemon=True)
            t.start()
            threads.append(t)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield lsock.getsockname()[:2]
    finally:
        stop.set()
        server.join(5)
        lsock.close()
        for t in threads:
            t.join(5)


def _stray_every(interval: float, most: int, sent: list[int]):
    """Answer nothing; send a reply to no request (another sender context) every ``interval``."""
    def on_request(conn, frame, reply, stop):
        stray = reply[:12] + b"STRAY\0\0\0" + reply[20:]
        for _ in range(most):
            if stop.wait(interval):
                return
            conn.sendall(stray)
            sent[0] += 1
    return on_request


def test_timeout_is_honoured_among_stray_replies():
    sent = [0]
    with scripted_server(_stray_every(0.2, 40, sent)) as address:  # strays for 8 s, if nobody hangs up
        with client.connector(*address, timeout=1.0) as c, pytest.raises(CommunicationError) as exc:
            c.read_tag("X")
        assert "stray" in str(exc.value) and c.link.strays >= 1
        assert sent[0] < 40  # it gave up while the strays kept coming


def test_timeout_is_honoured_among_stray_replies_on_asyncio():
    sent = [0]

    async def main(address):
        async with AsyncConnector(*address, timeout=1.0) as a:
            with pytest.raises(CommunicationError, match="stray"):
                await a.read_tag("X")
    with scripted_server(_stray_every(0.2, 40, sent)) as address:
        asyncio.run(main(address))
        assert sent[0] < 40


def test_timeout_is_honoured_when_a_reply_comes_in_pieces():
    """The first byte of the reply at 1 s, the rest at 2.5 s: a 2 s timeout has run out by then."""
    def on_request(conn, frame, reply, stop):
        if not stop.wait(1.0):
            conn.sendall(reply[:1])
        if not stop.wait(1.5):
            conn.sendall(reply[1:])
    with scripted_server(on_request) as address, client.connector(*address, timeout=2.0) as c, \
            pytest.raises(CommunicationError, match=r"within 2\.0s"):
        c.read_tag("X")


# -- nested loops: replies go to the loop they answer --------------------------------------------
def test_a_pipeline_inside_another_pipelines_loop(plc, conn):
    plc["Tag"] = list(range(10))
    plc["SCADA"] = list(range(1000))
    outer, inner = [], []
    for idx, _, _, _, _, val in conn.pipeline(parse_operations([f"Tag[{i}]" for i in range(10)]), depth=5):
        outer.append((idx, val))
        if idx in (1, 6):
            inner.append(list(conn.results(parse_operations(["SCADA[1-3]", "SCADA[500]"]), depth=3)))
            inner.append(conn.read_tag("SCADA[9]"))
            inner.append([r[5] for r in conn.synchronous(parse_operations(["SCADA[7]"]))])
    assert outer == [(i, [i]) for i in range(10)]
    assert inner == [[[1, 2, 3], [500]], [9], [[7]]] * 2
    assert conn.link.strays == 0


# -- closing: Forward Close and Unregister Session, once -----------------------------------------
@contextlib.contextmanager
def recording_proxy(target):
    """A TCP proxy to ``target`` that records the encapsulation command of every frame clients send."""
    from cpppo.enip.encapsulation import HEADER

    lsock = socket.create_server(("127.0.0.1", 0))
    lsock.settimeout(0.1)
    stop = threading.Event()
    commands: list[int] = []
    threads: list[threading.Thread] = []

    def pump(src, dst, record):
        buf = b""
        with contextlib.suppress(OSError):
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record:
                    buf += data
                    while len(buf) >= HEADER.size and len(buf) >= HEADER.size + HEADER.unpack_from(buf)[1]:
                        commands.append(HEADER.unpack_from(buf)[0])
                        buf = buf[HEADER.size + HEADER.unpack_from(buf)[1]:]
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
            except OSError:
                continue
            up = socket.create_connection(target)
            for args in ((conn, up, True), (up, conn, False)):
                t = threading.Thread(target=pump, args=args, daemon=True)
                t.start()
                threads.append(t)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield lsock.getsockname()[:2], commands
    finally:
        stop.set()
        server.join(5)
        lsock.close()
        for t in threads:
            t.join(5)


_REGISTER, _UNREGISTER, _RR, _UNIT = 0x65, 0x66, 0x6F, 0x70


def test_close_sends_forward_close_and_unregister_once(make_sim):
    sim = make_sim("X=DINT[4]")
    with recording_proxy(sim.address) as (address, commands):
        with client.connector(*address, timeout=5.0, connected=True) as c:
            assert list(c.results(parse_operations(["X[0-3]"]))) == [[0, 0, 0, 0]]
            c.close()
            c.close()
        assert _wait_for(lambda: _UNREGISTER in commands)
        assert commands == [_REGISTER, _RR, _UNIT, _RR, _UNREGISTER]  # Forward Open ... Forward Close
        assert len(sim.controller.connections) == 0

        async def main():
            async with AsyncConnector(*address, timeout=5.0, connected=True) as a:
                assert await a.read("X[1]") == [0]
                await a.close()
                await a.close()
        del commands[:]
        asyncio.run(main())
        assert _wait_for(lambda: _UNREGISTER in commands)
        assert commands == [_REGISTER, _RR, _UNIT, _RR, _UNREGISTER]
        assert len(sim.controller.connections) == 0


def _wait_for(check, within: float = 5.0) -> bool:
    import time
    end = time.monotonic() + within
    while not check() and time.monotonic() < end:
        time.sleep(0.01)
    return check()


# -- reopening: after close, a failure, or the device restarting ---------------------------------
def _half_reply_first(calls: list[int]):
    """The first request gets a third of its reply and then silence; later ones the whole reply."""
    def on_request(conn, frame, reply, stop):
        calls[0] += 1
        conn.sendall(reply[: len(reply) // 3] if calls[0] == 1 else reply)
    return on_request


def test_reopen_after_a_timeout_mid_reply():
    calls = [0]
    with scripted_server(_half_reply_first(calls)) as address:
        c = client.connector(*address, timeout=1.0)
        with pytest.raises(CommunicationError):
            c.read_tag("X[0-1]")
        c.close()
        with c:  # a closed connector opens again: a new connection and session
            assert c.read_tag("X[0-1]") == [7, 8]
        assert c.conn is None
        c.open()
        assert c.read_tag("X[0-1]") == [7, 8]
        c.close()

        async def main():
            a = AsyncConnector(*address, timeout=1.0)
            async with a:
                return await a.read("X[0-1]")
        assert asyncio.run(main()) == [7, 8]

        calls[0] = 0

        async def again():
            a = AsyncConnector(*address, timeout=1.0)
            await a.open()
            with pytest.raises(CommunicationError):
                await a.read("X[0-1]")
            await a.close()
            await a.open()
            try:
                return await a.read("X[0-1]")
            finally:
                await a.close()
        assert asyncio.run(again()) == [7, 8]


def test_reopen_after_the_device_restarts(make_sim):
    sim = make_sim("X=DINT[4]", "M=Motor", udts=["Motor = Speed:REAL, Count:DINT"])
    address = sim.address
    c = client.connector(*address, timeout=2.0, connected=True, logix=True)
    assert c.read_tag("M") == [{"Speed": 0.0, "Count": 0}]
    sim.stop()
    with pytest.raises(CommunicationError):
        c.read_tag("X[0]")
    sim = make_sim("X=DINT[4]", "M=Motor", udts=["Motor = Count:DINT, Speed:REAL"], address=address)
    sim["X"] = [1, 2, 3, 4]
    c.open()  # a new session, connection and tag list: this device's, not the old one's
    assert c.read_tag("X[0-3]") == [1, 2, 3, 4]
    assert c.read_tag("M") == [{"Count": 0, "Speed": 0.0}]
    assert c.core.connection is not None
    c.close()


def test_forward_open_again_closes_the_connection_already_open(make_sim):
    sim = make_sim("X=DINT")
    with client.connector(*sim.address, timeout=5.0, connected=True) as c:
        c.forward_open()
        c.forward_open(500)
        assert len(sim.controller.connections) == 1
        assert c.read_tag("X") == [0]

    async def main():
        async with AsyncConnector(*sim.address, timeout=5.0, connected=True) as a:
            await a.forward_open()
            count = len(sim.controller.connections)
            return count, await a.read("X")
    assert asyncio.run(main()) == (1, [0])
    assert len(sim.controller.connections) == 0


def test_asyncio_close_while_another_task_waits_for_a_silent_device():
    """close() must not wait for the request another task has outstanding (timeout None): it ends it."""
    from .support import silent_server

    async def main(address):
        a = AsyncConnector(*address, timeout=None)
        await a.open()
        waiting = asyncio.ensure_future(a.read("X"))
        await asyncio.sleep(0.2)
        await asyncio.wait_for(a.close(), 5.0)
        with pytest.raises(CommunicationError):
            await asyncio.wait_for(waiting, 5.0)
    with silent_server() as address:
        asyncio.run(main(address))


def test_a_set_attribute_result_stays_true_when_printing(make_sim, capsys):
    """cpppo 5's validate fills in the data of Write Tag results only; Set Attribute Single gives True."""
    path = [{"class": 22}, {"instance": 1}, {"attribute": 3}]
    ops = [{"method": "set_attribute_single", "path": path, "tag_type": 0xCA, "data": [1.5], "elements": 1},
           {"method": "get_attribute_single", "path": path}]
    sim = make_sim("FLOAT@22/1/3=REAL")
    with client.connector(*sim.address, timeout=5.0) as c:
        assert c.process(ops, printing=True) == (0, [True, [0, 0, 192, 63]])
    assert "<= [1.5]: 'OK'" in capsys.readouterr().out
