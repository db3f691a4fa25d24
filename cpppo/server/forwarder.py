"""Carrying :class:`~cpppo.device.backplane.Forward` effects to remote devices, on the host's loop.

A controller whose route path leads to a :class:`~cpppo.device.backplane.RemoteTarget` returns a
Forward effect; its host hands it to a :class:`Forwarder`, which is a client of the target: one
registered EtherNet/IP session per target, opened on first use and kept, over which the message
goes bare in SendRRData (it already holds whatever Unconnected Send the rest of the route needs)
and whose reply comes back as it is.  A session that fails is dropped, so the next request
reconnects.  Requests to one target share its session one at a time; different targets, and
everything else on the loop, go on meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ..client.aio import AsyncConnector
from ..device.backplane import Forward, Relay, RemoteTarget
from ..errors import CommunicationError

__all__ = ["Forwarder"]

log = logging.getLogger(__name__)


class Forwarder:
    """A client session per remote target, carrying forwarded requests there."""

    def __init__(self) -> None:
        self._sessions: dict[RemoteTarget, AsyncConnector] = {}
        self._opening: dict[RemoteTarget, asyncio.Lock] = {}
        self._relays: dict[Relay, AsyncConnector] = {}  # a relayed client connection: the router's own there
        self._relay_locks: dict[Relay, asyncio.Lock] = {}

    async def __call__(self, effect: Forward) -> bytes:
        """The target's CIP reply to ``effect.message`` (CommunicationError if it cannot be had)."""
        if effect.relay is not None:
            return await self._relayed(effect, effect.relay)
        target = effect.target
        session = await self._session(target)
        try:
            return await session.cip_request(effect.message, timeout=target.timeout)
        except (CommunicationError, OSError):
            await self._drop(target, session)
            raise

    async def _session(self, target: RemoteTarget) -> AsyncConnector:
        session = self._sessions.get(target)
        if session is not None:
            return session
        lock = self._opening.setdefault(target, asyncio.Lock())
        async with lock:  # one connect per target, however many requests wait for it
            session = self._sessions.get(target)
            if session is None:
                session = AsyncConnector(target.host, target.port, timeout=target.timeout, simple=True)
                await session.open()
                log.info("forwarding to %s", target)
                self._sessions[target] = session
            return session

    async def _drop(self, target: RemoteTarget, session: AsyncConnector) -> None:
        if self._sessions.get(target) is session:
            del self._sessions[target]
        with contextlib.suppress(Exception):  # it failed already; closing is a courtesy
            await asyncio.wait_for(session.close(), 1.0)

    # -- relayed connections: one session and connection at the target per client connection -------
    async def _relayed(self, effect: Forward, relay: Relay) -> bytes:
        await self._let_go_of_closed_relays()
        if effect.closing is not None:  # the client closed its connection: ours goes too
            await self._drop_relay(relay)
            return effect.closing
        session = await self._relay_session(relay)
        if effect.opening is not None:
            return effect.opening
        try:
            return await session.connected_cip_request(effect.message, timeout=relay.target.timeout)
        except (CommunicationError, OSError):
            await self._drop_relay(relay)  # the next request on the client's connection opens anew
            raise

    async def _relay_session(self, relay: Relay) -> AsyncConnector:
        session = self._relays.get(relay)
        if session is not None:
            return session
        async with self._relay_locks.setdefault(relay, asyncio.Lock()):
            session = self._relays.get(relay)
            if session is None:
                target = relay.target
                session = AsyncConnector(target.host, target.port, timeout=target.timeout, simple=True)
                await session.open()
                try:
                    await session.forward_open(relay.size, large=relay.large, route_path=list(relay.route) or None,
                                               timeout=target.timeout)
                except BaseException:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(session.close(), 1.0)
                    raise
                log.info("relaying a connection to %s", target)
                self._relays[relay] = session
            return session

    async def _drop_relay(self, relay: Relay) -> None:
        session = self._relays.pop(relay, None)
        self._relay_locks.pop(relay, None)
        if session is not None:
            with contextlib.suppress(Exception):  # a courtesy: Forward Close, Unregister Session
                await asyncio.wait_for(session.close(), 1.0)

    async def _let_go_of_closed_relays(self) -> None:
        for relay in [r for r in self._relays if r.closed]:
            await self._drop_relay(relay)

    async def close(self) -> None:
        """Close every session."""
        for relay in list(self._relays):
            await self._drop_relay(relay)
        sessions, self._sessions = list(self._sessions.items()), {}
        for target, session in sessions:
            await self._drop(target, session)
