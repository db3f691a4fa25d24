"""Carrying :class:`~cpppo.device.backplane.Forward` effects to remote devices, on the host's loop.

A controller whose route path leads to a :class:`~cpppo.device.backplane.RemoteTarget` returns a
Forward effect; its host hands it to a :class:`Forwarder`, which is a client of the target: a
registered EtherNet/IP session carries the message bare in SendRRData (it already holds whatever
Unconnected Send the rest of the route needs) and its reply comes back as it is.

Each request has a session to itself while it runs, so a slow request to a target holds up no
other request to it: an idle session is taken if one is kept, else a new one is opened.  After a
reply the session is kept for the next request (at most ``idle_per_target`` of them per target);
at most ``sessions_per_target`` requests go to one target at once (a real controller has few
sessions to spare), the others wait their turn within their timeout;
a session whose request failed, timed out or was abandoned (its client hung up) is closed, since
its stream may still carry that request's reply.  An idle session the target hung up on (it
restarted, or timed us out) is closed by :meth:`Forwarder.sweep` or when next taken, so neither
a dead session nor a socket in CLOSE_WAIT lingers; a request that finds its reused session dead
goes once more on a fresh one.

A client's connection relayed to a target (a :class:`~cpppo.device.backplane.Relay`) has a
session and a connection there of its own, opened with the client's Forward Open and closed with
its Forward Close (or when the client's connection ends).
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
    """Client sessions to remote targets, carrying forwarded requests there."""

    def __init__(self, idle_per_target: int = 2, sessions_per_target: int = 8) -> None:
        self.idle_per_target = idle_per_target
        self.sessions_per_target = sessions_per_target
        self._slots: dict[RemoteTarget, asyncio.Semaphore] = {}
        self._idle: dict[RemoteTarget, list[AsyncConnector]] = {}
        self._busy: set[AsyncConnector] = set()
        self._closed = False
        self._relays: dict[Relay, AsyncConnector] = {}  # a relayed client connection: the router's own there
        self._relay_locks: dict[Relay, asyncio.Lock] = {}

    async def __call__(self, effect: Forward) -> bytes:
        """The target's CIP reply to ``effect.message`` (CommunicationError if it cannot be had)."""
        if effect.relay is not None:
            return await self._relayed(effect, effect.relay)
        target = effect.target
        slots = self._slots.get(target)
        if slots is None:
            slots = self._slots[target] = asyncio.Semaphore(self.sessions_per_target)
        async with slots:
            session = self._take(target)
            if session is not None:
                try:
                    return await self._request(target, session, effect.message)
                except (CommunicationError, OSError) as exc:  # the target restarted since: once more, afresh
                    log.info("forwarding to %s: a kept session failed (%s); trying a new one", target, exc)
            return await self._request(target, await self._open(target), effect.message)

    async def _request(self, target: RemoteTarget, session: AsyncConnector, message: bytes) -> bytes:
        self._busy.add(session)
        done = False
        try:
            reply = await session.cip_request(message, timeout=target.timeout)
            done = True
            return reply
        finally:  # failed, timed out or cancelled: the reply may still come, so the session goes
            self._busy.discard(session)
            if done and not self._closed:
                self._keep(target, session)
            else:
                _abort(session)

    def _take(self, target: RemoteTarget) -> AsyncConnector | None:
        """An idle session to ``target`` that still looks alive (the dead ones are closed)."""
        idle = self._idle.get(target)
        while idle:
            session = idle.pop()
            if _alive(session):
                return session
            _abort(session)
        return None

    async def _open(self, target: RemoteTarget) -> AsyncConnector:
        if self._closed:
            raise CommunicationError("the forwarder is closed")
        session = AsyncConnector(target.host, target.port, timeout=target.timeout, simple=True)
        self._busy.add(session)
        try:
            await session.open()
        except BaseException:
            _abort(session)
            raise
        finally:
            self._busy.discard(session)
        log.debug("forwarding to %s: a new session", target)
        return session

    def _keep(self, target: RemoteTarget, session: AsyncConnector) -> None:
        idle = self._idle.setdefault(target, [])
        if len(idle) < self.idle_per_target and _alive(session):
            idle.append(session)
        else:
            _abort(session)

    def sweep(self, now: float = 0.0) -> None:
        """Close the idle sessions whose target hung up (the host's sweeper calls this)."""
        for target, idle in list(self._idle.items()):
            alive = [s for s in idle if _alive(s)]
            for session in idle:
                if session not in alive:
                    log.info("forwarding to %s: the target closed an idle session", target)
                    _abort(session)
            if alive:
                self._idle[target] = alive
            else:
                del self._idle[target]
        for relay, session in list(self._relays.items()):  # relays whose client (or target) is gone
            if relay.closed or not _alive(session):
                del self._relays[relay]
                self._relay_locks.pop(relay, None)
                _abort(session)  # the target drops our connection with the session

    def idle(self, target: RemoteTarget) -> int:
        """How many idle sessions to ``target`` are kept."""
        return len(self._idle.get(target, ()))

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
        """Close every session, idle or busy, and every relayed connection."""
        for relay in list(self._relays):
            await self._drop_relay(relay)
        self._closed = True
        sessions = [s for idle in self._idle.values() for s in idle] + list(self._busy)
        self._idle.clear()
        for session in sessions:
            _abort(session)


def _alive(session: AsyncConnector) -> bool:
    reader, writer = session.reader, session.writer
    return not (reader is None or writer is None or reader.at_eof() or reader.exception() is not None
                or writer.is_closing())


def _abort(session: AsyncConnector) -> None:
    """Close ``session``'s socket now, without a goodbye: its stream is in doubt, or the peer is gone."""
    writer, session.writer = session.writer, None
    session.link.closed = True
    if writer is not None:
        writer.close()
