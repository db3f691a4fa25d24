import socket

from cpppo.cip.epath import Symbolic
from cpppo.cip.message import Request
from cpppo.cip.services import LogixService
from cpppo.cip.tag_services import ReadTag
from cpppo.enip.framer import Framer
from cpppo.enip.frames import register_session, reply_message, send_rr_data


def read_dint(host, port, name):
    """The code under test: read one DINT tag from a controller over EtherNet/IP."""
    with socket.create_connection((host, port), timeout=5) as sock:
        framer = Framer()

        def exchange(frame):
            sock.sendall(frame.encode())
            for _ in range(100):
                frames = framer.feed(sock.recv(4096))
                if frames:
                    return frames[0]
            raise TimeoutError("no reply")

        session = exchange(register_session()).session
        request = Request(LogixService.READ_TAG, (Symbolic(name),), ReadTag(1).encode())
        reply = reply_message(exchange(send_rr_data(session, request)))
        return int.from_bytes(reply.data[2:6], "little", signed=True)


def test_reads_the_counter(enip_simulator):
    plc = enip_simulator("COUNTER=DINT", "SPEED=REAL[4]")
    plc["COUNTER"] = 42
    assert read_dint(*plc.address, "COUNTER") == 42
    assert plc.io[-1].kind == "read" and plc.io[-1].tag == "COUNTER"
