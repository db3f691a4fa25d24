"""The ceiling: a bare asyncio TCP echo server, run as its own process by the benchmark suite.

Every byte received is written straight back, so a client that sends a Read Tag request frame gets
the same frame back as its "reply".  Round trips per second (and the CPU each costs this process)
over loopback bound what any asyncio EtherNet/IP server in Python can do on the same machine.
Prints ``echo listening on HOST:PORT`` once bound; stops on SIGTERM/SIGINT.  Usage::

    .venv/bin/python bench/echo.py [--address 127.0.0.1:0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, host, port, backlog=1024, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    bound = server.sockets[0].getsockname()
    print(f"echo listening on {bound[0]}:{bound[1]}", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-a", "--address", default="127.0.0.1:0", help="HOST:PORT to bind (default 127.0.0.1:0)")
    args = ap.parse_args(argv)
    host, _, port = args.address.rpartition(":")
    asyncio.run(serve(host or "127.0.0.1", int(port or 0)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
