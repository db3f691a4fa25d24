"""A device that answers a read with success but less data than was asked for: the operation fails
at once (the engine's bad-reply status), in the blocking and the asyncio client and on the command
line, instead of waiting forever for data that cannot come."""

from __future__ import annotations

import asyncio

import pytest

from cpppo.cip.status import GeneralStatus
from cpppo.client.cli import client_main
from cpppo.server.enip.aio import AsyncConnector, RequestFailed
from cpppo.server.enip.client import connector, parse_operations

from .support import short_read_server

pytestmark = pytest.mark.timeout(30)  # before the fix, each of these spun forever


def test_blocking_short_read_fails():
    with short_read_server() as (host, port), connector(host, port, timeout=5) as conn:
        results = list(conn.pipeline(parse_operations(["X[0-3]", "X[0-1]"]), depth=2))
        assert [(r[4], r[5]) for r in results] == [(GeneralStatus.INVALID_REPLY_RECEIVED, None), (0, [0, 1])]
        assert conn.process(parse_operations(["X[0-3]"])) == (1, [None])


def test_asyncio_short_read_fails():
    async def main(host, port):
        async with AsyncConnector(host, port, timeout=5) as conn:
            with pytest.raises(RequestFailed) as info:
                await conn.read("X[0-3]")
            assert info.value.status == GeneralStatus.INVALID_REPLY_RECEIVED
            assert await conn.read("X[0-1]") == [0, 1]

    with short_read_server() as (host, port):
        asyncio.run(main(host, port))


def test_command_line_short_read_exits_1(capsys):
    with short_read_server() as (host, port):
        status = client_main(["-a", f"{host}:{port}", "-p", "X[0-3]"])
    out = capsys.readouterr().out.splitlines()
    assert status == 1
    assert len(out) == 1 and out[0].startswith("X[0-3] == None")
